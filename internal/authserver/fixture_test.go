package authserver

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/drivemcp/drivemcp/internal/e2etest"
	"github.com/drivemcp/drivemcp/internal/google"
	"github.com/drivemcp/drivemcp/internal/googleemu"
	"github.com/drivemcp/drivemcp/internal/identity"
	"github.com/drivemcp/drivemcp/internal/netguard"
	"github.com/drivemcp/drivemcp/internal/secrets"
	"github.com/drivemcp/drivemcp/internal/store/sqlite"
)

const testRedirect = "http://127.0.0.1:51234/callback"

// fixture is an authorization server in front of the Google emulator, both
// on loopback, with the MCP endpoint replaced by a handler that echoes who
// the token belongs to.
type fixture struct {
	t      testing.TB
	srv    *Server
	base   string
	google *e2etest.Google
	// db is the SQLite file, for tests that read it as a thief would.
	db string
}

func newFixture(t testing.TB) *fixture {
	return newTimedFixture(t, nil)
}

// newTimedFixture wraps our endpoints and the emulator in clock, when given,
// so a benchmark can tell our time from "Google's".
func newTimedFixture(t testing.TB, clock *serverClock) *fixture {
	t.Helper()
	return buildFixture(t, clock, nil)
}

// newFixtureWith is newFixture with the server's options changed by mod.
func newFixtureWith(t testing.TB, mod func(*Options)) *fixture {
	t.Helper()
	return buildFixture(t, nil, mod)
}

func buildFixture(t testing.TB, clock *serverClock, mod func(*Options)) *fixture {
	t.Helper()
	g := startGoogle(t, clock)
	dbPath := filepath.Join(t.TempDir(), "db")
	st, err := sqlite.Open(context.Background(), dbPath)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	ring, err := secrets.NewKeyring(make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	var handler http.Handler = mux
	if clock != nil {
		handler = clock.wrap(mux, &clock.ours)
	}
	hs := httptest.NewServer(handler)
	t.Cleanup(hs.Close)
	up := google.NewUpstream(googleemu.DemoClientID, googleemu.DemoClientSecret, hs.URL+"/oauth2callback", google.EndpointsAt(g.URL), nil)
	opts := Options{
		Store: st, Grants: google.NewGrants(st, ring, up), Resolver: identity.NewResolver(st, false),
		BaseURL: hs.URL, Keys: ring,
		ClientMetadataDocuments: NewClientMetadataDocuments(netguard.NewClient(netguard.Policy{}, netguard.Options{}), 0),
	}
	if mod != nil {
		mod(&opts)
	}
	s := New(opts)
	s.Routes(mux)
	mux.Handle("/mcp", s.ProtectMCP(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		info, err := s.VerifyAccessToken(r.Context(), strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer "), r)
		if err != nil {
			t.Errorf("protected handler reached with a bad token: %v", err)
		}
		io.WriteString(w, info.UserID)
	})))
	return &fixture{t: t, srv: s, base: hs.URL, google: g, db: dbPath}
}

func startGoogle(t testing.TB, clock *serverClock) *e2etest.Google {
	emu, err := googleemu.New(googleemu.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var h http.Handler = emu
	if clock != nil {
		h = clock.wrap(emu, &clock.google)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(func() { srv.Close(); emu.Close() })
	return &e2etest.Google{Emulator: emu, URL: srv.URL}
}

// serverClock adds up the time spent inside handlers.
type serverClock struct {
	ours, google atomic.Int64 // nanoseconds
}

func (c *serverClock) wrap(h http.Handler, total *atomic.Int64) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		h.ServeHTTP(w, r)
		total.Add(int64(time.Since(start)))
	})
}

// register registers a public client (or a confidential one with method).
func (f *fixture) register(method string) (id, secret string) {
	f.t.Helper()
	body := map[string]any{"client_name": "Test Client", "redirect_uris": []string{testRedirect},
		"grant_types": []string{"authorization_code", "refresh_token"}, "token_endpoint_auth_method": method}
	resp, out := f.postJSON("/oauth/register", body)
	if resp.StatusCode != http.StatusCreated {
		f.t.Fatalf("register: %s %v", resp.Status, out)
	}
	id, ok := out["client_id"].(string)
	if !ok || id == "" {
		f.t.Fatalf("register: no client_id in %v", out)
	}
	secret, hasSecret := out["client_secret"].(string)
	if public := method == "none"; public == hasSecret {
		f.t.Fatalf("register (token_endpoint_auth_method %q): client_secret %q; a public client gets none, a confidential one a secret", method, secret)
	}
	return id, secret
}

// registerPublic registers a public client (PKCE only, no secret).
func (f *fixture) registerPublic() string {
	f.t.Helper()
	id, _ := f.register("none") // a public client has no secret: register checked that
	return id
}

// authorizeParams is a valid authorization request for the client.
func (f *fixture) authorizeParams(clientID, verifier string) url.Values {
	return url.Values{
		"client_id": {clientID}, "redirect_uri": {testRedirect}, "response_type": {"code"},
		"state": {"client-state"}, "code_challenge": {oauth2.S256ChallengeFromVerifier(verifier)},
		"code_challenge_method": {"S256"}, "resource": {f.base + "/mcp"}, "scope": {"drive.file"},
	}
}

// login runs the whole browser part for email and returns the code.
func (f *fixture) login(clientID, verifier, email string) string {
	f.t.Helper()
	back, err := e2etest.NewBrowser(email).Run(context.Background(), f.base+"/oauth/authorize?"+f.authorizeParams(clientID, verifier).Encode(), testRedirect)
	if err != nil {
		f.t.Fatal(err)
	}
	q := back.Query()
	if q.Get("iss") != f.base || q.Get("state") != "client-state" || q.Get("code") == "" {
		f.t.Fatalf("authorization response %v", q)
	}
	return q.Get("code")
}

// exchange redeems a code; it returns the status and the decoded body.
func (f *fixture) exchange(clientID, code, verifier string, extra url.Values) (int, map[string]any) {
	f.t.Helper()
	form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "code_verifier": {verifier},
		"client_id": {clientID}, "redirect_uri": {testRedirect}}
	for k, v := range extra {
		form[k] = v
	}
	return f.postForm("/oauth/token", form)
}

// tokens runs login + exchange and returns access and refresh tokens.
func (f *fixture) tokens(clientID, email string) (access, refresh string) {
	f.t.Helper()
	verifier := oauth2.GenerateVerifier()
	code := f.login(clientID, verifier, email)
	status, out := f.exchange(clientID, code, verifier, nil)
	if status != http.StatusOK {
		f.t.Fatalf("exchange: %d %v", status, out)
	}
	return out["access_token"].(string), out["refresh_token"].(string)
}

func (f *fixture) refresh(clientID, refreshToken string) (int, map[string]any) {
	f.t.Helper()
	return f.postForm("/oauth/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refreshToken}, "client_id": {clientID}})
}

// callMCP calls the protected endpoint with a token.
func (f *fixture) callMCP(token string) (*http.Response, string) {
	f.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, f.base+"/mcp", strings.NewReader("{}"))
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func (f *fixture) postForm(path string, form url.Values) (int, map[string]any) {
	f.t.Helper()
	resp, err := http.PostForm(f.base+path, form)
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

func (f *fixture) postJSON(path string, body any) (*http.Response, map[string]any) {
	f.t.Helper()
	raw, _ := json.Marshal(body)
	resp, err := http.Post(f.base+path, "application/json", strings.NewReader(string(raw)))
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp, out
}

// noFollow is a client that stops at redirects.
var noFollow = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

func s256(v string) string {
	sum := sha256.Sum256([]byte(v))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}
