package authserver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"mime"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/drivemcp/drivemcp/internal/loopback"
	"github.com/drivemcp/drivemcp/internal/netguard"
	"github.com/drivemcp/drivemcp/internal/store"
)

// Limits on Client ID Metadata Documents
// (draft-ietf-oauth-client-id-metadata-document, MCP authorization 2025-11-25).
const (
	maxMetadataDocumentBytes = 64 << 10
	maxClientIDURLLength     = 2048
	defaultMetadataTTL       = 5 * time.Minute
	// A document's own Cache-Control max-age is honoured within these bounds:
	// the floor keeps a client from making us fetch on every request, the
	// ceiling lets a changed document take effect within a day.
	minMetadataTTL = time.Minute
	maxMetadataTTL = 24 * time.Hour
	// metadataFailureTTL is how long a failed fetch is remembered. The draft
	// says error responses must not be cached; this is a throttle rather than
	// a cache (a client can fix its document and retry within seconds), so a
	// bad client_id cannot be used to make us hammer a host.
	metadataFailureTTL = 30 * time.Second
	// metadataFetchTimeout bounds one fetch even if the HTTP client has no
	// timeout of its own.
	metadataFetchTimeout = 10 * time.Second
	// maxCachedMetadataDocuments bounds memory: client_ids are chosen by
	// whoever sends an authorization request.
	maxCachedMetadataDocuments = 1000
)

// CIMDError says why a client's metadata document cannot be used, in a
// sentence fit for the error page.
type CIMDError struct {
	Reason string
	Err    error // the underlying cause, if any (e.g. netguard.ErrBlockedAddress)
}

func (e *CIMDError) Error() string { return e.Reason }
func (e *CIMDError) Unwrap() error { return e.Err }

// ClientMetadataDocuments fetches and caches Client ID Metadata Documents:
// clients whose client_id is an https URL that serves their metadata.
type ClientMetadataDocuments struct {
	// AllowHTTP also accepts http client_ids on loopback hosts (127.0.0.1,
	// [::1], localhost), for tests and local development only. The HTTP
	// client must then allow the http scheme and loopback addresses too.
	AllowHTTP bool

	client *http.Client
	ttl    time.Duration
	now    func() time.Time

	fetches singleflight.Group
	mu      sync.Mutex
	cache   map[string]cachedMetadata
}

type cachedMetadata struct {
	client  store.Client
	err     error
	expires time.Time
}

// NewClientMetadataDocuments returns a fetcher that uses client, which
// should come from netguard.NewClient (nil: a netguard client with the
// strictest policy). Redirects are never followed, whatever client does. A
// document is kept for ttl (default 5 minutes) unless its Cache-Control
// max-age says otherwise.
func NewClientMetadataDocuments(client *http.Client, ttl time.Duration) *ClientMetadataDocuments {
	if client == nil {
		client = netguard.NewClient(netguard.Policy{}, netguard.Options{})
	}
	noRedirects := *client
	noRedirects.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	if ttl <= 0 {
		ttl = defaultMetadataTTL
	}
	return &ClientMetadataDocuments{
		client: &noRedirects,
		ttl:    ttl,
		now:    time.Now,
		cache:  make(map[string]cachedMetadata),
	}
}

// IsClientMetadataURL reports whether clientID is a Client Identifier URL:
// https, with a host and a path beyond "/", without userinfo, fragment or
// dot segments.
func IsClientMetadataURL(clientID string) bool {
	return checkClientIDURL(clientID, false) == nil
}

// IsClientMetadataURL is the package function, plus loopback http URLs when
// AllowHTTP is set.
func (c *ClientMetadataDocuments) IsClientMetadataURL(clientID string) bool {
	return checkClientIDURL(clientID, c.AllowHTTP) == nil
}

// Fetch returns the client described by the document at clientID, from the
// cache or fetched now. Concurrent fetches of one URL share one request.
// Every failure is a *CIMDError, except the caller's own context ending.
func (c *ClientMetadataDocuments) Fetch(ctx context.Context, clientID string) (store.Client, error) {
	if err := checkClientIDURL(clientID, c.AllowHTTP); err != nil {
		return store.Client{}, err
	}
	if m, ok := c.cached(clientID); ok {
		return cloneClient(m.client), m.err
	}
	// The fetch outlives any one caller's cancellation, so that a caller
	// giving up neither fails the others nor gets its failure remembered.
	fetchCtx := context.WithoutCancel(ctx)
	result := c.fetches.DoChan(clientID, func() (any, error) {
		if m, ok := c.cached(clientID); ok { // filled while we queued
			return m.client, m.err
		}
		ctx, cancel := context.WithTimeout(fetchCtx, metadataFetchTimeout)
		defer cancel()
		client, lifetime, err := c.fetch(ctx, clientID)
		if err != nil {
			lifetime = metadataFailureTTL
		}
		c.remember(clientID, cachedMetadata{client: client, err: err, expires: c.now().Add(lifetime)})
		return client, err
	})
	select {
	case <-ctx.Done():
		return store.Client{}, ctx.Err()
	case r := <-result:
		return cloneClient(r.Val.(store.Client)), r.Err
	}
}

func (c *ClientMetadataDocuments) cached(clientID string) (cachedMetadata, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	m, ok := c.cache[clientID]
	if !ok || !c.now().Before(m.expires) {
		return cachedMetadata{}, false
	}
	return m, true
}

func (c *ClientMetadataDocuments) remember(clientID string, m cachedMetadata) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.cache) >= maxCachedMetadataDocuments {
		now := c.now()
		maps.DeleteFunc(c.cache, func(_ string, m cachedMetadata) bool { return !now.Before(m.expires) })
	}
	for id := range c.cache { // still full: drop an arbitrary entry
		if len(c.cache) < maxCachedMetadataDocuments {
			break
		}
		delete(c.cache, id)
	}
	c.cache[clientID] = m
}

// fetch gets and validates one document, and says how long to keep it.
func (c *ClientMetadataDocuments) fetch(ctx context.Context, clientID string) (store.Client, time.Duration, error) {
	doc := "the client's metadata document at " + clientID
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, clientID, nil)
	if err != nil {
		return store.Client{}, 0, &CIMDError{Reason: doc + " cannot be requested", Err: err}
	}
	req.Header.Set("Accept", "application/json")
	resp, err := c.client.Do(req)
	if err != nil {
		return store.Client{}, 0, fetchFailure(clientID, err)
	}
	defer resp.Body.Close()

	switch {
	case resp.StatusCode >= 300 && resp.StatusCode < 400:
		return store.Client{}, 0, &CIMDError{Reason: fmt.Sprintf("%s redirects to %s; a metadata document must be served at its own URL, without redirects",
			doc, quoteForReason(resp.Header.Get("Location")))}
	case resp.StatusCode != http.StatusOK:
		return store.Client{}, 0, &CIMDError{Reason: fmt.Sprintf("%s could not be fetched: the server answered %d %s",
			doc, resp.StatusCode, http.StatusText(resp.StatusCode))}
	}
	if reason := jsonContentTypeProblem(resp.Header.Get("Content-Type")); reason != "" {
		return store.Client{}, 0, &CIMDError{Reason: doc + " " + reason}
	}
	body, err := io.ReadAll(netguard.LimitBody(resp.Body, maxMetadataDocumentBytes))
	if errors.Is(err, netguard.ErrTooLarge) {
		return store.Client{}, 0, &CIMDError{Reason: fmt.Sprintf("%s is larger than %d KiB", doc, maxMetadataDocumentBytes>>10), Err: err}
	}
	if err != nil {
		return store.Client{}, 0, &CIMDError{Reason: doc + " could not be read completely", Err: err}
	}
	client, err := parseClientMetadata(clientID, body)
	if err != nil {
		return store.Client{}, 0, err
	}
	client.CreatedAt = c.now()
	return client, metadataLifetime(resp.Header, c.ttl), nil
}

// fetchFailure explains an error from the HTTP client.
func fetchFailure(clientID string, err error) *CIMDError {
	var ne net.Error
	switch {
	case errors.Is(err, netguard.ErrBlockedAddress):
		return &CIMDError{Reason: "the client_id " + clientID + " points at a private or local network address, which drivemcp does not fetch", Err: err}
	case errors.Is(err, netguard.ErrSchemeNotAllowed):
		return &CIMDError{Reason: "the client_id " + clientID + " uses a URL scheme drivemcp does not fetch", Err: err}
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return &CIMDError{Reason: fmt.Sprintf("the server of the client_id %s did not answer within %s", clientID, metadataFetchTimeout), Err: err}
	}
	cause := err
	var ue *url.Error
	if errors.As(err, &ue) {
		cause = ue.Err // its message repeats the URL
	}
	return &CIMDError{Reason: fmt.Sprintf("the client's metadata document at %s could not be fetched (%v)", clientID, cause), Err: err}
}

// jsonContentTypeProblem returns "" for application/json or an
// application/…+json type, or else what is wrong.
func jsonContentTypeProblem(header string) string {
	if header == "" {
		return "is served without a Content-Type; it must be application/json"
	}
	mediaType, _, err := mime.ParseMediaType(header)
	if err == nil && (mediaType == "application/json" ||
		strings.HasPrefix(mediaType, "application/") && strings.HasSuffix(mediaType, "+json")) {
		return ""
	}
	return "is served as " + quoteForReason(header) + ", not as JSON (application/json)"
}

// metadataLifetime reads Cache-Control: no-store and no-cache mean the
// shortest lifetime we allow, max-age is honoured within bounds, and
// otherwise the default applies.
func metadataLifetime(h http.Header, def time.Duration) time.Duration {
	floor := min(minMetadataTTL, def)
	lifetime := def
	for _, directive := range strings.Split(strings.Join(h.Values("Cache-Control"), ","), ",") {
		name, value, _ := strings.Cut(strings.TrimSpace(directive), "=")
		switch strings.ToLower(name) {
		case "no-store", "no-cache":
			return floor
		case "max-age":
			if secs, err := strconv.ParseInt(strings.Trim(value, `"`), 10, 64); err == nil && secs >= 0 {
				lifetime = time.Duration(min(secs, int64(maxMetadataTTL/time.Second))) * time.Second
			}
		}
	}
	return min(max(lifetime, floor), maxMetadataTTL)
}

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
		privateUse, problem := metadataRedirectProblem(uri)
		if problem != "" {
			return fail("lists the redirect URI %s: %s", quoteForReason(uri), problem)
		}
		if privateUse && m.ApplicationType == "web" {
			return fail(`lists the redirect URI %s, a private-use scheme, but says application_type "web"; web applications must use https (or loopback http)`,
				quoteForReason(uri))
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

// schemesNeverRedirectedTo can run code or read local files in a browser.
var schemesNeverRedirectedTo = []string{"javascript", "data", "file", "vbscript", "about", "blob", "filesystem"}

// metadataRedirectProblem checks one redirect URI from a document: https,
// http on loopback (RFC 8252 §7.3), or a private-use scheme for native apps
// (RFC 8252 §7.1). It returns what is wrong, as a clause.
func metadataRedirectProblem(raw string) (privateUse bool, problem string) {
	if raw == "" || len(raw) > 2000 {
		return false, "it is empty or longer than 2000 characters"
	}
	for _, r := range raw {
		if r <= ' ' || r == 0x7f || r == '\\' {
			return false, "it contains white space, a backslash or a control character"
		}
	}
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() {
		return false, "it is not an absolute URI"
	}
	if problem := spoofableURIProblem(raw, u); problem != "" {
		return false, "it " + problem
	}
	scheme := strings.ToLower(u.Scheme)
	switch {
	case slices.Contains(schemesNeverRedirectedTo, scheme):
		return false, "the " + scheme + ": scheme is never allowed"
	case u.Fragment != "" || strings.Contains(raw, "#"):
		return false, "a redirect URI must not have a fragment (#…)"
	case u.User != nil:
		return false, "a redirect URI must not contain user information"
	case scheme == "https":
		if u.Hostname() == "" {
			return false, "it has no host"
		}
		return false, ""
	case scheme == "http":
		if !loopback.IsHost(u.Hostname()) {
			return false, "http is only allowed on loopback (127.0.0.1, [::1] or localhost); anything else must use https"
		}
		return false, ""
	case u.Opaque == "" && u.Host == "" && u.Path == "":
		return true, "it has nothing after its scheme"
	}
	return true, ""
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
