package authserver

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/modelcontextprotocol/go-sdk/auth"

	"github.com/drivemcp/drivemcp/internal/store"
)

// VerifyAccessToken is the go-sdk TokenVerifier for /mcp: our opaque token,
// looked up by hash, current, unrevoked, and issued for this resource (RFC
// 8707: a token for another server is no token here).
func (s *Server) VerifyAccessToken(ctx context.Context, token string, _ *http.Request) (*auth.TokenInfo, error) {
	if !strings.HasPrefix(token, "dmcp_at_") || len(token) > 200 {
		return nil, fmt.Errorf("%w: not an access token of this server", auth.ErrInvalidToken)
	}
	t, err := s.tokens.Get(ctx, hashToken(token))
	if errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("%w: unknown token", auth.ErrInvalidToken)
	}
	if err != nil {
		// The go-sdk writes this error's text to the client (ProtectMCP
		// makes its 500 a 503): what the store said goes to the log only.
		id := requestID(ctx)
		s.log.Error("store unavailable", "request_id", id, "doing", "checking an access token", "err", err)
		return nil, &tokenCheckError{requestID: id, cause: err}
	}
	switch {
	case t.Kind != store.AccessToken:
		return nil, fmt.Errorf("%w: not an access token", auth.ErrInvalidToken)
	case !t.RevokedAt.IsZero():
		return nil, fmt.Errorf("%w: revoked", auth.ErrInvalidToken)
	case !s.now().Before(t.ExpiresAt):
		return nil, fmt.Errorf("%w: expired", auth.ErrInvalidToken)
	case t.Resource != s.resource:
		return nil, fmt.Errorf("%w: issued for another resource", auth.ErrInvalidToken)
	}
	return &auth.TokenInfo{
		Scopes:     t.Scopes,
		Expiration: t.ExpiresAt,
		UserID:     t.Email,
		Extra:      map[string]any{"client_id": t.ClientID},
	}, nil
}

// tokenCheckError is a token that could not be checked (the store did not
// answer), as opposed to a token found wanting. Its text is for clients.
type tokenCheckError struct {
	requestID string
	cause     error
}

func (e *tokenCheckError) Error() string {
	return "drivemcp could not check the access token because its database did not answer; try again in a moment (request id " + e.requestID + ")"
}

func (e *tokenCheckError) Unwrap() error { return e.cause }

// ProtectMCP wraps the MCP handler: requests need our bearer token. It uses
// the go-sdk middleware and completes the challenge the SDK writes with what
// clients need to act on it (RFC 6750 error code, MCP scope hint).
func (s *Server) ProtectMCP(next http.Handler) http.Handler {
	protected := auth.RequireBearerToken(s.VerifyAccessToken, &auth.RequireBearerTokenOptions{
		ResourceMetadataURL: s.resourceMetadataURL(),
	})(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if c, ok := w.(*challengeWriter); ok {
			c.verified = true // from here on, the MCP handler answers
		}
		next.ServeHTTP(w, r)
	}))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hasToken := r.Header.Get("Authorization") != ""
		protected.ServeHTTP(&challengeWriter{ResponseWriter: w, hasToken: hasToken, scope: s.defaultScope}, r)
	})
}

func (s *Server) resourceMetadataURL() string {
	return s.issuer + "/.well-known/oauth-protected-resource/mcp"
}

// InsufficientScope answers 403 with the challenge that lets an MCP client
// step up: re-authorize asking for needed (MCP authorization, scope
// challenge handling).
func (s *Server) InsufficientScope(w http.ResponseWriter, needed []string, description string) {
	w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer error="insufficient_scope", scope=%q, resource_metadata=%q, error_description=%q`,
		strings.Join(needed, " "), s.resourceMetadataURL(), description))
	writeJSON(w, http.StatusForbidden, newError(http.StatusForbidden, "insufficient_scope", description))
}

// challengeWriter adds error="invalid_token" and scope="…" to the SDK's
// 401 challenge.
type challengeWriter struct {
	http.ResponseWriter
	hasToken bool
	scope    string
	wrote    bool
	verified bool
}

func (c *challengeWriter) WriteHeader(status int) {
	if !c.wrote {
		c.wrote = true
		h := c.Header()
		// The SDK answers 500 when the verifier fails for another reason
		// than a bad token: here always a store that did not answer, which
		// is no fault of the server's code and worth retrying.
		if status == http.StatusInternalServerError && !c.verified {
			status = http.StatusServiceUnavailable
			h.Set("Retry-After", retryAfterOutage)
		}
		if ch := h.Get("WWW-Authenticate"); status == http.StatusUnauthorized && strings.HasPrefix(ch, "Bearer ") {
			params := strings.TrimPrefix(ch, "Bearer ")
			if !strings.Contains(params, "scope=") {
				params += fmt.Sprintf(", scope=%q", c.scope)
			}
			if c.hasToken {
				params = `error="invalid_token", ` + params
			}
			h.Set("WWW-Authenticate", "Bearer "+params)
		}
	}
	c.ResponseWriter.WriteHeader(status)
}

func (c *challengeWriter) Write(b []byte) (int, error) {
	if !c.wrote {
		c.WriteHeader(http.StatusOK)
	}
	return c.ResponseWriter.Write(b)
}

// Flush and Unwrap keep streaming (SSE) working through the wrapper.
func (c *challengeWriter) Flush() {
	if f, ok := c.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (c *challengeWriter) Unwrap() http.ResponseWriter { return c.ResponseWriter }
