package authserver

import (
	"errors"
	"net/http"

	"github.com/drivemcp/drivemcp/internal/store"
)

// handleRevoke is RFC 7009: revoking a refresh token ends its family (every
// access token issued with it); revoking an access token ends just that
// one. It answers 200 for unknown tokens too, so it reveals nothing.
func (s *Server) handleRevoke(w http.ResponseWriter, r *http.Request) {
	form, oerr := parseForm(w, r)
	if oerr != nil {
		writeError(w, oerr)
		return
	}
	client, oerr := s.authenticateClient(r, form)
	if oerr != nil {
		writeError(w, oerr)
		return
	}
	raw := form.Get("token")
	if raw == "" {
		writeError(w, newError(http.StatusBadRequest, errInvalidRequest, "token is required"))
		return
	}
	ctx := r.Context()
	tok, err := s.store.GetToken(ctx, hashToken(raw))
	switch {
	case errors.Is(err, store.ErrNotFound):
	case err != nil:
		writeError(w, s.storeUnavailable(ctx, "revoking the token", err))
		return
	case tok.ClientID != client.ID:
		// Not this client's to revoke; say nothing about whose it is.
	case tok.Kind == store.RefreshToken:
		err = s.store.RevokeFamily(ctx, tok.FamilyID, s.now())
	default:
		err = s.store.RevokeToken(ctx, tok.Hash, s.now())
	}
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		writeError(w, s.storeUnavailable(ctx, "revoking the token", err))
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
}
