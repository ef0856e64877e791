package authserver

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/drivemcp/drivemcp/internal/accesspolicy"
	"github.com/drivemcp/drivemcp/internal/e2etest"
	"github.com/drivemcp/drivemcp/internal/google"
	"github.com/drivemcp/drivemcp/internal/googleemu"
	"github.com/drivemcp/drivemcp/internal/identity"
	"github.com/drivemcp/drivemcp/internal/secrets"
	"github.com/drivemcp/drivemcp/internal/store"
	"github.com/drivemcp/drivemcp/internal/store/sqlite"
)

// policyFixture is a login server that only accepts the Google Workspace
// example.com, in front of an emulator where mallory@example.com is a
// personal Google account registered with a company address.
type policyFixture struct {
	*fixture
	st  store.Store
	emu *googleemu.Emulator
}

func newPolicyFixture(t *testing.T) *policyFixture {
	t.Helper()
	emu, err := googleemu.New(googleemu.Options{Accounts: map[string]googleemu.Account{"mallory@example.com": {Consumer: true}}})
	if err != nil {
		t.Fatal(err)
	}
	gs := httptest.NewServer(emu)
	t.Cleanup(func() { gs.Close(); emu.Close() })
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	ring, err := secrets.NewKeyring(make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	policy, err := accesspolicy.New(nil, []string{"example.com"})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	hs := httptest.NewServer(mux)
	t.Cleanup(hs.Close)
	up := google.NewUpstream(googleemu.DemoClientID, googleemu.DemoClientSecret, hs.URL+"/oauth2callback", google.EndpointsAt(gs.URL), nil)
	s := New(Options{Store: st, Grants: google.NewGrants(st, ring, up), Resolver: identity.NewResolver(st, false),
		BaseURL: hs.URL, Keys: ring, Policy: policy})
	s.Routes(mux)
	return &policyFixture{fixture: &fixture{t: t, srv: s, base: hs.URL, google: &e2etest.Google{Emulator: emu, URL: gs.URL}}, st: st, emu: emu}
}

// assertNothingKept checks that a refused sign-in left no account, and that
// the Google grant it obtained was revoked at Google.
func (f *policyFixture) assertNothingKept(t *testing.T, email string) {
	t.Helper()
	if _, err := f.st.GetGoogleAccount(context.Background(), email); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the refused account %s was stored (err %v)", email, err)
	}
	if len(f.emu.RevokedTokens()) == 0 {
		t.Error("the refused account's Google token was not revoked at Google")
	}
}

// A personal Google account registered with a company address finishes
// Google's sign-in through an MCP client: the client gets access_denied and
// no code, and nothing of the account is kept.
func TestCallback_AccountOutsidePolicyGetsNothing_ProxyFlow(t *testing.T) {
	f := newPolicyFixture(t)
	id := f.registerPublic()
	verifier := oauth2.GenerateVerifier()
	back, err := e2etest.NewBrowser("mallory@example.com").Run(context.Background(), f.base+"/oauth/authorize?"+f.authorizeParams(id, verifier).Encode(), testRedirect)
	if err != nil {
		t.Fatal(err)
	}
	q := back.Query()
	if q.Get("code") != "" || q.Get("error") != "access_denied" || q.Get("state") != "client-state" || q.Get("iss") != f.base {
		t.Fatalf("refused account: the client got %v, want error=access_denied and no code", q)
	}
	f.assertNothingKept(t, "mallory@example.com")

	// A member of the Workspace still signs in.
	if code := f.login(id, verifier, "alice@example.com"); code == "" {
		t.Fatal("an allowed account got no code")
	}
}

// The same account through start_google_auth: a page that says why, no
// account row and no session binding.
func TestCallback_AccountOutsidePolicyGetsNothing_DirectFlow(t *testing.T) {
	f := newPolicyFixture(t)
	ctx := context.Background()
	link, err := f.srv.StartDirect(ctx, DirectRequest{SessionKey: "mcp:session-1"})
	if err != nil {
		t.Fatal(err)
	}
	back, err := e2etest.NewBrowser("mallory@example.com").Run(ctx, link, f.base+"/oauth2callback")
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(back.String())
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(string(page), "only accepts") {
		t.Fatalf("refused account: want the 403 refusal page, got %s: %.300s", resp.Status, page)
	}
	f.assertNothingKept(t, "mallory@example.com")
	if _, err := f.st.GetSessionBinding(ctx, "mcp:session-1", f.srv.now()); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("the session was bound to the refused account (err %v)", err)
	}
}
