// Package store defines drivemcp's persistent state: Google accounts with their
// sealed grants, pending authorization transactions and MCP session bindings.
//
// Every backend (sqlite, postgres) implements Store and passes the conformance
// suite in the storetest package. Read-modify-write happens through updater
// functions so that each backend can run it in its own transaction, which is
// what lets two replicas on one database behave as one server.
package store

import (
	"context"
	"errors"
	"time"
)

// Errors every backend returns (wrapped or not) so callers can use errors.Is.
var (
	// ErrNotFound means the requested record does not exist (or has expired
	// and is treated as absent).
	ErrNotFound = errors.New("store: not found")
	// ErrAlreadyExists means a create collided with an existing key.
	ErrAlreadyExists = errors.New("store: already exists")
)

// GoogleAccount is one Google user whose grant drivemcp holds. Email is the
// row key: it is what users see and type, stored lower-cased, and what
// tokens, codes and session bindings name. Subject is who the account is:
// Google never reuses a sub, while an address can be renamed or given to a
// new person, so SignInGoogleAccount keeps the two consistent (at most one
// row per Subject, and a row's Subject changes only by replacing the row).
type GoogleAccount struct {
	Email   string // lower-cased; primary key
	Subject string // Google's stable "sub" claim; "" only for rows stored before it was checked
	// Scopes are the Google scopes the grant covers.
	Scopes []string
	// SealedToken is the oauth2.Token as JSON, sealed by package secrets.
	// The store never sees it in the clear.
	SealedToken []byte
	// NeedsReconsent is set when Google answered invalid_grant: the refresh
	// token is dead and the user must go through consent again.
	NeedsReconsent bool
	CreatedAt      time.Time
	UpdatedAt      time.Time
	// LastRefreshAt is when the access token was last refreshed at Google.
	LastRefreshAt time.Time
	// RefreshTokenObtainedAt is when Google issued the refresh token held
	// now (zero: unknown). Apps in Google's "Testing" publishing status get
	// refresh tokens that expire 7 days after this.
	RefreshTokenObtainedAt time.Time
}

// SignIn is what SignInGoogleAccount found and did.
type SignIn struct {
	// Account is the account as written.
	Account GoogleAccount
	// Replaced says another Google account held the address before: the
	// address now belongs to someone else, so that account's tokens were
	// revoked, its unredeemed codes deleted and its session bindings marked
	// Replaced before Account was written in its place.
	Replaced bool
	// ReplacedSubject is that account's sub ("" if it was never recorded).
	ReplacedSubject string
	// MovedFrom is the account's previous address when the same Google
	// account signed in under a new one ("" if it did not move); its row,
	// tokens, codes and (unreplaced) session bindings now name Account.Email.
	MovedFrom string
}

// FlowKind tells the one Google callback which flow a transaction belongs to.
type FlowKind string

const (
	// FlowDirect is start_google_auth / drivemcp login: the callback binds
	// the MCP session (if any) to the account and shows a success page.
	FlowDirect FlowKind = "direct"
	// FlowProxy is the OAuth authorization-server flow: the callback mints
	// our own authorization code and redirects to the MCP client.
	FlowProxy FlowKind = "proxy"
	// FlowConsent is an MCP client's authorization request waiting for the
	// user's answer on our consent page; it never reaches Google's callback.
	FlowConsent FlowKind = "consent"
)

// AuthTransaction is a pending trip to Google's consent page, keyed by the
// state parameter we sent. It is single use and expires.
//
// A copy of the database (a backup, a replica's disk) must not be able to
// finish the login or take over the MCP session, so the store keeps only the
// hash of State (HashSecret) and receives the verifier and the session id
// sealed by the authorization server. ClientState and CodeChallenge are kept
// as they are: the first is the client's own value, echoed back to it, and
// the second is already a hash of a verifier that only the client holds.
type AuthTransaction struct {
	// State is sent to Google as "state" (for FlowConsent: the consent id
	// the form posts back). The store keeps only its hash as the key;
	// TakeAuthTransaction returns the state it was given.
	State string
	Kind  FlowKind
	// SealedVerifier is our PKCE verifier for the Google leg, sealed by the
	// authorization server; the store never sees it in the clear.
	SealedVerifier []byte
	// GoogleScopes are the scopes requested from Google.
	GoogleScopes []string
	// LoginHint is the email the user said they would use (may be empty).
	LoginHint string
	// ForceConsent records that Google was asked to show consent again
	// (prompt=consent), the only way to get a new refresh token from it.
	ForceConsent bool

	// Direct flow: the MCP session to bind once the account is known, sealed
	// like SealedVerifier (the callback needs the id itself to bind it, so a
	// hash would not do); nil when there is no session.
	SealedSessionID []byte

	// Proxy flow: the MCP client's own authorization request, replayed to it
	// once Google has answered.
	ClientID      string
	RedirectURI   string
	ClientState   string
	CodeChallenge string // S256
	Resource      string
	Scopes        []string // our scopes granted to the client

	CreatedAt time.Time
	ExpiresAt time.Time
}

// SessionBinding ties an MCP session to the Google account that the direct
// flow connected in it.
type SessionBinding struct {
	// SessionID is the MCP session id. The store keeps only its hash as the
	// key, so a copy of the database cannot act in the session; reads return
	// the id they were given.
	SessionID string
	Email     string
	CreatedAt time.Time
	ExpiresAt time.Time
	// Replaced marks a binding to an account whose address was given to
	// another Google account (SignInGoogleAccount): it is kept until it
	// expires or the session is bound again, so that the session is told
	// what happened instead of acting as whoever holds the address now.
	Replaced bool
}

// Store is drivemcp's persistence. Implementations must be safe for
// concurrent use, and for use by several processes sharing one database.
type Store interface {
	OAuthStore

	// GetGoogleAccount returns the account, or ErrNotFound.
	GetGoogleAccount(ctx context.Context, email string) (GoogleAccount, error)
	// ListGoogleAccounts returns all accounts ordered by email.
	ListGoogleAccounts(ctx context.Context) ([]GoogleAccount, error)
	// UpsertGoogleAccount reads the account (exists=false and a zero value
	// with only Email set if it is new), calls update, and writes the result,
	// all in one transaction that excludes other writers of the same account
	// (in every process). If update returns an error nothing is written and
	// that error is returned. The backend sets CreatedAt/UpdatedAt. The
	// result is written under email: an updater may leave Email empty;
	// returning a different Email is an error and nothing is written.
	// update must be short and must not call the Store's write methods: on
	// SQLite it holds the database's write lock while it runs.
	UpsertGoogleAccount(ctx context.Context, email string,
		update func(old GoogleAccount, exists bool) (GoogleAccount, error)) (GoogleAccount, error)
	// UpdateGoogleAccount is UpsertGoogleAccount for an existing account:
	// ErrNotFound if there is none. The updater holds the account's lock for
	// its whole run, so a Google refresh done inside it happens once across
	// replicas.
	UpdateGoogleAccount(ctx context.Context, email string,
		update func(old GoogleAccount) (GoogleAccount, error)) (GoogleAccount, error)
	// SignInGoogleAccount records that the Google account subject (Google's
	// "sub", never empty here) signed in as email, in one transaction that
	// excludes other writers of both the address and the subject:
	//   - an account stored at email under another non-empty subject is a
	//     different person whose address was given away: its tokens are
	//     revoked, its unredeemed codes deleted, its session bindings marked
	//     Replaced, and update sees exists=false (nothing of it carries over);
	//   - an account stored under subject at another address is the same
	//     person renamed: its row, tokens, codes and session bindings move
	//     to email, and update sees the old row (with its old Email, so that
	//     data sealed under it can be opened) and exists=true;
	//   - an account at email with an empty Subject (stored before subjects
	//     were checked) takes subject.
	// update's result is written at email with Subject = subject; its Email
	// must be email or empty. If update fails nothing is written.
	SignInGoogleAccount(ctx context.Context, email, subject string,
		update func(old GoogleAccount, exists bool) (GoogleAccount, error)) (SignIn, error)
	// DeleteGoogleAccount removes the account and every session binding to
	// it. ErrNotFound if there was none.
	DeleteGoogleAccount(ctx context.Context, email string) error

	// CreateAuthTransaction stores a pending flow. ErrAlreadyExists if the
	// state is taken.
	CreateAuthTransaction(ctx context.Context, tx AuthTransaction) error
	// TakeAuthTransaction atomically removes and returns the transaction for
	// state. Expired (ExpiresAt before now; ExpiresAt is the last valid
	// instant) or unknown: ErrNotFound. Of two
	// concurrent takers at most one succeeds.
	TakeAuthTransaction(ctx context.Context, state string, now time.Time) (AuthTransaction, error)
	// AuthTransactionPending reports whether the transaction for state is
	// still there and unexpired at now, without taking it: a process
	// waiting for a sign-in another process completes learns it is over.
	AuthTransactionPending(ctx context.Context, state string, now time.Time) (bool, error)

	// BindSession creates or replaces the binding for b.SessionID.
	BindSession(ctx context.Context, b SessionBinding) error
	// GetSessionBinding returns the binding, or ErrNotFound if there is none
	// or it has expired at now.
	GetSessionBinding(ctx context.Context, sessionID string, now time.Time) (SessionBinding, error)
	// DeleteSessionBinding removes the binding; no error if there was none.
	DeleteSessionBinding(ctx context.Context, sessionID string) error

	// DeleteExpired removes transactions, bindings, authorization codes and
	// tokens that expired before now (tokens and codes are kept for a day
	// past expiry, so that a late replay is still recognised and answered
	// invalid_grant). Safe to run concurrently from several processes.
	DeleteExpired(ctx context.Context, now time.Time) error

	// Ping reports whether the database answers (for /readyz).
	Ping(ctx context.Context) error
	// Close releases the database.
	Close() error
}
