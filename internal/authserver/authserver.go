// Package authserver is drivemcp's side of every login: it starts trips to
// Google's consent page, owns the one Google callback both flows share, and
// for MCP clients acts as an OAuth 2.1 authorization server in front of
// Google (discovery, registration, authorize with consent, token,
// revocation), minting its own opaque tokens: Google's never leave the
// server.
package authserver

import (
	"crypto/rand"
	"encoding/base64"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/drivemcp/drivemcp/internal/accesspolicy"
	"github.com/drivemcp/drivemcp/internal/cors"
	"github.com/drivemcp/drivemcp/internal/google"
	"github.com/drivemcp/drivemcp/internal/identity"
	"github.com/drivemcp/drivemcp/internal/metrics"
	"github.com/drivemcp/drivemcp/internal/secrets"
	"github.com/drivemcp/drivemcp/internal/store"
	"github.com/drivemcp/drivemcp/internal/web"
)

// Lifetimes of the records a login leaves behind.
const (
	// transactionTTL bounds how long a user may take on the consent and
	// Google pages.
	transactionTTL = 10 * time.Minute
	// bindingTTL is how long a direct-flow login keeps an MCP session bound.
	bindingTTL = 30 * 24 * time.Hour
	// codeTTL is the life of our authorization codes (RFC 6749 advises ≤ 10 min).
	codeTTL = 5 * time.Minute
	// consentCookieTTL is how long a remembered consent lasts.
	consentCookieTTL = 90 * 24 * time.Hour
)

// Server holds what the login endpoints share.
type Server struct {
	store      store.Store
	grants     *google.Grants
	resolver   *identity.Resolver
	pages      *web.Pages
	log        *slog.Logger
	driveScope string // the Google Drive scope every consent asks for
	now        func() time.Time

	issuer   string // our base URL: RFC 8414 issuer, RFC 9207 iss
	resource string // <base>/mcp, the only audience of our tokens
	// scopes are our OAuth scopes, named after the Google Drive scopes they
	// stand for ("drive.file", "drive.readonly", "drive"); defaultScope is
	// what a client that asks for none gets.
	scopes       []string
	defaultScope string
	keys         *secrets.Keyring
	signer       *signer
	cimd         *ClientMetadataDocuments // nil: CIMD off
	metrics      *metrics.Metrics
	accessTTL    time.Duration
	refreshTTL   time.Duration
	grace        time.Duration
	// tokens is VerifyAccessToken's way to the store; s.store reports
	// every revocation to it.
	tokens *accessTokenCache
	policy *accesspolicy.Policy
	// loopback serves the Google callback itself (stdio, drivemcp login);
	// nil when the HTTP server's routes do.
	loopback *callbackListeners
	cors     *cors.Policy
}

// Options configure a Server.
type Options struct {
	Store      store.Store
	Grants     *google.Grants
	Resolver   *identity.Resolver
	Pages      *web.Pages
	Logger     *slog.Logger
	DriveScope string // the default Google Drive scope URL, e.g. google.ScopeDriveFile
	// AllowedDriveScopes are the Google Drive scopes clients may ask for
	// (default: just DriveScope).
	AllowedDriveScopes []string
	// BaseURL is the public URL of this server (issuer; resource is BaseURL + "/mcp").
	BaseURL string
	// Keys seal rotation results and derive the cookie and CSRF signing keys,
	// so every replica sharing --secret-key agrees.
	Keys *secrets.Keyring
	// ClientMetadataDocuments enables https client_ids (nil: only registered clients).
	ClientMetadataDocuments *ClientMetadataDocuments
	Metrics                 *metrics.Metrics // optional
	AccessTokenTTL          time.Duration    // default 1h
	RefreshTokenTTL         time.Duration    // default 30 days, renewed on each rotation
	RefreshGrace            time.Duration    // default 30s
	// AccessTokenCacheTTL is how long a verified access token is trusted
	// without reading the store again: the longest a token revoked by
	// another process (replica) keeps working here; revocations made here
	// count at once. Default 2s; negative: no cache.
	AccessTokenCacheTTL time.Duration
	// Policy, if set, names the Google accounts that may sign in at all
	// (--allow-accounts, --allow-domains); see policy.go.
	Policy *accesspolicy.Policy
	// Loopback, if set, makes direct sign-ins open their own callback
	// listener (loopback.go); call CloseCallbacks when done.
	Loopback *LoopbackOptions
	// CORS names the origins whose pages may call the registration, token
	// and revocation endpoints (default: loopback pages).
	CORS *cors.Policy
}

// New builds the login server.
func New(o Options) *Server {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Pages == nil {
		o.Pages = web.NewPages()
	}
	if o.DriveScope == "" {
		o.DriveScope = google.ScopeDriveFile
	}
	if o.AccessTokenTTL == 0 {
		o.AccessTokenTTL = time.Hour
	}
	if o.RefreshTokenTTL == 0 {
		o.RefreshTokenTTL = 30 * 24 * time.Hour
	}
	if o.RefreshGrace == 0 {
		o.RefreshGrace = 30 * time.Second
	}
	base := strings.TrimRight(o.BaseURL, "/")
	s := &Server{
		store: o.Store, grants: o.Grants, resolver: o.Resolver, pages: o.Pages,
		log: o.Logger, driveScope: o.DriveScope, now: time.Now,
		issuer: base, resource: base + "/mcp", defaultScope: google.ShortScope(o.DriveScope),
		keys: o.Keys, cimd: o.ClientMetadataDocuments, metrics: o.Metrics,
		accessTTL: o.AccessTokenTTL, refreshTTL: o.RefreshTokenTTL, grace: o.RefreshGrace,
		policy: o.Policy, cors: o.CORS,
	}
	if s.cors == nil {
		s.cors, _ = cors.New(cors.LoopbackOrigins) // constant, valid patterns
	}
	s.tokens = newAccessTokenCache(o.Store, o.AccessTokenCacheTTL)
	s.store = s.tokens.Observe(o.Store)
	if len(o.AllowedDriveScopes) == 0 {
		o.AllowedDriveScopes = []string{o.DriveScope}
	}
	for _, sc := range o.AllowedDriveScopes {
		s.scopes = append(s.scopes, google.ShortScope(sc))
	}
	if o.Keys != nil {
		s.signer = newSigner(o.Keys.DeriveKeys("cookie and csrf signing"))
	}
	if o.Loopback != nil {
		s.loopback = newLoopback(s, *o.Loopback)
	}
	return s
}

// Scopes are the OAuth scopes this server offers.
func (s *Server) Scopes() []string { return slices.Clone(s.scopes) }

// checkScopes validates a requested scope string: every scope must be one
// we offer ("offline_access" is accepted and ignored: refresh tokens follow
// the client's registered grant types). Empty means the default.
func (s *Server) checkScopes(requested string) ([]string, string) {
	var out []string
	for _, sc := range strings.Fields(requested) {
		switch {
		case sc == "offline_access":
		case slices.Contains(s.scopes, sc):
			if !slices.Contains(out, sc) {
				out = append(out, sc)
			}
		default:
			return nil, "scope " + quoteShort(sc) + " is not offered; this server offers " + strings.Join(s.scopes, ", ")
		}
	}
	if len(out) == 0 {
		out = []string{s.defaultScope}
	}
	return out, ""
}

// Routes registers the authorization server's endpoints and the Google
// callback on mux.
func (s *Server) Routes(mux *http.ServeMux) {
	// The callback checks its own method: the stdio callback listener
	// mounts it alone.
	mux.HandleFunc("/oauth2callback", s.HandleGoogleCallback)
	// Metadata is public: a page of any origin may read it.
	for _, path := range []string{"/.well-known/oauth-protected-resource", "/.well-known/oauth-protected-resource/mcp"} {
		endpoint(mux, path, cors.Public().Wrap, s.handleResourceMetadata, http.MethodGet)
	}
	for _, path := range []string{"/.well-known/oauth-authorization-server", "/.well-known/openid-configuration"} {
		endpoint(mux, path, cors.Public().Wrap, s.handleServerMetadata, http.MethodGet)
	}
	// What a browser-based client's script calls, for the allowed origins.
	endpoint(mux, "/oauth/register", s.cors.Wrap, s.handleRegister, http.MethodPost)
	endpoint(mux, "/oauth/token", s.cors.Wrap, s.handleToken, http.MethodPost)
	endpoint(mux, "/oauth/revoke", s.cors.Wrap, s.handleRevoke, http.MethodPost)
	// Pages a person's browser navigates to: no CORS, and a wrong method
	// gets a page, not JSON.
	mux.HandleFunc("GET /oauth/authorize", s.handleAuthorize)
	mux.HandleFunc("/oauth/authorize", s.wrongMethodPage("The authorization endpoint is opened by a browser with GET.", http.MethodGet, http.MethodHead))
	mux.HandleFunc("POST /oauth/consent", s.handleConsent)
	mux.HandleFunc("/oauth/consent", s.wrongMethodPage("The consent form is submitted with POST.", http.MethodPost))
}

// endpoint mounts h at "METHOD path" and, for every other method, RFC 6749's
// JSON error with Allow; wrap (the CORS policy) covers both, so preflights,
// which use OPTIONS, are answered too. A GET route also serves HEAD.
func endpoint(mux *http.ServeMux, path string, wrap func(http.Handler, ...string) http.Handler, h http.HandlerFunc, method string) {
	methods := []string{method}
	if method == http.MethodGet {
		methods = append(methods, http.MethodHead)
	}
	mux.Handle(method+" "+path, wrap(h, methods...))
	allow := strings.Join(methods, ", ")
	mux.Handle(path, wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Allow", allow)
		writeError(w, newError(http.StatusMethodNotAllowed, errInvalidRequest, "this endpoint accepts "+allow))
	}), methods...))
}

// wrongMethodPage answers a page's endpoint used with another method.
func (s *Server) wrongMethodPage(message string, methods ...string) http.HandlerFunc {
	allow := strings.Join(methods, ", ")
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Allow", allow)
		s.fail(w, r, web.Error{Status: http.StatusMethodNotAllowed, Title: "Wrong request method", Message: message}, nil)
	}
}

// randomToken returns n random bytes, base64url-encoded: states, codes and
// references that cannot be guessed.
func randomToken(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	return base64.RawURLEncoding.EncodeToString(b)
}

// hashToken is how our codes and tokens are stored: a leaked database does
// not leak usable credentials.
func hashToken(token string) string { return store.HashSecret(token) }
