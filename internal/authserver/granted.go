package authserver

import (
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/drivemcp/drivemcp/internal/google"
	"github.com/drivemcp/drivemcp/internal/store"
	"github.com/drivemcp/drivemcp/internal/web"
)

// What Google granted decides what a login yields. Google's consent screen
// lets the person untick each Drive scope (Google's "How to handle granular
// permissions"), and the token response's scope is the only record of what
// they left ticked; grantedScopes stores exactly that on the account.

// mcpScopesGranted is the intersection of the MCP scopes a client asked for
// (short names, "drive.file") and the Google scopes the account granted, so
// a token never claims access Google did not give: a call it then allows
// would only end in Google's 403, and the 403 step-up would never fire.
func mcpScopesGranted(asked, granted []string) []string {
	var out []string
	for _, sc := range asked {
		if slices.Contains(granted, google.LongScope(sc)) {
			out = append(out, sc)
		}
	}
	return out
}

// refusedForScopes ends a login in which Google granted none of the Drive
// access the flow asked for (the person unticked the box), and reports
// whether it did. The proxy flow shows a page that says so, with a link that
// returns access_denied to the client's verified redirect URI: an error
// redirect at once would hide the explanation behind the client's own
// generic error, and a page alone would leave the client waiting. The
// direct flow keeps the session's binding (the person did sign in) so its
// tools can say the same, and shows the page.
func (s *Server) refusedForScopes(w http.ResponseWriter, r *http.Request, tx store.AuthTransaction, acct store.GoogleAccount) bool {
	asked := google.DriveScopesOf(tx.GoogleScopes)
	if tx.Kind == store.FlowProxy {
		asked = google.DriveScopesOf(tx.Scopes)
	}
	if len(asked) == 0 || len(mcpScopesGranted(shortScopes(asked), acct.Scopes)) > 0 {
		return false
	}
	if tx.Kind == store.FlowDirect && len(google.DriveScopesOf(acct.Scopes)) > 0 {
		return false // an earlier grant still gives Drive access; finishDirect notes what is missing
	}
	names := strings.Join(shortScopes(asked), ", ")
	page := web.Error{Status: http.StatusForbidden, Title: "Google Drive access not granted",
		Message: fmt.Sprintf("You signed in to Google as %s, but the Google Drive box (%s) was left unticked on Google's consent screen, "+
			"so Google gave drivemcp no access to your Drive and nothing was connected.", acct.Email, names)}
	s.log.Info("google granted no drive scope", "flow", tx.Kind, "asked", names)
	switch tx.Kind {
	case store.FlowProxy:
		s.metrics.OAuthOutcome("authorize", errAccessDenied)
		q := url.Values{"error": {errAccessDenied}, "iss": {s.issuer},
			"error_description": {"Google Drive access was not granted at Google's consent screen"}}
		if tx.ClientState != "" {
			q.Set("state", tx.ClientState)
		}
		// The redirect URI was checked against the client's registration
		// when the login began, so it is safe to link to whatever its scheme.
		page.ReturnURL = template.URL(withQuery(tx.RedirectURI, q))
		page.ReturnText = "Return to the application"
		page.NextStep = "Return to the application and connect again; at Google, leave the Google Drive box ticked. " +
			"The application will report that access was denied until you do."
	default:
		sessionKey, err := s.openLoginSecret(sealedSessionIDFor, tx.State, tx.SealedSessionID)
		if err == nil && sessionKey != "" {
			err = s.resolver.Bind(r.Context(), sessionKey, acct.Email, bindingTTL)
		}
		if err != nil {
			s.log.Warn("binding a session without drive access", "err", err.Error())
		}
		page.NextStep = "Ask your assistant to run start_google_auth again (or run drivemcp login again), open the new link and leave the Google Drive box ticked."
	}
	s.fail(w, r, page, nil)
	return true
}

// shortScopes names Google Drive scopes as drivemcp's OAuth scopes do.
func shortScopes(scopes []string) []string {
	out := make([]string, 0, len(scopes))
	for _, sc := range scopes {
		out = append(out, google.ShortScope(sc))
	}
	return out
}

// missingDriveNote says which asked Drive scopes Google did not grant when
// some Drive access remains, for the direct flow's "connected" page.
func missingDriveNote(tx store.AuthTransaction, acct store.GoogleAccount) string {
	var missing []string
	for _, sc := range google.DriveScopesOf(tx.GoogleScopes) {
		if !slices.Contains(acct.Scopes, sc) {
			missing = append(missing, google.ShortScope(sc))
		}
	}
	if len(missing) == 0 {
		return ""
	}
	return fmt.Sprintf(" Google did not grant %s (its box was left unticked), so drivemcp keeps only the access granted before: %s. "+
		"To add it, run start_google_auth again and leave the box ticked.", strings.Join(missing, ", "), strings.Join(shortScopes(google.DriveScopesOf(acct.Scopes)), ", "))
}
