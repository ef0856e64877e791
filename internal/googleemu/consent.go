package googleemu

import (
	"net/url"
	"slices"
)

// Granular consent, as Google's "How to handle granular permissions"
// (developers.google.com/identity/protocols/oauth2/resources/granular-permissions)
// describes it: when an app asks for the sign-in scopes (openid, email,
// profile) together with others, or for more than one other scope, the
// consent screen lets the person untick each non-sign-in scope; the
// sign-in scopes cannot be refused, and the app learns what was granted
// only from the scope the token response lists.

// SetLoginHintOnlyPrefills switches Options.LoginHintOnlyPrefills while the
// emulator runs, so a test sharing a harness's emulator can make sign-in as
// strict as Google's for its own flows.
func (e *Emulator) SetLoginHintOnlyPrefills(on bool) { e.hintPrefillsOnly.Store(on) }

// isSignInScope reports the scopes Google's consent screen never lets a
// person untick.
func isSignInScope(s string) bool {
	return s == "openid" || s == scopeEmail || s == scopeProfile
}

// optionalScopes are the requested scopes the consent page offers as
// checkboxes: none when the request holds a single scope beyond sign-in
// and nothing else, as Google then shows a plain allow-or-cancel screen.
func optionalScopes(requested []string) []string {
	var other []string
	for _, s := range requested {
		if !isSignInScope(s) {
			other = append(other, s)
		}
	}
	if len(other) == 1 && len(other) == len(requested) {
		return nil
	}
	return other
}

// grantedFromForm is what the person granted on the consent page: the
// sign-in scopes, every scope shown without a box, and the boxes still
// ticked (a browser posts a checkbox only when it is ticked).
func grantedFromForm(requested []string, form url.Values) []string {
	optional := optionalScopes(requested)
	ticked := form["scope"]
	var out []string
	for _, s := range requested {
		if !slices.Contains(optional, s) || slices.Contains(ticked, s) {
			out = append(out, s)
		}
	}
	return out
}

// scopeChoice is one line of the consent page's scope list.
type scopeChoice struct {
	Scope    string
	Optional bool // shown with a checkbox the person may untick
	Checked  bool
}

// scopeChoices lays out the requested scopes for the page; ticked is nil on
// first display (every box ticked), or the boxes a re-displayed form had.
func scopeChoices(requested []string, ticked []string, redisplay bool) []scopeChoice {
	optional := optionalScopes(requested)
	out := make([]scopeChoice, 0, len(requested))
	for _, s := range requested {
		c := scopeChoice{Scope: s, Optional: slices.Contains(optional, s)}
		c.Checked = c.Optional && (!redisplay || slices.Contains(ticked, s))
		out = append(out, c)
	}
	return out
}
