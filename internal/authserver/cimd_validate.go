package authserver

import (
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/drivemcp/drivemcp/internal/loopback"
	"github.com/drivemcp/drivemcp/internal/store"
)

// checkClientIDURL applies the draft's rules for a Client Identifier URL.
func checkClientIDURL(raw string, allowHTTP bool) *CIMDError {
	bad := func(why string) *CIMDError {
		return &CIMDError{Reason: "the client_id " + quoteForReason(raw) + " is not a usable metadata document URL: " + why}
	}
	if len(raw) > maxClientIDURLLength {
		return bad(fmt.Sprintf("it is longer than %d characters", maxClientIDURLLength))
	}
	for _, r := range raw {
		if r <= ' ' || r == 0x7f || r == '\\' {
			return bad("it contains white space, a backslash or a control character")
		}
	}
	u, err := url.Parse(raw)
	if err != nil {
		return bad("it is not a valid URL")
	}
	switch {
	case strings.HasPrefix(raw, "https://"):
	case allowHTTP && strings.HasPrefix(raw, "http://") && loopback.IsHost(u.Hostname()):
	default:
		return bad("it must start with https://")
	}
	switch {
	case u.User != nil:
		return bad("it contains user information")
	case u.Fragment != "" || strings.Contains(raw, "#"):
		return bad("it contains a fragment (#…)")
	case u.Hostname() == "":
		return bad("it has no host")
	case u.Path == "" || u.Path == "/":
		return bad("it needs a path naming the document, such as /client-metadata.json")
	}
	for _, segment := range strings.Split(u.Path, "/") {
		if segment == "." || segment == ".." {
			return bad(`its path contains a "." or ".." segment`)
		}
	}
	return nil
}

// clientMetadata is the part of RFC 7591 client metadata we use, decoded
// field by field so that keys match exactly (encoding/json would otherwise
// accept "CLIENT_ID" for client_id).
type clientMetadata struct {
	ClientID                string
	ClientName              string
	RedirectURIs            []string
	GrantTypes              []string
	ResponseTypes           []string
	TokenEndpointAuthMethod string
	ApplicationType         string
	Scope                   string
	ClientURI               string
	LogoURI                 string
	hasSecret               bool
	hasRedirectURIs         bool
	hasGrantTypes           bool
	hasResponseTypes        bool
}

// parseClientMetadata validates a document fetched from clientID and turns
// it into the public client it describes.
func parseClientMetadata(clientID string, body []byte) (store.Client, error) {
	doc := "the client's metadata document at " + clientID
	fail := func(format string, args ...any) (store.Client, error) {
		return store.Client{}, &CIMDError{Reason: doc + " " + fmt.Sprintf(format, args...)}
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(body, &fields); err != nil || fields == nil {
		return fail("is not a JSON object")
	}
	var m clientMetadata
	for _, f := range []struct {
		name    string
		into    any
		present *bool
	}{
		{"client_id", &m.ClientID, nil},
		{"client_name", &m.ClientName, nil},
		{"redirect_uris", &m.RedirectURIs, &m.hasRedirectURIs},
		{"grant_types", &m.GrantTypes, &m.hasGrantTypes},
		{"response_types", &m.ResponseTypes, &m.hasResponseTypes},
		{"token_endpoint_auth_method", &m.TokenEndpointAuthMethod, nil},
		{"application_type", &m.ApplicationType, nil},
		{"scope", &m.Scope, nil},
		{"client_uri", &m.ClientURI, nil},
		{"logo_uri", &m.LogoURI, nil},
	} {
		raw, ok := fields[f.name]
		if !ok || string(raw) == "null" {
			continue
		}
		if err := json.Unmarshal(raw, f.into); err != nil {
			kind := "a string"
			if _, isList := f.into.(*[]string); isList {
				kind = "a list of strings"
			}
			return fail("has a %s that is not %s", f.name, kind)
		}
		if f.present != nil {
			*f.present = true
		}
	}
	_, secret := fields["client_secret"]
	_, secretExpiry := fields["client_secret_expires_at"]
	m.hasSecret = secret || secretExpiry

	switch {
	case m.ClientID == "":
		return fail("has no client_id; it must name its own URL")
	case m.ClientID != clientID:
		return fail("names client_id %s, not itself", quoteForReason(m.ClientID))
	case m.hasSecret:
		return fail("contains a client_secret; a metadata document is public and cannot carry a secret")
	}
	switch m.TokenEndpointAuthMethod {
	case "", "none": // absent means none: a published document cannot share a secret
	case "private_key_jwt":
		return fail(`asks for private_key_jwt client authentication, which drivemcp does not support; only public clients (token_endpoint_auth_method "none") can use a metadata document here`)
	default:
		return fail(`asks for %s client authentication; a metadata document can only describe a public client (token_endpoint_auth_method "none")`,
			quoteForReason(m.TokenEndpointAuthMethod))
	}

	switch m.ApplicationType {
	case "", "web", "native":
	default:
		return fail(`has application_type %s; it must be "web" or "native"`, quoteForReason(m.ApplicationType))
	}
	if len(m.RedirectURIs) == 0 {
		return fail("lists no redirect_uris; at least one is needed to sign in")
	}
	anyPrivateUse := false
	for _, uri := range m.RedirectURIs {
		privateUse, err := checkRedirectURI(uri, m.ApplicationType)
		if err != nil {
			return fail("lists the redirect URI %s: %v", quoteForReason(uri), err)
		}
		anyPrivateUse = anyPrivateUse || privateUse
	}
	if m.ApplicationType == "" {
		m.ApplicationType = "web"
		if anyPrivateUse {
			m.ApplicationType = "native"
		}
	}

	// Keep only what we implement; a document written for many servers
	// may list more, and nothing here grants what it lists.
	grants := []string{"authorization_code"}
	if m.hasGrantTypes {
		grants = nil
		for _, g := range []string{"authorization_code", "refresh_token"} {
			if slices.Contains(m.GrantTypes, g) {
				grants = append(grants, g)
			}
		}
		if !slices.Contains(grants, "authorization_code") {
			return fail("does not allow the authorization_code grant, the only way to sign in here")
		}
	}
	if m.hasResponseTypes && !slices.Contains(m.ResponseTypes, "code") {
		return fail(`does not allow response_type "code", the only one supported here`)
	}

	return store.Client{
		ID:                      clientID,
		Name:                    displayText(m.ClientName, 100),
		RedirectURIs:            m.RedirectURIs,
		GrantTypes:              grants,
		ResponseTypes:           []string{"code"},
		TokenEndpointAuthMethod: "none",
		ApplicationType:         m.ApplicationType,
		Scope:                   m.Scope,
		ClientURI:               httpsOrEmpty(m.ClientURI),
		LogoURI:                 httpsOrEmpty(m.LogoURI),
	}, nil
}

// httpsOrEmpty keeps a URL shown to the user only if it is https: a
// client_uri or logo_uri is decoration, not worth rejecting a client over.
func httpsOrEmpty(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil || len(raw) > 2000 {
		return ""
	}
	return raw
}

// quoteForReason quotes a value taken from a request or a document for an
// error message, cut short if long.
func quoteForReason(s string) string {
	const limit = 100
	s = displayText(s, limit)
	return `"` + s + `"`
}

func cloneClient(c store.Client) store.Client {
	c.RedirectURIs = slices.Clone(c.RedirectURIs)
	c.GrantTypes = slices.Clone(c.GrantTypes)
	c.ResponseTypes = slices.Clone(c.ResponseTypes)
	c.SecretHash = slices.Clone(c.SecretHash)
	return c
}
