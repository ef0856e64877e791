package authserver

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/drivemcp/drivemcp/internal/netguard"
)

// metadataHost serves Client ID Metadata Documents over TLS on loopback and
// counts the requests each path gets.
type metadataHost struct {
	*httptest.Server
	mu     sync.Mutex
	routes map[string]http.HandlerFunc
	hits   map[string]int
}

func newMetadataHost(t *testing.T) *metadataHost {
	t.Helper()
	h := &metadataHost{routes: map[string]http.HandlerFunc{}, hits: map[string]int{}}
	h.Server = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.mu.Lock()
		h.hits[r.URL.Path]++
		route := h.routes[r.URL.Path]
		h.mu.Unlock()
		if route == nil {
			http.NotFound(w, r)
			return
		}
		route(w, r)
	}))
	t.Cleanup(h.Close)
	return h
}

// handle serves path and returns its URL, the client_id.
func (h *metadataHost) handle(path string, route http.HandlerFunc) string {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.routes[path] = route
	return h.URL + path
}

func (h *metadataHost) hitsOn(path string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.hits[path]
}

// client is a netguard client that may reach this loopback host.
func (h *metadataHost) client(p netguard.Policy) *http.Client {
	roots := x509.NewCertPool()
	roots.AddCert(h.Certificate())
	return netguard.NewClient(p, netguard.Options{RootCAs: roots})
}

func (h *metadataHost) documents(t *testing.T) (*ClientMetadataDocuments, *fakeClock) {
	t.Helper()
	clock := &fakeClock{now: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	docs := newClientMetadataDocuments(h.client(netguard.Policy{AllowLoopback: true}), 0, clock.Now)
	return docs, clock
}

type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func serveDocument(doc any, headers ...string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		for i := 0; i+1 < len(headers); i += 2 {
			w.Header().Set(headers[i], headers[i+1])
		}
		json.NewEncoder(w).Encode(doc)
	}
}

func serveRaw(contentType, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", contentType)
		w.Write([]byte(body))
	}
}

// metadataDocument is a valid document for clientID with changes applied
// (a nil value deletes the field).
func metadataDocument(clientID string, changes map[string]any) map[string]any {
	doc := map[string]any{
		"client_id":                  clientID,
		"client_name":                "Example MCP Client",
		"redirect_uris":              []string{"http://127.0.0.1:3000/callback", "https://app.example.com/oauth/callback"},
		"grant_types":                []string{"authorization_code", "refresh_token"},
		"response_types":             []string{"code"},
		"token_endpoint_auth_method": "none",
	}
	for k, v := range changes {
		if v == nil {
			delete(doc, k)
		} else {
			doc[k] = v
		}
	}
	return doc
}

func TestClientMetadataDocuments_ValidDocumentBecomesPublicClient(t *testing.T) {
	h := newMetadataHost(t)
	docs, clock := h.documents(t)
	var id string
	id = h.handle("/client.json", func(w http.ResponseWriter, r *http.Request) {
		serveDocument(metadataDocument(id, map[string]any{
			"client_name":    "Example\u202e MCP\nClient",
			"grant_types":    []string{"authorization_code", "refresh_token", "client_credentials"},
			"client_uri":     "https://app.example.com/",
			"logo_uri":       "javascript:alert(1)",
			"scope":          "drive.file",
			"unknown_member": 42,
		}))(w, r)
	})

	c, err := docs.Fetch(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	if c.ID != id || c.Name != "Example MCPClient" || c.TokenEndpointAuthMethod != "none" || c.SecretHash != nil ||
		c.ApplicationType != "web" || c.Scope != "drive.file" || c.ClientURI != "https://app.example.com/" || c.LogoURI != "" {
		t.Errorf("client = %+v", c)
	}
	if !slices.Equal(c.RedirectURIs, []string{"http://127.0.0.1:3000/callback", "https://app.example.com/oauth/callback"}) {
		t.Errorf("redirect URIs = %q", c.RedirectURIs)
	}
	if !slices.Equal(c.GrantTypes, []string{"authorization_code", "refresh_token"}) || !slices.Equal(c.ResponseTypes, []string{"code"}) {
		t.Errorf("grant types %q, response types %q", c.GrantTypes, c.ResponseTypes)
	}
	if !c.CreatedAt.Equal(clock.Now()) {
		t.Errorf("CreatedAt = %v", c.CreatedAt)
	}

	// A caller changing what it got must not change the cached client.
	c.RedirectURIs[0] = "https://evil.example/"
	again, err := docs.Fetch(t.Context(), id)
	if err != nil || again.RedirectURIs[0] != "http://127.0.0.1:3000/callback" {
		t.Fatalf("second Fetch = %q, %v", again.RedirectURIs, err)
	}
}

func TestClientMetadataDocuments_NativeAppWithPrivateUseScheme(t *testing.T) {
	h := newMetadataHost(t)
	docs, _ := h.documents(t)
	var id string
	id = h.handle("/native.json", func(w http.ResponseWriter, r *http.Request) {
		serveDocument(metadataDocument(id, map[string]any{
			"redirect_uris": []string{"com.example.app:/oauth/callback"},
			"grant_types":   nil, "response_types": nil, "token_endpoint_auth_method": nil,
		}))(w, r)
	})
	c, err := docs.Fetch(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	if c.ApplicationType != "native" || !slices.Equal(c.GrantTypes, []string{"authorization_code"}) || c.TokenEndpointAuthMethod != "none" {
		t.Fatalf("client = %+v", c)
	}
}

func TestClientMetadataDocuments_RefusesBadDocuments(t *testing.T) {
	h := newMetadataHost(t)
	docs, _ := h.documents(t)
	tests := []struct {
		name   string
		path   string
		route  func(id string) http.HandlerFunc
		reason string
	}{
		{"ImpersonationByNamingAnotherClientID", "/mismatch.json", func(id string) http.HandlerFunc {
			return serveDocument(metadataDocument(id, map[string]any{"client_id": "https://famous.example/client.json"}))
		}, `names client_id "https://famous.example/client.json", not itself`},
		{"ClientIDDiffersByOneCharacter", "/port.json", func(id string) http.HandlerFunc {
			return serveDocument(metadataDocument(id, map[string]any{"client_id": id + "?"}))
		}, "not itself"},
		{"MissingClientID", "/no-id.json", func(id string) http.HandlerFunc {
			return serveDocument(metadataDocument(id, map[string]any{"client_id": nil}))
		}, "has no client_id"},
		{"ClientIDKeyInWrongCase", "/case.json", func(id string) http.HandlerFunc {
			return serveDocument(metadataDocument(id, map[string]any{"client_id": nil, "CLIENT_ID": id}))
		}, "has no client_id"},
		{"MissingRedirectURIs", "/no-redirects.json", func(id string) http.HandlerFunc {
			return serveDocument(metadataDocument(id, map[string]any{"redirect_uris": nil}))
		}, "lists no redirect_uris"},
		{"EmptyRedirectURIs", "/empty-redirects.json", func(id string) http.HandlerFunc {
			return serveDocument(metadataDocument(id, map[string]any{"redirect_uris": []string{}}))
		}, "lists no redirect_uris"},
		{"RedirectURIsNotAList", "/string-redirects.json", func(id string) http.HandlerFunc {
			return serveDocument(metadataDocument(id, map[string]any{"redirect_uris": "https://app.example.com/cb"}))
		}, "has a redirect_uris that is not a list of strings"},
		{"ScriptInjectionViaJavascriptRedirect", "/javascript.json", func(id string) http.HandlerFunc {
			return serveDocument(metadataDocument(id, map[string]any{"redirect_uris": []string{"javascript:alert(document.cookie)"}}))
		}, "the javascript: scheme is never allowed"},
		{"DataURIRedirect", "/data.json", func(id string) http.HandlerFunc {
			return serveDocument(metadataDocument(id, map[string]any{"redirect_uris": []string{"data:text/html,<script>alert(1)</script>"}}))
		}, "the data: scheme"},
		{"FileRedirect", "/file.json", func(id string) http.HandlerFunc {
			return serveDocument(metadataDocument(id, map[string]any{"redirect_uris": []string{"FILE:///etc/passwd"}}))
		}, "the file: scheme"},
		{"CodeLeakOverPlainHTTP", "/http.json", func(id string) http.HandlerFunc {
			return serveDocument(metadataDocument(id, map[string]any{"redirect_uris": []string{"http://app.example.com/cb"}}))
		}, "http is only allowed on loopback"},
		{"RedirectWithFragment", "/fragment.json", func(id string) http.HandlerFunc {
			return serveDocument(metadataDocument(id, map[string]any{"redirect_uris": []string{"https://app.example.com/cb#x"}}))
		}, "fragment"},
		{"RelativeRedirect", "/relative.json", func(id string) http.HandlerFunc {
			return serveDocument(metadataDocument(id, map[string]any{"redirect_uris": []string{"/callback"}}))
		}, "not an absolute URI"},
		{"WebAppWithPrivateUseScheme", "/web-native.json", func(id string) http.HandlerFunc {
			return serveDocument(metadataDocument(id, map[string]any{"application_type": "web", "redirect_uris": []string{"com.example.app:/cb"}}))
		}, "private-use scheme"},
		{"PublishedClientSecret", "/secret.json", func(id string) http.HandlerFunc {
			return serveDocument(metadataDocument(id, map[string]any{"client_secret": "hunter2"}))
		}, "cannot carry a secret"},
		{"SharedSecretAuthMethod", "/basic.json", func(id string) http.HandlerFunc {
			return serveDocument(metadataDocument(id, map[string]any{"token_endpoint_auth_method": "client_secret_basic"}))
		}, `"client_secret_basic" client authentication`},
		{"PrivateKeyJWTUnsupported", "/pkjwt.json", func(id string) http.HandlerFunc {
			return serveDocument(metadataDocument(id, map[string]any{"token_endpoint_auth_method": "private_key_jwt"}))
		}, "private_key_jwt"},
		{"NoAuthorizationCodeGrant", "/grants.json", func(id string) http.HandlerFunc {
			return serveDocument(metadataDocument(id, map[string]any{"grant_types": []string{"client_credentials"}}))
		}, "authorization_code grant"},
		{"NoCodeResponseType", "/token-response.json", func(id string) http.HandlerFunc {
			return serveDocument(metadataDocument(id, map[string]any{"response_types": []string{"token"}}))
		}, `response_type "code"`},
		{"UnknownApplicationType", "/apptype.json", func(id string) http.HandlerFunc {
			return serveDocument(metadataDocument(id, map[string]any{"application_type": "desktop"}))
		}, "application_type"},
		{"TooLarge", "/huge.json", func(id string) http.HandlerFunc {
			return serveDocument(metadataDocument(id, map[string]any{"client_name": strings.Repeat("x", 70<<10)}))
		}, "is larger than 64 KiB"},
		{"NotJSONContentType", "/page.html", func(string) http.HandlerFunc {
			return serveRaw("text/html; charset=utf-8", "<html>hello</html>")
		}, `is served as "text/html; charset=utf-8", not as JSON`},
		{"NoContentType", "/untyped.json", func(id string) http.HandlerFunc {
			return func(w http.ResponseWriter, _ *http.Request) {
				w.Header()["Content-Type"] = nil // stop net/http from sniffing one
				w.Write([]byte("{}"))
			}
		}, "without a Content-Type"},
		{"JSONContentTypeButNotJSON", "/garbage.json", func(string) http.HandlerFunc {
			return serveRaw("application/json", "{not json")
		}, "is not a JSON object"},
		{"JSONArray", "/array.json", func(string) http.HandlerFunc {
			return serveRaw("application/json", `[{"client_id":"x"}]`)
		}, "is not a JSON object"},
		{"JSONNull", "/null.json", func(string) http.HandlerFunc {
			return serveRaw("application/json", "null")
		}, "is not a JSON object"},
		{"TrailingData", "/trailing.json", func(id string) http.HandlerFunc {
			b, _ := json.Marshal(metadataDocument(id, nil))
			return serveRaw("application/json", string(b)+`{"client_id":"x"}`)
		}, "is not a JSON object"},
		{"NotFound", "/missing.json", nil, "the server answered 404 Not Found"},
		{"ServerError", "/broken.json", func(string) http.HandlerFunc {
			return func(w http.ResponseWriter, _ *http.Request) { http.Error(w, "oops", http.StatusInternalServerError) }
		}, "the server answered 500 Internal Server Error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id := h.URL + tt.path
			if tt.route != nil {
				h.handle(tt.path, tt.route(id))
			}
			_, err := docs.Fetch(t.Context(), id)
			var ce *CIMDError
			if !errors.As(err, &ce) {
				t.Fatalf("Fetch = %v, want *CIMDError", err)
			}
			if !strings.Contains(ce.Reason, tt.reason) {
				t.Fatalf("reason %q does not say %q", ce.Reason, tt.reason)
			}
			t.Log(ce.Reason)
			if h.hitsOn(tt.path) != 1 {
				t.Errorf("%d requests, want 1", h.hitsOn(tt.path))
			}
		})
	}
}

// The draft forbids following redirects: the document must live at the
// URL that names the client.
func TestClientMetadataDocuments_RedirectIsNotFollowed(t *testing.T) {
	h := newMetadataHost(t)
	docs, _ := h.documents(t)
	target := h.handle("/real.json", serveDocument(map[string]any{}))
	id := h.handle("/moved.json", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, target, http.StatusFound)
	})
	_, err := docs.Fetch(t.Context(), id)
	var ce *CIMDError
	if !errors.As(err, &ce) || !strings.Contains(ce.Reason, "redirects to") {
		t.Fatalf("Fetch = %v, want a redirect refusal", err)
	}
	if n := h.hitsOn("/real.json"); n != 0 {
		t.Fatalf("redirect target got %d requests", n)
	}
}

func TestClientMetadataDocuments_ServerSideRequestForgeryToLoopbackRefused(t *testing.T) {
	h := newMetadataHost(t)
	docs := NewClientMetadataDocuments(h.client(netguard.Policy{}), 0)
	var id string
	id = h.handle("/client.json", func(w http.ResponseWriter, r *http.Request) { serveDocument(metadataDocument(id, nil))(w, r) })

	_, err := docs.Fetch(t.Context(), id)
	var ce *CIMDError
	if !errors.As(err, &ce) || !errors.Is(err, netguard.ErrBlockedAddress) || !strings.Contains(ce.Reason, "private or local network address") {
		t.Fatalf("Fetch = %v, want a blocked-address CIMDError", err)
	}
	if n := h.hitsOn("/client.json"); n != 0 {
		t.Fatalf("server got %d requests", n)
	}
}

func TestClientMetadataDocuments_NonURLClientIDIsNotFetched(t *testing.T) {
	h := newMetadataHost(t)
	docs, _ := h.documents(t)
	for _, id := range []string{"mcp_abc", h.URL + "/", h.URL + "/a/../client.json", "http://" + strings.TrimPrefix(h.URL, "https://") + "/client.json"} {
		_, err := docs.Fetch(t.Context(), id)
		var ce *CIMDError
		if !errors.As(err, &ce) {
			t.Errorf("Fetch(%q) = %v, want *CIMDError", id, err)
		}
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.hits) != 0 {
		t.Fatalf("server got requests: %v", h.hits)
	}
}

func TestIsClientMetadataURL(t *testing.T) {
	tests := map[string]bool{
		"https://app.example.com/client.json":                  true,
		"https://app.example.com:8443/oauth/client":            true,
		"https://app.example.com/client?v=1":                   true, // SHOULD NOT, but allowed
		"https://127.0.0.1:8443/client.json":                   true, // the fetch decides about addresses
		"http://app.example.com/client.json":                   false,
		"HTTPS://app.example.com/client.json":                  false, // compared as strings: must be written as fetched
		"https://app.example.com":                              false,
		"https://app.example.com/":                             false,
		"https://app.example.com/client.json#frag":             false,
		"https://app.example.com/client.json#":                 false,
		"https://user:pass@app.example.com/client":             false,
		"https://user@app.example.com/client":                  false,
		"https://app.example.com/a/./client.json":              false,
		"https://app.example.com/a/../client.json":             false,
		"https:///client.json":                                 false,
		"https://app.example.com/client json":                  false,
		"https://app.example.com\\@evil.example/x":             false,
		"mcp_0123456789":                                       false,
		"":                                                     false,
		"https://app.example.com/" + strings.Repeat("a", 2048): false,
	}
	for id, want := range tests {
		if got := IsClientMetadataURL(id); got != want {
			t.Errorf("IsClientMetadataURL(%q) = %v, want %v", id, got, want)
		}
	}

	docs := NewClientMetadataDocuments(nil, 0)
	docs.AllowHTTP = true
	for id, want := range map[string]bool{
		"http://127.0.0.1:8080/client.json": true,
		"http://[::1]:8080/client.json":     true,
		"http://localhost:8080/client.json": true,
		"http://app.example.com/client":     false,
		"https://app.example.com/client":    true,
	} {
		if got := docs.IsClientMetadataURL(id); got != want {
			t.Errorf("AllowHTTP: IsClientMetadataURL(%q) = %v, want %v", id, got, want)
		}
	}
	if IsClientMetadataURL("http://127.0.0.1:8080/client.json") {
		t.Error("the package function accepted http")
	}
}

func TestClientMetadataDocuments_CachesDocuments(t *testing.T) {
	h := newMetadataHost(t)
	docs, clock := h.documents(t)
	var id string
	id = h.handle("/client.json", func(w http.ResponseWriter, r *http.Request) { serveDocument(metadataDocument(id, nil))(w, r) })

	for range 3 {
		if _, err := docs.Fetch(t.Context(), id); err != nil {
			t.Fatal(err)
		}
	}
	if n := h.hitsOn("/client.json"); n != 1 {
		t.Fatalf("%d requests for three fetches, want 1", n)
	}
	clock.Advance(defaultMetadataTTL - time.Second)
	docs.Fetch(t.Context(), id)
	if n := h.hitsOn("/client.json"); n != 1 {
		t.Fatalf("refetched before the TTL: %d requests", n)
	}
	clock.Advance(2 * time.Second)
	if _, err := docs.Fetch(t.Context(), id); err != nil {
		t.Fatal(err)
	}
	if n := h.hitsOn("/client.json"); n != 2 {
		t.Fatalf("%d requests after the TTL, want 2", n)
	}
}

func TestClientMetadataDocuments_HonoursCacheControl(t *testing.T) {
	tests := []struct {
		cacheControl string
		stillCached  time.Duration
		refetched    time.Duration
	}{
		{"public, max-age=3600", 59 * time.Minute, 61 * time.Minute},
		{"max-age=999999999", 23 * time.Hour, 25 * time.Hour}, // capped at a day
		{"max-age=0", 59 * time.Second, 61 * time.Second},     // floored at a minute
		{"no-store", 59 * time.Second, 61 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.cacheControl, func(t *testing.T) {
			h := newMetadataHost(t)
			docs, clock := h.documents(t)
			var id string
			id = h.handle("/client.json", func(w http.ResponseWriter, r *http.Request) {
				serveDocument(metadataDocument(id, nil), "Cache-Control", tt.cacheControl)(w, r)
			})
			docs.Fetch(t.Context(), id)
			clock.Advance(tt.stillCached)
			docs.Fetch(t.Context(), id)
			if n := h.hitsOn("/client.json"); n != 1 {
				t.Fatalf("after %v: %d requests, want 1", tt.stillCached, n)
			}
			clock.Advance(tt.refetched - tt.stillCached)
			if _, err := docs.Fetch(t.Context(), id); err != nil {
				t.Fatal(err)
			}
			if n := h.hitsOn("/client.json"); n != 2 {
				t.Fatalf("after %v: %d requests, want 2", tt.refetched, n)
			}
		})
	}
}

// A bad client_id in many authorization requests must not turn into as
// many requests to its host.
func TestClientMetadataDocuments_FailuresThrottleRefetching(t *testing.T) {
	h := newMetadataHost(t)
	docs, clock := h.documents(t)
	id := h.URL + "/missing.json"
	for range 5 {
		if _, err := docs.Fetch(t.Context(), id); err == nil {
			t.Fatal("Fetch of a missing document succeeded")
		}
	}
	if n := h.hitsOn("/missing.json"); n != 1 {
		t.Fatalf("%d requests for five fetches, want 1", n)
	}
	// Once the document is fixed, it is picked up within the throttle.
	var fixed string
	fixed = h.handle("/missing.json", func(w http.ResponseWriter, r *http.Request) { serveDocument(metadataDocument(fixed, nil))(w, r) })
	clock.Advance(metadataFailureTTL + time.Second)
	if _, err := docs.Fetch(t.Context(), id); err != nil {
		t.Fatalf("Fetch after the document was fixed: %v", err)
	}
	if n := h.hitsOn("/missing.json"); n != 2 {
		t.Fatalf("%d requests, want 2", n)
	}
}

func TestClientMetadataDocuments_ConcurrentFetchesShareOneRequest(t *testing.T) {
	h := newMetadataHost(t)
	docs, _ := h.documents(t)
	arrived, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	var id string
	id = h.handle("/client.json", func(w http.ResponseWriter, r *http.Request) {
		once.Do(func() { close(arrived) })
		<-release
		serveDocument(metadataDocument(id, nil))(w, r)
	})

	const callers = 8
	var wg sync.WaitGroup
	errs := make(chan error, callers)
	for range callers {
		wg.Go(func() {
			_, err := docs.Fetch(t.Context(), id)
			errs <- err
		})
	}
	<-arrived
	close(release)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := h.hitsOn("/client.json"); n != 1 {
		t.Fatalf("%d requests for %d concurrent fetches, want 1", n, callers)
	}
}

// One caller giving up must neither fail the fetch for the others nor get
// its cancellation remembered as the document's failure.
func TestClientMetadataDocuments_CallerCancellationDoesNotPoisonTheCache(t *testing.T) {
	h := newMetadataHost(t)
	docs, _ := h.documents(t)
	arrived, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	var id string
	id = h.handle("/client.json", func(w http.ResponseWriter, r *http.Request) {
		once.Do(func() { close(arrived) })
		<-release
		serveDocument(metadataDocument(id, nil))(w, r)
	})

	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error)
	go func() {
		_, err := docs.Fetch(ctx, id)
		done <- err
	}()
	<-arrived
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled Fetch = %v, want context.Canceled", err)
	}
	close(release)
	if _, err := docs.Fetch(t.Context(), id); err != nil {
		t.Fatalf("Fetch after another caller's cancellation: %v", err)
	}
	if n := h.hitsOn("/client.json"); n != 1 {
		t.Fatalf("%d requests, want 1", n)
	}
}

func TestMetadataRedirectProblem_AcceptsWhatClientsUse(t *testing.T) {
	for _, uri := range []string{
		"http://127.0.0.1:33418/",
		"http://localhost:6274/oauth/callback",
		"http://[::1]:8080/cb",
		"https://vscode.dev/redirect",
		"https://claude.ai/api/mcp/auth_callback",
		"cursor://anysphere.cursor-mcp/oauth/callback",
		"com.example.app:/oauth2redirect",
	} {
		if _, err := checkRedirectURI(uri, ""); err != nil {
			t.Errorf("%s: %s", uri, err)
		}
	}
}

func TestCIMDErrorUnwraps(t *testing.T) {
	err := error(&CIMDError{Reason: "r", Err: netguard.ErrBlockedAddress})
	if !errors.Is(err, netguard.ErrBlockedAddress) || err.Error() != "r" {
		t.Fatal(err)
	}
}
