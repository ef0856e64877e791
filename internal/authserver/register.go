package authserver

import (
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/drivemcp/drivemcp/internal/store"
)

// maxRegistrationBytes bounds a registration request; real ones are < 2 KiB.
const maxRegistrationBytes = 64 << 10

// registrationRequest holds the RFC 7591 client metadata we act on; other
// fields are ignored, as §2 allows.
type registrationRequest struct {
	RedirectURIs            []string `json:"redirect_uris"`
	TokenEndpointAuthMethod string   `json:"token_endpoint_auth_method"`
	GrantTypes              []string `json:"grant_types"`
	ResponseTypes           []string `json:"response_types"`
	ClientName              string   `json:"client_name"`
	ClientURI               string   `json:"client_uri"`
	LogoURI                 string   `json:"logo_uri"`
	Scope                   string   `json:"scope"`
	ApplicationType         string   `json:"application_type"`
}

// registrationResponse is RFC 7591 §3.2.1's answer.
type registrationResponse struct {
	ClientID                string   `json:"client_id"`
	ClientSecret            string   `json:"client_secret,omitempty"`
	ClientIDIssuedAt        int64    `json:"client_id_issued_at"`
	ClientSecretExpiresAt   *int64   `json:"client_secret_expires_at,omitempty"`
	RedirectURIs            []string `json:"redirect_uris"`
	TokenEndpointAuthMethod string   `json:"token_endpoint_auth_method"`
	GrantTypes              []string `json:"grant_types"`
	ResponseTypes           []string `json:"response_types"`
	ClientName              string   `json:"client_name,omitempty"`
	ClientURI               string   `json:"client_uri,omitempty"`
	LogoURI                 string   `json:"logo_uri,omitempty"`
	Scope                   string   `json:"scope,omitempty"`
	ApplicationType         string   `json:"application_type"`
}

func (s *Server) handleRegister(w http.ResponseWriter, r *http.Request) {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt != "application/json" {
		writeError(w, newError(http.StatusUnsupportedMediaType, errInvalidClientMetadata, "send the client metadata as application/json (RFC 7591 §3.1)"))
		return
	}
	var req registrationRequest
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxRegistrationBytes))
	if err := dec.Decode(&req); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeError(w, newError(http.StatusRequestEntityTooLarge, errInvalidClientMetadata, "the client metadata is larger than 64 KiB"))
			return
		}
		writeError(w, newError(http.StatusBadRequest, errInvalidClientMetadata, "the body is not a JSON object of client metadata: "+err.Error()))
		return
	}
	if dec.More() {
		writeError(w, newError(http.StatusBadRequest, errInvalidClientMetadata, "the body holds more than one JSON value"))
		return
	}
	client, oerr := s.validateRegistration(req)
	if oerr != nil {
		s.metrics.OAuthOutcome("register", oerr.Code)
		writeError(w, oerr)
		return
	}
	var secret string
	if client.TokenEndpointAuthMethod != "none" {
		secret = "mcps_" + randomToken(32)
		sum := sha256.Sum256([]byte(secret))
		client.SecretHash = sum[:]
	}
	client.ID = "mcp_" + randomToken(18)
	client.CreatedAt = s.now()
	if err := s.store.CreateClient(r.Context(), client); err != nil {
		writeError(w, s.storeUnavailable(r.Context(), "storing the registration", err))
		return
	}
	s.metrics.OAuthOutcome("register", "ok")
	s.log.Info("client registered", "client_id", client.ID, "name", client.Name, "auth_method", client.TokenEndpointAuthMethod)
	resp := registrationResponse{
		ClientID: client.ID, ClientSecret: secret, ClientIDIssuedAt: client.CreatedAt.Unix(),
		RedirectURIs: client.RedirectURIs, TokenEndpointAuthMethod: client.TokenEndpointAuthMethod,
		GrantTypes: client.GrantTypes, ResponseTypes: client.ResponseTypes, ClientName: client.Name,
		ClientURI: client.ClientURI, LogoURI: client.LogoURI, Scope: client.Scope, ApplicationType: client.ApplicationType,
	}
	if secret != "" {
		never := int64(0)
		resp.ClientSecretExpiresAt = &never
	}
	writeJSON(w, http.StatusCreated, resp)
}

// validateRegistration applies RFC 7591's defaults and our rules.
func (s *Server) validateRegistration(req registrationRequest) (store.Client, *oauthError) {
	bad := func(code, msg string) (store.Client, *oauthError) {
		return store.Client{}, newError(http.StatusBadRequest, code, msg)
	}
	c := store.Client{
		TokenEndpointAuthMethod: req.TokenEndpointAuthMethod,
		GrantTypes:              req.GrantTypes,
		ResponseTypes:           req.ResponseTypes,
		ApplicationType:         req.ApplicationType,
	}
	if c.TokenEndpointAuthMethod == "" {
		c.TokenEndpointAuthMethod = "client_secret_basic" // RFC 7591 §2
	}
	switch c.TokenEndpointAuthMethod {
	case "none", "client_secret_post", "client_secret_basic":
	default:
		return bad(errInvalidClientMetadata, "token_endpoint_auth_method must be none, client_secret_post or client_secret_basic")
	}
	if len(c.GrantTypes) == 0 {
		c.GrantTypes = []string{"authorization_code"}
	}
	for _, g := range c.GrantTypes {
		if g != "authorization_code" && g != "refresh_token" {
			return bad(errInvalidClientMetadata, "grant_types may only hold authorization_code and refresh_token, not "+quoteShort(g))
		}
	}
	if !slices.Contains(c.GrantTypes, "authorization_code") {
		return bad(errInvalidClientMetadata, "grant_types must include authorization_code: it is the only way to get tokens here")
	}
	if len(c.ResponseTypes) == 0 {
		c.ResponseTypes = []string{"code"}
	}
	for _, rt := range c.ResponseTypes {
		if rt != "code" {
			return bad(errInvalidClientMetadata, "response_types may only hold code, not "+quoteShort(rt))
		}
	}
	switch c.ApplicationType {
	case "", "web", "native":
	default:
		return bad(errInvalidClientMetadata, "application_type must be web or native")
	}
	if len(req.RedirectURIs) == 0 {
		return bad(errInvalidRedirectURI, "redirect_uris is required: list where the authorization response may be sent")
	}
	if len(req.RedirectURIs) > 20 {
		return bad(errInvalidRedirectURI, "at most 20 redirect_uris may be registered")
	}
	native := false
	for _, uri := range req.RedirectURIs {
		n, err := checkRedirectURI(uri, c.ApplicationType)
		if err != nil {
			return bad(errInvalidRedirectURI, fmt.Sprintf("the redirect URI %s: %v", quoteForReason(uri), err))
		}
		native = native || n
	}
	if c.ApplicationType == "" {
		c.ApplicationType = "web"
		if native {
			c.ApplicationType = "native"
		}
	}
	c.RedirectURIs = req.RedirectURIs
	if req.Scope != "" {
		scopes, problem := s.checkScopes(req.Scope)
		if problem != "" {
			return bad(errInvalidClientMetadata, problem)
		}
		c.Scope = strings.Join(scopes, " ")
	}
	c.Name = displayText(req.ClientName, 100)
	var err error
	if c.ClientURI, err = httpsURL(req.ClientURI, "client_uri"); err != nil {
		return bad(errInvalidClientMetadata, err.Error())
	}
	if c.LogoURI, err = httpsURL(req.LogoURI, "logo_uri"); err != nil {
		return bad(errInvalidClientMetadata, err.Error())
	}
	return c, nil
}

// httpsURL accepts an empty value or an https URL.
func httpsURL(raw, field string) (string, error) {
	if raw == "" {
		return "", nil
	}
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "https" || u.Host == "" || len(raw) > 2000 {
		return "", errors.New(field + " must be an https URL")
	}
	return raw, nil
}
