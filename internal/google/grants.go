package google

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/sync/singleflight"

	"github.com/drivemcp/drivemcp/internal/metrics"
	"github.com/drivemcp/drivemcp/internal/secrets"
	"github.com/drivemcp/drivemcp/internal/store"
	"github.com/drivemcp/drivemcp/internal/ttlcache"
)

// ErrReconsentNeeded means Google no longer honours the stored grant
// (revoked, expired, or never had a refresh token): the user must consent
// again. It is a user's situation, not a server fault.
var ErrReconsentNeeded = errors.New("the Google grant must be renewed")

// ErrGrantUnreadable means the stored grant was sealed with a key this
// server does not hold (its --secret-key changed): retrying cannot help.
var ErrGrantUnreadable = errors.New("the stored Google grant cannot be opened with this server's secret key")

// ErrStoreUnavailable means drivemcp's own database failed while a Google
// token was being fetched. It is permanent for the call that met it: an
// upload that retried it would hold its slot through every backoff for a
// failure that is not Google's, and the caller's sentence is the same.
var ErrStoreUnavailable = errors.New("drivemcp's database did not answer")

func storeFailed(err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return permanentError{fmt.Errorf("%w: %w", ErrStoreUnavailable, err)}
}

// ErrNoAccount means no Google account with that email is connected.
var ErrNoAccount = errors.New("no Google account connected")

// ErrRevokeRefused marks a revocation Google did not confirm, after the
// stored grant was deleted.
var ErrRevokeRefused = errors.New("the revocation was not confirmed by Google")

// refreshMargin refreshes tokens a little before Google would reject them, so
// a long upload does not start with a token about to die.
const refreshMargin = 2 * time.Minute

// refreshTimeout bounds one refresh at Google; it stays under the SQLite
// busy timeout (10 s) so that writers waiting on the lock do not give up.
const refreshTimeout = 8 * time.Second

// defaultAccountCacheTTL bounds how long this process may act on an
// account as it read it, when another process (a second replica, `drivemcp
// accounts`) changed it. Changes made through these Grants are seen at once.
// Acting on a stale read is safe: a refresh re-reads under the account's
// lock, and a token revoked at Google fails there and is refreshed.
const defaultAccountCacheTTL = 2 * time.Second

// maxCachedAccounts bounds the account cache (an entry is about a kilobyte).
const maxCachedAccounts = 10_000

// Grants holds every connected account's Google grant: it saves new ones
// from the callback and hands out token sources that refresh and persist.
type Grants struct {
	store    store.Store
	keys     *secrets.Keyring
	upstream *Upstream
	now      func() time.Time
	// refreshing joins concurrent refreshes of one account in this process;
	// the store's per-account lock joins them across processes.
	refreshing singleflight.Group
	// stale holds, per account, an access token Google rejected before its
	// expiry; it is refreshed however fresh it looks.
	stale sync.Map // email → access token
	// accounts saves a store read (and a row decode) on every tool call;
	// every write below forgets the account it wrote.
	accounts *ttlcache.Cache[string, store.GoogleAccount]
	// expiries remembers, per account, the expiry sealed in its token, so
	// that check_drive_auth does not decrypt and decode it on every call.
	expiries *ttlcache.Cache[string, sealedExpiry]
	// limited holds access tokens limited to an MCP client's scopes (see
	// limited.go); limiting joins concurrent mints of one of them.
	limited  limitedCache
	limiting singleflight.Group
	// metrics, if set, counts refresh outcomes.
	metrics *metrics.Metrics
}

// GrantsOption configures NewGrants.
type GrantsOption func(*grantsOptions)

type grantsOptions struct {
	metrics    *metrics.Metrics
	accountTTL time.Duration
	now        func() time.Time
}

// WithMetrics counts refresh outcomes in m.
func WithMetrics(m *metrics.Metrics) GrantsOption {
	return func(o *grantsOptions) { o.metrics = m }
}

// WithAccountCacheTTL sets how long an account read from the store is used
// without reading it again (default 2 s; negative: read every time).
func WithAccountCacheTTL(ttl time.Duration) GrantsOption {
	return func(o *grantsOptions) { o.accountTTL = ttl }
}

// WithClock sets the clock token expiries and the account cache are
// measured by (default time.Now); tests move it instead of waiting.
func WithClock(now func() time.Time) GrantsOption {
	return func(o *grantsOptions) { o.now = now }
}

// NewGrants wires the grant keeper.
func NewGrants(st store.Store, keys *secrets.Keyring, up *Upstream, opts ...GrantsOption) *Grants {
	o := grantsOptions{accountTTL: defaultAccountCacheTTL, now: time.Now}
	for _, opt := range opts {
		opt(&o)
	}
	return &Grants{
		store: st, keys: keys, upstream: up, now: o.now, metrics: o.metrics,
		accounts: ttlcache.New[string, store.GoogleAccount](o.accountTTL, maxCachedAccounts, ttlcache.Clock(o.now)),
		expiries: ttlcache.New[string, sealedExpiry](o.accountTTL, maxCachedAccounts, ttlcache.Clock(o.now)),
	}
}

// sealedExpiry is the expiry of the token sealed as sealed.
type sealedExpiry struct {
	sealed []byte
	expiry time.Time
}

// Upstream returns the Google OAuth client.
func (g *Grants) Upstream() *Upstream { return g.upstream }

// ErrNoSubject means Google's userinfo named no "sub": without it drivemcp
// cannot tell the account from another that later holds the same address.
var ErrNoSubject = errors.New("google's userinfo did not say which account signed in (no sub)")

// Save stores (or updates) an account's grant after a consent. Google sends
// a refresh token only on first consent (or with prompt=consent), so an
// existing refresh token is kept when the new token has none.
//
// The account is who Google's sub says it is, not its address (Google's
// OpenID Connect guide: sub is never reused, an email may change and may
// later belong to someone else). So Save goes through
// store.SignInGoogleAccount: a sub new at this address replaces the
// account stored there (its MCP tokens revoked, its sessions told, its
// refresh token never kept for the newcomer), and a known sub at a new
// address moves its account there, re-sealing the grant under the new
// address.
func (g *Grants) Save(ctx context.Context, info UserInfo, tok *oauth2.Token, scopes []string) (store.GoogleAccount, error) {
	email := NormalizeEmail(info.Email)
	if info.Subject == "" {
		return store.GoogleAccount{}, ErrNoSubject
	}
	defer g.forget(email)
	res, err := g.store.SignInGoogleAccount(ctx, email, info.Subject, func(old store.GoogleAccount, exists bool) (store.GoogleAccount, error) {
		merged := *tok
		if merged.RefreshToken == "" && exists && len(old.SealedToken) > 0 {
			// Only ever the same Google account's: the store hands a
			// different sub's row to no one (exists is false then).
			if prev, err := g.open(old); err == nil {
				merged.RefreshToken = prev.RefreshToken
			}
		}
		sealed, err := g.seal(email, &merged)
		if err != nil {
			return old, err
		}
		old.Email = email
		old.Scopes = scopes
		old.SealedToken = sealed
		old.NeedsReconsent = merged.RefreshToken == ""
		old.LastRefreshAt = g.now()
		if tok.RefreshToken != "" {
			// A new refresh token starts a Testing app's 7 days again.
			old.RefreshTokenObtainedAt = g.now()
		}
		return old, nil
	})
	if res.MovedFrom != "" {
		g.forget(res.MovedFrom)
	}
	return res.Account, err
}

// forget drops what this process remembers of the account at email, after
// a sign-in changed it (a new consent may have changed the grant; a new
// person or a renamed account may now hold the address).
func (g *Grants) forget(email string) {
	g.accounts.Forget(email)
	g.limited.forget(email)
	g.stale.Delete(email)
}

// Account returns a connected account.
func (g *Grants) Account(ctx context.Context, email string) (store.GoogleAccount, error) {
	email = NormalizeEmail(email)
	acct, err := g.accounts.Load(email, func() (store.GoogleAccount, error) {
		return g.store.GetGoogleAccount(ctx, email)
	}, nil)
	if errors.Is(err, store.ErrNotFound) {
		return acct, fmt.Errorf("%w: %s", ErrNoAccount, email)
	}
	if err != nil {
		return acct, storeFailed(err)
	}
	return acct, nil
}

// RefreshError is a refresh Google did not complete, other than its
// invalid_grant (ErrReconsentNeeded): its token endpoint answered with an
// error, or could not be reached in time. The stored grant is left as it
// was; when the trouble was Google's (Transient), a later call can succeed.
type RefreshError struct {
	Email string
	// Why says what Google did, e.g. "answered HTTP 500 (server_error)".
	Why       string
	Transient bool
	Err       error
}

func (e *RefreshError) Error() string {
	next := "so a later call can work"
	if !e.Transient {
		next = "but Google refused drivemcp's own client: the server's Google client id or secret may be wrong (ask its operator)"
	}
	return fmt.Sprintf("Google's token endpoint %s while renewing the access of %s; the stored grant is unchanged, %s", e.Why, e.Email, next)
}

func (e *RefreshError) Unwrap() error { return e.Err }

// permanentError marks an error that retrying will not fix: the account is
// not connected, or Google wants the user's consent again. Its Permanent
// method is what the uploader (internal/drive) asks errors from its
// transport, so that it fails at once instead of backing off eight times.
type permanentError struct{ error }

func (e permanentError) Unwrap() error { return e.error }

func (permanentError) Permanent() bool { return true }

// Token returns a valid Google access token for the account, refreshing it
// (once, however many callers ask at the same time) when it is about to
// expire.
func (g *Grants) Token(ctx context.Context, email string) (*oauth2.Token, error) {
	tok, err := g.token(ctx, email)
	if errors.Is(err, ErrReconsentNeeded) || errors.Is(err, ErrNoAccount) {
		return nil, permanentError{err}
	}
	return tok, err
}

func (g *Grants) token(ctx context.Context, email string) (*oauth2.Token, error) {
	email = NormalizeEmail(email)
	acct, err := g.Account(ctx, email)
	if err != nil {
		return nil, err
	}
	if acct.NeedsReconsent {
		return nil, fmt.Errorf("%w for %s", ErrReconsentNeeded, email)
	}
	tok, err := g.open(acct)
	if err != nil {
		return nil, err
	}
	if g.usable(email, tok) {
		return tok, nil
	}
	led := false
	v, err, _ := g.refreshing.Do(email, func() (any, error) {
		led = true
		// Detached from one caller's cancellation: the others wait on it too.
		// Short, because the store holds the account's lock meanwhile (on
		// SQLite, the whole database's write lock).
		ctx := context.WithoutCancel(ctx)
		ctx, cancel := context.WithTimeout(ctx, refreshTimeout)
		defer cancel()
		return g.refresh(ctx, email)
	})
	if !led {
		g.metrics.Refresh("joined")
	}
	if err != nil {
		return nil, err
	}
	return v.(*oauth2.Token), nil
}

// refresh renews the access token under the account's store lock, re-reading
// first: another process may have refreshed while we waited for the lock.
func (g *Grants) refresh(ctx context.Context, email string) (*oauth2.Token, error) {
	var fresh *oauth2.Token
	var reconsent bool
	var updaterErr error // an error of ours or Google's, not the store's
	defer g.accounts.Forget(email)
	_, err := g.store.UpdateGoogleAccount(ctx, email, func(acct store.GoogleAccount) (store.GoogleAccount, error) {
		acct, err := g.refreshLocked(ctx, email, acct, &fresh, &reconsent)
		updaterErr = err
		return acct, err
	})
	if errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("%w: %s", ErrNoAccount, email)
	}
	if err != nil && updaterErr == nil {
		return nil, storeFailed(err)
	}
	if err != nil {
		return nil, err
	}
	if reconsent {
		g.limited.forget(email)
		return nil, fmt.Errorf("%w for %s: Google answered invalid_grant", ErrReconsentNeeded, email)
	}
	return fresh, nil
}

// refreshLocked is refresh's work inside the account's lock: it reuses a
// token another process refreshed meanwhile, or asks Google for a new one.
func (g *Grants) refreshLocked(ctx context.Context, email string, acct store.GoogleAccount, fresh **oauth2.Token, reconsent *bool) (store.GoogleAccount, error) {
	tok, err := g.open(acct)
	if err != nil {
		return acct, err
	}
	if g.usable(email, tok) {
		g.metrics.Refresh("reused") // another process refreshed while we waited
		*fresh = tok
		return acct, nil
	}
	if acct.NeedsReconsent || tok.RefreshToken == "" {
		return acct, fmt.Errorf("%w for %s", ErrReconsentNeeded, email)
	}
	newTok, err := g.upstream.refresh(ctx, tok.RefreshToken)
	if err != nil {
		if code, _, _ := OAuthError(err); code == InvalidGrant {
			// Google will never accept this refresh token again:
			// remember it, so calls fail fast with the right advice.
			acct.NeedsReconsent = true
			*reconsent = true
			g.metrics.Refresh("reconsent")
			return acct, nil
		}
		g.metrics.Refresh("failed")
		return acct, refreshFailed(email, err)
	}
	if newTok.RefreshToken == "" {
		newTok.RefreshToken = tok.RefreshToken
	} else if newTok.RefreshToken != tok.RefreshToken {
		acct.RefreshTokenObtainedAt = g.now() // Google rotated it
	}
	sealed, err := g.seal(email, newTok)
	if err != nil {
		return acct, err
	}
	acct.SealedToken = sealed
	acct.LastRefreshAt = g.now()
	*fresh = newTok
	g.metrics.Refresh("refreshed")
	return acct, nil
}

// refreshFailed describes a refresh Google did not complete. Only the
// status and the OAuth error code are kept in the message: they say what
// happened, and Google's error bodies are not for users.
func refreshFailed(email string, err error) error {
	var re *oauth2.RetrieveError
	e := &RefreshError{Email: email, Why: "could not be reached", Transient: true, Err: err}
	switch {
	case errors.As(err, &re) && re.Response != nil:
		e.Why = fmt.Sprintf("answered HTTP %d", re.Response.StatusCode)
		if re.ErrorCode != "" {
			e.Why += " (" + re.ErrorCode + ")"
		}
		e.Transient = re.Response.StatusCode >= 500 || re.Response.StatusCode == http.StatusTooManyRequests
	case errors.Is(err, context.DeadlineExceeded):
		e.Why = fmt.Sprintf("did not answer within %s", refreshTimeout)
	}
	return e
}

// usable reports whether the access token can be sent as it is: not about
// to expire, and not rejected by Google already.
func (g *Grants) usable(email string, tok *oauth2.Token) bool {
	if tok.AccessToken == "" || (!tok.Expiry.IsZero() && !tok.Expiry.After(g.now().Add(refreshMargin))) {
		return false
	}
	if bad, ok := g.stale.Load(email); ok {
		if bad == tok.AccessToken {
			return false
		}
		g.stale.CompareAndDelete(email, bad) // a newer token replaced it
	}
	return true
}

// invalidate records that Google rejected an access token.
func (g *Grants) invalidate(email, accessToken string) {
	if accessToken != "" {
		g.stale.Store(email, accessToken)
	}
}

// HTTPClient is an http.Client that authorizes every request as the account.
// base may be nil (http.DefaultTransport).
func (g *Grants) HTTPClient(ctx context.Context, email string, base http.RoundTripper) *http.Client {
	if base == nil {
		base = http.DefaultTransport
	}
	return &http.Client{Transport: &accountTransport{grants: g, ctx: ctx, email: NormalizeEmail(email), base: base}}
}

// Revoke ends the account's grant at Google and forgets it here. The local
// record goes even if Google cannot be reached: the user asked to sign out.
func (g *Grants) Revoke(ctx context.Context, email string) error {
	email = NormalizeEmail(email)
	acct, err := g.Account(ctx, email)
	if err != nil {
		return err
	}
	defer g.accounts.Forget(email)
	defer g.limited.forget(email)
	var upstreamErr error
	if tok, err := g.open(acct); err == nil {
		t := tok.RefreshToken
		if t == "" {
			t = tok.AccessToken
		}
		if t != "" {
			upstreamErr = g.upstream.Revoke(ctx, t)
		}
	}
	if err := g.store.DeleteGoogleAccount(ctx, email); err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	if upstreamErr != nil {
		return fmt.Errorf("%w: %w", ErrRevokeRefused, upstreamErr)
	}
	return nil
}

func (g *Grants) seal(email string, tok *oauth2.Token) ([]byte, error) {
	raw, err := json.Marshal(tok)
	if err != nil {
		return nil, err
	}
	return g.keys.Seal(raw, []byte(email))
}

func (g *Grants) open(acct store.GoogleAccount) (*oauth2.Token, error) {
	raw, err := g.keys.Open(acct.SealedToken, []byte(acct.Email))
	if err != nil {
		return nil, permanentError{fmt.Errorf("%w (account %s): %w", ErrGrantUnreadable, acct.Email, err)}
	}
	var tok oauth2.Token
	if err := json.Unmarshal(raw, &tok); err != nil {
		return nil, fmt.Errorf("decoding the stored Google token of %s: %w", acct.Email, err)
	}
	return &tok, nil
}

// Readable reports ErrGrantUnreadable if the account's stored grant was
// sealed with a key this server lacks, without opening it.
func (g *Grants) Readable(acct store.GoogleAccount) error {
	if len(acct.SealedToken) == 0 {
		return nil
	}
	if id, ok := g.keys.SealedBy(acct.SealedToken); !ok {
		return fmt.Errorf("%w (account %s; it needs key id %s)", ErrGrantUnreadable, acct.Email, id)
	}
	return nil
}

// TokenExpiry returns when the stored access token expires, for
// check_drive_auth; zero if unknown.
func (g *Grants) TokenExpiry(acct store.GoogleAccount) time.Time {
	open := func() (sealedExpiry, error) {
		tok, err := g.open(acct)
		if err != nil {
			return sealedExpiry{}, err
		}
		return sealedExpiry{sealed: acct.SealedToken, expiry: tok.Expiry}, nil
	}
	e, err := g.expiries.Load(acct.Email, open, nil)
	if err == nil && !bytes.Equal(e.sealed, acct.SealedToken) {
		// Remembered for an older token of the account: this one is newer.
		g.expiries.Forget(acct.Email)
		e, err = g.expiries.Load(acct.Email, open, nil)
	}
	if err != nil {
		return time.Time{}
	}
	return e.expiry
}
