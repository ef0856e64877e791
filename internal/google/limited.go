package google

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/oauth2"

	"github.com/drivemcp/drivemcp/internal/store"
)

// Limited access: an MCP client's token reaches no more at Google than the
// scopes it was granted, although the account's one Google grant holds every
// scope any client of the account got (drivemcp asks Google with
// include_granted_scopes, so the grant only grows). Each Google call of such
// a client carries an access token that Google minted for the client's own
// scopes alone (refreshLimited); Google enforces the limit, so no tool can
// reach further by mistake.

// ErrScopeNotGranted means the account's Google grant lacks a scope the
// caller is limited to (Google answered invalid_scope): the user took it
// back at Google, or never gave it. The full grant is never used instead.
var ErrScopeNotGranted = errors.New("the Google grant lacks the scope this connection was authorized for")

// ErrScopeWidened means Google answered a limited refresh with a token that
// reaches more than was asked; drivemcp refuses to use it.
var ErrScopeWidened = errors.New("google answered with wider scopes than asked")

// maxCachedLimited bounds the limited-token cache: a few scope sets per
// account at most (an entry is a few hundred bytes).
const maxCachedLimited = 3 * maxCachedAccounts

// limitKey names one cached limited token: an account and a scope set
// (sorted Google scope URLs, space-joined).
type limitKey struct{ email, scopes string }

type limitedEntry struct {
	tok *oauth2.Token
	// subject is the Google account the token was minted for: an account
	// removed and connected again elsewhere under the same email does not
	// inherit it.
	subject string
}

// limitedCache holds limited access tokens in memory only: they are cheap
// to mint again from the stored refresh token, and never worth a write.
type limitedCache struct {
	// epoch counts forgets; a token minted while one happened is not kept,
	// as it may come from the grant that was just forgotten.
	epoch   atomic.Uint64
	mu      sync.RWMutex
	entries map[limitKey]limitedEntry
}

func (c *limitedCache) get(k limitKey) (limitedEntry, bool) {
	c.mu.RLock()
	e, ok := c.entries[k]
	c.mu.RUnlock()
	return e, ok
}

func (c *limitedCache) put(k limitKey, e limitedEntry, epoch uint64, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.epoch.Load() != epoch {
		return
	}
	if c.entries == nil {
		c.entries = map[limitKey]limitedEntry{}
	}
	if len(c.entries) >= maxCachedLimited {
		for key, old := range c.entries {
			if !old.tok.Expiry.After(now) {
				delete(c.entries, key)
			}
		}
		if len(c.entries) >= maxCachedLimited {
			clear(c.entries)
		}
	}
	c.entries[k] = e
}

// forget drops every limited token of the account: its grant changed or
// ended.
func (c *limitedCache) forget(email string) {
	c.epoch.Add(1)
	c.mu.Lock()
	for k := range c.entries {
		if k.email == email {
			delete(c.entries, k)
		}
	}
	c.mu.Unlock()
}

// drop forgets one token Google rejected, unless a newer one replaced it.
func (c *limitedCache) drop(k limitKey, accessToken string) {
	c.mu.Lock()
	if e, ok := c.entries[k]; ok && e.tok.AccessToken == accessToken {
		delete(c.entries, k)
	}
	c.mu.Unlock()
}

// newLimitKey checks scopes (Google Drive scope URLs) and names their cache
// entry for the account.
func newLimitKey(email string, scopes []string) (limitKey, []string, error) {
	email = NormalizeEmail(email)
	var drive []string
	for _, sc := range scopes {
		if !isDriveScope(sc) {
			return limitKey{}, nil, fmt.Errorf("%w: %q is not a Google Drive scope", ErrScopeNotGranted, sc)
		}
		if !slices.Contains(drive, sc) {
			drive = append(drive, sc)
		}
	}
	if len(drive) == 0 {
		return limitKey{}, nil, fmt.Errorf("%w: this connection holds no Google Drive scope", ErrScopeNotGranted)
	}
	slices.Sort(drive)
	return limitKey{email: email, scopes: strings.Join(drive, " ")}, drive, nil
}

// LimitedToken returns an access token for the account that reaches no more
// than scopes (Google Drive scope URLs), minted by Google from the account's
// grant and kept in memory until shortly before it expires. It fails with
// ErrScopeNotGranted when the grant lacks one of them; it never falls back
// to the account's full grant.
func (g *Grants) LimitedToken(ctx context.Context, email string, scopes []string) (*oauth2.Token, error) {
	k, drive, err := newLimitKey(email, scopes)
	if err != nil {
		return nil, permanentError{err}
	}
	return g.limitedToken(ctx, k, drive)
}

func (g *Grants) limitedToken(ctx context.Context, k limitKey, scopes []string) (*oauth2.Token, error) {
	tok, err := g.mintLimited(ctx, k, scopes)
	if errors.Is(err, ErrReconsentNeeded) || errors.Is(err, ErrNoAccount) ||
		errors.Is(err, ErrScopeNotGranted) || errors.Is(err, ErrScopeWidened) {
		return nil, permanentError{err}
	}
	return tok, err
}

func (g *Grants) mintLimited(ctx context.Context, k limitKey, scopes []string) (*oauth2.Token, error) {
	acct, err := g.Account(ctx, k.email)
	if err != nil {
		return nil, err
	}
	if acct.NeedsReconsent {
		return nil, fmt.Errorf("%w for %s", ErrReconsentNeeded, k.email)
	}
	if e, ok := g.limited.get(k); ok && e.subject == acct.Subject && g.fresh(e.tok) {
		return e.tok, nil
	}
	epoch := g.limited.epoch.Load()
	led := false
	v, err, _ := g.limiting.Do(k.email+"\x00"+k.scopes, func() (any, error) {
		led = true
		// Detached from one caller's cancellation: the others wait on it too.
		ctx := context.WithoutCancel(ctx)
		ctx, cancel := context.WithTimeout(ctx, refreshTimeout)
		defer cancel()
		return g.refreshLimited(ctx, acct, k, scopes, epoch)
	})
	if !led {
		g.metrics.Refresh("joined")
	}
	if err != nil {
		return nil, err
	}
	return v.(*oauth2.Token), nil
}

// refreshLimited mints a limited token from the account's refresh token.
// Google does not rotate refresh tokens, so nothing is written back.
func (g *Grants) refreshLimited(ctx context.Context, acct store.GoogleAccount, k limitKey, scopes []string, epoch uint64) (*oauth2.Token, error) {
	full, err := g.open(acct)
	if err != nil {
		return nil, err
	}
	if full.RefreshToken == "" {
		return nil, fmt.Errorf("%w for %s", ErrReconsentNeeded, k.email)
	}
	tok, err := g.upstream.refreshLimited(ctx, full.RefreshToken, scopes)
	if err != nil {
		code, _, _ := OAuthError(err)
		switch code {
		case InvalidGrant:
			g.metrics.Refresh("reconsent")
			g.markReconsent(ctx, k.email, full.RefreshToken)
			return nil, fmt.Errorf("%w for %s: Google answered invalid_grant", ErrReconsentNeeded, k.email)
		case InvalidScope:
			g.metrics.Refresh("failed")
			return nil, &ScopeNotGrantedError{Email: k.email, Scopes: scopes}
		}
		g.metrics.Refresh("failed")
		return nil, refreshFailed(k.email, err)
	}
	if err := checkLimitedScopes(tok, scopes); err != nil {
		g.metrics.Refresh("failed")
		return nil, fmt.Errorf("renewing the access of %s: %w", k.email, err)
	}
	g.metrics.Refresh("refreshed")
	g.limited.put(k, limitedEntry{tok: tok, subject: acct.Subject}, epoch, g.now())
	return tok, nil
}

// checkLimitedScopes refuses a token Google says reaches more than was
// asked, or no Drive scope at all: the limit is what this whole path is
// for, so it is checked rather than assumed (google-auth-library-python's
// google/oauth2/credentials.py likewise checks the scope of a refresh
// answer). An answer without scope means the scope asked for (RFC 6749
// §5.1).
func checkLimitedScopes(tok *oauth2.Token, asked []string) error {
	got, _ := tok.Extra("scope").(string)
	if got == "" {
		return nil
	}
	drive := false
	for sc := range strings.FieldsSeq(got) {
		if !slices.Contains(asked, sc) {
			return fmt.Errorf("%w: asked for %s, Google granted %s", ErrScopeWidened, strings.Join(asked, " "), got)
		}
		drive = drive || isDriveScope(sc)
	}
	if !drive {
		return fmt.Errorf("%w: asked for %s, Google granted %s, no Drive scope", ErrScopeNotGranted, strings.Join(asked, " "), got)
	}
	return nil
}

// ScopeNotGrantedError is ErrScopeNotGranted for one account and scope set.
type ScopeNotGrantedError struct {
	Email  string
	Scopes []string // Google scope URLs
}

func (e *ScopeNotGrantedError) Error() string {
	short := make([]string, len(e.Scopes))
	for i, sc := range e.Scopes {
		short[i] = ShortScope(sc)
	}
	return fmt.Sprintf("Google does not grant drivemcp %s for %s (it was taken back at Google, or never given)", strings.Join(short, " "), e.Email)
}

func (e *ScopeNotGrantedError) Unwrap() error { return ErrScopeNotGranted }

// markReconsent records that Google refused the account's refresh token
// for good, unless a new consent replaced that token meanwhile.
func (g *Grants) markReconsent(ctx context.Context, email, refreshToken string) {
	defer g.accounts.Forget(email)
	defer g.limited.forget(email)
	_, _ = g.store.UpdateGoogleAccount(ctx, email, func(acct store.GoogleAccount) (store.GoogleAccount, error) {
		if tok, err := g.open(acct); err == nil && tok.RefreshToken == refreshToken {
			acct.NeedsReconsent = true
		}
		return acct, nil
	})
}

// fresh reports whether an access token is not about to expire.
func (g *Grants) fresh(tok *oauth2.Token) bool {
	return tok.AccessToken != "" && (tok.Expiry.IsZero() || tok.Expiry.After(g.now().Add(refreshMargin)))
}

// LimitedHTTPClient is HTTPClient limited to scopes (Google Drive scope
// URLs): every request carries a LimitedToken. base may be nil.
func (g *Grants) LimitedHTTPClient(ctx context.Context, email string, scopes []string, base http.RoundTripper) *http.Client {
	if base == nil {
		base = http.DefaultTransport
	}
	t := &accountTransport{grants: g, ctx: ctx, email: NormalizeEmail(email), base: base, limited: true}
	t.limit, t.scopes, t.limitErr = newLimitKey(email, scopes)
	return &http.Client{Transport: t}
}
