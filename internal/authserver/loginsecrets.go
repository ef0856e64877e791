package authserver

import (
	"errors"
	"fmt"

	"golang.org/x/oauth2"

	"github.com/drivemcp/drivemcp/internal/store"
)

// A pending login holds two secrets the store must not see in the clear: the
// Google PKCE verifier (with the state, it finishes the login) and the MCP
// session the direct flow binds. Both are sealed with the keyring that seals
// Google's tokens, bound to the transaction's state and to what they are, so
// a blob copied to another transaction or field does not open either.
const (
	sealedVerifierFor  = "google-verifier:"
	sealedSessionIDFor = "session-id:"
)

// errNoKeys is a server built without Options.Keys: it cannot keep a
// pending login, rather than keep it in the clear.
var errNoKeys = errors.New("this server has no secret key to seal the pending login with; set --secret-key")

func (s *Server) sealLoginSecret(purpose, state, secret string) ([]byte, error) {
	if secret == "" {
		return nil, nil
	}
	if s.keys == nil {
		return nil, errNoKeys
	}
	sealed, err := s.keys.Seal([]byte(secret), []byte(purpose+state))
	if err != nil {
		return nil, fmt.Errorf("sealing the pending login: %w", err)
	}
	return sealed, nil
}

func (s *Server) openLoginSecret(purpose, state string, sealed []byte) (string, error) {
	if len(sealed) == 0 {
		return "", nil
	}
	if s.keys == nil {
		return "", errNoKeys
	}
	raw, err := s.keys.Open(sealed, []byte(purpose+state))
	if err != nil {
		return "", fmt.Errorf("opening the pending login (was --secret-key changed?): %w", err)
	}
	return string(raw), nil
}

// newGoogleTrip gives tx a fresh state and PKCE verifier, sealing the
// verifier and, for the direct flow, sessionKey under the new state. It
// returns the verifier in the clear for the consent URL.
func (s *Server) newGoogleTrip(tx *store.AuthTransaction, sessionKey string) (verifier string, err error) {
	tx.State, verifier = randomToken(32), oauth2.GenerateVerifier()
	if tx.SealedVerifier, err = s.sealLoginSecret(sealedVerifierFor, tx.State, verifier); err != nil {
		return "", err
	}
	if tx.SealedSessionID, err = s.sealLoginSecret(sealedSessionIDFor, tx.State, sessionKey); err != nil {
		return "", err
	}
	return verifier, nil
}
