package identity

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/drivemcp/drivemcp/internal/accesspolicy"
)

// An account already connected (a bearer token, a bound session, a stored
// grant) stops working as soon as the operator's policy no longer allows
// it, by whatever way a call names it.
func TestResolve_AccountThePolicyNoLongerAllowsRefused(t *testing.T) {
	ctx := context.Background()
	policy, err := accesspolicy.New([]string{"carol@gmail.com"}, []string{"example.com"})
	if err != nil {
		t.Fatal(err)
	}
	st := newStore(t, "alice@example.com", "dave@gmail.com")
	for _, trusted := range []bool{false, true} {
		r := NewResolver(st, trusted, WithPolicy(policy))
		if err := r.Bind(ctx, "dave-session", "dave@gmail.com", time.Hour); err != nil {
			t.Fatal(err)
		}
		calls := map[string]Call{
			"bearer token":  {TokenSubject: "dave@gmail.com"},
			"bound session": {SessionKey: "dave-session"},
		}
		if trusted {
			calls["user_google_email"] = Call{ExplicitEmail: "dave@gmail.com"}
		}
		for name, c := range calls {
			if id, err := r.Resolve(ctx, c); !errors.Is(err, accesspolicy.ErrRefused) {
				t.Errorf("trusted=%v %s: got %+v, %v; want the policy's refusal", trusted, name, id, err)
			}
		}
		if id, err := r.Resolve(ctx, Call{TokenSubject: "alice@example.com"}); err != nil || id.Email != "alice@example.com" {
			t.Errorf("trusted=%v: an allowed account was refused: %+v %v", trusted, id, err)
		}
	}
	// In local mode a refused account does not count among the connected
	// ones: the only allowed account is chosen.
	if id, err := NewResolver(st, true, WithPolicy(policy)).Resolve(ctx, Call{}); err != nil || id.Email != "alice@example.com" {
		t.Errorf("local default: got %+v, %v; want alice@example.com", id, err)
	}
}
