package mcpserver

import (
	"errors"
	"fmt"
	"strings"

	"github.com/drivemcp/drivemcp/internal/accesspolicy"
	"github.com/drivemcp/drivemcp/internal/google"
	"github.com/drivemcp/drivemcp/internal/identity"
)

// userError is an error whose message is already a sentence for a person
// (or the model acting for one): what happened and what to do next.
type userError struct {
	msg   string
	cause error
}

func (e *userError) Error() string { return e.msg }
func (e *userError) Unwrap() error { return e.cause }

func userErrorf(cause error, format string, args ...any) error {
	return &userError{msg: fmt.Sprintf(format, args...), cause: cause}
}

// explain turns identity and grant errors into sentences that say what to
// do. Errors already explained pass through.
func (t *tools) explain(err error) error {
	var ue *userError
	if errors.As(err, &ue) {
		return err
	}
	var mismatch *identity.MismatchError
	var ambiguous *identity.AmbiguousError
	var refused *accesspolicy.RefusedError
	switch {
	case errors.As(err, &refused):
		return userErrorf(err, "The Google account %s may not use this server (%s), so nothing was done. "+
			"Sign in with an allowed account (start_google_auth, or your MCP client's login), or ask the server's operator to allow this one.",
			refused.Email, refused.Reason)
	case errors.As(err, &mismatch):
		return userErrorf(err, "This session is signed in as %s; user_google_email %s names another account, so nothing was done. "+
			"Call again without user_google_email, or connect %s first with start_google_auth (force: true).",
			mismatch.Authenticated, mismatch.Asked, mismatch.Asked)
	case errors.As(err, &ambiguous):
		return userErrorf(err, "Several Google accounts are connected (%s). Pass user_google_email to say which one, "+
			"or call start_google_auth to bind this session to one.", strings.Join(ambiguous.Emails, ", "))
	case errors.Is(err, identity.ErrEmailNotAllowed):
		return userErrorf(err, "user_google_email cannot choose the account on this server. Sign in first "+
			"(your MCP client's OAuth login, or start_google_auth), then call again without user_google_email.")
	case errors.Is(err, identity.ErrNotAuthenticated):
		return userErrorf(err, "No Google account is connected to this session yet. Call start_google_auth, "+
			"open the link it returns in a browser and sign in, then call this tool again.")
	case errors.Is(err, google.ErrNoAccount):
		return userErrorf(err, "%s. Call start_google_auth with that user_google_email, sign in, then call this tool again.",
			capitalize(err.Error()))
	case errors.Is(err, google.ErrScopeNotGranted):
		what := "Google does not grant drivemcp the scope this connection was authorized for"
		var lacks *google.ScopeNotGrantedError
		if errors.As(err, &lacks) {
			what = lacks.Error()
		}
		return userErrorf(err, "%s, and drivemcp never uses more of the account's Google access than this connection was authorized for. "+
			"Connect again: have your MCP client run its OAuth login to drivemcp again (sign out or remove the server in the client, "+
			"then add it back) and consent at Google.", what)
	case errors.Is(err, google.ErrReconsentNeeded):
		return userErrorf(err, "Google no longer accepts drivemcp's access for this account (it was revoked, expired, "+
			"or the password changed). Call start_google_auth with force: true, consent again, then retry.")
	}
	return err
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
