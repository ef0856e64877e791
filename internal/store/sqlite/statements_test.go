package sqlite

import (
	"context"
	"errors"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/drivemcp/drivemcp/internal/store"
)

// A prepared statement is prepared on a connection by the first call that
// runs it there, and kept: a call whose context ends while it prepares or
// runs the statement must not leave it broken for the calls after it.
func TestStatements_WorkAfterCallsWhoseContextEnded(t *testing.T) {
	s := openAt(t, filepath.Join(t.TempDir(), "drivemcp.db"))
	live := t.Context()
	now := time.Now()
	const email = "ada@example.com"
	if _, err := s.UpsertGoogleAccount(live, email, func(a store.GoogleAccount, _ bool) (store.GoogleAccount, error) {
		a.Subject = "sub"
		return a, nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateClient(live, store.Client{ID: "mcp_client", CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	if err := s.BindSession(live, store.SessionBinding{SessionID: "sid", Email: email, CreatedAt: now,
		ExpiresAt: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	token := func(hash string, kind store.TokenKind) store.Token {
		return store.Token{Hash: hash, Kind: kind, FamilyID: "fam", ClientID: "mcp_client", Email: email,
			CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
	}
	code := func(hash string) {
		t.Helper()
		if err := s.CreateAuthCode(live, store.AuthCode{Hash: hash, ClientID: "mcp_client", Email: email,
			CreatedAt: now, ExpiresAt: now.Add(time.Minute)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.CreateTokens(live, token("access", store.AccessToken), token("refresh-0", store.RefreshToken)); err != nil {
		t.Fatal(err)
	}
	// A rotation whose context ends may or may not commit; the spent token
	// names its successor, so the chain can be followed either way.
	rotate := func(ctx context.Context, hash, next string) error {
		return s.RotateRefreshToken(ctx, hash, func(old store.Token) (store.Token, []store.Token, error) {
			old.RotatedAt, old.Successor = now, []byte(next)
			return old, []store.Token{token("access-"+next, store.AccessToken), token(next, store.RefreshToken)}, nil
		})
	}
	current := func() string {
		t.Helper()
		hash := "refresh-0"
		for {
			tok, err := s.GetToken(live, hash)
			if err != nil {
				t.Fatal(err)
			}
			if tok.Successor == nil {
				return hash
			}
			hash = string(tok.Successor)
		}
	}

	ended := func(err error) bool {
		return err == nil || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled)
	}
	for i := range 300 {
		// From already over to well past a statement's run, so that some
		// end while a connection prepares or steps.
		ctx, cancel := context.WithTimeout(live, time.Duration(i%100)*3*time.Microsecond)
		n := strconv.Itoa(i)
		code("code-" + n)
		var wg sync.WaitGroup
		for range readConns + 1 {
			wg.Go(func() {
				for _, err := range []error{
					second(s.GetToken(ctx, "access")),
					second(s.GetGoogleAccount(ctx, email)),
					second(s.GetClient(ctx, "mcp_client")),
					second(s.GetSessionBinding(ctx, "sid", now)),
				} {
					if !ended(err) {
						t.Errorf("a read whose context ended: %v", err)
					}
				}
			})
		}
		for _, err := range []error{
			second(s.RedeemAuthCode(ctx, "code-"+n, now, nil)),
			s.CreateTokens(ctx, token("create-"+n, store.AccessToken)),
			rotate(ctx, current(), "refresh-"+n+"-1"),
		} {
			if !ended(err) && !errors.Is(err, store.ErrNotFound) { // a code redeemed, then a read cut short
				t.Errorf("a write whose context ended: %v", err)
			}
		}
		wg.Wait()
		cancel()
	}

	// Every statement, on every connection it was prepared on, still works.
	var wg sync.WaitGroup
	for range readConns + 1 {
		wg.Go(func() {
			for range 20 {
				if tok, err := s.GetToken(live, "access"); err != nil || tok.Email != email {
					t.Errorf("GetToken = %+v, %v", tok, err)
				}
				if a, err := s.GetGoogleAccount(live, email); err != nil || a.Subject != "sub" {
					t.Errorf("GetGoogleAccount = %+v, %v", a, err)
				}
				if c, err := s.GetClient(live, "mcp_client"); err != nil || c.ID != "mcp_client" {
					t.Errorf("GetClient = %+v, %v", c, err)
				}
				if b, err := s.GetSessionBinding(live, "sid", now); err != nil || b.Email != email {
					t.Errorf("GetSessionBinding = %+v, %v", b, err)
				}
			}
		})
	}
	wg.Wait()
	code("code-last")
	if c, err := s.RedeemAuthCode(live, "code-last", now, nil); err != nil || c.Hash != "code-last" {
		t.Errorf("RedeemAuthCode = %+v, %v", c, err)
	}
	if err := s.CreateTokens(live, token("create-last", store.AccessToken)); err != nil {
		t.Errorf("CreateTokens: %v", err)
	}
	if err := rotate(live, current(), "refresh-last"); err != nil {
		t.Errorf("RotateRefreshToken: %v", err)
	}
	if got := current(); got != "refresh-last" {
		t.Errorf("after the last rotation the current refresh token is %s, want refresh-last", got)
	}
}

func TestStatements_CallsAfterCloseFailCleanly(t *testing.T) {
	s := openAt(t, filepath.Join(t.TempDir(), "drivemcp.db"))
	if _, err := s.GetToken(t.Context(), "unknown"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("GetToken before Close = %v, want ErrNotFound", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if _, err := s.GetToken(t.Context(), "unknown"); err == nil || errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetToken after Close = %v, want an error", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func second[T any](_ T, err error) error { return err }
