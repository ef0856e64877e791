package authserver

import (
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"net/http"
	"net/url"

	"github.com/drivemcp/drivemcp/internal/store"
)

// authenticateClient identifies the client at the token and revocation
// endpoints: HTTP Basic or form credentials for confidential clients, the
// bare client_id for public ones (whose proof is PKCE).
func (s *Server) authenticateClient(r *http.Request, form url.Values) (store.Client, *oauthError) {
	id, secret, basic := r.BasicAuth()
	if basic {
		var err1, err2 error
		id, err1 = url.QueryUnescape(id) // RFC 6749 §2.3.1 form-encodes both
		secret, err2 = url.QueryUnescape(secret)
		if err1 != nil || err2 != nil {
			return store.Client{}, newError(http.StatusUnauthorized, errInvalidClient, "the Basic credentials are not form-encoded")
		}
		if formID := form.Get("client_id"); formID != "" && formID != id {
			return store.Client{}, newError(http.StatusBadRequest, errInvalidRequest, "client_id in the body differs from the Basic credentials")
		}
		if form.Get("client_secret") != "" {
			return store.Client{}, newError(http.StatusBadRequest, errInvalidRequest, "use one client authentication method, not two")
		}
	} else {
		id, secret = form.Get("client_id"), form.Get("client_secret")
	}
	if id == "" {
		return store.Client{}, newError(http.StatusUnauthorized, errInvalidClient, "client authentication is required (client_id)")
	}
	client, err := s.lookupClient(r.Context(), id)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return store.Client{}, newError(http.StatusUnauthorized, errInvalidClient, "unknown client_id: register again")
		}
		var ce *CIMDError
		if errors.As(err, &ce) {
			return store.Client{}, newError(http.StatusUnauthorized, errInvalidClient, ce.Reason)
		}
		return store.Client{}, s.storeUnavailable(r.Context(), "loading the client", err)
	}
	if len(client.SecretHash) == 0 {
		return client, nil // public client
	}
	sum := sha256.Sum256([]byte(secret))
	if secret == "" || subtle.ConstantTimeCompare(sum[:], client.SecretHash) != 1 {
		return store.Client{}, newError(http.StatusUnauthorized, errInvalidClient, "client authentication failed")
	}
	return client, nil
}
