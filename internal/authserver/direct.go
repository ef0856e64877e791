package authserver

import (
	"context"
	"fmt"

	"github.com/drivemcp/drivemcp/internal/google"
	"github.com/drivemcp/drivemcp/internal/store"
)

// DirectRequest starts the direct flow (start_google_auth, drivemcp login).
type DirectRequest struct {
	// SessionKey is the MCP session to bind when the login completes ("" to
	// only store the grant).
	SessionKey string
	LoginHint  string
	// DriveScopes are the Google Drive scopes to ask for (default: the
	// configured one). Google merges them with earlier grants
	// (include_granted_scopes), so asking for more is incremental.
	DriveScopes []string
	// ForceConsent re-asks Google for consent (and so a new refresh token).
	ForceConsent bool
}

// StartDirect records a pending direct login and returns the Google consent
// URL the user must open.
func (s *Server) StartDirect(ctx context.Context, r DirectRequest) (string, error) {
	d, err := s.StartDirectLogin(ctx, r)
	return d.URL, err
}

// StartDirectLogin is StartDirect saying also where Google will send the
// browser back: with LoopbackOptions it opens (or finds) the callback
// listener first, so the redirect URI carries the port really listened on.
func (s *Server) StartDirectLogin(ctx context.Context, r DirectRequest) (DirectStart, error) {
	now := s.now()
	drive := r.DriveScopes
	if len(drive) == 0 {
		drive = []string{s.driveScope}
	}
	scopes := google.LoginScopes(drive...)
	tx := store.AuthTransaction{
		Kind:         store.FlowDirect,
		GoogleScopes: scopes,
		LoginHint:    google.NormalizeEmail(r.LoginHint),
		ForceConsent: r.ForceConsent,
		CreatedAt:    now,
		ExpiresAt:    now.Add(transactionTTL),
	}
	verifier, err := s.newGoogleTrip(&tx, r.SessionKey)
	if err != nil {
		return DirectStart{}, err
	}
	var d DirectStart
	if s.loopback != nil {
		d.RedirectURI, d.Elsewhere, err = s.loopback.open(tx.State)
		if err != nil {
			return DirectStart{}, err
		}
	}
	if err := s.store.CreateAuthTransaction(ctx, tx); err != nil {
		if s.loopback != nil {
			s.loopback.cancel(tx.State)
		}
		return DirectStart{}, fmt.Errorf("recording the pending Google login: %w", err)
	}
	if s.loopback != nil {
		s.loopback.stored(tx.State)
	}
	d.State = tx.State
	d.URL = s.grants.Upstream().AuthCodeURL(google.ConsentRequest{
		State:        tx.State,
		Verifier:     verifier,
		Scopes:       scopes,
		LoginHint:    tx.LoginHint,
		ForceConsent: r.ForceConsent,
		RedirectURI:  d.RedirectURI,
	})
	return d, nil
}

// DirectLoginPending reports whether the direct login StartDirectLogin
// named state is still waiting for Google's callback: false once the
// callback took it (in any process on this database) or it expired, so a
// tool call that asked the person to sign in knows when to go on.
func (s *Server) DirectLoginPending(ctx context.Context, state string) (bool, error) {
	return s.store.AuthTransactionPending(ctx, state, s.now())
}
