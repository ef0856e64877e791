package google

import (
	"context"
	"io"
	"net/http"

	"golang.org/x/oauth2"
)

// accountTransport authorizes each request as one account. When Google
// answers 401 it marks the access token stale, so this or the next request
// refreshes instead of failing until the token's nominal expiry (Google can
// end access tokens early: revocation, password change, emulator resets).
type accountTransport struct {
	grants *Grants
	ctx    context.Context
	email  string
	base   http.RoundTripper
	// limited: every request carries a token limited to scopes (limit
	// names its cache entry), never the account's full grant; limitErr is
	// why the scopes cannot be asked for at all.
	limited  bool
	limit    limitKey
	scopes   []string
	limitErr error
}

// maxReplays bounds how often one request is sent again after a 401. Two,
// not one: the token a refresh finds stored may be one another process
// saved and Google has ended already, which this process must reject in
// turn before it refreshes for itself.
const maxReplays = 2

func (t *accountTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	var rejected string
	for replays := 0; ; replays++ {
		resp, tok, err := t.send(req)
		if err != nil || resp.StatusCode != http.StatusUnauthorized {
			return resp, err
		}
		if t.limited {
			t.grants.limited.drop(t.limit, tok)
		} else {
			t.grants.invalidate(t.email, tok)
		}
		// Replay with a fresh token when the body can be replayed and the
		// last try used a token not rejected before; else the caller (the
		// uploader) sees the 401 and retries with its own body.
		if replays == maxReplays || tok == rejected || (req.Body != nil && req.GetBody == nil) {
			return resp, nil
		}
		rejected = tok
		if req.GetBody != nil {
			body, err := req.GetBody()
			if err != nil {
				return resp, nil
			}
			req = req.Clone(req.Context())
			req.Body = body
		}
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		resp.Body.Close()
	}
}

// send sends req with the account's current token, returning which token it used.
func (t *accountTransport) send(req *http.Request) (*http.Response, string, error) {
	tok, err := t.token()
	if err != nil {
		if req.Body != nil {
			req.Body.Close()
		}
		return nil, "", err
	}
	r := req.Clone(req.Context()) // a RoundTripper must not modify its request
	tok.SetAuthHeader(r)
	resp, err := t.base.RoundTrip(r)
	return resp, tok.AccessToken, err
}

func (t *accountTransport) token() (*oauth2.Token, error) {
	switch {
	case !t.limited:
		return t.grants.Token(t.ctx, t.email)
	case t.limitErr != nil:
		return nil, permanentError{t.limitErr}
	}
	return t.grants.limitedToken(t.ctx, t.limit, t.scopes)
}
