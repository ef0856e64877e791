package storetest

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/drivemcp/drivemcp/internal/store"
)

// Google's sub is who an account is; the address can be renamed or given to
// someone else. These are SignInGoogleAccount's promises.
var identityTests = []test{
	{name: "FirstSignInCreates", run: testSignInCreates},
	{name: "SameSubjectUpdatesInPlace", run: testSignInSameSubject},
	{name: "RecycledAddressRevokesTheOldAccountAndStartsClean", run: testSignInRecycledAddress},
	{name: "RenamedAccountMovesWithItsTokensCodesAndBindings", run: testSignInRenamed},
	{name: "RenamedOntoARecycledAddress", run: testSignInRenamedOntoRecycled},
	{name: "EmptySubjectTakesTheFirstSeen", run: testSignInAdoptsSubject},
	{name: "EmptySubjectIsRefused", run: testSignInEmptySubject},
	{name: "UpdaterErrorWritesNothing", run: testSignInUpdaterError},
	{name: "ConcurrentSignInsOfOneSubject", run: testSignInConcurrent},
}

// signIn runs SignInGoogleAccount with an updater that records what it saw
// and writes scopes and a token.
func signIn(t *testing.T, s store.Store, email, sub string, token string) (store.SignIn, store.GoogleAccount, bool) {
	t.Helper()
	var seen store.GoogleAccount
	var existed bool
	res, err := s.SignInGoogleAccount(t.Context(), email, sub, func(old store.GoogleAccount, exists bool) (store.GoogleAccount, error) {
		seen, existed = old, exists
		old.Email = ""
		old.Scopes = []string{"openid", "drive.file"}
		old.SealedToken = []byte(token)
		return old, nil
	})
	if err != nil {
		t.Fatalf("SignInGoogleAccount(%s, %s): %v", email, sub, err)
	}
	return res, seen, existed
}

// accountArtifacts stores, for email, a token family, an unredeemed code and
// a session binding, named after tag.
func accountArtifacts(t *testing.T, s store.Store, email, tag string) {
	t.Helper()
	rt, at1 := refreshToken("rt-"+tag, "fam-"+tag), accessToken("at-"+tag, "fam-"+tag)
	rt.Email, at1.Email = email, email
	mustCreateTokens(t, s, rt, at1)
	c := authCode("code-" + tag)
	c.Email = email
	c.ExpiresAt = time.Now().Add(time.Hour)
	mustCreateAuthCode(t, s, c)
	mustBind(t, s, store.SessionBinding{SessionID: "sid-" + tag, Email: email, CreatedAt: at, ExpiresAt: at.Add(time.Hour)})
}

func testSignInCreates(t *testing.T, s store.Store) {
	res, _, existed := signIn(t, s, "ada@example.com", "111", "tok")
	if existed || res.Replaced || res.MovedFrom != "" {
		t.Errorf("first sign-in: existed %v, result %+v", existed, res)
	}
	got := mustGetAccount(t, s, "ada@example.com")
	if got.Subject != "111" || string(got.SealedToken) != "tok" || res.Account.Subject != "111" {
		t.Errorf("stored %+v", got)
	}
}

func testSignInSameSubject(t *testing.T, s store.Store) {
	signIn(t, s, "ada@example.com", "111", "tok1")
	accountArtifacts(t, s, "ada@example.com", "a")
	res, seen, existed := signIn(t, s, "ada@example.com", "111", "tok2")
	if !existed || string(seen.SealedToken) != "tok1" || res.Replaced || res.MovedFrom != "" {
		t.Errorf("second sign-in saw %+v existed=%v, result %+v", seen, existed, res)
	}
	if tok := mustGetToken(t, s, "at-a"); !tok.RevokedAt.IsZero() {
		t.Errorf("the same person's token was revoked")
	}
	if _, err := s.GetSessionBinding(t.Context(), "sid-a", at); err != nil {
		t.Errorf("the same person's binding: %v", err)
	}
}

func testSignInRecycledAddress(t *testing.T, s store.Store) {
	ctx := t.Context()
	signIn(t, s, "ada@example.com", "111", "old-person")
	accountArtifacts(t, s, "ada@example.com", "old")
	accountArtifacts(t, s, "bob@example.com", "bob")
	before := time.Now()

	res, seen, existed := signIn(t, s, "ada@example.com", "222", "new-person")
	if existed || len(seen.SealedToken) != 0 || seen.Subject != "" {
		t.Errorf("the new person's updater saw the old account: %+v existed=%v", seen, existed)
	}
	if !res.Replaced || res.ReplacedSubject != "111" || res.MovedFrom != "" {
		t.Errorf("result %+v, want Replaced 111", res)
	}
	got := mustGetAccount(t, s, "ada@example.com")
	if got.Subject != "222" || string(got.SealedToken) != "new-person" || got.CreatedAt.Before(before.Truncate(time.Millisecond)) {
		t.Errorf("stored %+v, want a new row for sub 222", got)
	}
	for _, h := range []string{"rt-old", "at-old"} {
		if tok := mustGetToken(t, s, h); tok.RevokedAt.IsZero() {
			t.Errorf("token %s of the old account is not revoked", h)
		}
	}
	if _, err := s.RedeemAuthCode(ctx, "code-old", time.Now(), nil); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the old account's unredeemed code: %v, want ErrNotFound", err)
	}
	if b, err := s.GetSessionBinding(ctx, "sid-old", at); err != nil || !b.Replaced || b.Email != "ada@example.com" {
		t.Errorf("the old account's binding: %+v %v; want it kept, marked Replaced", b, err)
	}
	// Connecting again in that session binds it afresh.
	mustBind(t, s, store.SessionBinding{SessionID: "sid-old", Email: "ada@example.com", CreatedAt: at, ExpiresAt: at.Add(time.Hour)})
	if b, err := s.GetSessionBinding(ctx, "sid-old", at); err != nil || b.Replaced {
		t.Errorf("the binding made again: %+v %v; want it no longer Replaced", b, err)
	}
	// Nobody else is touched.
	if tok := mustGetToken(t, s, "at-bob"); !tok.RevokedAt.IsZero() {
		t.Errorf("another account's token was revoked")
	}
	if _, err := s.GetSessionBinding(ctx, "sid-bob", at); err != nil {
		t.Errorf("another account's binding: %v", err)
	}
}

func testSignInRenamed(t *testing.T, s store.Store) {
	ctx := t.Context()
	first, _, _ := signIn(t, s, "ada@example.com", "111", "tok1")
	accountArtifacts(t, s, "ada@example.com", "a")

	res, seen, existed := signIn(t, s, "ada.l@example.com", "111", "tok2")
	if !existed || seen.Email != "ada@example.com" || string(seen.SealedToken) != "tok1" {
		t.Errorf("the renamed account's updater saw %+v existed=%v; want the old row with its old email", seen, existed)
	}
	if res.MovedFrom != "ada@example.com" || res.Replaced {
		t.Errorf("result %+v, want MovedFrom ada@example.com", res)
	}
	wantAccountGone(t, s, "ada@example.com")
	got := mustGetAccount(t, s, "ada.l@example.com")
	if got.Subject != "111" || string(got.SealedToken) != "tok2" || !sameInstant(got.CreatedAt, first.Account.CreatedAt) {
		t.Errorf("stored %+v, want the account moved (created %v)", got, first.Account.CreatedAt)
	}
	for _, h := range []string{"rt-a", "at-a"} {
		tok := mustGetToken(t, s, h)
		if tok.Email != "ada.l@example.com" || !tok.RevokedAt.IsZero() {
			t.Errorf("token %s after the rename: email %s revoked %v; want it live under the new address", h, tok.Email, tok.RevokedAt)
		}
	}
	code, err := s.RedeemAuthCode(ctx, "code-a", time.Now(), nil)
	if err != nil || code.Email != "ada.l@example.com" {
		t.Errorf("code after the rename: %+v %v", code, err)
	}
	b, err := s.GetSessionBinding(ctx, "sid-a", at)
	if err != nil || b.Email != "ada.l@example.com" {
		t.Errorf("binding after the rename: %+v %v", b, err)
	}
}

// Alice (111) is renamed to the address that Bob (222) had: Bob's account
// is replaced, and Alice's moves there.
func testSignInRenamedOntoRecycled(t *testing.T, s store.Store) {
	signIn(t, s, "alice@example.com", "111", "alice")
	signIn(t, s, "bob@example.com", "222", "bob")
	accountArtifacts(t, s, "alice@example.com", "alice")
	accountArtifacts(t, s, "bob@example.com", "bob")

	res, seen, existed := signIn(t, s, "bob@example.com", "111", "alice2")
	if !existed || string(seen.SealedToken) != "alice" {
		t.Errorf("updater saw %+v existed=%v, want Alice's row", seen, existed)
	}
	if !res.Replaced || res.ReplacedSubject != "222" || res.MovedFrom != "alice@example.com" {
		t.Errorf("result %+v", res)
	}
	wantAccountGone(t, s, "alice@example.com")
	if got := mustGetAccount(t, s, "bob@example.com"); got.Subject != "111" {
		t.Errorf("bob@ now %+v, want sub 111", got)
	}
	if tok := mustGetToken(t, s, "at-bob"); tok.RevokedAt.IsZero() {
		t.Errorf("Bob's token survived")
	}
	if tok := mustGetToken(t, s, "at-alice"); !tok.RevokedAt.IsZero() || tok.Email != "bob@example.com" {
		t.Errorf("Alice's token: %+v", tok)
	}
}

func testSignInAdoptsSubject(t *testing.T, s store.Store) {
	putAccount(t, s, store.GoogleAccount{Email: "ada@example.com", SealedToken: []byte("legacy")})
	accountArtifacts(t, s, "ada@example.com", "a")
	res, seen, existed := signIn(t, s, "ada@example.com", "111", "tok")
	if !existed || string(seen.SealedToken) != "legacy" || res.Replaced {
		t.Errorf("a row without a subject: updater saw %+v existed=%v, result %+v", seen, existed, res)
	}
	if got := mustGetAccount(t, s, "ada@example.com"); got.Subject != "111" {
		t.Errorf("subject %q, want 111", got.Subject)
	}
	if tok := mustGetToken(t, s, "at-a"); !tok.RevokedAt.IsZero() {
		t.Errorf("the adopting account's token was revoked")
	}
	// From now on another sub at the address is another person.
	if res, _, _ := signIn(t, s, "ada@example.com", "222", "tok"); !res.Replaced || res.ReplacedSubject != "111" {
		t.Errorf("after adoption, another sub: %+v", res)
	}
}

func testSignInEmptySubject(t *testing.T, s store.Store) {
	_, err := s.SignInGoogleAccount(t.Context(), "ada@example.com", "", func(old store.GoogleAccount, _ bool) (store.GoogleAccount, error) {
		return old, nil
	})
	if err == nil {
		t.Fatal("a sign-in without a subject was accepted")
	}
	wantAccountGone(t, s, "ada@example.com")
}

func testSignInUpdaterError(t *testing.T, s store.Store) {
	signIn(t, s, "ada@example.com", "111", "tok")
	accountArtifacts(t, s, "ada@example.com", "a")
	_, err := s.SignInGoogleAccount(t.Context(), "ada@example.com", "222", func(old store.GoogleAccount, _ bool) (store.GoogleAccount, error) {
		return old, errBoom
	})
	if !errors.Is(err, errBoom) {
		t.Fatalf("err = %v, want errBoom", err)
	}
	if got := mustGetAccount(t, s, "ada@example.com"); got.Subject != "111" {
		t.Errorf("after a failed updater the row is %+v", got)
	}
	if tok := mustGetToken(t, s, "at-a"); !tok.RevokedAt.IsZero() {
		t.Errorf("a failed sign-in revoked tokens")
	}
}

// Two replicas finishing the same person's sign-in under two addresses at
// once leave exactly one row for the sub.
func testSignInConcurrent(t *testing.T, s store.Store) {
	signIn(t, s, "ada@example.com", "111", "tok")
	var wg sync.WaitGroup
	errs := make(chan error, 2)
	for _, email := range []string{"ada.one@example.com", "ada.two@example.com"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := s.SignInGoogleAccount(t.Context(), email, "111", func(old store.GoogleAccount, _ bool) (store.GoogleAccount, error) {
				old.Email = ""
				return old, nil
			})
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
	list, err := s.ListGoogleAccounts(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, a := range list {
		if a.Subject == "111" {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d rows for sub 111 after concurrent sign-ins, want 1: %+v", n, list)
	}
}
