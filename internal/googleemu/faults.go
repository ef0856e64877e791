package googleemu

import (
	"errors"
	"io"
	"math"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Fault injection. Tests register faults; each request takes the first
// matching fault (in insertion order), which is used up after Times requests.

// Fault describes how to misbehave on matching requests.
type Fault struct {
	Method         string        // "" matches any method
	PathPrefix     string        // matches r.URL.Path prefix, e.g. "/upload/drive/v3/files" or "/token"
	Times          int           // number of matching requests this fault applies to (0 means 1)
	Status         int           // if non-zero: answer with this status and a Google-style JSON error (without processing the request)
	RetryAfter     time.Duration // with Status: sets Retry-After (seconds)
	DropAfterBytes int64         // if >0 (and Status==0): read this many bytes of the request body, process/persist them as Google would (for a resumable upload: keep the received bytes rounded down to a multiple of 256 KiB), then abruptly close the connection without a response
	Latency        time.Duration // sleep before handling (respect request context)
	// DropResponseAfterBytes, if >0 (and Status==0), handles the request,
	// sends the response's headers and this many bytes of its body, then
	// resets the connection, as a download cut off by the network: the
	// client sees a body that ends early and asks again with a Range.
	DropResponseAfterBytes int64
	// Reason, with Status, is the error reason Drive reports (e.g.
	// "userRateLimitExceeded", "backendError"); empty picks Drive's usual
	// reason for the status. On OAuth endpoints it is the "error" code.
	Reason string
	// ExpireAccessTokens ends every access token issued so far once the
	// matching request was handled (or dropped), as when an hour-long
	// upload outlives its token: the client's next request carries a dead
	// token and must refresh (Drive API "Resolve errors", 401 Invalid
	// Credentials: /drive/api/guides/handle-errors).
	ExpireAccessTokens bool
}

type activeFault struct {
	Fault
	left int
}

// InjectFault registers f after any faults already registered.
func (e *Emulator) InjectFault(f Fault) {
	left := f.Times
	if left <= 0 {
		left = 1
	}
	e.faultMu.Lock()
	e.faults = append(e.faults, &activeFault{Fault: f, left: left})
	e.faultMu.Unlock()
}

// ClearFaults removes every registered fault.
func (e *Emulator) ClearFaults() {
	e.faultMu.Lock()
	e.faults = nil
	e.faultMu.Unlock()
}

// takeFault consumes one use of the first fault matching r.
func (e *Emulator) takeFault(r *http.Request) *Fault {
	e.faultMu.Lock()
	defer e.faultMu.Unlock()
	for i, f := range e.faults {
		if (f.Method == "" || strings.EqualFold(f.Method, r.Method)) && strings.HasPrefix(r.URL.Path, f.PathPrefix) {
			f.left--
			if f.left == 0 {
				e.faults = append(e.faults[:i:i], e.faults[i+1:]...)
			}
			fault := f.Fault
			return &fault
		}
	}
	return nil
}

// applyFault misbehaves as f says, handing the request to next where the
// fault still lets it through.
func (e *Emulator) applyFault(w http.ResponseWriter, r *http.Request, f *Fault, next http.Handler) {
	if f.ExpireAccessTokens {
		defer e.ExpireAccessTokens()
	}
	if f.Latency > 0 {
		t := time.NewTimer(f.Latency)
		select {
		case <-r.Context().Done():
			t.Stop()
			return // the client gave up; nobody is listening
		case <-t.C:
		}
	}
	switch {
	case f.Status != 0:
		// Google's front end answers without reading the body, so a client
		// that streams a large body learns early and wastes little; net/http
		// then closes the connection gently (FIN, then a short wait) so the
		// client still reads the status.
		if f.RetryAfter > 0 {
			w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(f.RetryAfter.Seconds()))))
		}
		writeFaultError(w, r, f)
	case f.DropAfterBytes > 0:
		// ServeHTTP already wrapped r.Body in a droppingBody.
		next.ServeHTTP(&discardResponse{header: http.Header{}}, r)
		abortConnection(w)
	case f.DropResponseAfterBytes > 0:
		cut := &cuttingResponse{ResponseWriter: w, left: f.DropResponseAfterBytes}
		next.ServeHTTP(cut, r)
		if cut.cut {
			abortConnection(w)
		}
	default:
		next.ServeHTTP(w, r)
	}
}

// abortConnection closes the connection under w without a response. It
// resets it (SO_LINGER 0) rather than closing politely: a polite close after
// net/http drained the unread body would look like a clean EOF, while a
// broken network path — what the fault stands for — shows up as "connection
// reset by peer", which clients (the Go Drive client among them) treat as
// retryable. Where hijacking is impossible (HTTP/2), it panics with
// http.ErrAbortHandler, which net/http turns into a stream reset; a wrapping
// middleware that recovers panics must let that one through.
func abortConnection(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	raw := conn
	if tc, ok := conn.(interface{ NetConn() net.Conn }); ok { // TLS
		raw = tc.NetConn()
	}
	if tcp, ok := raw.(*net.TCPConn); ok {
		_ = tcp.SetLinger(0)
	}
	_ = conn.Close()
}

func writeFaultError(w http.ResponseWriter, r *http.Request, f *Fault) {
	text := http.StatusText(f.Status)
	if text == "" {
		text = "Error " + strconv.Itoa(f.Status)
	}
	if isOAuthPath(r.URL.Path) {
		code := f.Reason
		if code == "" {
			code = oauthCodeForStatus(f.Status)
		}
		writeOAuthError(w, oauthError{status: f.Status, code: code, description: text})
		return
	}
	reason := f.Reason
	if reason == "" {
		reason = defaultReason(f.Status)
	}
	d := driveErr{code: f.Status, reason: reason, message: text}
	switch reason {
	case "userRateLimitExceeded", "rateLimitExceeded", "storageQuotaExceeded", "dailyLimitExceeded":
		d.domain = "usageLimits" // as Drive's own quota errors say ("Resolve errors")
	}
	writeDriveError(w, d)
}

func oauthCodeForStatus(status int) string {
	switch {
	case status == 400:
		return "invalid_request"
	case status == 401:
		return "invalid_client"
	case status == 429:
		return "rate_limit_exceeded"
	case status == 503:
		return "temporarily_unavailable"
	case status >= 500:
		return "server_error"
	}
	return "invalid_request"
}

// errConnectionDropped is what a handler reads when an injected fault cuts
// the request body off, as a broken connection would.
var errConnectionDropped = errors.New("googleemu: connection dropped by injected fault")

// droppingBody delivers at most left bytes, then fails like a broken
// connection — unless the body really ended there, in which case the request
// was complete and only its response will be lost.
type droppingBody struct {
	io.ReadCloser
	left int64
}

func (d *droppingBody) Read(p []byte) (int, error) {
	if d.left <= 0 {
		// Probe for one more byte to tell "complete" from "cut off".
		var one [1]byte
		for {
			n, err := d.ReadCloser.Read(one[:])
			switch {
			case n > 0:
				return 0, errConnectionDropped
			case errors.Is(err, io.EOF):
				return 0, io.EOF
			case err != nil:
				return 0, err
			}
		}
	}
	if int64(len(p)) > d.left {
		p = p[:d.left]
	}
	n, err := d.ReadCloser.Read(p)
	d.left -= int64(n)
	return n, err
}

// discardResponse swallows the response of a request whose connection is
// about to be dropped.
type discardResponse struct {
	header http.Header
}

func (d *discardResponse) Header() http.Header         { return d.header }
func (d *discardResponse) Write(p []byte) (int, error) { return len(p), nil }
func (d *discardResponse) WriteHeader(int)             {}

// cuttingResponse passes at most left bytes of a response body through,
// flushed so the client has them, and swallows the rest.
type cuttingResponse struct {
	http.ResponseWriter
	left int64
	cut  bool
}

func (c *cuttingResponse) Write(p []byte) (int, error) {
	if c.cut {
		return len(p), nil
	}
	if int64(len(p)) <= c.left {
		c.left -= int64(len(p))
		return c.ResponseWriter.Write(p)
	}
	n, err := c.ResponseWriter.Write(p[:c.left])
	c.left, c.cut = 0, true
	_ = http.NewResponseController(c.ResponseWriter).Flush()
	if err != nil {
		return n, err
	}
	return len(p), nil
}
