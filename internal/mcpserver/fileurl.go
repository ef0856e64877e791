package mcpserver

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/drivemcp/drivemcp/internal/netguard"
	"github.com/drivemcp/drivemcp/internal/progressbar"
)

// create_drive_file's fileUrl makes drivemcp an HTTP client aimed by
// whoever writes the tool call: a prompt-injected model could point it at
// the cloud metadata service or the operator's intranet. So the URL must be
// http(s); every address it (or a redirect) resolves to is checked before
// connecting (netguard); the body is streamed into the uploader, never held
// whole, and capped; and a server that stalls is given up on.

const (
	defaultMaxDownloadBytes = 1 << 30
	// fileURLHeaderTimeout bounds connecting, TLS and the response headers.
	fileURLHeaderTimeout = 30 * time.Second
	// fileURLStallTimeout bounds one read of the body: a server that sends
	// nothing for this long is given up on. Time spent sending to Drive
	// between reads does not count.
	fileURLStallTimeout = time.Minute
	// fileURLTotalTimeout bounds the whole copy.
	fileURLTotalTimeout = 2 * time.Hour
	fileURLMaxRedirects = 5
)

// errURLStalled means the server behind fileUrl stopped answering.
var errURLStalled = errors.New("the server stopped sending")

// urlPolicy is which addresses fileUrl may reach: public ones only, unless
// the operator allowed private URLs (loopback and private ranges; the
// metadata service and link-local addresses stay refused either way).
func (t *tools) urlPolicy() netguard.Policy {
	return netguard.Policy{AllowLoopback: t.AllowPrivateURLs, AllowPrivate: t.AllowPrivateURLs, Resolver: t.URLResolver}
}

func (t *tools) maxDownloadBytes() int64 {
	if t.MaxDownloadBytes > 0 {
		return t.MaxDownloadBytes
	}
	return defaultMaxDownloadBytes
}

// newURLClient is the HTTP client fileUrl is fetched with.
func newURLClient(p netguard.Policy) *http.Client {
	return netguard.NewClient(p, netguard.Options{
		Timeout:      fileURLTotalTimeout,
		MaxRedirects: fileURLMaxRedirects,
		Schemes:      []string{"http", "https"},
	})
}

// parseFileURL checks fileUrl's form before anything is fetched.
func parseFileURL(raw string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return nil, userErrorf(err, "fileUrl %q is not a URL (%v): give an http:// or https:// URL of the file.", raw, err)
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return nil, userErrorf(nil, "fileUrl must be an http:// or https:// URL, not %q: for a local file use upload_file_to_drive, for other data content or content_base64.", raw)
	case u.Host == "" || u.Hostname() == "":
		return nil, userErrorf(nil, "fileUrl %q has no host: give the full URL of the file, such as https://example.com/report.pdf.", raw)
	case u.User != nil:
		return nil, userErrorf(nil, "fileUrl must not carry a user name or password: use a URL that downloads the file without them.")
	}
	u.Fragment = ""
	return u, nil
}

// remoteFile is a download in progress.
type remoteFile struct {
	Body      io.ReadCloser // capped at the limit, watched for stalls
	Size      int64         // -1 when the server did not say
	MediaType string        // the response's Content-Type; "" when absent or only application/octet-stream
	Host      string
}

// openURL starts downloading u through a client bound by policy, as
// drivemcp/version. The caller closes Body.
func openURL(ctx context.Context, policy netguard.Policy, u *url.URL, maxBytes int64, version string) (*remoteFile, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	watchdog := time.AfterFunc(fileURLHeaderTimeout, func() { cancel(errURLStalled) })
	fail := func(err error) (*remoteFile, error) {
		watchdog.Stop()
		if errors.Is(context.Cause(ctx), errURLStalled) {
			err = fmt.Errorf("%w: %w", errURLStalled, err)
		}
		cancel(nil)
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return fail(err)
	}
	req.Header.Set("User-Agent", "drivemcp/"+version)
	req.Header.Set("Accept", "*/*")
	client := newURLClient(policy)
	resp, err := client.Do(req)
	if err != nil {
		client.CloseIdleConnections()
		return fail(err)
	}
	watchdog.Stop()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		resp.Body.Close()
		client.CloseIdleConnections()
		return fail(&httpStatusError{status: resp.Status, host: resp.Request.URL.Host})
	}
	if resp.ContentLength > maxBytes {
		resp.Body.Close()
		client.CloseIdleConnections()
		return fail(fmt.Errorf("%w: the server announces %d bytes", netguard.ErrTooLarge, resp.ContentLength))
	}
	f := &remoteFile{Size: resp.ContentLength, Host: resp.Request.URL.Host}
	if f.Size < 0 {
		f.Size = -1
	}
	if mt, params, err := mime.ParseMediaType(resp.Header.Get("Content-Type")); err == nil && mt != "application/octet-stream" && mt != "binary/octet-stream" {
		f.MediaType = mime.FormatMediaType(mt, params)
	}
	f.Body = &watchedBody{
		r: netguard.LimitBody(resp.Body, maxBytes), body: resp.Body, client: client,
		ctx: ctx, cancel: cancel, watchdog: watchdog,
	}
	return f, nil
}

// unlockedByAllowingPrivate reports whether --allow-private-urls would let
// fileUrl reach addr (it never unlocks the metadata service or link-local).
func unlockedByAllowingPrivate(addr netip.Addr) bool {
	return netguard.Policy{AllowLoopback: true, AllowPrivate: true}.Allowed(addr) == nil
}

// httpStatusError is a download answered with something other than 2xx.
type httpStatusError struct{ status, host string }

func (e *httpStatusError) Error() string { return e.host + " answered " + e.status }

// watchedBody gives up on a body when one read waits longer than
// fileURLStallTimeout.
type watchedBody struct {
	r        io.Reader
	body     io.Closer
	client   *http.Client // its connections go when the body does: the client is this download's alone
	ctx      context.Context
	cancel   context.CancelCauseFunc
	watchdog *time.Timer
}

func (b *watchedBody) Read(p []byte) (int, error) {
	b.watchdog.Reset(fileURLStallTimeout)
	n, err := b.r.Read(p)
	b.watchdog.Stop()
	if err != nil && err != io.EOF {
		if errors.Is(context.Cause(b.ctx), errURLStalled) {
			err = fmt.Errorf("%w: %w", errURLStalled, err)
		}
		err = &downloadError{err}
	}
	return n, err
}

// downloadError marks a failure to read fileUrl's body, as opposed to one
// sending it to Drive; both reach the caller through the uploader.
type downloadError struct{ err error }

func (e *downloadError) Error() string { return "reading fileUrl: " + e.err.Error() }
func (e *downloadError) Unwrap() error { return e.err }

func (b *watchedBody) Close() error {
	b.watchdog.Stop()
	b.cancel(nil)
	err := b.body.Close()
	b.client.CloseIdleConnections()
	return err
}

// blockedWhere says where fileUrl led without turning the server into a
// map of internal DNS for whoever holds a token: the refused address is
// named only when the host was written as that address (in fileUrl or a
// redirect), otherwise only its kind. urlHost stands in when the refusal
// does not say which host was dialled.
func blockedWhere(b *netguard.BlockedError, urlHost string) string {
	h := b.Host
	if h == "" {
		h = urlHost
	}
	if _, err := netip.ParseAddr(strings.TrimSuffix(h, ".")); err == nil || h == "" {
		return fmt.Sprintf("fileUrl leads to %s (%s)", b.Addr, b.Class)
	}
	return fmt.Sprintf("fileUrl's host %s resolves to %s", h, b.Class)
}

// explainFetch says why fileUrl could not be downloaded, or nil when err is
// not about the download. A failed lookup quotes only the resolver's reason
// (DNSError.Err), never its server's address.
func (t *tools) explainFetch(u *url.URL, err error) error {
	host := u.Hostname()
	var blocked *netguard.BlockedError
	var malformed *netguard.MalformedHostError
	var status *httpStatusError
	var dnsErr *net.DNSError
	var netErr net.Error
	switch {
	case errors.As(err, &blocked) && (t.AllowPrivateURLs || !unlockedByAllowingPrivate(blocked.Addr)):
		return userErrorf(err, "%s, which this server never fetches from. Give a URL on another host, "+
			"or download the file yourself and pass it as content_base64.", blockedWhere(blocked, host))
	case errors.As(err, &blocked):
		return userErrorf(err, "%s; this server only fetches files from public internet addresses, so nothing was requested. "+
			"Download the file yourself and pass it as content_base64 (or content for text), or, if the server should reach your own network, "+
			"restart it with --allow-private-urls.", blockedWhere(blocked, host))
	case errors.Is(err, netguard.ErrBlockedAddress):
		return userErrorf(err, "fileUrl leads to an address this server does not fetch from. Use a public URL, or pass the file as content_base64.")
	case errors.As(err, &malformed):
		return userErrorf(err, "fileUrl leads to the host %q, which is not a host name or an IP address in standard form "+
			"(numbers such as 2130706433 or 0x7f.1 are not accepted), so nothing was requested. "+
			"Write an IPv4 address as four decimal numbers (such as 93.184.215.14), or use the host's name.", malformed.Host)
	case errors.Is(err, netguard.ErrSchemeNotAllowed):
		return userErrorf(err, "fileUrl redirected to a URL that is not http(s), which this server does not follow. Give the file's final http(s) URL.")
	case errors.Is(err, netguard.ErrTooManyRedirects):
		return userErrorf(err, "fileUrl redirected more than %d times. Give the file's final URL.", fileURLMaxRedirects)
	case errors.Is(err, netguard.ErrTooLarge):
		return userErrorf(err, "The file at fileUrl is larger than the %s this server copies from a URL, so nothing was created. "+
			"Download it and use upload_file_to_drive, or ask the operator to raise the limit.", progressbar.Bytes(t.maxDownloadBytes()))
	case errors.As(err, &status):
		return userErrorf(err, "%s answered %s for fileUrl, so nothing was created. Check that the URL downloads the file itself "+
			"(not a page about it) without signing in.", status.host, status.status)
	case errors.Is(err, errURLStalled):
		return userErrorf(err, "%s stopped answering while fileUrl was being downloaded, so nothing was created. Try again later, or use another URL.", host)
	case errors.As(err, &dnsErr):
		return userErrorf(err, "The host %s in fileUrl could not be found (%v). Check the URL.", host, dnsErr.Err)
	case errors.As(err, &netErr) && netErr.Timeout():
		return userErrorf(err, "Downloading fileUrl from %s took too long, so nothing was created. Try again later, or use another URL.", host)
	case errors.Is(err, context.Canceled):
		return nil
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		return userErrorf(err, "Could not download fileUrl from %s (%v). Check the URL and try again.", host, ue.Err)
	}
	return nil
}
