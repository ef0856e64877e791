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
		return nil, fmt.Errorf("checking the token: %w", err)
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

// ProtectMCP wraps the MCP handler: requests need our bearer token. It uses
// the go-sdk middleware and completes the challenge the SDK writes with what
// clients need to act on it (RFC 6750 error code, MCP scope hint).
func (s *Server) ProtectMCP(next http.Handler) http.Handler {
	protected := auth.RequireBearerToken(s.VerifyAccessToken, &auth.RequireBearerTokenOptions{
		ResourceMetadataURL: s.resourceMetadataURL(),
	})(next)
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
}

func (c *challengeWriter) WriteHeader(status int) {
	if !c.wrote {
		c.wrote = true
		h := c.Header()
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
