package authserver

import (
	"net/http"
)

// allowCORS lets browser-based MCP clients read public metadata and call the
// token endpoints. Nothing here relies on cookies, so any origin is fine.
func allowCORS(w http.ResponseWriter, r *http.Request) (preflight bool) {
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", "*")
	h.Set("Access-Control-Allow-Methods", "GET, POST, OPTIONS")
	h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, MCP-Protocol-Version")
	h.Set("Access-Control-Max-Age", "86400")
	if r.Method == http.MethodOptions {
		w.WriteHeader(http.StatusNoContent)
		return true
	}
	return false
}

// resourceMetadata is RFC 9728 protected resource metadata.
type resourceMetadata struct {
	Resource               string   `json:"resource"`
	AuthorizationServers   []string `json:"authorization_servers"`
	ScopesSupported        []string `json:"scopes_supported"`
	BearerMethodsSupported []string `json:"bearer_methods_supported"`
	ResourceName           string   `json:"resource_name"`
}

func (s *Server) handleResourceMetadata(w http.ResponseWriter, r *http.Request) {
	if allowCORS(w, r) {
		return
	}
	if !methodIs(w, r, http.MethodGet, http.MethodHead) {
		return
	}
	writeJSON(w, http.StatusOK, resourceMetadata{
		Resource:               s.resource,
		AuthorizationServers:   []string{s.issuer},
		ScopesSupported:        s.scopes,
		BearerMethodsSupported: []string{"header"},
		ResourceName:           "drivemcp (Google Drive)",
	})
}

// serverMetadata is RFC 8414 authorization server metadata.
type serverMetadata struct {
	Issuer                                 string   `json:"issuer"`
	AuthorizationEndpoint                  string   `json:"authorization_endpoint"`
	TokenEndpoint                          string   `json:"token_endpoint"`
	RegistrationEndpoint                   string   `json:"registration_endpoint"`
	RevocationEndpoint                     string   `json:"revocation_endpoint"`
	ScopesSupported                        []string `json:"scopes_supported"`
	ResponseTypesSupported                 []string `json:"response_types_supported"`
	ResponseModesSupported                 []string `json:"response_modes_supported"`
	GrantTypesSupported                    []string `json:"grant_types_supported"`
	TokenEndpointAuthMethodsSupported      []string `json:"token_endpoint_auth_methods_supported"`
	RevocationEndpointAuthMethodsSupported []string `json:"revocation_endpoint_auth_methods_supported"`
	CodeChallengeMethodsSupported          []string `json:"code_challenge_methods_supported"`
	AuthorizationResponseIssParameter      bool     `json:"authorization_response_iss_parameter_supported"`
	ClientIDMetadataDocumentSupported      bool     `json:"client_id_metadata_document_supported"`
	ServiceDocumentation                   string   `json:"service_documentation,omitempty"`
}

func (s *Server) handleServerMetadata(w http.ResponseWriter, r *http.Request) {
	if allowCORS(w, r) {
		return
	}
	if !methodIs(w, r, http.MethodGet, http.MethodHead) {
		return
	}
	authMethods := []string{"none", "client_secret_post", "client_secret_basic"}
	writeJSON(w, http.StatusOK, serverMetadata{
		Issuer:                                 s.issuer,
		AuthorizationEndpoint:                  s.issuer + "/oauth/authorize",
		TokenEndpoint:                          s.issuer + "/oauth/token",
		RegistrationEndpoint:                   s.issuer + "/oauth/register",
		RevocationEndpoint:                     s.issuer + "/oauth/revoke",
		ScopesSupported:                        s.scopes,
		ResponseTypesSupported:                 []string{"code"},
		ResponseModesSupported:                 []string{"query"},
		GrantTypesSupported:                    []string{"authorization_code", "refresh_token"},
		TokenEndpointAuthMethodsSupported:      authMethods,
		RevocationEndpointAuthMethodsSupported: authMethods,
		CodeChallengeMethodsSupported:          []string{"S256"},
		AuthorizationResponseIssParameter:      true,
		ClientIDMetadataDocumentSupported:      s.cimd != nil,
	})
}

// methodIs answers 405 unless r uses one of the methods.
func methodIs(w http.ResponseWriter, r *http.Request, methods ...string) bool {
	for _, m := range methods {
		if r.Method == m {
			return true
		}
	}
	allow := ""
	for i, m := range methods {
		if i > 0 {
			allow += ", "
		}
		allow += m
	}
	w.Header().Set("Allow", allow)
	writeError(w, newError(http.StatusMethodNotAllowed, errInvalidRequest, "this endpoint accepts "+allow))
	return false
}
