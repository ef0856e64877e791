package googleemu

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"net/http"
	"net/mail"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Google's OAuth model as the emulator keeps it: users (by email), one grant
// per user and client (the consent the user gave), and the codes and tokens
// minted from grants. Handlers for the endpoints live in authorize.go,
// token.go and userinfo.go.

// Scopes with special meaning. Google rewrites the short OpenID names to
// these URLs in token responses, so the emulator does too.
const (
	scopeEmail         = "https://www.googleapis.com/auth/userinfo.email"
	scopeProfile       = "https://www.googleapis.com/auth/userinfo.profile"
	scopeDrive         = "https://www.googleapis.com/auth/drive"
	scopeDriveFile     = "https://www.googleapis.com/auth/drive.file"
	scopeDriveReadonly = "https://www.googleapis.com/auth/drive.readonly"
	scopeDriveMeta     = "https://www.googleapis.com/auth/drive.metadata"
	scopeDriveMetaRO   = "https://www.googleapis.com/auth/drive.metadata.readonly"
	googleScopePrefix  = "https://www.googleapis.com/auth/"
)

// user is a Google account, created the first time someone signs in with an email.
type user struct {
	email        string
	sub          string // stable numeric id, like Google's
	name         string
	rootID       string // the "My Drive" folder, what 'root' resolves to
	permissionID string // the id of this user's permissions on any file
	// gone marks an account deleted by RecycleEmail: what still points at
	// it (an upload session in flight) must not act under its old address.
	gone bool
}

type grantKey struct{ email, clientID string }

// grant is the consent a user gave a client. It outlives individual tokens
// until revoked, which is what makes include_granted_scopes and "no refresh
// token on re-consent" observable.
type grant struct {
	scopes  []string
	offline bool // a refresh token was issued since the grant was created
}

// authRequest is a validated /o/oauth2/v2/auth request.
type authRequest struct {
	clientID        string
	redirectURI     string
	state           string
	stateSet        bool
	scopes          []string
	challenge       string
	challengeMethod string
	offline         bool
	promptConsent   bool
	includeGranted  bool
	loginHint       string
}

type authCode struct {
	req          authRequest
	email        string
	scopes       []string
	issueRefresh bool
	expires      time.Time
	used         bool
}

type accessToken struct {
	email, clientID string
	scopes          []string
	expires         time.Time
	refresh         string // the refresh token it was minted from, if any
	revoked         bool
}

type refreshToken struct {
	email, clientID string
	scopes          []string
	revoked         bool
	issued          time.Time // for Options.RefreshTokenMaxAge
}

// normalizeScope maps Google's short aliases to the URLs Google reports back.
func normalizeScope(s string) string {
	switch s {
	case "email":
		return scopeEmail
	case "profile":
		return scopeProfile
	}
	return s
}

// parseScopes splits a space-separated scope parameter, normalising and
// de-duplicating. It reports false if any scope is not one Google would know.
func parseScopes(raw string) ([]string, bool) {
	var out []string
	for _, s := range strings.Fields(raw) {
		s = normalizeScope(s)
		if s != "openid" && !strings.HasPrefix(s, googleScopePrefix) {
			return nil, false
		}
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out, true
}

func unionScopes(a, b []string) []string {
	out := slices.Clone(a)
	for _, s := range b {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// normalizeEmail returns the lower-cased bare address, or false if s is not one.
func normalizeEmail(s string) (string, bool) {
	s = strings.TrimSpace(s)
	a, err := mail.ParseAddress(s)
	if err != nil || a.Name != "" || a.Address != s || !strings.Contains(s, "@") {
		return "", false
	}
	local, domain, _ := strings.Cut(s, "@")
	if local == "" || domain == "" || strings.ContainsAny(s, " <>") {
		return "", false
	}
	return strings.ToLower(s), true
}

// userLocked returns the account for email, creating it (and its root folder)
// on first use. Ids derive from the email so they are stable across restarts,
// which keeps `--demo` databases meaningful.
func (e *Emulator) userLocked(email string) *user {
	if u, ok := e.users[email]; ok {
		return u
	}
	// An address recycled n times is held by its (n+1)th account, whose
	// ids differ from every earlier holder's (see RecycleEmail).
	seed := email
	if n := e.recycled[email]; n > 0 {
		seed = fmt.Sprintf("%s#%d", email, n)
	}
	u := &user{
		email:        email,
		sub:          "1" + digitsFrom("sub:"+seed, 20),
		name:         displayName(email),
		rootID:       "0A" + randomString(17) + "Uk9PVA",
		permissionID: digitsFrom("perm:"+seed, 20),
	}
	e.users[email] = u
	now := e.now()
	e.fileSeq++
	e.files[u.rootID] = &driveFile{
		id: u.rootID, name: "My Drive", mimeType: mimeFolder, owner: email,
		created: now, modified: now, seq: e.fileSeq, isRoot: true,
	}
	return u
}

// digitsFrom derives n decimal digits from s.
func digitsFrom(s string, n int) string {
	sum := sha256.Sum256([]byte(s))
	var b strings.Builder
	for i := 0; b.Len() < n; i++ {
		v := binary.BigEndian.Uint64(sum[(i*8)%24:])
		fmt.Fprintf(&b, "%019d", v%1e19)
	}
	return b.String()[:n]
}

// displayName turns "alice.smith@example.com" into "Alice Smith".
func displayName(email string) string {
	local, _, _ := strings.Cut(email, "@")
	parts := strings.FieldsFunc(local, func(r rune) bool { return r == '.' || r == '_' || r == '-' || r == '+' })
	for i, p := range parts {
		r, size := utf8.DecodeRuneInString(p)
		parts[i] = string(unicode.ToUpper(r)) + p[size:]
	}
	if len(parts) == 0 {
		return email
	}
	return strings.Join(parts, " ")
}

// lookupAccessLocked returns a live access token.
func (e *Emulator) lookupAccessLocked(token string) (*accessToken, bool) {
	t, ok := e.accessTokens[token]
	if !ok || t.revoked || !e.now().Before(t.expires) {
		return nil, false
	}
	return t, true
}

// bearerToken extracts an OAuth access token the ways Google accepts it:
// the Authorization header, or the access_token query parameter.
func bearerToken(r *http.Request) string {
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, tok, ok := strings.Cut(h, " ")
		if ok && strings.EqualFold(scheme, "Bearer") {
			return strings.TrimSpace(tok)
		}
		return ""
	}
	return r.URL.Query().Get("access_token")
}

// revokeGrantLocked revokes a user's whole grant to a client, as Google does
// when any of its tokens is revoked: every access and refresh token dies and
// the next offline consent yields a new refresh token. named is recorded
// first ("" when the person revoked the app rather than a token).
func (e *Emulator) revokeGrantLocked(email, clientID, named string) {
	if named != "" {
		e.revoked = append(e.revoked, named)
	}
	for v, t := range e.accessTokens {
		if t.email == email && t.clientID == clientID && !t.revoked {
			t.revoked = true
			if v != named {
				e.revoked = append(e.revoked, v)
			}
		}
	}
	for v, t := range e.refreshTokens {
		if t.email == email && t.clientID == clientID && !t.revoked {
			t.revoked = true
			if v != named {
				e.revoked = append(e.revoked, v)
			}
		}
	}
	delete(e.grants, grantKey{email, clientID})
}

// addQuery returns u with params added to its query, keeping what was there.
func addQuery(u string, params url.Values) string {
	p, err := url.Parse(u)
	if err != nil {
		return u
	}
	q := p.Query()
	for k, vs := range params {
		q[k] = vs
	}
	p.RawQuery = q.Encode()
	return p.String()
}
