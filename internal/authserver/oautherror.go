package authserver

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"

	"github.com/drivemcp/drivemcp/internal/reqlog"
)

// RFC 6749 §5.2 / RFC 7591 §3.2.2 error codes.
const (
	errInvalidRequest          = "invalid_request"
	errInvalidClient           = "invalid_client"
	errInvalidGrant            = "invalid_grant"
	errUnauthorizedClient      = "unauthorized_client"
	errUnsupportedGrantType    = "unsupported_grant_type"
	errUnsupportedResponseType = "unsupported_response_type"
	errInvalidScope            = "invalid_scope"
	errInvalidTarget           = "invalid_target" // RFC 8707
	errAccessDenied            = "access_denied"
	errServerError             = "server_error"
	errTemporarilyUnavailable  = "temporarily_unavailable"
	errInvalidRedirectURI      = "invalid_redirect_uri"    // RFC 7591
	errInvalidClientMetadata   = "invalid_client_metadata" // RFC 7591
)

// oauthError is an error the client is told about, by name, as the RFCs say.
type oauthError struct {
	Code        string `json:"error"`
	Description string `json:"error_description,omitempty"`
	status      int
}

func (e *oauthError) Error() string { return e.Code + ": " + e.Description }

func newError(status int, code, description string) *oauthError {
	return &oauthError{Code: code, Description: description, status: status}
}

// writeError answers a back-channel request (token, register, revoke) with
// the RFC error as JSON. invalid_client gets 401 with a challenge, as RFC
// 6749 §5.2 asks, which is also what tells MCP clients to register again.
func writeError(w http.ResponseWriter, e *oauthError) {
	status := e.status
	if status == 0 {
		status = http.StatusBadRequest
	}
	if status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", retryAfterOutage)
	}
	if e.Code == errInvalidClient {
		status = http.StatusUnauthorized
		w.Header().Set("WWW-Authenticate", `Basic realm="drivemcp"`)
	}
	writeJSON(w, status, e)
}

// retryAfterOutage is the Retry-After of answers given while the store is
// unreachable: long enough not to hammer a database coming back up.
const retryAfterOutage = "5"

// storeUnavailable logs what the store said, under the request id, and
// returns the error a client is shown instead: what could not be done, to
// try again, and the id to quote. Store errors name database users, hosts
// and addresses, which are the operator's business only.
func (s *Server) storeUnavailable(ctx context.Context, what string, err error) *oauthError {
	id := requestID(ctx)
	s.log.Error("store unavailable", "request_id", id, "doing", what, "err", err)
	return newError(http.StatusServiceUnavailable, errTemporarilyUnavailable,
		"drivemcp could not reach its database while "+what+"; try again in a moment (request id "+id+")")
}

// requestID is the id the request log gives ctx's request, or a fresh one
// outside it, so an answer always has an id that its log line also has.
func requestID(ctx context.Context) string {
	if id := reqlog.RequestID(ctx); id != "" {
		return id
	}
	return randomToken(6)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// redirectError sends the user agent back to a verified redirect URI with
// an RFC 6749 §4.1.2.1 error, the client's state and our issuer (RFC 9207).
func (s *Server) redirectError(w http.ResponseWriter, r *http.Request, redirectURI, state, code, description string) {
	s.metrics.OAuthOutcome("authorize", code)
	q := url.Values{"error": {code}, "iss": {s.issuer}}
	if description != "" {
		q.Set("error_description", description)
	}
	if state != "" {
		q.Set("state", state)
	}
	http.Redirect(w, r, withQuery(redirectURI, q), http.StatusFound)
}

// withQuery adds q to a URI that may already carry a query.
func withQuery(uri string, q url.Values) string {
	u, err := url.Parse(uri)
	if err != nil {
		return uri
	}
	merged := u.Query()
	for k, vs := range q {
		merged[k] = vs
	}
	u.RawQuery = merged.Encode()
	return u.String()
}
