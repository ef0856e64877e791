package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/drivemcp/drivemcp/internal/store"
)

var tokenTests = []test{
	{name: "CreateSeveralInOneCall", run: testCreateSeveralTokens},
	{name: "FieldsRoundTrip", run: testTokenRoundTrip},
	{name: "ZeroTimesAndEmptySuccessor", run: testTokenZeroValues},
	{name: "CreateNoneIsANoOp", run: testCreateNoTokens},
	{name: "DuplicateHashWritesNoneOfTheBatch", run: testDuplicateTokenBatch},
	{name: "GetUnknownIsNotFound", run: testGetUnknownToken},
	{name: "RevokeMarksButKeeps", run: testRevokeToken},
	{name: "RevokeUnknownIsNotFound", run: testRevokeUnknownToken},
	{name: "RevokeFamilyTouchesOnlyThatFamily", run: testRevokeFamily},
}

func refreshToken(hash, family string) store.Token {
	return store.Token{
		Hash:      hash,
		Kind:      store.RefreshToken,
		FamilyID:  family,
		ClientID:  "mcp_client",
		Email:     "ada@example.com",
		Resource:  "https://drive.example.com/mcp",
		Scopes:    []string{"drive.upload", "drive.read"},
		CreatedAt: at,
		ExpiresAt: at.Add(30 * 24 * time.Hour),
	}
}

func accessToken(hash, family string) store.Token {
	t := refreshToken(hash, family)
	t.Kind = store.AccessToken
	t.ExpiresAt = at.Add(time.Hour)
	return t
}

func mustCreateTokens(t *testing.T, s store.Store, tokens ...store.Token) {
	t.Helper()
	if err := s.CreateTokens(t.Context(), tokens...); err != nil {
		t.Fatalf("CreateTokens: %v", err)
	}
}

func mustGetToken(t *testing.T, s store.Store, hash string) store.Token {
	t.Helper()
	got, err := s.GetToken(t.Context(), hash)
	if err != nil {
		t.Fatalf("GetToken(%s): %v", hash, err)
	}
	return got
}

func wantTokenGone(t *testing.T, s store.Store, hash string) {
	t.Helper()
	if got, err := s.GetToken(t.Context(), hash); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetToken(%s) = %+v, %v; want ErrNotFound", hash, got, err)
	}
}

// wantTokens checks that each token is stored exactly as given.
func wantTokens(t *testing.T, s store.Store, tokens ...store.Token) {
	t.Helper()
	for _, want := range tokens {
		if d := tokenDiff(mustGetToken(t, s, want.Hash), want); d != "" {
			t.Errorf("token %s: %s", want.Hash, d)
		}
	}
}

func testCreateSeveralTokens(t *testing.T, s store.Store) {
	pair := []store.Token{accessToken("access-1", "fam"), refreshToken("refresh-1", "fam")}
	mustCreateTokens(t, s, pair...)
	wantTokens(t, s, pair...)
	mustCreateTokens(t, s, accessToken("access-2", "fam"))
	wantTokens(t, s, append(pair, accessToken("access-2", "fam"))...)
}

func testTokenRoundTrip(t *testing.T, s store.Store) {
	successor := make([]byte, 256) // every byte value, NUL included
	for i := range successor {
		successor[i] = byte(255 - i)
	}
	want := refreshToken("rotated", "fam")
	want.Scopes = []string{"drive.read", "drive.upload", "drive.admin"}
	want.RotatedAt = at.Add(time.Minute)
	want.Successor = successor
	want.RevokedAt = at.Add(2 * time.Minute)
	mustCreateTokens(t, s, want)
	wantTokens(t, s, want)
}

func testTokenZeroValues(t *testing.T, s store.Store) {
	bare := store.Token{Hash: "bare", Kind: store.AccessToken}
	empty := refreshToken("empty", "fam")
	empty.Scopes, empty.Successor = []string{}, []byte{}
	mustCreateTokens(t, s, bare, empty)
	for _, hash := range []string{"bare", "empty"} {
		got := mustGetToken(t, s, hash)
		if !got.RotatedAt.IsZero() || !got.RevokedAt.IsZero() || len(got.Successor) != 0 || len(got.Scopes) != 0 {
			t.Errorf("%s: RotatedAt=%v RevokedAt=%v Successor=%x Scopes=%q; want zero, zero, none, none",
				hash, got.RotatedAt, got.RevokedAt, got.Successor, got.Scopes)
		}
	}
	if got := mustGetToken(t, s, "bare"); !got.CreatedAt.IsZero() || !got.ExpiresAt.IsZero() {
		t.Errorf("bare: CreatedAt=%v ExpiresAt=%v; want zero", got.CreatedAt, got.ExpiresAt)
	}
}

func testCreateNoTokens(t *testing.T, s store.Store) {
	if err := s.CreateTokens(t.Context()); err != nil {
		t.Errorf("CreateTokens(): %v", err)
	}
}

// Issuing is all or nothing: a pair half written would hand a client an
// access token whose refresh token does not exist.
func testDuplicateTokenBatch(t *testing.T, s store.Store) {
	taken := refreshToken("taken", "fam-1")
	mustCreateTokens(t, s, taken)

	clash := refreshToken("taken", "fam-2")
	if err := s.CreateTokens(t.Context(), accessToken("new", "fam-2"), clash); !errors.Is(err, store.ErrAlreadyExists) {
		t.Errorf("batch with a taken hash: err = %v, want ErrAlreadyExists", err)
	}
	wantTokenGone(t, s, "new")
	wantTokens(t, s, taken)

	twice := accessToken("twice", "fam-3")
	if err := s.CreateTokens(t.Context(), twice, twice); !errors.Is(err, store.ErrAlreadyExists) {
		t.Errorf("batch naming one hash twice: err = %v, want ErrAlreadyExists", err)
	}
	wantTokenGone(t, s, "twice")
}

func testGetUnknownToken(t *testing.T, s store.Store) {
	mustCreateTokens(t, s, accessToken("known", "fam"))
	for _, hash := range []string{"unknown", "KNOWN", ""} {
		wantTokenGone(t, s, hash)
	}
}

func testRevokeToken(t *testing.T, s store.Store) {
	ctx := t.Context()
	target, sibling := refreshToken("target", "fam"), accessToken("sibling", "fam")
	mustCreateTokens(t, s, target, sibling)

	revokedAt := at.Add(time.Minute)
	if err := s.RevokeToken(ctx, target.Hash, revokedAt); err != nil {
		t.Fatalf("RevokeToken: %v", err)
	}
	target.RevokedAt = revokedAt
	wantTokens(t, s, target, sibling)

	// RFC 7009: revoking a revoked token succeeds; the first revocation
	// time is the one that stays.
	if err := s.RevokeToken(ctx, target.Hash, revokedAt.Add(time.Hour)); err != nil {
		t.Errorf("revoking again: %v, want no error", err)
	}
	wantTokens(t, s, target)
}

func testRevokeUnknownToken(t *testing.T, s store.Store) {
	mustCreateTokens(t, s, accessToken("known", "fam"))
	if err := s.RevokeToken(t.Context(), "unknown", at); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("err = %v, want ErrNotFound", err)
	}
	wantTokens(t, s, accessToken("known", "fam"))
}

func testRevokeFamily(t *testing.T, s store.Store) {
	ctx := t.Context()
	rotated := refreshToken("a-rotated", "fam-a")
	rotated.RotatedAt, rotated.Successor = at.Add(time.Minute), []byte("sealed pair")
	early := accessToken("a-revoked-early", "fam-a")
	early.RevokedAt = at.Add(time.Second)
	family := []store.Token{accessToken("a-access", "fam-a"), refreshToken("a-refresh", "fam-a"), rotated, early}
	others := []store.Token{accessToken("b-access", "fam-b"), refreshToken("b-refresh", "fam-b"), accessToken("fam-a", "fam-a-2")}
	mustCreateTokens(t, s, append(family, others...)...)

	revokedAt := at.Add(time.Hour)
	if err := s.RevokeFamily(ctx, "fam-a", revokedAt); err != nil {
		t.Fatalf("RevokeFamily: %v", err)
	}
	for i := range family {
		if family[i].RevokedAt.IsZero() {
			family[i].RevokedAt = revokedAt
		}
	}
	wantTokens(t, s, family...) // still there, only marked
	wantTokens(t, s, others...)

	if err := s.RevokeFamily(ctx, "no-such-family", revokedAt); err != nil {
		t.Errorf("RevokeFamily of an unknown family: %v, want no error", err)
	}
	wantTokens(t, s, others...)
}
