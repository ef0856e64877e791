// Package googleemu emulates the parts of Google that drivemcp talks to:
// OAuth 2.0 (authorize, token, revoke), OpenID userinfo and a subset of the
// Drive v3 API, at Google's own paths. It is faithful enough that
// golang.org/x/oauth2 and google.golang.org/api/drive/v3 work against it
// unchanged, so tests exercise the real client code, and `drivemcp serve
// --demo` / `drivemcp google-emulator` can run without a Google account.
// Fault injection (error statuses, dropped connections, latency) lets tests
// break the network on purpose.
//
// All state lives in memory (uploaded bytes optionally on disk) and is lost on
// Close: the emulator is a test double, not a store.
package googleemu

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/felixge/httpsnoop"
)

// DemoClientID and DemoClientSecret are the OAuth client registered when
// Options.Clients is empty, so `--demo` works without configuration.
const (
	DemoClientID     = "drivemcp-demo.apps.googleusercontent.com"
	DemoClientSecret = "drivemcp-demo-secret"
)

// Options configure an Emulator. Zero value is usable: it registers the demo client.
type Options struct {
	// Clients maps OAuth client id → client secret. Empty (and no
	// Registrations): {DemoClientID: DemoClientSecret}. These clients may
	// use any http(s) redirect URI, which keeps the demo and most tests
	// friendly; Registrations holds the strict ones.
	Clients map[string]string
	// Registrations are OAuth clients as the Google Cloud console registers
	// them, with a type whose redirect URI rules the authorization endpoint
	// enforces as Google does (see redirect.go).
	Registrations map[string]Registration
	// Dir, if set, keeps uploaded file bytes on disk under Dir (so 1 GiB uploads don't need 1 GiB of RAM). Empty: in memory.
	Dir string
	// AccessTokenTTL is the lifetime of issued access tokens (default 1h).
	AccessTokenTTL time.Duration
	// Demo makes the login page say loudly that this is a demo emulator, not Google.
	Demo   bool
	Logger *slog.Logger // nil: discard
	// Accounts describe particular accounts by email (lower case); any other
	// address that signs in gets the defaults of Account.
	Accounts map[string]Account
	// LoginHintOnlyPrefills makes login_hint do only what Google's OpenID
	// Connect guide says it does (developers.google.com/identity/openid-connect/openid-connect,
	// "login_hint"): pre-fill the sign-in page, where the person signs in as
	// whoever they are and may untick scopes. Off (the lenient default, for
	// `--demo` and older tests), a login_hint signs that address in at once
	// with every scope asked for, which Google never does.
	LoginHintOnlyPrefills bool
	// UploadSessionsIgnoreAuthorization makes upload session URIs accept
	// requests whose Authorization header carries a dead access token.
	// By default they are refused with 401 as every Drive request with
	// invalid credentials is (Drive API "Resolve errors", 401 Invalid
	// Credentials: /drive/api/guides/handle-errors), even though the
	// session URI alone needs none.
	UploadSessionsIgnoreAuthorization bool
	// LenientImports lets an upload ask for any conversion. By default one
	// that Drive's about.importFormats does not offer (text/plain into a
	// Sheet) is refused with 400, as Drive refuses it.
	LenientImports bool
	// LenientSharedDrives serves shared-drive items to requests without
	// supportsAllDrives and accepts any corpora/driveId combination. By
	// default the emulator answers as Drive does ("Implement shared drive
	// support", /drive/api/guides/enable-shareddrives): such items are not
	// found, and files.list's parameters are checked.
	LenientSharedDrives bool
	// LenientExpirations accepts any permission expirationTime. By default
	// the Permission resource's restrictions hold (user and group only, in
	// the future, at most a year ahead: /drive/api/reference/rest/v3/permissions).
	LenientExpirations bool
	// RefreshTokenMaxAge, if set, makes refresh tokens answer invalid_grant
	// once they are this old, as Google does after 7 days for apps in the
	// "Testing" publishing status ("Using OAuth 2.0 to Access Google APIs",
	// Refresh token expiration: /identity/protocols/oauth2#expiration).
	// Zero (and --demo): they never expire, as for a published app.
	RefreshTokenMaxAge time.Duration
	// RoundTrip, if set, is a simulated network round trip to Google: the
	// emulator waits that long before handling every request, so that
	// benchmarks weigh request counts as a real network does. Zero (and
	// --demo): answer at once. SetRoundTrip changes it while running.
	RoundTrip time.Duration
}

// Account is what the emulator's userinfo says about one account beyond its
// email, so tests can play consumer and Workspace accounts.
type Account struct {
	// HostedDomain overrides the "hd" claim. By default an address outside
	// gmail.com is taken to be a Google Workspace account of its own domain,
	// as most such addresses at Google are (Google's OpenID Connect docs:
	// hd is the user's Workspace domain, absent for consumer accounts).
	HostedDomain string
	// Consumer makes the account a personal Google account whatever its
	// address: no hd, as when someone registers a Google account with an
	// existing address at a company's domain.
	Consumer bool
	// EmailUnverified makes userinfo say email_verified=false.
	EmailUnverified bool
}

// Lifetimes Google documents (or that we chose where it does not).
const (
	authCodeTTL       = 10 * time.Minute   // Google: codes are short-lived; 10 min per the brief
	pendingLoginTTL   = 30 * time.Minute   // how long the login page stays submittable
	uploadSessionTTL  = 7 * 24 * time.Hour // Google: a resumable session URI expires after one week
	defaultAccessTTL  = time.Hour
	uploadChunkQuanta = 256 * 1024 // Google: non-final resumable chunks are multiples of 256 KiB
)

// Emulator is an http.Handler that serves Google's OAuth, userinfo and Drive
// endpoints at the root of its base URL. It is safe for concurrent use.
type Emulator struct {
	clients map[string]string
	// registrations are the clients whose redirect URIs are checked.
	registrations map[string]Registration
	accounts      map[string]Account
	accessTTL     time.Duration
	demo          bool
	// sessionAuthLax: see Options.UploadSessionsIgnoreAuthorization.
	sessionAuthLax bool
	lenientImports bool
	// lenientDrives, lenientExpiry: see Options.LenientSharedDrives and
	// Options.LenientExpirations.
	lenientDrives bool
	lenientExpiry bool
	refreshMaxAge time.Duration
	log           *slog.Logger
	blobs         blobStore
	mux           *http.ServeMux

	// now is the emulator's clock, read only with mu held; tests in this
	// package replace it to expire codes and upload sessions without sleeping.
	now func() time.Time

	// hintPrefillsOnly is Options.LoginHintOnlyPrefills, switchable while
	// running (SetLoginHintOnlyPrefills).
	hintPrefillsOnly atomic.Bool
	// roundTrip is Options.RoundTrip, switchable while running.
	roundTrip atomic.Int64

	faultMu sync.Mutex
	faults  []*activeFault

	uploadBytes atomic.Int64
	requests    atomic.Int64
	throttled   atomic.Int64

	// mu guards everything below. It is never held while a request body is
	// being read, so a slow upload never blocks other requests.
	mu            sync.Mutex
	closed        bool
	users         map[string]*user // by email
	recycled      map[string]int   // how many times RecycleEmail gave an address to a new account
	pending       map[string]*pendingLogin
	codes         map[string]*authCode
	accessTokens  map[string]*accessToken
	refreshTokens map[string]*refreshToken
	grants        map[grantKey]*grant
	issued        []string
	revoked       []string
	tokenRequests map[string]int
	files         map[string]*driveFile
	fileSeq       int64
	// trashByWriters relaxes Drive's owner-only trash (SetTrashByWriters).
	trashByWriters bool
	sessions       map[string]*uploadSession
	notifications  []Notification
	limits         UsageLimits
	buckets        map[string]*bucket
	policies       map[string]AccountPolicy // by email, or "@domain"
	filePolicies   map[string]FilePolicy    // by file id
	drives         map[string]*sharedDrive  // shared drives, by id
	feed           changeFeed               // the changes feed (drive_changes.go)
}

// New returns an emulator configured by opts.
func New(opts Options) (*Emulator, error) {
	clients := maps.Clone(opts.Clients)
	if len(clients) == 0 && len(opts.Registrations) == 0 {
		clients = map[string]string{DemoClientID: DemoClientSecret}
	}
	if clients == nil {
		clients = map[string]string{}
	}
	for id, reg := range opts.Registrations {
		if reg.Type != ClientWeb && reg.Type != ClientInstalled {
			return nil, fmt.Errorf("googleemu: client %s has type %q, not %q or %q", id, reg.Type, ClientWeb, ClientInstalled)
		}
		clients[id] = reg.Secret
	}
	for id := range clients {
		if id == "" {
			return nil, errors.New("googleemu: empty OAuth client id in Options.Clients")
		}
	}
	ttl := opts.AccessTokenTTL
	if ttl <= 0 {
		ttl = defaultAccessTTL
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	var blobs blobStore = memoryBlobs{}
	if opts.Dir != "" {
		d, err := newDiskBlobs(opts.Dir)
		if err != nil {
			return nil, err
		}
		blobs = d
	}
	e := &Emulator{
		clients:        clients,
		registrations:  maps.Clone(opts.Registrations),
		accounts:       maps.Clone(opts.Accounts),
		accessTTL:      ttl,
		demo:           opts.Demo,
		sessionAuthLax: opts.UploadSessionsIgnoreAuthorization,
		lenientImports: opts.LenientImports,
		lenientDrives:  opts.LenientSharedDrives,
		lenientExpiry:  opts.LenientExpirations,
		refreshMaxAge:  opts.RefreshTokenMaxAge,
		log:            log,
		blobs:          blobs,
		now:            time.Now,
		users:          map[string]*user{},
		recycled:       map[string]int{},
		pending:        map[string]*pendingLogin{},
		codes:          map[string]*authCode{},
		accessTokens:   map[string]*accessToken{},
		refreshTokens:  map[string]*refreshToken{},
		grants:         map[grantKey]*grant{},
		tokenRequests:  map[string]int{},
		files:          map[string]*driveFile{},
		sessions:       map[string]*uploadSession{},
		buckets:        map[string]*bucket{},
		drives:         map[string]*sharedDrive{},
	}
	e.hintPrefillsOnly.Store(opts.LoginHintOnlyPrefills)
	e.roundTrip.Store(int64(opts.RoundTrip))
	e.mux = e.routes()
	return e, nil
}

func (e *Emulator) routes() *http.ServeMux {
	m := http.NewServeMux()
	m.HandleFunc("GET /o/oauth2/v2/auth", e.handleAuthorize)
	m.HandleFunc("POST /o/oauth2/v2/auth", e.handleLoginSubmit)
	m.HandleFunc("POST /token", e.handleToken)
	m.HandleFunc("GET /v1/userinfo", e.handleUserinfo)
	m.HandleFunc("POST /v1/userinfo", e.handleUserinfo)
	m.HandleFunc("POST /revoke", e.handleRevoke)
	m.HandleFunc("GET /revoke", e.handleRevoke)

	m.HandleFunc("GET /drive/v3/about", e.drive(e.handleAbout))
	m.HandleFunc("GET /drive/v3/files", e.drive(e.handleList))
	m.HandleFunc("POST /drive/v3/files", e.drive(e.handleCreateMetadata))
	m.HandleFunc("GET /drive/v3/files/{fileId}", e.drive(e.handleGet))
	m.HandleFunc("PATCH /drive/v3/files/{fileId}", e.drive(e.handleUpdate))
	m.HandleFunc("DELETE /drive/v3/files/{fileId}", e.drive(e.handleDelete))
	m.HandleFunc("GET /drive/v3/files/{fileId}/export", e.drive(e.handleExport))
	m.HandleFunc("POST /drive/v3/files/{fileId}/copy", e.drive(e.handleCopy))
	m.HandleFunc("GET /drive/v3/files/{fileId}/permissions", e.drive(e.handleListPermissions))
	m.HandleFunc("POST /drive/v3/files/{fileId}/permissions", e.drive(e.handleCreatePermission))
	m.HandleFunc("GET /drive/v3/files/{fileId}/permissions/{permissionId}", e.drive(e.handleGetPermission))
	m.HandleFunc("DELETE /drive/v3/files/{fileId}/permissions/{permissionId}", e.drive(e.handleDeletePermission))
	m.HandleFunc("PATCH /drive/v3/files/{fileId}/permissions/{permissionId}", e.drive(e.handleUpdatePermission))
	m.HandleFunc("GET /drive/v3/drives", e.drive(e.handleListDrives))
	m.HandleFunc("GET /drive/v3/changes/startPageToken", e.drive(e.handleStartPageToken))
	m.HandleFunc("GET /drive/v3/changes", e.drive(e.handleChanges))

	// Upload endpoints. The session URI keeps the initiating path (Google's
	// does), and the Go client sends chunks with POST while the docs say PUT,
	// so both methods reach the session handler.
	m.HandleFunc("POST /upload/drive/v3/files", e.handleUploadCreate)
	m.HandleFunc("PUT /upload/drive/v3/files", e.handleUploadSession)
	m.HandleFunc("PATCH /upload/drive/v3/files/{fileId}", e.handleUploadUpdate)
	m.HandleFunc("POST /upload/drive/v3/files/{fileId}", e.handleUploadSession)
	m.HandleFunc("PUT /upload/drive/v3/files/{fileId}", e.handleUploadSession)
	m.HandleFunc("DELETE /upload/drive/v3/files", e.handleUploadCancel)
	m.HandleFunc("DELETE /upload/drive/v3/files/{fileId}", e.handleUploadCancel)

	m.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeDriveError(w, driveErr{code: http.StatusNotFound, reason: "notFound", message: "Not Found"})
	})
	return m
}

// ServeHTTP applies any matching injected fault, then routes the request.
func (e *Emulator) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	e.requests.Add(1)
	e.mu.Lock()
	closed := e.closed
	e.mu.Unlock()
	if closed {
		http.Error(w, "googleemu: emulator closed", http.StatusServiceUnavailable)
		return
	}
	if d := time.Duration(e.roundTrip.Load()); d > 0 {
		t := time.NewTimer(d)
		select {
		case <-r.Context().Done():
			t.Stop()
			return // the client gave up; nobody is listening
		case <-t.C:
		}
	}
	f := e.takeFault(r)
	if f != nil && f.Status == 0 && f.DropAfterBytes > 0 && r.Body != nil {
		r.Body = &droppingBody{ReadCloser: r.Body, left: f.DropAfterBytes}
	}
	// Counting outside the cut-off counts exactly the bytes handlers received.
	if isUploadPath(r.URL.Path) && r.Body != nil {
		r.Body = &countingBody{ReadCloser: r.Body, n: &e.uploadBytes}
	}
	// httpsnoop records the status while keeping Flush and Unwrap for
	// http.ResponseController.
	m := httpsnoop.CaptureMetricsFn(w, func(w http.ResponseWriter) {
		if f != nil {
			e.log.Debug("googleemu fault", "method", r.Method, "path", r.URL.Path, "status", f.Status,
				"dropAfterBytes", f.DropAfterBytes, "latency", f.Latency)
			e.applyFault(w, r, f, e.mux)
			return
		}
		e.mux.ServeHTTP(w, r)
	})
	// The query is never logged: it can carry codes, tokens and upload ids.
	e.log.Debug("googleemu request", "method", r.Method, "path", r.URL.Path,
		"status", m.Code, "duration", time.Since(start))
}

// SetRoundTrip sets the simulated round trip (Options.RoundTrip) for the
// requests that arrive from now on.
func (e *Emulator) SetRoundTrip(d time.Duration) { e.roundTrip.Store(int64(d)) }

// Close releases the emulator's resources: it deletes the upload storage it
// created (never Options.Dir itself) and makes further requests fail with 503.
func (e *Emulator) Close() error {
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return nil
	}
	e.closed = true
	e.mu.Unlock()
	return e.blobs.close()
}

func isUploadPath(p string) bool { return strings.HasPrefix(p, "/upload/") }

// countingBody counts request-body bytes into Stats.UploadBytesReceived.
type countingBody struct {
	io.ReadCloser
	n *atomic.Int64
}

func (c *countingBody) Read(p []byte) (int, error) {
	n, err := c.ReadCloser.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// randomString returns n characters from Google's id alphabet.
func randomString(n int) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("googleemu: crypto/rand: %v", err)) // never happens on supported platforms
	}
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}
