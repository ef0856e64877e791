package authserver

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode"

	"github.com/drivemcp/drivemcp/internal/loopback"
	"github.com/drivemcp/drivemcp/internal/secrets"
	"github.com/drivemcp/drivemcp/internal/store"
)

// fuzzStore holds a few fixed clients in memory and knows one valid
// authorization code; the rest of the Store interface is never reached by
// the handlers under fuzzing (a call to it panics, which the fuzzer reports).
type fuzzStore struct {
	store.Store
	mu      sync.Mutex
	clients map[string]store.Client
}

const (
	fuzzPublic       = "mcp_public"
	fuzzConfidential = "mcp_confidential"
	fuzzSecret       = "mcps_the-real-secret"
	fuzzCode         = "the-one-valid-code"
	fuzzVerifier     = "a-verifier-of-at-least-forty-three-characters-0123456789"
)

func newFuzzStore() *fuzzStore {
	sum := sha256.Sum256([]byte(fuzzSecret))
	s := &fuzzStore{clients: map[string]store.Client{}}
	for _, c := range []store.Client{
		{ID: fuzzPublic, TokenEndpointAuthMethod: "none", ApplicationType: "native", GrantTypes: []string{"authorization_code", "refresh_token"},
			RedirectURIs: []string{testRedirect, "http://[::1]/cb?client=1", "com.example.app:/oauth2redirect"}},
		{ID: fuzzConfidential, SecretHash: sum[:], TokenEndpointAuthMethod: "client_secret_basic", ApplicationType: "web",
			GrantTypes: []string{"authorization_code"}, RedirectURIs: []string{"https://app.example/cb", "https://app.example/other?a=b&c=%2F"}},
		{ID: "mcp_single", TokenEndpointAuthMethod: "none", ApplicationType: "web", GrantTypes: []string{"authorization_code"},
			RedirectURIs: []string{"https://single.example/only"}},
		{ID: "mcp_no_code_grant", TokenEndpointAuthMethod: "none", ApplicationType: "web", GrantTypes: []string{"refresh_token"},
			RedirectURIs: []string{"https://nocode.example/cb"}},
	} {
		s.clients[c.ID] = c
	}
	return s
}

func (s *fuzzStore) CreateClient(_ context.Context, c store.Client) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.clients[c.ID] = c
	return nil
}

func (s *fuzzStore) GetClient(_ context.Context, id string) (store.Client, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.clients[id]
	if !ok {
		return store.Client{}, store.ErrNotFound
	}
	return cloneClient(c), nil
}

func (s *fuzzStore) CreateAuthTransaction(context.Context, store.AuthTransaction) error { return nil }

// RedeemAuthCode knows fuzzCode (issued to the public client, never used
// up, so the fuzzer can keep trying to misuse it).
func (s *fuzzStore) RedeemAuthCode(_ context.Context, hash string, now time.Time, issue store.IssueFunc) (store.AuthCode, error) {
	if hash != hashToken(fuzzCode) {
		return store.AuthCode{}, store.ErrNotFound
	}
	c := store.AuthCode{Hash: hash, ClientID: fuzzPublic, RedirectURI: testRedirect, CodeChallenge: pkceS256(fuzzVerifier),
		Resource: "https://drivemcp.example/mcp", Scopes: []string{"drive.file"}, Email: "alice@example.com", FamilyID: "fam",
		CreatedAt: now, ExpiresAt: now.Add(time.Minute)}
	if issue != nil {
		if _, err := issue(c); err != nil {
			return c, err
		}
	}
	return c, nil
}

func (s *fuzzStore) CreateTokens(context.Context, ...store.Token) error { return nil }

func (s *fuzzStore) RotateRefreshToken(context.Context, string, func(store.Token) (store.Token, []store.Token, error)) error {
	return store.ErrNotFound
}

func (s *fuzzStore) GetToken(context.Context, string) (store.Token, error) {
	return store.Token{}, store.ErrNotFound
}

func newFuzzServer(t testing.TB) (*Server, *fuzzStore) {
	ring, err := secrets.NewKeyring(make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	st := newFuzzStore()
	return New(Options{Store: st, BaseURL: "https://drivemcp.example", Keys: ring}), st
}

// FuzzRegister sends arbitrary bodies through the registration endpoint's
// decoding and validation. Whatever comes in, the answer is a 4xx RFC 7591
// error or a client whose stored metadata is safe to act on.
func FuzzRegister(f *testing.F) {
	for _, seed := range []string{
		`{"redirect_uris":["http://127.0.0.1:51234/callback"],"token_endpoint_auth_method":"none","grant_types":["authorization_code","refresh_token"],"client_name":"Inspector"}`,
		`{"redirect_uris":["https://app.example/cb"],"client_name":"Web","logo_uri":"https://app.example/logo.png","client_uri":"https://app.example"}`,
		`{"redirect_uris":["com.example.app:/oauth2redirect"],"application_type":"native","scope":"drive.file offline_access"}`,
		`{"redirect_uris":["javascript:alert(1)"]}`,
		`{"redirect_uris":["https://\u0430pple.com/cb"]}`,
		`{"redirect_uris":["https://evil%E2%80%AE.example/cb"]}`,
		`{"redirect_uris":["https://app.example@evil.example/cb"]}`,
		`{"redirect_uris":["http://localhost/cb"],"client_name":"a\u202eb\u0000c\nd"}`,
		`{"redirect_uris":["https://a.example/cb"],"grant_types":["implicit"]}`,
		`{"redirect_uris":["https://a.example/cb"],"response_types":["token"]}`,
		`{"redirect_uris":["https://a.example/cb"],"token_endpoint_auth_method":"private_key_jwt"}`,
		`{"redirect_uris":[],"REDIRECT_URIS":["https://a.example/cb"]}`,
		`{"redirect_uris":["https://a.example/cb"]} {}`,
		`[[[[[[[[[[]]]]]]]]]]`, `null`, ``, `"x"`,
	} {
		f.Add("application/json", []byte(seed))
	}
	f.Add("application/json; charset=utf-8", []byte(`{"redirect_uris":["https://a.example/cb"]}`))
	f.Add("text/plain", []byte(`{"redirect_uris":["https://a.example/cb"]}`))
	srv, st := newFuzzServer(f)
	f.Fuzz(func(t *testing.T, contentType string, body []byte) {
		req := httptest.NewRequest(http.MethodPost, "/oauth/register", bytes.NewReader(body))
		req.Header.Set("Content-Type", contentType)
		rec := httptest.NewRecorder()
		srv.handleRegister(rec, req)
		var out map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
			t.Fatalf("%d answer is not JSON: %q", rec.Code, rec.Body)
		}
		switch rec.Code {
		case http.StatusBadRequest, http.StatusRequestEntityTooLarge, http.StatusUnsupportedMediaType:
			if out["error"] != errInvalidClientMetadata && out["error"] != errInvalidRedirectURI {
				t.Fatalf("%d with error %v", rec.Code, out["error"])
			}
			return
		case http.StatusCreated:
		default:
			t.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
		id, _ := out["client_id"].(string)
		client, err := st.GetClient(context.Background(), id)
		if err != nil {
			t.Fatalf("registered %q but stored nothing", id)
		}
		st.mu.Lock()
		delete(st.clients, id) // keep the store small
		st.mu.Unlock()
		checkRegisteredClient(t, client)
	})
}

func checkRegisteredClient(t *testing.T, c store.Client) {
	t.Helper()
	if !strings.HasPrefix(c.ID, "mcp_") {
		t.Fatalf("client id %q", c.ID)
	}
	switch c.TokenEndpointAuthMethod {
	case "none":
		if c.SecretHash != nil {
			t.Fatal("a public client has a secret")
		}
	case "client_secret_basic", "client_secret_post":
		if len(c.SecretHash) != sha256.Size {
			t.Fatal("a confidential client has no secret")
		}
	default:
		t.Fatalf("auth method %q", c.TokenEndpointAuthMethod)
	}
	if !slices.Contains(c.GrantTypes, "authorization_code") {
		t.Fatalf("grant types %v", c.GrantTypes)
	}
	for _, g := range c.GrantTypes {
		if g != "authorization_code" && g != "refresh_token" {
			t.Fatalf("grant type %q", g)
		}
	}
	for _, rt := range c.ResponseTypes {
		if rt != "code" {
			t.Fatalf("response type %q", rt)
		}
	}
	if c.ApplicationType != "web" && c.ApplicationType != "native" {
		t.Fatalf("application type %q", c.ApplicationType)
	}
	if len(c.RedirectURIs) == 0 || len(c.RedirectURIs) > 20 {
		t.Fatalf("%d redirect URIs", len(c.RedirectURIs))
	}
	for _, uri := range c.RedirectURIs {
		checkSafeRedirectURI(t, uri, c.ApplicationType)
	}
	for _, r := range c.Name {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
			t.Fatalf("client name %q holds %U", c.Name, r)
		}
	}
	if len(c.Name) > 100+utf8MaxRune {
		t.Fatalf("client name of %d bytes", len(c.Name))
	}
	for _, u := range []string{c.ClientURI, c.LogoURI} {
		if u != "" && !strings.HasPrefix(u, "https://") {
			t.Fatalf("client or logo URI %q", u)
		}
	}
}

const utf8MaxRune = 4

// checkSafeRedirectURI is what every accepted redirect URI must be: not a
// scheme that runs code, no userinfo or fragment, ASCII (so the consent page
// shows its true host), https or loopback http, and a private-use scheme
// only for native apps.
func checkSafeRedirectURI(t *testing.T, uri, applicationType string) {
	t.Helper()
	u, err := url.Parse(uri)
	if err != nil || !u.IsAbs() {
		t.Fatalf("accepted redirect URI %q does not parse: %v", uri, err)
	}
	scheme := strings.ToLower(u.Scheme)
	switch {
	case forbiddenSchemes[scheme]:
		t.Fatalf("accepted a %s: redirect URI %q", scheme, uri)
	case u.User != nil, strings.Contains(uri, "#"), strings.ContainsAny(uri, "\\ \t\r\n"):
		t.Fatalf("accepted redirect URI %q with userinfo, a fragment, a backslash or white space", uri)
	case scheme == "http" && !loopback.IsHost(u.Hostname()):
		t.Fatalf("accepted http redirect URI %q off loopback", uri)
	case scheme == "https" && u.Hostname() == "":
		t.Fatalf("accepted https redirect URI %q without a host", uri)
	case scheme != "http" && scheme != "https" && applicationType != "native":
		t.Fatalf("accepted private-use redirect URI %q for a %s app", uri, applicationType)
	}
	for _, r := range uri + u.Host {
		if r < ' ' || r > '~' {
			t.Fatalf("accepted redirect URI %q, which shows %U", uri, r)
		}
	}
}

// FuzzRedirectURI checks registration's redirect URI rules and the
// matching of a requested URI against a registered one: a match never lets
// a different scheme, host, path or query through; only a loopback URI's
// port may differ (RFC 8252 §7.3). The redirect actually sent (the
// requested URI with our parameters added) lands on the registered endpoint.
func FuzzRedirectURI(f *testing.F) {
	for _, seed := range [][2]string{
		{testRedirect, testRedirect},
		{testRedirect, "http://127.0.0.1:6000/callback"},
		{testRedirect, "http://127.0.0.1:6000/%63allback"},
		{testRedirect, "http://127.0.0.1:6000/callback?x=1"},
		{testRedirect, "http://127.0.0.1:6000/callback#x"},
		{testRedirect, "http://127.0.0.1:51234@evil.example/callback"},
		{testRedirect, `http://127.0.0.1:51234\@evil.example/callback`},
		{"http://[::1]/cb?a=1&b=%2F", "http://[::1]:9/cb?a=1&b=%2F"},
		{"http://localhost/cb", "http://LOCALHOST:1/cb"},
		{"https://app.example/cb", "https://app.example:443/cb"},
		{"https://app.example/cb", "https:app.example/cb"},
		{"https://app.example/cb", "//app.example/cb"},
		{"https://app.example/a%2Fb", "https://app.example/a/b"},
		{"com.example.app:/oauth2redirect", "com.example.app:/oauth2redirect"},
		{"com.example.app:/oauth2redirect", "COM.example.app:/oauth2redirect"},
		{"https://xn--bcher-kva.example/cb", "https://b\u00fccher.example/cb"},
		{"javascript:alert(1)", "javascript:alert(1)"},
		{"https://evil\u202e.example/cb", "https://evil\u202e.example/cb"},
	} {
		f.Add(seed[0], seed[1])
	}
	f.Fuzz(func(t *testing.T, registered, requested string) {
		if len(registered) > 4096 || len(requested) > 4096 {
			return
		}
		for _, app := range []string{"", "web", "native"} {
			native, err := checkRedirectURI(registered, app)
			if err != nil {
				continue
			}
			effective := app
			if effective == "" {
				effective = "web"
				if native {
					effective = "native"
				}
			}
			checkSafeRedirectURI(t, registered, effective)
		}
		if _, err := checkRedirectURI(registered, ""); err == nil {
			checkSafeRedirectURI(t, registered, "native")
		}

		if !redirectMatches(registered, requested) {
			return
		}
		if registered == requested {
			checkLandsOn(t, registered, requested, false)
			return
		}
		checkLandsOn(t, registered, requested, true)
	})
}

// checkLandsOn fails unless the redirect we would send for requested goes
// to registered's scheme, host, path and query (any port if loosePort).
func checkLandsOn(t *testing.T, registered, requested string, loosePort bool) {
	t.Helper()
	r, err := url.Parse(registered)
	if err != nil {
		if registered != requested {
			t.Fatalf("%q matched unparsable %q", requested, registered)
		}
		return // an exact match of a string that was never a valid registration
	}
	loc, err := url.Parse(withQuery(requested, url.Values{"code": {"c"}, "iss": {"https://drivemcp.example"}}))
	if err != nil {
		t.Fatalf("our redirect for %q does not parse: %v", requested, err)
	}
	if loosePort && (r.Scheme != "http" || !loopback.IsHost(r.Hostname())) {
		t.Fatalf("%q matched non-loopback %q without being equal", requested, registered)
	}
	same := strings.EqualFold(loc.Scheme, r.Scheme) && loc.Hostname() == r.Hostname() && loc.Opaque == r.Opaque &&
		loc.EscapedPath() == r.EscapedPath() && loc.User == nil && loc.Fragment == "" && (loosePort || loc.Port() == r.Port())
	if !same {
		t.Fatalf("requested %q (registered %q) redirects to %q", requested, registered, loc)
	}
	want := r.Query()
	got := loc.Query()
	for k, vs := range want {
		if k != "code" && k != "iss" && !slices.Equal(got[k], vs) {
			t.Fatalf("the registered query %q changed to %q", r.RawQuery, loc.RawQuery)
		}
	}
}

// FuzzAuthorize sends arbitrary query strings to the authorization
// endpoint. Nothing panics or answers 5xx, and a redirect only ever goes
// to a redirect URI registered by the client the request names.
func FuzzAuthorize(f *testing.F) {
	valid := url.Values{
		"client_id": {fuzzPublic}, "redirect_uri": {testRedirect}, "response_type": {"code"}, "state": {"xyz"},
		"code_challenge": {pkceS256(fuzzVerifier)}, "code_challenge_method": {"S256"},
		"resource": {"https://drivemcp.example/mcp"}, "scope": {"drive.file"},
	}
	f.Add(valid.Encode())
	for _, change := range []func(q url.Values){
		func(q url.Values) { q.Set("redirect_uri", "http://127.0.0.1:6000/callback") },
		func(q url.Values) { q.Set("redirect_uri", "http://[::1]:7/cb?client=1") },
		func(q url.Values) { q.Set("redirect_uri", "com.example.app:/oauth2redirect") },
		func(q url.Values) { q.Set("redirect_uri", "https://evil.example/cb") },
		func(q url.Values) {
			q.Set("client_id", fuzzConfidential)
			q.Set("redirect_uri", "https://app.example/other?a=b&c=%2F")
		},
		func(q url.Values) { q.Set("client_id", "mcp_single"); q.Del("redirect_uri") },
		func(q url.Values) {
			q.Set("client_id", "mcp_no_code_grant")
			q.Set("redirect_uri", "https://nocode.example/cb")
		},
		func(q url.Values) { q.Del("code_challenge") },
		func(q url.Values) { q.Set("code_challenge_method", "plain") },
		func(q url.Values) { q.Set("response_type", "token") },
		func(q url.Values) { q.Set("resource", "https://evil.example/mcp") },
		func(q url.Values) { q.Set("scope", "drive gmail") },
		func(q url.Values) { q.Add("state", "again") },
		func(q url.Values) { q.Set("state", "\xff") },
		func(q url.Values) { q.Add("redirect_uri", "https://evil.example/cb") },
		func(q url.Values) { q.Set("client_id", "https://client.example/metadata.json") },
	} {
		q := url.Values{}
		for k, v := range valid {
			q[k] = slices.Clone(v)
		}
		change(q)
		f.Add(q.Encode())
	}
	f.Add("client_id=mcp_public&redirect_uri=http%3A%2F%2F127.0.0.1%3A51234%2Fcallback&state=%zz&response_type=code")
	f.Add("client_id=mcp_public;redirect_uri=x")
	srv, st := newFuzzServer(f)
	f.Fuzz(func(t *testing.T, rawQuery string) {
		if len(rawQuery) > 16<<10 {
			return
		}
		req := httptest.NewRequest(http.MethodGet, "/oauth/authorize", nil)
		req.URL.RawQuery = rawQuery
		rec := httptest.NewRecorder()
		srv.handleAuthorize(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("status %d for %q", rec.Code, rawQuery)
		}
		loc := rec.Header().Get("Location")
		if loc == "" {
			if rec.Code != http.StatusOK && rec.Code != http.StatusBadRequest {
				t.Fatalf("status %d without a redirect", rec.Code)
			}
			return
		}
		if rec.Code != http.StatusFound {
			t.Fatalf("redirect with status %d", rec.Code)
		}
		q := req.URL.Query()
		client, err := st.GetClient(context.Background(), q.Get("client_id"))
		if err != nil || len(q["client_id"]) != 1 {
			t.Fatalf("redirected to %q for an unknown client (%q)", loc, rawQuery)
		}
		to, err := url.Parse(loc)
		if err != nil {
			t.Fatalf("redirect to unparsable %q", loc)
		}
		if to.Query().Get("error") == "" || to.Query().Get("iss") != "https://drivemcp.example" {
			t.Fatalf("redirect %q is not an error response with our issuer", loc)
		}
		for _, reg := range client.RedirectURIs {
			r, _ := url.Parse(reg)
			loopback := r.Scheme == "http" && loopback.IsHost(r.Hostname())
			if to.Scheme == r.Scheme && to.Hostname() == r.Hostname() && to.Opaque == r.Opaque && to.EscapedPath() == r.EscapedPath() &&
				to.User == nil && (loopback || to.Port() == r.Port()) {
				return
			}
		}
		t.Fatalf("redirected to %q, not a redirect URI of %s (%v)", loc, client.ID, client.RedirectURIs)
	})
}

// FuzzTokenRequest sends arbitrary token requests: content type, body,
// query, and Authorization header. The answer is always an RFC 6749 error
// with its status, or tokens — and tokens only for the one valid code, its
// PKCE verifier and its client. Client authentication never accepts a
// confidential client without its secret.
func FuzzTokenRequest(f *testing.F) {
	redeem := url.Values{"grant_type": {"authorization_code"}, "code": {fuzzCode}, "code_verifier": {fuzzVerifier}, "client_id": {fuzzPublic}}
	f.Add(formType, redeem.Encode(), "", "")
	f.Add(formType+"; charset=utf-8", redeem.Encode()+"&redirect_uri="+url.QueryEscape(testRedirect), "", "")
	f.Add(formType, redeem.Encode()+"&resource=https%3A%2F%2Fevil.example%2Fmcp", "", "")
	f.Add(formType, "grant_type=authorization_code&code="+fuzzCode+"&code_verifier=wrong&client_id="+fuzzPublic, "", "")
	f.Add(formType, "grant_type=authorization_code&code="+fuzzCode+"&code_verifier="+fuzzVerifier+"&client_id="+fuzzConfidential+"&client_secret="+fuzzSecret, "", "")
	f.Add(formType, "grant_type=authorization_code&code=x&code_verifier="+fuzzVerifier, "Basic "+basic(fuzzConfidential, fuzzSecret), "")
	f.Add(formType, "grant_type=authorization_code&code=x", "Basic "+basic(fuzzConfidential, "wrong"), "")
	f.Add(formType, "grant_type=authorization_code&code=x&client_secret=x", "Basic "+basic(fuzzConfidential, fuzzSecret), "")
	f.Add(formType, "grant_type=refresh_token&refresh_token=dmcp_rt_x&client_id="+fuzzPublic, "", "")
	f.Add(formType, "grant_type=password&client_id="+fuzzPublic, "", "")
	f.Add(formType, "grant_type=authorization_code&grant_type=refresh_token&client_id="+fuzzPublic, "", "")
	f.Add(formType, "client_id="+fuzzPublic, "", "code="+fuzzCode)
	f.Add("application/json", `{"grant_type":"authorization_code"}`, "", "")
	f.Add(formType, "client_id=%zz", "Basic %%%", "")
	srv, _ := newFuzzServer(f)
	f.Fuzz(func(t *testing.T, contentType, body, authorization, query string) {
		newRequest := func() *http.Request {
			req := httptest.NewRequest(http.MethodPost, "/oauth/token", strings.NewReader(body))
			req.URL.RawQuery = query
			req.Header.Set("Content-Type", contentType)
			if authorization != "" {
				req.Header["Authorization"] = []string{authorization}
			}
			return req
		}

		// The parsing and client authentication on their own.
		rec := httptest.NewRecorder()
		req := newRequest()
		if form, oerr := parseForm(rec, req); oerr == nil {
			if client, oerr := srv.authenticateClient(req, form); oerr == nil {
				switch client.ID {
				case fuzzPublic, "mcp_single", "mcp_no_code_grant":
				case fuzzConfidential:
					if !presentsSecret(req, form, fuzzSecret) {
						t.Fatalf("the confidential client was authenticated without its secret: %q %q", authorization, body)
					}
				default:
					t.Fatalf("authenticated unknown client %q", client.ID)
				}
			} else if oerr.Code == errInvalidClient && oerr.status != http.StatusUnauthorized {
				t.Fatalf("invalid_client with status %d", oerr.status)
			}
		}

		// The whole endpoint.
		rec = httptest.NewRecorder()
		srv.handleToken(rec, newRequest())
		var out map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
			t.Fatalf("%d answer is not JSON: %q", rec.Code, rec.Body)
		}
		switch rec.Code {
		case http.StatusOK:
			form, _ := url.ParseQuery(body)
			if form.Get("code") != fuzzCode || form.Get("code_verifier") != fuzzVerifier || out["access_token"] == nil {
				t.Fatalf("tokens for %q", body)
			}
		case http.StatusBadRequest:
			switch out["error"] {
			case errInvalidRequest, errInvalidGrant, errUnsupportedGrantType, errInvalidTarget, errInvalidScope:
			default:
				t.Fatalf("400 with error %v", out["error"])
			}
		case http.StatusUnauthorized:
			if out["error"] != errInvalidClient || rec.Header().Get("WWW-Authenticate") == "" {
				t.Fatalf("401 with error %v", out["error"])
			}
		default:
			t.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
	})
}

func basic(user, password string) string {
	req := httptest.NewRequest(http.MethodPost, "/", nil)
	req.SetBasicAuth(url.QueryEscape(user), url.QueryEscape(password))
	return strings.TrimPrefix(req.Header.Get("Authorization"), "Basic ")
}

// presentsSecret reports whether the request carries secret, in HTTP
// Basic (form-encoded, RFC 6749 §2.3.1) or in the body.
func presentsSecret(req *http.Request, form url.Values, secret string) bool {
	if _, password, ok := req.BasicAuth(); ok {
		if p, err := url.QueryUnescape(password); err == nil && p == secret {
			return true
		}
	}
	return form.Get("client_secret") == secret
}
