package drive

import (
	"context"
	"crypto/x509"
	"errors"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"golang.org/x/oauth2"
)

// Retry is the one retry policy of every Google call drivemcp makes: Drive
// reads and writes, each request of a resumable upload, and the token
// refresh that precedes any of them. It follows Drive's "Resolve errors"
// and "Usage limits" guides (developers.google.com/drive/api/guides/
// handle-errors, .../limits): 5xx, 429 and 403 with a rate-limit reason are
// retried with truncated exponential backoff and full jitter, waiting about
// 1, 2, 4, 8, 16, 32 s, or what Retry-After asks; a 4xx that is the
// request's own fault is never retried. The zero value is Google's schedule.
type Retry struct {
	// MaxAttempts is how many times one call is tried in all. Default 7:
	// the first try and Google's six waits.
	MaxAttempts int
	// Backoff is the wait after attempt failures in a row (counting from
	// 1). Default: full jitter below 1 s·2^(attempt-1), capped at
	// MaxBackoff.
	Backoff func(attempt int) time.Duration
	// MaxBackoff caps the default Backoff (default 32 s, the top of
	// Google's schedule); operators set it with --google-max-backoff.
	MaxBackoff time.Duration
	// Sleep waits for d unless ctx ends first. Default: a timer. Tests
	// replace it so that nobody waits.
	Sleep func(ctx context.Context, d time.Duration) error
	// Now reads the clock for Retry-After dates and the call's deadline.
	// Default time.Now.
	Now func() time.Time
	// OnWait, if set, is told before each wait how long it will be, and
	// again every waitTick of a long one with the time left, so a caller
	// can keep its client informed (MCP progress) while nothing moves.
	OnWait func(left time.Duration)
}

const (
	backoffBase = time.Second
	backoffCap  = 32 * time.Second
	// defaultAttempts is the first try plus the six waits of Google's
	// schedule (1, 2, 4, 8, 16, 32 s).
	defaultAttempts = 7
	// maxRetryAfter bounds how long a Retry-After header can park a call;
	// past it we would rather try again than look hung.
	maxRetryAfter = 5 * time.Minute
	// waitTick is how often a long wait tells OnWait it is still waiting.
	waitTick = 5 * time.Second
)

func (r Retry) withDefaults() Retry {
	if r.MaxAttempts <= 0 {
		r.MaxAttempts = defaultAttempts
	}
	if r.Backoff == nil {
		r.Backoff = fullJitterBackoff
		if ceiling := r.MaxBackoff; ceiling > 0 && ceiling != backoffCap {
			r.Backoff = func(attempt int) time.Duration {
				return fullJitter(attempt, min(backoffBase, ceiling), ceiling, rand.Int64N)
			}
		}
	}
	if r.Sleep == nil {
		r.Sleep = sleepContext
	}
	if r.Now == nil {
		r.Now = time.Now
	}
	return r
}

// Schedule is the policy's Backoff with its defaults applied, for the
// Uploader's Backoff hook.
func (r Retry) Schedule() func(attempt int) time.Duration { return r.withDefaults().Backoff }

// Do runs call until it succeeds, fails in a way that waiting cannot mend,
// has been tried MaxAttempts times, or ctx ends. repeatable says whether a
// request that got no answer at all may be sent again: a read may; creating
// a folder may not (it may exist already), though a refused token refresh,
// which happens before the request leaves, is retried for every call.
// call's errors are passed through classify first, so they carry Google's
// reason and Retry-After.
func (r Retry) Do(ctx context.Context, repeatable bool, call func() error) error {
	r = r.withDefaults()
	for attempt := 1; ; attempt++ {
		err := classify(call())
		if err == nil {
			return nil
		}
		if attempt >= r.MaxAttempts || !transient(err, repeatable) {
			return err
		}
		if werr := r.wait(ctx, attempt, err); werr != nil {
			return werr
		}
	}
}

// wait sleeps before the next attempt after attempt failures in a row,
// cause being the last: backoff, and at least Google's Retry-After. A
// wait that would outlast ctx's deadline is not begun: cause is returned,
// since it says more than a deadline would.
func (r Retry) wait(ctx context.Context, attempt int, cause error) error {
	// Retry-After is the least Google will accept; the backoff still grows
	// beyond it, or every client Google sent the same Retry-After would
	// come back at the same moment and be refused together again.
	d := r.Backoff(attempt)
	var ra *retryAfterError
	if errors.As(cause, &ra) {
		d = max(d, ra.after)
	}
	if deadline, ok := ctx.Deadline(); ok && r.Now().Add(d).After(deadline) {
		return cause
	}
	for left := d; ; {
		if r.OnWait != nil {
			r.OnWait(left)
		}
		step := left
		if r.OnWait != nil && step > waitTick {
			step = waitTick
		}
		if err := r.Sleep(ctx, step); err != nil {
			return err
		}
		if left -= step; left <= 0 {
			return ctx.Err()
		}
	}
}

// fullJitterBackoff waits a uniformly random time between zero and
// base·2^(attempt-1), capped at 32 s: the spread keeps many clients that
// failed together from retrying together. attempt counts from 1.
func fullJitterBackoff(attempt int) time.Duration {
	return fullJitter(attempt, backoffBase, backoffCap, rand.Int64N)
}

func fullJitter(attempt int, base, ceiling time.Duration, randN func(int64) int64) time.Duration {
	if attempt < 1 {
		attempt = 1
	}
	d := ceiling
	if shift := attempt - 1; shift < 32 && base<<shift < ceiling {
		d = base << shift
	}
	return time.Duration(randN(int64(d) + 1))
}

// sleepContext waits for d or until ctx is done, whichever is first.
func sleepContext(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// parseRetryAfter reads a Retry-After header: delay-seconds or an HTTP date.
// ok is false when the header is absent or unreadable.
func parseRetryAfter(v string, now time.Time) (d time.Duration, ok bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs < 0 {
			return 0, false
		}
		if secs > int64(maxRetryAfter/time.Second) {
			return maxRetryAfter, true
		}
		return time.Duration(secs) * time.Second, true
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	return min(max(t.Sub(now), 0), maxRetryAfter), true
}

// retryAfterError carries the wait a server asked for along with its error.
type retryAfterError struct {
	err   error
	after time.Duration
}

func (e *retryAfterError) Error() string { return e.err.Error() }
func (e *retryAfterError) Unwrap() error { return e.err }

// withRetryAfter attaches resp's Retry-After, if any, to err.
func withRetryAfter(err error, resp *http.Response) error {
	return withRetryAfterHeader(err, resp.Header)
}

func withRetryAfterHeader(err error, h http.Header) error {
	if d, ok := parseRetryAfter(h.Get("Retry-After"), time.Now()); ok {
		return &retryAfterError{err: err, after: d}
	}
	return err
}

// transportError is a request that got no usable HTTP answer: a refused or
// dropped connection, a reset, a truncated response.
type transportError struct{ err error }

func (e *transportError) Error() string { return "drive: request failed: " + e.err.Error() }
func (e *transportError) Unwrap() error { return e.err }

// rateLimitReasons are the 403 reasons that mean "slow down", which Drive's
// "Resolve errors" guide says to retry with exponential backoff. Drive's
// daily sharing limit (sharingRateLimitExceeded) and the project's daily
// quota (dailyLimitExceeded) do not recover in seconds, so they are not here.
var rateLimitReasons = map[string]bool{"userRateLimitExceeded": true, "rateLimitExceeded": true}

// rateLimited reports whether err is Google saying "slow down" (429, or 403
// with a rate-limit reason): a refusal made before the request was acted on.
func rateLimited(err error) bool {
	var api *APIError
	return errors.As(err, &api) &&
		(api.Status == http.StatusTooManyRequests || (api.Status == http.StatusForbidden && rateLimitReasons[api.Reason]))
}

// retryable reports whether another attempt of an upload's request can
// help; the uploader asks the session what it kept after a request that got
// no answer, so such requests are always repeatable.
func retryable(err error) bool { return transient(err, true) }

// transient reports whether another attempt can help. Only transient trouble
// qualifies: Google's 5xx, rate limiting (429, and 403 with a rate-limit
// reason), request timeouts (408), a token refresh Google failed with a
// 5xx, and — when repeatable — a request that got no answer. Everything
// else — a revoked grant, a full Drive, a bad request — fails the same way
// every time.
func transient(err error, repeatable bool) bool {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var api *APIError
	if errors.As(err, &api) {
		return api.Status >= 500 || api.Status == http.StatusTooManyRequests || api.Status == http.StatusRequestTimeout ||
			(api.Status == http.StatusForbidden && rateLimitReasons[api.Reason])
	}
	// The client's transport may fail before the network is involved, and
	// say that waiting will not help: the Google account transport does
	// for a grant that needs consent again, or an account that is gone.
	var p interface{ Permanent() bool }
	if errors.As(err, &p) && p.Permanent() {
		return false
	}
	// The oauth2 transport reports a failed token refresh through the same
	// channel as the network; an invalid_grant will not heal by waiting,
	// Google's 5xx may. The Drive request was never sent.
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		return re.Response != nil && (re.Response.StatusCode >= 500 || re.Response.StatusCode == http.StatusTooManyRequests)
	}
	var uae x509.UnknownAuthorityError
	var hne x509.HostnameError
	var cie x509.CertificateInvalidError
	if errors.As(err, &uae) || errors.As(err, &hne) || errors.As(err, &cie) {
		return false
	}
	var te *transportError
	if errors.As(err, &te) {
		return true
	}
	var ue *url.Error
	return repeatable && errors.As(err, &ue)
}
