package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"time"
)

// ErrCodeRedeemed means an authorization code was presented a second time:
// a sign that it leaked. The caller revokes what the first use issued.
var ErrCodeRedeemed = errors.New("store: authorization code already redeemed")

// HashSecret is how a secret that only needs to be recognised is stored:
// the hex SHA-256 of its value. Codes, tokens, states and session ids are
// long and random, so a leaked database does not leak usable credentials and
// an unsalted hash is enough.
func HashSecret(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// Client is an MCP client registered with drivemcp's authorization server
// (RFC 7591 dynamic registration).
type Client struct {
	ID string // "mcp_…"; primary key
	// SecretHash is the SHA-256 of the client secret; nil for public clients
	// (token_endpoint_auth_method "none").
	SecretHash              []byte
	Name                    string
	RedirectURIs            []string
	GrantTypes              []string
	ResponseTypes           []string
	TokenEndpointAuthMethod string // none | client_secret_post | client_secret_basic
	ApplicationType         string // web | native
	Scope                   string
	ClientURI               string
	LogoURI                 string
	CreatedAt               time.Time
}

// AuthCode is drivemcp's own single-use authorization code, handed to an MCP
// client once Google has answered. Only its hash is stored.
type AuthCode struct {
	Hash          string // hex SHA-256 of the code; primary key
	ClientID      string
	RedirectURI   string
	CodeChallenge string // S256
	Resource      string
	Scopes        []string
	Email         string // the Google account that logged in
	// FamilyID names the tokens issued when the code is redeemed, so that a
	// replayed code can revoke them.
	FamilyID   string
	CreatedAt  time.Time
	ExpiresAt  time.Time
	RedeemedAt time.Time // zero until redeemed
}

// TokenKind tells access tokens from refresh tokens.
type TokenKind string

const (
	AccessToken  TokenKind = "access"
	RefreshToken TokenKind = "refresh"
)

// Token is one of drivemcp's own tokens (never a Google token), stored by
// the hash of its opaque value. Tokens issued from one authorization code
// and its refreshes form a family that is revoked together.
type Token struct {
	Hash      string // hex SHA-256 of the token; primary key
	Kind      TokenKind
	FamilyID  string
	ClientID  string
	Email     string
	Resource  string // RFC 8707 audience
	Scopes    []string
	CreatedAt time.Time
	ExpiresAt time.Time
	// RotatedAt is when a refresh token was exchanged for a new pair (zero
	// while it is current).
	RotatedAt time.Time
	// Successor is the new pair minted at rotation, sealed; a duplicate
	// refresh inside the grace window gets the same pair back.
	Successor []byte
	RevokedAt time.Time // zero unless revoked
}

// IssueFunc decides, for a code being redeemed, which tokens to store.
type IssueFunc func(AuthCode) ([]Token, error)

// OAuthStore is the authorization server's part of the Store.
type OAuthStore interface {
	// CreateClient stores a registration; ErrAlreadyExists if the id is taken.
	CreateClient(ctx context.Context, c Client) error
	// GetClient returns a client or ErrNotFound.
	GetClient(ctx context.Context, id string) (Client, error)

	// CreateAuthCode stores a new code; ErrAlreadyExists if the hash is taken.
	CreateAuthCode(ctx context.Context, c AuthCode) error
	// RedeemAuthCode marks the code redeemed at now and returns it, in one
	// step that at most one of several concurrent callers wins. A code
	// redeemed before is returned with ErrCodeRedeemed; an unknown code, or
	// one past ExpiresAt and never redeemed, gives ErrNotFound.
	//
	// issue, if not nil, is called with the code the caller has just won
	// and returns the tokens to store for it, in the same transaction: the
	// code is never used up without its tokens being stored, so a failed
	// write leaves the code redeemable. An error from issue is returned as
	// is, with the redemption kept and no tokens stored (a code presented
	// wrongly is used up).
	RedeemAuthCode(ctx context.Context, hash string, now time.Time, issue IssueFunc) (AuthCode, error)

	// CreateTokens stores newly issued tokens in one transaction.
	CreateTokens(ctx context.Context, tokens ...Token) error
	// GetToken returns a token in whatever state it is (the caller checks
	// kind, expiry and revocation), or ErrNotFound.
	GetToken(ctx context.Context, hash string) (Token, error)
	// RotateRefreshToken reads the token, calls rotate, then writes the
	// updated token and inserts issued, all in one transaction that excludes
	// other rotations of the same token (in every process). If rotate
	// returns an error nothing is written and it is returned. ErrNotFound if
	// there is no such token.
	RotateRefreshToken(ctx context.Context, hash string,
		rotate func(old Token) (updated Token, issued []Token, err error)) error
	// RevokeToken marks one token revoked at now; ErrNotFound if unknown.
	RevokeToken(ctx context.Context, hash string, now time.Time) error
	// RevokeFamily marks every token of the family revoked at now.
	RevokeFamily(ctx context.Context, familyID string, now time.Time) error
}
