// Package identity answers one question for every tool call: which Google
// account does this call act as? It is the only way tools get an account, so
// the rules below hold for every tool at once.
package identity

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/drivemcp/drivemcp/internal/accesspolicy"
	"github.com/drivemcp/drivemcp/internal/google"
	"github.com/drivemcp/drivemcp/internal/store"
)

// Method says how an identity was established.
type Method string

const (
	// MethodOAuth: a bearer token of ours, minted after a Google login.
	MethodOAuth Method = "oauth"
	// MethodSession: the MCP session was bound by start_google_auth.
	MethodSession Method = "session"
	// MethodLocal: trusted local mode (stdio, or --auth none on loopback),
	// by user_google_email or because only one account is connected.
	MethodLocal Method = "local"
)

// Identity is the account a call acts as.
type Identity struct {
	Email  string
	Method Method
	// Scopes, for MethodOAuth, are the Google Drive scopes (URLs) of the
	// MCP token: every Google call of this identity is limited to them,
	// however much more the account granted other clients. Session and
	// local identities are the person who signed in at Google, so they
	// use the account's whole grant and Scopes is nil.
	Scopes []string
}

// Call is what the resolver knows about one tool call.
type Call struct {
	// TokenSubject is the account of a verified bearer token ("" if none).
	TokenSubject string
	// TokenScopes are that token's OAuth scopes ("drive.file", …).
	TokenScopes []string
	// SessionKey identifies the MCP session for direct-flow bindings ("" if
	// the transport has no session).
	SessionKey string
	// ExplicitEmail is the tool's user_google_email argument ("" if absent).
	ExplicitEmail string
}

// ErrNotAuthenticated means nothing identifies an account for this call.
var ErrNotAuthenticated = errors.New("no Google account is connected to this session")

// ErrEmailNotAllowed means user_google_email was used to pick an account
// where only the caller's own authentication may do so.
var ErrEmailNotAllowed = errors.New("user_google_email cannot choose the account here")

// MismatchError means user_google_email names another account than the one
// the caller authenticated as. The call is refused: an argument must never
// reach another user's credentials.
type MismatchError struct {
	Asked, Authenticated string
	Method               Method
}

func (e *MismatchError) Error() string {
	return fmt.Sprintf("user_google_email %s does not match the account this session is signed in as (%s, via %s)", e.Asked, e.Authenticated, e.Method)
}

// ReplacedError means the session was connected to a Google account whose
// address Google has since given to another account (a different "sub"):
// the session must connect again. It never falls back to whoever holds the
// address now, nor (in trusted local mode) to the only account stored.
type ReplacedError struct{ Email string }

func (e *ReplacedError) Error() string {
	return fmt.Sprintf("the Google account this session was connected to no longer holds %s", e.Email)
}

// AmbiguousError means several accounts are connected in local mode and the
// call did not say which one to use.
type AmbiguousError struct{ Emails []string }

func (e *AmbiguousError) Error() string {
	return fmt.Sprintf("%d Google accounts are connected (%s)", len(e.Emails), strings.Join(e.Emails, ", "))
}

// Resolver resolves identities; the order is in docs/architecture.md ("One tool call").
type Resolver struct {
	store store.Store
	// trustedLocal: the caller is this machine's own user, so an explicit
	// email may pick among the stored accounts.
	trustedLocal bool
	now          func() time.Time
	// policy, if enabled, must still allow an account for calls to act as
	// it: tightening --allow-accounts or --allow-domains stops accounts
	// already stored, bearer tokens already issued and sessions already
	// bound, without deleting anything.
	policy *accesspolicy.Policy
}

// Option configures a Resolver.
type Option func(*Resolver)

// WithPolicy makes the resolver refuse accounts the access policy does not
// (or no longer) allow.
func WithPolicy(p *accesspolicy.Policy) Option {
	return func(r *Resolver) { r.policy = p }
}

// NewResolver builds a resolver over the store.
func NewResolver(st store.Store, trustedLocal bool, opts ...Option) *Resolver {
	r := &Resolver{store: st, trustedLocal: trustedLocal, now: time.Now}
	for _, o := range opts {
		o(r)
	}
	return r
}

// Resolve finds the account for a call: bearer token, then session binding,
// then (trusted local mode only) the explicit email or the single account.
func (r *Resolver) Resolve(ctx context.Context, c Call) (Identity, error) {
	id, err := r.resolve(ctx, c)
	if err != nil {
		return Identity{}, err
	}
	if err := r.policy.AdmitStored(id.Email); err != nil {
		return Identity{}, err
	}
	return id, nil
}

func (r *Resolver) resolve(ctx context.Context, c Call) (Identity, error) {
	asked := google.NormalizeEmail(c.ExplicitEmail)
	if c.TokenSubject != "" {
		return checked(Identity{Email: google.NormalizeEmail(c.TokenSubject), Method: MethodOAuth,
			Scopes: google.DriveScopesOf(c.TokenScopes)}, asked)
	}
	if c.SessionKey != "" {
		b, err := r.store.GetSessionBinding(ctx, c.SessionKey, r.now())
		switch {
		case err == nil && b.Replaced:
			return Identity{}, &ReplacedError{Email: b.Email}
		case err == nil:
			return checked(Identity{Email: b.Email, Method: MethodSession}, asked)
		case !errors.Is(err, store.ErrNotFound):
			return Identity{}, fmt.Errorf("reading the session binding: %w", err)
		}
	}
	if !r.trustedLocal {
		if asked != "" {
			return Identity{}, ErrEmailNotAllowed
		}
		return Identity{}, ErrNotAuthenticated
	}
	if asked != "" {
		if _, err := r.store.GetGoogleAccount(ctx, asked); err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return Identity{}, fmt.Errorf("%w: %s", google.ErrNoAccount, asked)
			}
			return Identity{}, err
		}
		return Identity{Email: asked, Method: MethodLocal}, nil
	}
	stored, err := r.store.ListGoogleAccounts(ctx)
	if err != nil {
		return Identity{}, err
	}
	// Accounts the policy refuses are not candidates, so they neither make
	// the choice ambiguous nor get chosen.
	var accounts []store.GoogleAccount
	var refused error
	for _, a := range stored {
		if err := r.policy.AdmitStored(a.Email); err != nil {
			refused = err
			continue
		}
		accounts = append(accounts, a)
	}
	if len(accounts) == 0 && refused != nil {
		return Identity{}, refused
	}
	switch len(accounts) {
	case 0:
		return Identity{}, ErrNotAuthenticated
	case 1:
		return Identity{Email: accounts[0].Email, Method: MethodLocal}, nil
	}
	amb := &AmbiguousError{}
	for _, a := range accounts {
		amb.Emails = append(amb.Emails, a.Email)
	}
	return Identity{}, amb
}

func checked(id Identity, asked string) (Identity, error) {
	if asked != "" && asked != id.Email {
		return Identity{}, &MismatchError{Asked: asked, Authenticated: id.Email, Method: id.Method}
	}
	return id, nil
}

// Bind ties an MCP session to an account (the direct flow's last step).
func (r *Resolver) Bind(ctx context.Context, sessionKey, email string, ttl time.Duration) error {
	now := r.now()
	return r.store.BindSession(ctx, store.SessionBinding{
		SessionID: sessionKey, Email: google.NormalizeEmail(email), CreatedAt: now, ExpiresAt: now.Add(ttl),
	})
}

// Unbind forgets a session's binding (sign_out).
func (r *Resolver) Unbind(ctx context.Context, sessionKey string) error {
	return r.store.DeleteSessionBinding(ctx, sessionKey)
}
