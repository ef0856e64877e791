package identity

import (
	"context"
	"errors"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/drivemcp/drivemcp/internal/google"
	"github.com/drivemcp/drivemcp/internal/store"
	"github.com/drivemcp/drivemcp/internal/store/sqlite"
)

func newStore(t *testing.T, accounts ...string) store.Store {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	for _, a := range accounts {
		_, err := st.UpsertGoogleAccount(context.Background(), a, func(old store.GoogleAccount, _ bool) (store.GoogleAccount, error) {
			old.SealedToken = []byte("x")
			return old, nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return st
}

func TestResolve_Order(t *testing.T) {
	ctx := context.Background()
	st := newStore(t, "alice@example.com", "bob@example.com")
	r := NewResolver(st, true)
	if err := r.Bind(ctx, "s1", "Bob@Example.com", time.Hour); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		call Call
		want Identity
	}{
		{"token wins over binding", Call{TokenSubject: "alice@example.com", TokenScopes: []string{"drive.file"}, SessionKey: "s1"},
			Identity{Email: "alice@example.com", Method: MethodOAuth, Scopes: []string{google.ScopeDriveFile}}},
		{"token scopes become Drive scope URLs, others left out", Call{TokenSubject: "alice@example.com", TokenScopes: []string{"drive", "offline_access", "drive.readonly", "drive"}},
			Identity{Email: "alice@example.com", Method: MethodOAuth, Scopes: []string{google.ScopeDrive, google.ScopeDriveReadonly}}},
		{"binding", Call{SessionKey: "s1"}, Identity{Email: "bob@example.com", Method: MethodSession}},
		{"binding with its own email", Call{SessionKey: "s1", ExplicitEmail: "BOB@example.com"}, Identity{Email: "bob@example.com", Method: MethodSession}},
		{"local explicit", Call{SessionKey: "unbound", ExplicitEmail: "alice@example.com"}, Identity{Email: "alice@example.com", Method: MethodLocal}},
	}
	for _, c := range cases {
		got, err := r.Resolve(ctx, c.call)
		if err != nil || !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: got %+v, %v; want %+v", c.name, got, err, c.want)
		}
	}
}

// An explicit email naming someone else never reaches their account.
func TestResolve_CrossUserEmailRefused(t *testing.T) {
	ctx := context.Background()
	st := newStore(t, "alice@example.com", "bob@example.com")
	for _, trusted := range []bool{true, false} {
		r := NewResolver(st, trusted)
		r.Bind(ctx, "s1", "alice@example.com", time.Hour)
		for _, c := range []Call{
			{TokenSubject: "alice@example.com", ExplicitEmail: "bob@example.com"},
			{SessionKey: "s1", ExplicitEmail: "bob@example.com"},
		} {
			_, err := r.Resolve(ctx, c)
			var mm *MismatchError
			if !errors.As(err, &mm) || mm.Asked != "bob@example.com" || mm.Authenticated != "alice@example.com" {
				t.Errorf("trusted=%v %+v: err %v", trusted, c, err)
			}
		}
	}
}

func TestResolve_UntrustedIgnoresNothingButRefusesEmail(t *testing.T) {
	ctx := context.Background()
	r := NewResolver(newStore(t, "alice@example.com"), false)
	if _, err := r.Resolve(ctx, Call{ExplicitEmail: "alice@example.com"}); !errors.Is(err, ErrEmailNotAllowed) {
		t.Fatalf("explicit email in untrusted mode: %v", err)
	}
	if _, err := r.Resolve(ctx, Call{}); !errors.Is(err, ErrNotAuthenticated) {
		t.Fatalf("nothing in untrusted mode: %v (the single account must not be picked)", err)
	}
}

func TestResolve_LocalSingleAndSeveralAccounts(t *testing.T) {
	ctx := context.Background()
	if _, err := NewResolver(newStore(t), true).Resolve(ctx, Call{}); !errors.Is(err, ErrNotAuthenticated) {
		t.Fatalf("no accounts: %v", err)
	}
	got, err := NewResolver(newStore(t, "alice@example.com"), true).Resolve(ctx, Call{})
	if err != nil || !reflect.DeepEqual(got, Identity{Email: "alice@example.com", Method: MethodLocal}) {
		t.Fatalf("single: %+v %v", got, err)
	}
	_, err = NewResolver(newStore(t, "alice@example.com", "bob@example.com"), true).Resolve(ctx, Call{})
	var amb *AmbiguousError
	if !errors.As(err, &amb) || len(amb.Emails) != 2 {
		t.Fatalf("several: %v", err)
	}
	_, err = NewResolver(newStore(t, "alice@example.com"), true).Resolve(ctx, Call{ExplicitEmail: "carol@example.com"})
	if !errors.Is(err, google.ErrNoAccount) {
		t.Fatalf("unknown explicit: %v", err)
	}
}

func TestResolve_ExpiredAndRemovedBindings(t *testing.T) {
	ctx := context.Background()
	st := newStore(t, "alice@example.com")
	r := NewResolver(st, false)
	r.Bind(ctx, "old", "alice@example.com", -time.Second)
	if _, err := r.Resolve(ctx, Call{SessionKey: "old"}); !errors.Is(err, ErrNotAuthenticated) {
		t.Fatalf("expired binding: %v", err)
	}
	r.Bind(ctx, "s", "alice@example.com", time.Hour)
	if err := r.Unbind(ctx, "s"); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Resolve(ctx, Call{SessionKey: "s"}); !errors.Is(err, ErrNotAuthenticated) {
		t.Fatalf("unbound: %v", err)
	}
}
