package storetest

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/drivemcp/drivemcp/internal/store"
)

// Rotation is where a refresh token is spent. These tests pin down that it
// is one transaction: a client refreshing twice at once must get one new
// pair (the second call sees the first's rotation), never two live ones.
var rotationTests = []test{
	{name: "WritesUpdatedAndInsertsIssued", run: testRotateWritesBoth},
	{name: "UpdatedMayLeaveTheHashEmpty", run: testRotateEmptyHash},
	{name: "CannotChangeTheHash", run: testRotateCannotChangeHash},
	{name: "ErrorWritesNothing", run: testRotateErrorWritesNothing},
	{name: "IssuedCollisionWritesNothing", run: testRotateIssuedCollision},
	{name: "PanicWritesNothingAndReleasesLock", run: testRotatePanic},
	{name: "MissingIsNotFound", run: testRotateMissing},
	{name: "ConcurrentRotationsSeeEachOther", run: testConcurrentRotations},
	{name: "CancelDuringRotateWritesNothing", run: testCancelDuringRotate},
}

// rotation is what the token endpoint does with a current refresh token:
// mark it rotated with the new pair sealed in Successor, and issue the pair.
func rotation(old store.Token, suffix string) (store.Token, []store.Token) {
	pair := []store.Token{accessToken("access-"+suffix, old.FamilyID), refreshToken("refresh-"+suffix, old.FamilyID)}
	old.RotatedAt = at.Add(time.Minute)
	old.Successor = []byte("sealed:" + suffix)
	return old, pair
}

func testRotateWritesBoth(t *testing.T, s store.Store) {
	orig := refreshToken("refresh-0", "fam")
	mustCreateTokens(t, s, orig)

	var updated store.Token
	var issued []store.Token
	calls := 0
	err := s.RotateRefreshToken(t.Context(), orig.Hash, func(old store.Token) (store.Token, []store.Token, error) {
		calls++
		if d := tokenDiff(old, orig); d != "" {
			t.Errorf("rotate got old: %s", d)
		}
		updated, issued = rotation(old, "1")
		return updated, issued, nil
	})
	if err != nil {
		t.Fatalf("RotateRefreshToken: %v", err)
	}
	if calls != 1 {
		t.Errorf("rotate ran %d times, want 1", calls)
	}
	wantTokens(t, s, updated)
	wantTokens(t, s, issued...)
}

func testRotateEmptyHash(t *testing.T, s store.Store) {
	mustCreateTokens(t, s, refreshToken("refresh-0", "fam"))
	var want store.Token
	err := s.RotateRefreshToken(t.Context(), "refresh-0", func(old store.Token) (store.Token, []store.Token, error) {
		want, _ = rotation(old, "1")
		updated := want
		updated.Hash = ""
		return updated, nil, nil
	})
	if err != nil {
		t.Fatalf("rotate returning an empty Hash: %v", err)
	}
	wantTokens(t, s, want)
}

// An updated token naming another hash would overwrite a token the
// transaction never read; it is refused.
func testRotateCannotChangeHash(t *testing.T, s store.Store) {
	orig, victim := refreshToken("refresh-0", "fam"), refreshToken("victim", "other")
	mustCreateTokens(t, s, orig, victim)
	err := s.RotateRefreshToken(t.Context(), orig.Hash, func(old store.Token) (store.Token, []store.Token, error) {
		updated, issued := rotation(old, "1")
		updated.Hash = victim.Hash
		return updated, issued, nil
	})
	if err == nil {
		t.Error("rotate changing Hash: want an error")
	}
	wantTokens(t, s, orig, victim)
	wantTokenGone(t, s, "access-1")
	wantTokenGone(t, s, "refresh-1")
}

func testRotateErrorWritesNothing(t *testing.T, s store.Store) {
	orig := refreshToken("refresh-0", "fam")
	mustCreateTokens(t, s, orig)
	err := s.RotateRefreshToken(t.Context(), orig.Hash, func(old store.Token) (store.Token, []store.Token, error) {
		updated, issued := rotation(old, "1")
		return updated, issued, errBoom
	})
	if !errors.Is(err, errBoom) {
		t.Errorf("err = %v, want rotate's error", err)
	}
	wantTokens(t, s, orig)
	wantTokenGone(t, s, "access-1")
	wantTokenGone(t, s, "refresh-1")
}

func testRotateIssuedCollision(t *testing.T, s store.Store) {
	orig, taken := refreshToken("refresh-0", "fam"), accessToken("taken", "other")
	mustCreateTokens(t, s, orig, taken)
	err := s.RotateRefreshToken(t.Context(), orig.Hash, func(old store.Token) (store.Token, []store.Token, error) {
		updated, issued := rotation(old, "1")
		return updated, append(issued, accessToken(taken.Hash, old.FamilyID)), nil
	})
	if !errors.Is(err, store.ErrAlreadyExists) {
		t.Errorf("issuing a taken hash: err = %v, want ErrAlreadyExists", err)
	}
	wantTokens(t, s, orig, taken)
	wantTokenGone(t, s, "access-1")
	wantTokenGone(t, s, "refresh-1")
}

func testRotatePanic(t *testing.T, s store.Store) {
	orig := refreshToken("refresh-0", "fam")
	mustCreateTokens(t, s, orig)
	err := func() (err error) {
		defer func() {
			if recover() != nil {
				err = errBoom
			}
		}()
		return s.RotateRefreshToken(t.Context(), orig.Hash, func(old store.Token) (store.Token, []store.Token, error) {
			panic("rotate panics")
		})
	}()
	if err == nil {
		t.Error("a panicking rotate neither panicked nor returned an error")
	}
	wantTokens(t, s, orig)
	// A lock leaked by the panic would block this until the deadline.
	ctx, cancel := contextWithTimeout(t, 5*time.Second)
	defer cancel()
	if err := s.RotateRefreshToken(ctx, orig.Hash, func(old store.Token) (store.Token, []store.Token, error) {
		return old, nil, nil
	}); err != nil {
		t.Errorf("rotation after a panic: %v (was the lock released?)", err)
	}
}

func testRotateMissing(t *testing.T, s store.Store) {
	mustCreateTokens(t, s, refreshToken("refresh-0", "fam"))
	calls := 0
	err := s.RotateRefreshToken(t.Context(), "unknown", func(old store.Token) (store.Token, []store.Token, error) {
		calls++
		return old, nil, nil
	})
	if !errors.Is(err, store.ErrNotFound) {
		t.Errorf("err = %v, want ErrNotFound", err)
	}
	if calls != 0 {
		t.Errorf("rotate ran %d times for a missing token", calls)
	}
	wantTokenGone(t, s, "unknown")
}

// Each rotation counts itself in Successor and issues its own token. If two
// ever read the same state, both see RotatedAt zero (two live pairs from one
// refresh token) or an increment is lost.
func testConcurrentRotations(t *testing.T, s store.Store) {
	const n = 20
	mustCreateTokens(t, s, refreshToken("refresh-0", "fam"))

	var running, sawCurrent atomic.Int32
	var start, wg sync.WaitGroup
	start.Add(1)
	for i := range n {
		wg.Go(func() {
			start.Wait()
			err := s.RotateRefreshToken(t.Context(), "refresh-0", func(old store.Token) (store.Token, []store.Token, error) {
				if running.Add(1) > 1 {
					t.Error("two rotations of one token ran at once")
				}
				defer running.Add(-1)
				count := 0
				if old.RotatedAt.IsZero() {
					sawCurrent.Add(1)
				} else {
					var err error
					if count, err = strconv.Atoi(string(old.Successor)); err != nil {
						return old, nil, err
					}
				}
				time.Sleep(time.Millisecond)
				old.RotatedAt = at.Add(time.Minute)
				old.Successor = []byte(strconv.Itoa(count + 1))
				return old, []store.Token{accessToken("access-"+strconv.Itoa(i), old.FamilyID)}, nil
			})
			if err != nil {
				t.Errorf("RotateRefreshToken: %v", err)
			}
		})
	}
	start.Done()
	wg.Wait()
	if c := sawCurrent.Load(); c != 1 {
		t.Errorf("%d rotations saw the token unrotated, want exactly 1", c)
	}
	if got := mustGetToken(t, s, "refresh-0"); string(got.Successor) != strconv.Itoa(n) {
		t.Errorf("rotation counter = %q after %d rotations; rotations interleaved", got.Successor, n)
	}
	for i := range n {
		mustGetToken(t, s, "access-"+strconv.Itoa(i))
	}
}

// A token endpoint whose request was canceled mid-rotation must not leave a
// pair issued that nobody received.
func testCancelDuringRotate(t *testing.T, s store.Store) {
	orig := refreshToken("refresh-0", "fam")
	mustCreateTokens(t, s, orig)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	err := s.RotateRefreshToken(ctx, orig.Hash, func(old store.Token) (store.Token, []store.Token, error) {
		cancel()
		updated, issued := rotation(old, "1")
		return updated, issued, nil
	})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
	wantTokens(t, s, orig)
	wantTokenGone(t, s, "access-1")
	wantTokenGone(t, s, "refresh-1")
}
