package authserver

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"mime"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/drivemcp/drivemcp/internal/store"
)

// pkceVerifier is RFC 7636 §4.1's code_verifier.
var pkceVerifier = regexp.MustCompile(`^[A-Za-z0-9._~-]{43,128}$`)

// tokenResponse is RFC 6749 §5.1's answer.
type tokenResponse struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int64  `json:"expires_in"`
	RefreshToken string `json:"refresh_token,omitempty"`
	Scope        string `json:"scope"`
}

func (s *Server) handleToken(w http.ResponseWriter, r *http.Request) {
	form, oerr := parseForm(w, r)
	if oerr != nil {
		writeError(w, oerr)
		return
	}
	client, oerr := s.authenticateClient(r, form)
	if oerr != nil {
		s.metrics.OAuthOutcome("token", oerr.Code)
		writeError(w, oerr)
		return
	}
	var resp tokenResponse
	switch form.Get("grant_type") {
	case "authorization_code":
		resp, oerr = s.redeemCode(r, client, form)
	case "refresh_token":
		resp, oerr = s.refresh(r, client, form)
	case "":
		oerr = newError(http.StatusBadRequest, errInvalidRequest, "grant_type is required")
	default:
		oerr = newError(http.StatusBadRequest, errUnsupportedGrantType, "grant_type must be authorization_code or refresh_token")
	}
	if oerr != nil {
		s.metrics.OAuthOutcome("token", oerr.Code)
		s.log.Info("token request refused", "client_id", client.ID, "grant_type", form.Get("grant_type"), "error", oerr.Code, "reason", oerr.Description)
		writeError(w, oerr)
		return
	}
	s.metrics.OAuthOutcome("token", "ok")
	writeJSON(w, http.StatusOK, resp)
}

// parseForm reads an application/x-www-form-urlencoded body, refusing
// repeated parameters (RFC 6749 §3.2) and oversized bodies.
func parseForm(w http.ResponseWriter, r *http.Request) (url.Values, *oauthError) {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt != "application/x-www-form-urlencoded" {
		return nil, newError(http.StatusBadRequest, errInvalidRequest, "send the parameters as application/x-www-form-urlencoded")
	}
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		return nil, newError(http.StatusBadRequest, errInvalidRequest, "the form could not be read: "+err.Error())
	}
	for k, vs := range r.PostForm {
		if len(vs) > 1 {
			return nil, newError(http.StatusBadRequest, errInvalidRequest, "parameter "+k+" is repeated")
		}
		if !cleanValue(vs[0]) {
			return nil, newError(http.StatusBadRequest, errInvalidRequest, "parameter "+k+" is not valid UTF-8 text")
		}
	}
	if len(r.URL.Query()) > 0 {
		return nil, newError(http.StatusBadRequest, errInvalidRequest, "send parameters in the body, not the URL, where proxies would log them")
	}
	return r.PostForm, nil
}

// redeemCode is the authorization_code grant. The code is used up and its
// tokens stored in one transaction, so of two racing redeemers one wins,
// and a failed write leaves the code for the client's retry; a replay
// revokes whatever the first redemption issued (RFC 6749 §4.1.2).
func (s *Server) redeemCode(r *http.Request, client store.Client, form url.Values) (tokenResponse, *oauthError) {
	code, verifier := form.Get("code"), form.Get("code_verifier")
	if code == "" {
		return tokenResponse{}, newError(http.StatusBadRequest, errInvalidRequest, "code is required")
	}
	if verifier == "" {
		return tokenResponse{}, newError(http.StatusBadRequest, errInvalidRequest, "code_verifier is required (PKCE)")
	}
	ctx := r.Context()
	now := s.now()
	var pair tokenResponse
	ac, err := s.store.RedeemAuthCode(ctx, hashToken(code), now, func(ac store.AuthCode) ([]store.Token, error) {
		if oe := checkRedemption(ac, client, form, verifier); oe != nil {
			return nil, oe // the code stays used up
		}
		withRefresh := slices.Contains(client.GrantTypes, "refresh_token")
		var tokens []store.Token
		pair, tokens = s.mint(client.ID, ac.Email, ac.Resource, ac.Scopes, ac.FamilyID, withRefresh, now)
		return tokens, nil
	})
	var oe *oauthError
	switch {
	case errors.As(err, &oe):
		return tokenResponse{}, oe
	case errors.Is(err, store.ErrCodeRedeemed):
		if rerr := s.store.RevokeFamily(ctx, ac.FamilyID, now); rerr != nil {
			s.log.Error("revoking tokens of a replayed code", "err", rerr)
		}
		s.log.Warn("authorization code replayed; its tokens are revoked", "client_id", client.ID)
		return tokenResponse{}, newError(http.StatusBadRequest, errInvalidGrant, "the authorization code was already used; the tokens issued for it are now revoked")
	case errors.Is(err, store.ErrNotFound):
		return tokenResponse{}, newError(http.StatusBadRequest, errInvalidGrant, "the authorization code is unknown or expired")
	case err != nil:
		return tokenResponse{}, s.storeUnavailable(ctx, "redeeming the authorization code", err)
	}
	s.log.Info("tokens issued", "client_id", client.ID, "account", ac.Email)
	return pair, nil
}

// checkRedemption checks that the code is presented as it was issued: by
// its client, with its redirect URI and resource, and the PKCE verifier of
// its challenge.
func checkRedemption(ac store.AuthCode, client store.Client, form url.Values, verifier string) *oauthError {
	if ac.ClientID != client.ID {
		return newError(http.StatusBadRequest, errInvalidGrant, "the code was issued to another client")
	}
	if uri := form.Get("redirect_uri"); uri != "" && uri != ac.RedirectURI {
		return newError(http.StatusBadRequest, errInvalidGrant, "redirect_uri differs from the authorization request's")
	}
	if !pkceVerifier.MatchString(verifier) || subtle.ConstantTimeCompare([]byte(pkceS256(verifier)), []byte(ac.CodeChallenge)) != 1 {
		return newError(http.StatusBadRequest, errInvalidGrant, "code_verifier does not match the code_challenge")
	}
	if res := form.Get("resource"); res != "" && res != ac.Resource {
		return newError(http.StatusBadRequest, errInvalidTarget, "resource differs from the authorization request's")
	}
	return nil
}

func pkceS256(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// mint creates an access token (and a refresh token) of one family.
func (s *Server) mint(clientID, email, resource string, scopes []string, family string, withRefresh bool, now time.Time) (tokenResponse, []store.Token) {
	access := "dmcp_at_" + randomToken(32)
	resp := tokenResponse{AccessToken: access, TokenType: "Bearer", ExpiresIn: int64(s.accessTTL / time.Second), Scope: strings.Join(scopes, " ")}
	tokens := []store.Token{{
		Hash: hashToken(access), Kind: store.AccessToken, FamilyID: family, ClientID: clientID, Email: email,
		Resource: resource, Scopes: scopes, CreatedAt: now, ExpiresAt: now.Add(s.accessTTL),
	}}
	if withRefresh {
		refresh := "dmcp_rt_" + randomToken(32)
		resp.RefreshToken = refresh
		tokens = append(tokens, store.Token{
			Hash: hashToken(refresh), Kind: store.RefreshToken, FamilyID: family, ClientID: clientID, Email: email,
			Resource: resource, Scopes: scopes, CreatedAt: now, ExpiresAt: now.Add(s.refreshTTL),
		})
	}
	return resp, tokens
}

var errRefreshReused = errors.New("refresh token reused after its grace window")

// refresh is the refresh_token grant with rotation: each refresh token is
// good for one exchange. A client that refreshes twice at once gets the same
// new pair within the grace window; a reuse after it means the token leaked,
// and the whole family is revoked (OAuth 2.1 §4.3.1).
func (s *Server) refresh(r *http.Request, client store.Client, form url.Values) (tokenResponse, *oauthError) {
	raw := form.Get("refresh_token")
	if raw == "" {
		return tokenResponse{}, newError(http.StatusBadRequest, errInvalidRequest, "refresh_token is required")
	}
	ctx := r.Context()
	hash := hashToken(raw)
	now := s.now()
	var resp tokenResponse
	var oerr *oauthError
	var family string
	err := s.store.RotateRefreshToken(ctx, hash, func(old store.Token) (store.Token, []store.Token, error) {
		family = old.FamilyID
		if oerr = s.checkRefreshable(old, client, form, now); oerr != nil {
			return old, nil, oerr
		}
		if !old.RotatedAt.IsZero() {
			if now.Sub(old.RotatedAt) > s.grace {
				return old, nil, errRefreshReused
			}
			pair, err := s.openSuccessor(old)
			if err != nil {
				return old, nil, err
			}
			resp = pair
			return old, nil, nil
		}
		pair, issued := s.mint(client.ID, old.Email, old.Resource, old.Scopes, old.FamilyID, true, now)
		sealed, err := s.sealSuccessor(hash, pair)
		if err != nil {
			return old, nil, err
		}
		old.RotatedAt, old.Successor = now, sealed
		resp = pair
		return old, issued, nil
	})
	switch {
	case err == nil:
		return resp, nil
	case oerr != nil:
		return tokenResponse{}, oerr
	case errors.Is(err, store.ErrNotFound):
		return tokenResponse{}, newError(http.StatusBadRequest, errInvalidGrant, "the refresh token is unknown")
	case errors.Is(err, errRefreshReused):
		if rerr := s.store.RevokeFamily(ctx, family, now); rerr != nil {
			s.log.Error("revoking a reused refresh token's family", "err", rerr)
		}
		s.log.Warn("refresh token reused after rotation; family revoked", "client_id", client.ID)
		return tokenResponse{}, newError(http.StatusBadRequest, errInvalidGrant, "the refresh token was already used; sign in again")
	default:
		return tokenResponse{}, s.storeUnavailable(ctx, "renewing the tokens", err)
	}
}

func (s *Server) checkRefreshable(old store.Token, client store.Client, form url.Values, now time.Time) *oauthError {
	switch {
	case old.Kind != store.RefreshToken:
		return newError(http.StatusBadRequest, errInvalidGrant, "that is not a refresh token")
	case old.ClientID != client.ID:
		return newError(http.StatusBadRequest, errInvalidGrant, "the refresh token was issued to another client")
	case !old.RevokedAt.IsZero():
		return newError(http.StatusBadRequest, errInvalidGrant, "the refresh token was revoked; sign in again")
	case now.After(old.ExpiresAt):
		return newError(http.StatusBadRequest, errInvalidGrant, "the refresh token expired; sign in again")
	}
	if res := form.Get("resource"); res != "" && res != old.Resource {
		return newError(http.StatusBadRequest, errInvalidTarget, "resource differs from the original grant's")
	}
	for _, sc := range strings.Fields(form.Get("scope")) {
		if !slices.Contains(old.Scopes, sc) {
			return newError(http.StatusBadRequest, errInvalidScope, "scope "+quoteShort(sc)+" was not granted")
		}
	}
	return nil
}

// The successor pair is sealed with the old token's hash as associated
// data: it opens only for a caller that holds that refresh token.
func (s *Server) sealSuccessor(hash string, pair tokenResponse) ([]byte, error) {
	raw, err := json.Marshal(pair)
	if err != nil {
		return nil, err
	}
	return s.keys.Seal(raw, []byte("successor:"+hash))
}

func (s *Server) openSuccessor(old store.Token) (tokenResponse, error) {
	var pair tokenResponse
	raw, err := s.keys.Open(old.Successor, []byte("successor:"+old.Hash))
	if err != nil {
		return pair, err
	}
	err = json.Unmarshal(raw, &pair)
	pair.ExpiresIn = max(0, pair.ExpiresIn-int64(s.now().Sub(old.RotatedAt)/time.Second))
	return pair, err
}
