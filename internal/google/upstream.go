package google

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/oauth2"
)

// Upstream is drivemcp's OAuth client at Google: the real client id and
// secret live here and nowhere else.
type Upstream struct {
	config    oauth2.Config
	endpoints Endpoints
	http      *http.Client
}

// NewUpstream builds the Google OAuth client. redirectURL is the one
// /oauth2callback of this server. httpClient may be nil.
func NewUpstream(clientID, clientSecret, redirectURL string, ep Endpoints, httpClient *http.Client) *Upstream {
	if httpClient == nil {
		httpClient = &http.Client{Timeout: 30 * time.Second}
	}
	return &Upstream{
		config: oauth2.Config{
			ClientID:     clientID,
			ClientSecret: clientSecret,
			RedirectURL:  redirectURL,
			Endpoint: oauth2.Endpoint{
				AuthURL:   ep.AuthURL,
				TokenURL:  ep.TokenURL,
				AuthStyle: oauth2.AuthStyleInParams,
			},
		},
		endpoints: ep,
		http:      httpClient,
	}
}

// Endpoints returns where this client sends its calls.
func (u *Upstream) Endpoints() Endpoints { return u.endpoints }

// HTTPClient is the plain (unauthenticated) client used for Google calls.
func (u *Upstream) HTTPClient() *http.Client { return u.http }

func (u *Upstream) ctx(ctx context.Context) context.Context {
	return context.WithValue(ctx, oauth2.HTTPClient, u.http)
}

// ConsentRequest is one trip to Google's consent page.
type ConsentRequest struct {
	State    string
	Verifier string // our PKCE verifier; Google sees only its S256 challenge
	Scopes   []string
	// LoginHint pre-selects the account the user said they would use.
	LoginHint string
	// ForceConsent asks Google to show consent again, which is the only way
	// Google hands out a new refresh token for a user who already granted one.
	ForceConsent bool
	// RedirectURI overrides the client's redirect URI for this sign-in: a
	// Desktop app client listens on a new loopback port each time, and
	// Google must be sent the URI with that real port.
	RedirectURI string
}

// AuthCodeURL is the Google URL that starts a consent.
func (u *Upstream) AuthCodeURL(r ConsentRequest) string {
	cfg := u.config
	cfg.Scopes = r.Scopes
	if r.RedirectURI != "" {
		cfg.RedirectURL = r.RedirectURI
	}
	opts := []oauth2.AuthCodeOption{
		oauth2.AccessTypeOffline,
		oauth2.S256ChallengeOption(r.Verifier),
		oauth2.SetAuthURLParam("include_granted_scopes", "true"),
	}
	if r.LoginHint != "" {
		opts = append(opts, oauth2.SetAuthURLParam("login_hint", r.LoginHint))
	}
	if r.ForceConsent {
		opts = append(opts, oauth2.SetAuthURLParam("prompt", "consent"))
	}
	return cfg.AuthCodeURL(r.State, opts...)
}

// Exchange trades Google's authorization code for tokens.
func (u *Upstream) Exchange(ctx context.Context, code, verifier string) (*oauth2.Token, error) {
	return u.ExchangeAt(ctx, code, verifier, "")
}

// ExchangeAt is Exchange for a sign-in that sent Google redirectURI (""
// means the client's own): Google refuses the code unless the token request
// names the redirect URI the authorization request used.
func (u *Upstream) ExchangeAt(ctx context.Context, code, verifier, redirectURI string) (*oauth2.Token, error) {
	cfg := u.config
	if redirectURI != "" {
		cfg.RedirectURL = redirectURI
	}
	tok, err := cfg.Exchange(u.ctx(ctx), code, oauth2.VerifierOption(verifier))
	if err != nil {
		return nil, fmt.Errorf("exchanging the Google authorization code: %w", err)
	}
	return tok, nil
}

// refresh asks Google for a new access token.
func (u *Upstream) refresh(ctx context.Context, refreshToken string) (*oauth2.Token, error) {
	return u.config.TokenSource(u.ctx(ctx), &oauth2.Token{RefreshToken: refreshToken}).Token()
}

// UserInfo is who a Google token belongs to.
type UserInfo struct {
	Subject       string `json:"sub"`
	Email         string `json:"email"`
	EmailVerified bool   `json:"email_verified"`
	Name          string `json:"name"`
	// HostedDomain is Google's "hd" claim: the account's Google Workspace
	// domain, absent for consumer accounts (the access policy relies on it).
	HostedDomain string `json:"hd"`
}

// UserInfo asks Google whose token this is.
func (u *Upstream) UserInfo(ctx context.Context, tok *oauth2.Token) (UserInfo, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.endpoints.UserinfoURL, nil)
	if err != nil {
		return UserInfo{}, err
	}
	tok.SetAuthHeader(req)
	resp, err := u.http.Do(req)
	if err != nil {
		return UserInfo{}, fmt.Errorf("asking Google who the user is: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return UserInfo{}, fmt.Errorf("reading Google userinfo: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return UserInfo{}, fmt.Errorf("google userinfo answered %s", resp.Status)
	}
	var info UserInfo
	if err := json.Unmarshal(body, &info); err != nil {
		return UserInfo{}, fmt.Errorf("decoding Google userinfo: %w", err)
	}
	if info.Email == "" {
		return UserInfo{}, errors.New("google userinfo has no email: the consent must include the email scope")
	}
	if !info.EmailVerified {
		return UserInfo{}, fmt.Errorf("google says %s is not verified: drivemcp only links verified addresses", info.Email)
	}
	info.Email = NormalizeEmail(info.Email)
	return info, nil
}

// Revoke tells Google to forget a token (RFC 7009 style). Revoking the
// refresh token ends the whole grant.
func (u *Upstream) Revoke(ctx context.Context, token string) error {
	form := url.Values{"token": {token}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.endpoints.RevokeURL, strings.NewReader(form.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := u.http.Do(req)
	if err != nil {
		return fmt.Errorf("revoking at Google: %w", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	// Google answers 400 invalid_token for a token it already forgot: the
	// outcome the caller wanted.
	if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusBadRequest {
		return fmt.Errorf("google revocation answered %s", resp.Status)
	}
	return nil
}

// NormalizeEmail is the one spelling of an email drivemcp stores and compares.
func NormalizeEmail(email string) string {
	return strings.ToLower(strings.TrimSpace(email))
}

// refreshLimited asks Google for an access token that reaches no more than
// scopes, by naming them on the refresh-token grant: RFC 6749 §6 lets a
// refresh request ask for a narrower scope than the grant, and Google's own
// client library does the same (google-auth-library-python,
// google/oauth2/_client.py refresh_grant sends scope when the credentials
// carry scopes). golang.org/x/oauth2 has no way to add a parameter to a
// refresh, hence the request by hand. Errors are *oauth2.RetrieveError, as
// from x/oauth2, so callers classify both alike. Google does not rotate the
// refresh token on this grant; a refresh_token in the answer is ignored.
func (u *Upstream) refreshLimited(ctx context.Context, refreshToken string, scopes []string) (*oauth2.Token, error) {
	form := url.Values{
		"grant_type":    {"refresh_token"},
		"refresh_token": {refreshToken},
		"scope":         {strings.Join(scopes, " ")},
		"client_id":     {u.config.ClientID},
		"client_secret": {u.config.ClientSecret},
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.endpoints.TokenURL, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := u.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("asking Google for a limited access token: %w", err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("reading Google's token answer: %w", err)
	}
	var body struct {
		AccessToken      string `json:"access_token"`
		TokenType        string `json:"token_type"`
		ExpiresIn        int64  `json:"expires_in"`
		Scope            string `json:"scope"`
		Error            string `json:"error"`
		ErrorDescription string `json:"error_description"`
		ErrorURI         string `json:"error_uri"`
	}
	jsonErr := json.Unmarshal(raw, &body)
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, &oauth2.RetrieveError{Response: resp, Body: raw, ErrorCode: body.Error,
			ErrorDescription: body.ErrorDescription, ErrorURI: body.ErrorURI}
	}
	if jsonErr != nil || body.AccessToken == "" {
		return nil, &oauth2.RetrieveError{Response: resp, Body: raw, ErrorCode: "invalid_response",
			ErrorDescription: "the token answer carries no access_token"}
	}
	tok := &oauth2.Token{AccessToken: body.AccessToken, TokenType: body.TokenType, ExpiresIn: body.ExpiresIn}
	// Without expires_in the token's life is unknown: use it for this call only.
	tok.Expiry = time.Now().Add(time.Duration(body.ExpiresIn) * time.Second)
	return tok.WithExtra(map[string]any{"scope": body.Scope}), nil
}

// ClientID is drivemcp's OAuth client id at Google.
func (u *Upstream) ClientID() string { return u.config.ClientID }

// Refresh trades a refresh token for a fresh access token with drivemcp's
// own client, outside any stored account: the import of another server's
// grant uses it to learn from Google whether the token is really this
// client's and whose it is. Errors are *oauth2.RetrieveError when Google
// answered. The refresh token is kept on the result when Google sends none.
func (u *Upstream) Refresh(ctx context.Context, refreshToken string) (*oauth2.Token, error) {
	tok, err := u.refresh(ctx, refreshToken)
	if err != nil {
		return nil, err
	}
	if tok.RefreshToken == "" {
		tok.RefreshToken = refreshToken
	}
	return tok, nil
}
