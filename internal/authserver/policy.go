package authserver

import (
	"context"
	"errors"
	"net/http"
	"time"

	"golang.org/x/oauth2"

	"github.com/drivemcp/drivemcp/internal/accesspolicy"
	"github.com/drivemcp/drivemcp/internal/google"
	"github.com/drivemcp/drivemcp/internal/store"
	"github.com/drivemcp/drivemcp/internal/web"
)

// revokeRefusedTimeout bounds the courtesy revocation of a refused
// account's token, so a slow Google does not hold the refusal page.
const revokeRefusedTimeout = 5 * time.Second

// admit applies the access policy to the account Google just named, before
// anything of it is stored. A refused account's new Google token is revoked
// at Google (best effort): the person did not get in, so the grant they
// just gave this server should not outlive the attempt.
func (s *Server) admit(ctx context.Context, info google.UserInfo, tok *oauth2.Token) error {
	err := s.policy.Admit(accesspolicy.Account{Email: info.Email, EmailVerified: info.EmailVerified, HostedDomain: info.HostedDomain})
	if err == nil {
		return nil
	}
	token := tok.RefreshToken // revoking it ends the whole grant
	if token == "" {
		token = tok.AccessToken
	}
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), revokeRefusedTimeout)
	defer cancel()
	if rerr := s.grants.Upstream().Revoke(rctx, token); rerr != nil {
		s.log.Warn("could not revoke a refused account's Google token", "account", info.Email, "err", rerr.Error())
	}
	return err
}

// refusedByPolicy answers a sign-in the access policy refused and reports
// whether err was such a refusal. The proxy flow's client gets
// access_denied on its redirect URI (verified when the flow began, so an
// error redirect is safe there) and never a code; the direct flow's user
// gets a page that says what to do.
func (s *Server) refusedByPolicy(w http.ResponseWriter, r *http.Request, tx store.AuthTransaction, err error) bool {
	var refused *accesspolicy.RefusedError
	if !errors.As(err, &refused) {
		return false
	}
	s.log.Info("google account refused by the access policy", "flow", tx.Kind, "account", refused.Email, "reason", refused.Reason)
	if tx.Kind == store.FlowProxy {
		s.redirectError(w, r, tx.RedirectURI, tx.ClientState, errAccessDenied,
			"this drivemcp server does not accept the Google account you signed in with; sign in with another account or ask the server's operator to allow yours")
		return true
	}
	s.fail(w, r, web.Error{Status: http.StatusForbidden, Title: "Google account not allowed",
		Message: "This drivemcp server only accepts " + s.policy.Describe() + ". You signed in as " + refused.Email +
			", which it does not accept: " + refused.Reason + ". Nothing was connected or stored, and the access you just gave was withdrawn.",
		NextStep: "Sign in again with an allowed account, or ask the server's operator to allow yours."}, nil)
	return true
}
