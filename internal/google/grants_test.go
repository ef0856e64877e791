package google

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/drivemcp/drivemcp/internal/googleemu"
	"github.com/drivemcp/drivemcp/internal/secrets"
	"github.com/drivemcp/drivemcp/internal/store"
	"github.com/drivemcp/drivemcp/internal/store/sqlite"
)

type fixture struct {
	emu    *googleemu.Emulator
	grants *Grants
	up     *Upstream
}

func newFixture(t testing.TB, opts ...GrantsOption) *fixture {
	t.Helper()
	emu, err := googleemu.New(googleemu.Options{})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(emu)
	t.Cleanup(func() { srv.Close(); emu.Close() })
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	ring, err := secrets.NewKeyring(make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	up := NewUpstream(googleemu.DemoClientID, googleemu.DemoClientSecret, "http://127.0.0.1:1/oauth2callback", EndpointsAt(srv.URL), nil)
	return &fixture{emu: emu, grants: NewGrants(st, ring, up, opts...), up: up}
}

// login runs a consent at the emulator and saves the grant, as the callback does.
func (f *fixture) login(t testing.TB, email string, force bool) *oauth2.Token {
	t.Helper()
	return f.loginWith(t, email, force, ScopeDriveFile)
}

// loginWith is login asking for driveScopes.
func (f *fixture) loginWith(t testing.TB, email string, force bool, driveScopes ...string) *oauth2.Token {
	t.Helper()
	verifier := oauth2.GenerateVerifier()
	authURL := f.up.AuthCodeURL(ConsentRequest{State: "st", Verifier: verifier, Scopes: LoginScopes(driveScopes...), LoginHint: email, ForceConsent: force})
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Get(authURL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, _ := url.Parse(resp.Header.Get("Location"))
	code := loc.Query().Get("code")
	if code == "" {
		t.Fatalf("no code in %s", loc)
	}
	ctx := context.Background()
	tok, err := f.up.Exchange(ctx, code, verifier)
	if err != nil {
		t.Fatal(err)
	}
	info, err := f.up.UserInfo(ctx, tok)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.grants.Save(ctx, info, tok, LoginScopes(driveScopes...)); err != nil {
		t.Fatal(err)
	}
	return tok
}

// expireStored makes the stored access token expired, at Google and here.
func (f *fixture) expireStored(t *testing.T, email string) {
	t.Helper()
	f.emu.ExpireAccessTokens()
	_, err := f.grants.store.UpdateGoogleAccount(context.Background(), email, func(a store.GoogleAccount) (store.GoogleAccount, error) {
		tok, err := f.grants.open(a)
		if err != nil {
			return a, err
		}
		tok.Expiry = time.Now().Add(-time.Minute)
		a.SealedToken, err = f.grants.seal(email, tok)
		return a, err
	})
	if err != nil {
		t.Fatal(err)
	}
	// Written behind the Grants' back, as another replica would: this
	// process would see it within the account cache's TTL; now, here.
	f.grants.accounts.Forget(email)
}

func TestGrants_ConcurrentCallersShareOneRefresh(t *testing.T) {
	f := newFixture(t)
	f.login(t, "alice@example.com", false)
	f.expireStored(t, "alice@example.com")
	before := f.emu.Stats().TokenRequests["refresh_token"]
	var wg sync.WaitGroup
	errs := make(chan error, 50)
	for range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := f.grants.Token(context.Background(), "alice@example.com")
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if got := f.emu.Stats().TokenRequests["refresh_token"] - before; got != 1 {
		t.Fatalf("%d refreshes at Google for 50 concurrent callers, want 1", got)
	}
}

func TestGrants_RevokedAtGoogleMeansReconsent(t *testing.T) {
	f := newFixture(t)
	tok := f.login(t, "alice@example.com", false)
	if err := f.up.Revoke(context.Background(), tok.RefreshToken); err != nil {
		t.Fatal(err)
	}
	f.expireStored(t, "alice@example.com")
	_, err := f.grants.Token(context.Background(), "alice@example.com")
	if !errors.Is(err, ErrReconsentNeeded) {
		t.Fatalf("err = %v, want ErrReconsentNeeded", err)
	}
	acct, _ := f.grants.Account(context.Background(), "alice@example.com")
	if !acct.NeedsReconsent {
		t.Fatal("account not marked as needing consent")
	}
	// A second call fails fast without asking Google again.
	before := f.emu.Stats().TokenRequests["refresh_token"]
	if _, err := f.grants.Token(context.Background(), "alice@example.com"); !errors.Is(err, ErrReconsentNeeded) {
		t.Fatal(err)
	}
	if f.emu.Stats().TokenRequests["refresh_token"] != before {
		t.Fatal("asked Google again for a grant known to be dead")
	}
	// Consent again (with prompt=consent, so Google sends a new refresh token) heals it.
	f.login(t, "alice@example.com", true)
	if _, err := f.grants.Token(context.Background(), "alice@example.com"); err != nil {
		t.Fatalf("after re-consent: %v", err)
	}
}

// Google sends a refresh token only on the first consent: a later login
// without one must keep the stored refresh token.
func TestGrants_SecondLoginKeepsRefreshToken(t *testing.T) {
	f := newFixture(t)
	first := f.login(t, "alice@example.com", false)
	second := f.login(t, "alice@example.com", false)
	if second.RefreshToken != "" {
		t.Fatalf("emulator sent a refresh token on re-consent without prompt=consent")
	}
	acct, err := f.grants.Account(context.Background(), "alice@example.com")
	if err != nil {
		t.Fatal(err)
	}
	stored, err := f.grants.open(acct)
	if err != nil {
		t.Fatal(err)
	}
	if stored.RefreshToken != first.RefreshToken || stored.AccessToken != second.AccessToken || acct.NeedsReconsent {
		t.Fatalf("stored %+v (needs reconsent %v)", stored, acct.NeedsReconsent)
	}
}

func TestGrants_SealedAtRest(t *testing.T) {
	f := newFixture(t)
	tok := f.login(t, "alice@example.com", false)
	acct, _ := f.grants.Account(context.Background(), "alice@example.com")
	for _, secret := range []string{tok.AccessToken, tok.RefreshToken} {
		if secret != "" && bytes.Contains(acct.SealedToken, []byte(secret)) {
			t.Fatal("a Google token is stored in the clear")
		}
	}
}

func TestGrants_UnknownAccount(t *testing.T) {
	f := newFixture(t)
	if _, err := f.grants.Token(context.Background(), "nobody@example.com"); !errors.Is(err, ErrNoAccount) {
		t.Fatalf("err = %v", err)
	}
}

// Google may end an access token before its expiry; the account's client
// refreshes and replays instead of failing for up to an hour.
func TestGrants_ClientRefreshesAfterEarly401(t *testing.T) {
	f := newFixture(t)
	f.login(t, "alice@example.com", false)
	f.emu.ExpireAccessTokens() // our stored copy still looks valid
	c := f.grants.HTTPClient(context.Background(), "alice@example.com", nil)
	resp, err := c.Get(f.up.Endpoints().UserinfoURL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("userinfo after early expiry: %s", resp.Status)
	}
	if n := f.emu.Stats().TokenRequests["refresh_token"]; n != 1 {
		t.Fatalf("%d refreshes, want 1", n)
	}
}

// Google's token endpoint failing (a 500, a dropped connection) is not the
// user's doing: the call fails with a RefreshError that says so, the stored
// grant is left exactly as it was, and once Google is back the same grant
// refreshes.
func TestGrants_RefreshFailureKeepsTheStoredGrant(t *testing.T) {
	for name, fault := range map[string]googleemu.Fault{
		"server error":       {PathPrefix: "/token", Status: 500, Times: 5},
		"dropped connection": {PathPrefix: "/token", DropAfterBytes: 1, Times: 5},
	} {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t)
			f.login(t, "alice@example.com", false)
			f.expireStored(t, "alice@example.com")
			before, err := f.grants.Account(context.Background(), "alice@example.com")
			if err != nil {
				t.Fatal(err)
			}
			f.emu.InjectFault(fault)
			_, err = f.grants.Token(context.Background(), "alice@example.com")
			var re *RefreshError
			if !errors.As(err, &re) || !re.Transient || errors.Is(err, ErrReconsentNeeded) {
				t.Fatalf("err = %v, want a transient RefreshError", err)
			}
			if !strings.Contains(err.Error(), "stored grant is unchanged") {
				t.Fatalf("message %q does not say the grant is kept", err)
			}
			var p interface{ Permanent() bool }
			if errors.As(err, &p) {
				t.Fatal("a transient failure is marked permanent")
			}
			after, err := f.grants.Account(context.Background(), "alice@example.com")
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(after.SealedToken, before.SealedToken) || after.NeedsReconsent {
				t.Fatal("a failed refresh changed the stored grant")
			}
			f.emu.ClearFaults()
			if _, err := f.grants.Token(context.Background(), "alice@example.com"); err != nil {
				t.Fatalf("after Google recovered: %v", err)
			}
		})
	}
}

// invalid_grant is final: the error says re-consent, and is marked
// permanent so that the uploader does not back off and retry it.
func TestGrants_InvalidGrantIsPermanent(t *testing.T) {
	f := newFixture(t)
	f.login(t, "alice@example.com", false)
	f.expireStored(t, "alice@example.com")
	f.emu.InjectFault(googleemu.Fault{PathPrefix: "/token", Status: 400, Reason: "invalid_grant"})
	for i := range 2 { // the refresh, then the remembered verdict
		_, err := f.grants.Token(context.Background(), "alice@example.com")
		var p interface{ Permanent() bool }
		if !errors.Is(err, ErrReconsentNeeded) || !errors.As(err, &p) || !p.Permanent() {
			t.Fatalf("call %d: err = %v, want a permanent ErrReconsentNeeded", i+1, err)
		}
	}
	if _, err := f.grants.Token(context.Background(), "nobody@example.com"); !errors.Is(err, ErrNoAccount) {
		t.Fatalf("unknown account: %v", err)
	}
}
