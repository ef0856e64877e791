package drive

import (
	"context"
	"crypto/x509"
	"errors"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"

	"golang.org/x/oauth2"
)

const (
	backoffBase = 500 * time.Millisecond
	backoffCap  = 30 * time.Second
	// maxRetryAfter bounds how long a Retry-After header can park an upload;
	// past it we would rather try again than look hung.
	maxRetryAfter = 5 * time.Minute
)

// fullJitterBackoff waits a uniformly random time between zero and
// base·2^(attempt-1), capped at 30 s: the spread keeps many clients that
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
	if d, ok := parseRetryAfter(resp.Header.Get("Retry-After"), time.Now()); ok {
		return &retryAfterError{err: err, after: d}
	}
	return err
}

// transportError is a request that got no usable HTTP answer: a refused or
// dropped connection, a reset, a truncated response.
type transportError struct{ err error }

func (e *transportError) Error() string { return "drive: request failed: " + e.err.Error() }
func (e *transportError) Unwrap() error { return e.err }

// retryable reports whether another attempt can help. Only transient trouble
// qualifies: the network, Google's 5xx, rate limiting (429) and request
// timeouts (408). Everything else — a revoked grant, a full Drive, a bad
// request — fails the same way every time.
func retryable(err error) bool {
	var api *APIError
	if errors.As(err, &api) {
		return api.Status >= 500 || api.Status == http.StatusTooManyRequests || api.Status == http.StatusRequestTimeout
	}
	var te *transportError
	if !errors.As(err, &te) {
		return false
	}
	// The client's transport may fail before the network is involved, and
	// say that waiting will not help: the Google account transport does
	// for a grant that needs consent again, or an account that is gone.
	var p interface{ Permanent() bool }
	if errors.As(err, &p) && p.Permanent() {
		return false
	}
	// The oauth2 transport reports a failed token refresh through the same
	// channel as the network; an invalid_grant will not heal by waiting.
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		return re.Response != nil && re.Response.StatusCode >= 500
	}
	var uae x509.UnknownAuthorityError
	var hne x509.HostnameError
	var cie x509.CertificateInvalidError
	if errors.As(err, &uae) || errors.As(err, &hne) || errors.As(err, &cie) {
		return false
	}
	return true
}

// retryDelay is how long to wait before attempt number attempt, given the
// error that ended the previous one: the server's Retry-After if it sent
// one, else backoff.
func retryDelay(err error, attempt int, backoff func(int) time.Duration) time.Duration {
	var ra *retryAfterError
	if errors.As(err, &ra) {
		return ra.after
	}
	return backoff(attempt)
}
