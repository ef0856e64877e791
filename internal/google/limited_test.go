package google

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"sync"
	"testing"

	"golang.org/x/oauth2"

	"github.com/drivemcp/drivemcp/internal/googleemu"
	"github.com/drivemcp/drivemcp/internal/secrets"
	"github.com/drivemcp/drivemcp/internal/store/sqlite"
)

var (
	onlyFile  = []string{ScopeDriveFile}
	onlyDrive = []string{ScopeDrive}
)

func (f *fixture) refreshes() int { return f.emu.Stats().TokenRequests["refresh_token"] }

// A limited token is minted once and then served from memory: a burst of
// tool calls costs one Google token request and one store read.
func TestLimited_CacheHitAsksNeitherGoogleNorTheStore(t *testing.T) {
	f := newFixture(t)
	f.login(t, "alice@example.com", false)
	reads := countReads(f)
	before := f.refreshes()
	ctx := context.Background()
	first, err := f.grants.LimitedToken(ctx, "Alice@Example.com", onlyFile)
	if err != nil {
		t.Fatal(err)
	}
	if s, _ := first.Extra("scope").(string); s != ScopeDriveFile {
		t.Fatalf("limited token's scope = %q, want only drive.file", s)
	}
	for range 50 {
		tok, err := f.grants.LimitedToken(ctx, "alice@example.com", onlyFile)
		if err != nil || tok.AccessToken != first.AccessToken {
			t.Fatalf("LimitedToken = %v, %v; want the cached token", tok, err)
		}
	}
	if n := f.refreshes() - before; n != 1 {
		t.Fatalf("Google token requests = %d, want 1", n)
	}
	if n := reads.reads.Load(); n != 1 {
		t.Fatalf("store reads = %d, want 1", n)
	}
}

// Concurrent first calls for one account and scope set share one mint.
func TestLimited_ConcurrentCallersShareOneMint(t *testing.T) {
	f := newFixture(t)
	f.login(t, "alice@example.com", false)
	before := f.refreshes()
	var wg sync.WaitGroup
	tokens := make(chan string, 20)
	for range 20 {
		wg.Go(func() {
			tok, err := f.grants.LimitedToken(context.Background(), "alice@example.com", onlyFile)
			if err != nil {
				t.Error(err)
				return
			}
			tokens <- tok.AccessToken
		})
	}
	wg.Wait()
	close(tokens)
	seen := map[string]bool{}
	for tok := range tokens {
		seen[tok] = true
	}
	if n := f.refreshes() - before; n != 1 || len(seen) != 1 {
		t.Fatalf("%d token requests, %d distinct tokens; want 1 and 1", n, len(seen))
	}
}

// Each scope set has its own token, each limited to its own scopes; the
// account's stored (full) token is not touched.
func TestLimited_OneTokenPerScopeSet(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.loginWith(t, "alice@example.com", false, ScopeDriveFile)
	stored := f.loginWith(t, "alice@example.com", false, ScopeDrive) // the grant now holds both
	file, err := f.grants.LimitedToken(ctx, "alice@example.com", onlyFile)
	if err != nil {
		t.Fatal(err)
	}
	drive, err := f.grants.LimitedToken(ctx, "alice@example.com", onlyDrive)
	if err != nil {
		t.Fatal(err)
	}
	if file.AccessToken == drive.AccessToken || file.Extra("scope") != ScopeDriveFile || drive.Extra("scope") != ScopeDrive {
		t.Fatalf("drive.file token %v, drive token %v: want two tokens, each with its own scope", file.Extra("scope"), drive.Extra("scope"))
	}
	full, err := f.grants.Token(ctx, "alice@example.com")
	if err != nil || full.AccessToken != stored.AccessToken {
		t.Fatalf("the stored token changed: %v", err)
	}
}

// A new consent or a revocation forgets the limited tokens of the account.
func TestLimited_ForgottenWhenTheGrantChangesOrEnds(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.login(t, "alice@example.com", false)
	first, err := f.grants.LimitedToken(ctx, "alice@example.com", onlyFile)
	if err != nil {
		t.Fatal(err)
	}
	f.login(t, "alice@example.com", true)
	second, err := f.grants.LimitedToken(ctx, "alice@example.com", onlyFile)
	if err != nil || second.AccessToken == first.AccessToken {
		t.Fatalf("after a new consent LimitedToken = %v, %v; want a new token", second, err)
	}
	if err := f.grants.Revoke(ctx, "alice@example.com"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.grants.LimitedToken(ctx, "alice@example.com", onlyFile); !errors.Is(err, ErrNoAccount) {
		t.Fatalf("after Revoke LimitedToken = %v; want ErrNoAccount", err)
	}
	if f.grants.limited.epoch.Load() == 0 || len(f.grants.limited.entries) != 0 {
		t.Fatalf("limited tokens kept after a revocation: %d", len(f.grants.limited.entries))
	}
}

// A scope the grant lacks is ErrScopeNotGranted, never the full grant; so
// is a scope set with no Drive scope in it.
func TestLimited_ScopeNotGrantedNeverFallsBack(t *testing.T) {
	f := newFixture(t)
	f.login(t, "alice@example.com", false)
	ctx := context.Background()
	var lacks *ScopeNotGrantedError
	if _, err := f.grants.LimitedToken(ctx, "alice@example.com", onlyDrive); !errors.As(err, &lacks) || !errors.Is(err, ErrScopeNotGranted) {
		t.Fatalf("drive on a drive.file grant: %v; want ScopeNotGrantedError", err)
	}
	for _, scopes := range [][]string{nil, {ScopeEmail}, {"drive.file"}} {
		if _, err := f.grants.LimitedToken(ctx, "alice@example.com", scopes); !errors.Is(err, ErrScopeNotGranted) {
			t.Fatalf("scopes %q: %v; want ErrScopeNotGranted", scopes, err)
		}
	}
	resp, err := f.grants.LimitedHTTPClient(ctx, "alice@example.com", nil, nil).Get(f.up.Endpoints().DriveBase + "about")
	if err == nil {
		resp.Body.Close()
		t.Fatalf("a client limited to no scope reached Drive: %s", resp.Status)
	}
}

// If Google ever answered a limited refresh with more than was asked,
// drivemcp would not use the token.
func TestLimited_WiderAnswerRefused(t *testing.T) {
	emu, err := googleemu.New(googleemu.Options{})
	if err != nil {
		t.Fatal(err)
	}
	widen := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/token" || r.FormValue("grant_type") != "refresh_token" || r.FormValue("scope") == "" {
			emu.ServeHTTP(w, r)
			return
		}
		rec := httptest.NewRecorder()
		emu.ServeHTTP(rec, r)
		var body map[string]any
		_ = json.Unmarshal(rec.Body.Bytes(), &body)
		body["scope"] = ScopeDriveFile + " " + ScopeDrive
		raw, _ := json.Marshal(body)
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", strconv.Itoa(len(raw)))
		_, _ = w.Write(raw)
	})
	srv := httptest.NewServer(widen)
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
	f := &fixture{emu: emu, grants: NewGrants(st, ring, up), up: up}
	f.login(t, "alice@example.com", false)
	_, err = f.grants.LimitedToken(context.Background(), "alice@example.com", onlyFile)
	if !errors.Is(err, ErrScopeWidened) {
		t.Fatalf("a wider answer: %v; want ErrScopeWidened", err)
	}
	if len(f.grants.limited.entries) != 0 {
		t.Fatal("the wider token was cached")
	}
}

// checkLimitedScopes on its own: narrower or equal passes, wider or no
// Drive scope fails, no scope at all means as asked (RFC 6749 §5.1).
func TestCheckLimitedScopes(t *testing.T) {
	asked := []string{ScopeDriveFile, ScopeDriveReadonly}
	for answer, want := range map[string]error{
		"":             nil,
		ScopeDriveFile: nil,
		ScopeDriveReadonly + " " + ScopeDriveFile: nil,
		ScopeDrive:                        ErrScopeWidened,
		ScopeDriveFile + " " + ScopeEmail: ErrScopeWidened,
	} {
		got := checkLimitedScopes(tokenWithScope(answer), asked)
		if !errors.Is(got, want) && !(want == nil && got == nil) {
			t.Errorf("answer %q: %v, want %v", answer, got, want)
		}
	}
	if err := checkLimitedScopes(tokenWithScope(ScopeEmail), []string{ScopeEmail}); !errors.Is(err, ErrScopeNotGranted) {
		t.Errorf("an answer without a Drive scope: %v", err)
	}
}

func tokenWithScope(scope string) *oauth2.Token {
	return (&oauth2.Token{AccessToken: "ya29.x"}).WithExtra(map[string]any{"scope": scope})
}

// A process whose cached token Google ended may find in the store a token
// another process saved that Google ended too (a new consent elsewhere);
// the client rejects that one in turn and refreshes, instead of failing.
func TestGrants_ClientRejectsAnEndedTokenAnotherProcessStored(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.login(t, "alice@example.com", false)
	if _, err := f.grants.Token(ctx, "alice@example.com"); err != nil { // cached here
		t.Fatal(err)
	}
	other := NewGrants(f.grants.store, f.grants.keys, f.up) // a second replica
	(&fixture{emu: f.emu, grants: other, up: f.up}).login(t, "alice@example.com", false)
	f.emu.ExpireAccessTokens()
	resp, err := f.grants.HTTPClient(ctx, "alice@example.com", nil).Get(f.up.Endpoints().UserinfoURL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("userinfo: %s", resp.Status)
	}
}

// The cache-hit cost of a limited token, next to the full grant's: what a
// tool call pays before it talks to Drive.
func BenchmarkLimitedToken_CacheHit(b *testing.B) {
	f := newFixture(b)
	f.login(b, "alice@example.com", false)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := f.grants.LimitedToken(ctx, "alice@example.com", onlyFile); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkToken_CacheHit(b *testing.B) {
	f := newFixture(b)
	f.login(b, "alice@example.com", false)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := f.grants.Token(ctx, "alice@example.com"); err != nil {
			b.Fatal(err)
		}
	}
}
