package mcpserver

import (
	"context"
	"errors"
	"fmt"

	"github.com/drivemcp/drivemcp/internal/google"
	"github.com/drivemcp/drivemcp/internal/identity"
)

// Google's consent screen lets a person untick the Drive box and still sign
// in (Google's "How to handle granular permissions"); the account is then
// connected with the sign-in scopes only. A Drive call would only earn
// Google's 403, whose advice reads as a permissions problem, so the tools
// say what happened before asking Google.

// errNoDriveGrant is the cause of noDriveGrant's refusal, so a client that
// can show a link is asked to connect again (elicit.go).
var errNoDriveGrant = errors.New("the account's grant holds no Drive scope")

// noDriveGrant is the sentence for an account connected without any Drive scope.
func noDriveGrant(email string) string {
	return fmt.Sprintf("%s is connected, but Google gave drivemcp no access to its Google Drive: the Google Drive box was left unticked "+
		"on Google's consent screen. Call start_google_auth, open the new link and leave the Google Drive box ticked, then call this tool again.", email)
}

// requireDriveGrant refuses a Drive tool for an account whose stored grant
// holds no Drive scope. OAuth connections need no check here: their tokens
// carry only scopes Google granted, and the limited client enforces them.
func (t *tools) requireDriveGrant(ctx context.Context, id identity.Identity) error {
	if id.Method == identity.MethodOAuth {
		return nil
	}
	acct, err := t.Grants.Account(ctx, id.Email)
	if err != nil {
		return nil // the Drive call reports a missing or broken grant in its own words
	}
	if len(google.DriveScopesOf(acct.Scopes)) == 0 {
		return userErrorf(errNoDriveGrant, "%s", noDriveGrant(id.Email))
	}
	return nil
}
