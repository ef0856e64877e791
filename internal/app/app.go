// Package app builds drivemcp's parts from a validated configuration, in
// one place, so that every command (serve, login, accounts, upload,
// doctor) runs with the same store, sealing key, Google client, grants,
// resolver and login server. cmd/drivemcp only parses flags, calls Open
// and prints; docs/architecture.md has the map.
package app

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/drivemcp/drivemcp/internal/authserver"
	"github.com/drivemcp/drivemcp/internal/config"
	"github.com/drivemcp/drivemcp/internal/drive"
	"github.com/drivemcp/drivemcp/internal/google"
	"github.com/drivemcp/drivemcp/internal/identity"
	"github.com/drivemcp/drivemcp/internal/mcpserver"
	"github.com/drivemcp/drivemcp/internal/metrics"
	"github.com/drivemcp/drivemcp/internal/netguard"
	"github.com/drivemcp/drivemcp/internal/secrets"
	"github.com/drivemcp/drivemcp/internal/store"
	"github.com/drivemcp/drivemcp/internal/store/postgres"
	"github.com/drivemcp/drivemcp/internal/store/sqlite"
	"github.com/drivemcp/drivemcp/internal/web"
)

// ErrNoDatabase is returned by Open without Options.Create when the SQLite
// database does not exist: listing or revoking on a mistyped --db must say
// so, not answer "no accounts" from a fresh empty file.
var ErrNoDatabase = errors.New("no drivemcp database")

// Options say what the command needs beyond the configuration.
type Options struct {
	// Create makes a SQLite database that does not exist yet (serve,
	// login); without it such a database is ErrNoDatabase.
	Create bool
	// Serve marks the server itself: Google redirects to the callback of
	// its transport (cfg.CallbackURL), and every Google call goes through
	// one instrumented transport. Local commands use the loopback
	// callback (cfg.LocalCallbackURL), the stdio server's, so one entry in
	// the Google console serves both.
	Serve bool
	// Metrics, if set, instruments the store, the Google transport and the
	// grants.
	Metrics *metrics.Metrics
}

// Backend is the wired parts every command shares.
type Backend struct {
	Config   *config.Config
	Store    store.Store
	Keys     *secrets.Keyring
	Upstream *google.Upstream
	Grants   *google.Grants
	Resolver *identity.Resolver
	// GoogleTransport carries every call to Google (nil: Go's default).
	GoogleTransport http.RoundTripper
	metrics         *metrics.Metrics
	raw             store.Store
}

// Open opens the store and its sealing key and wires the Google client,
// the grants and the resolver the way every command uses them.
func Open(ctx context.Context, cfg *config.Config, o Options) (*Backend, error) {
	if !o.Create && !cfg.IsPostgres() {
		if _, err := os.Stat(cfg.DB); errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%w at %s, so no Google account is connected there: run drivemcp login, or point --db at the server's database", ErrNoDatabase, cfg.DB)
		}
	}
	raw, keys, err := OpenStore(ctx, cfg)
	if err != nil {
		return nil, err
	}
	b := &Backend{Config: cfg, Store: raw, Keys: keys, metrics: o.Metrics, raw: raw}
	var grantOpts []google.GrantsOption
	var httpClient *http.Client // nil: the Google client's default
	redirect := cfg.LocalCallbackURL()
	if o.Serve {
		redirect = cfg.CallbackURL()
		b.GoogleTransport = newGoogleTransport()
	}
	if o.Metrics != nil {
		b.Store = o.Metrics.Store(raw)
		if b.GoogleTransport != nil {
			b.GoogleTransport = o.Metrics.GoogleTransport(b.GoogleTransport)
		}
		grantOpts = append(grantOpts, google.WithMetrics(o.Metrics))
	}
	if b.GoogleTransport != nil {
		httpClient = &http.Client{Transport: b.GoogleTransport, Timeout: 30 * time.Second}
	}
	b.Upstream = google.NewUpstream(cfg.GoogleClientID, cfg.GoogleClientSecret, redirect, google.EndpointsAt(cfg.GoogleEndpoint), httpClient)
	b.Grants = google.NewGrants(b.Store, keys, b.Upstream, grantOpts...)
	// A local command is run by the machine's own user, who may name the
	// account; the server trusts that only where its caller is that user.
	trusted := cfg.TrustedLocal() || !o.Serve
	b.Resolver = identity.NewResolver(b.Store, trusted, identity.WithPolicy(cfg.AccessPolicy()))
	return b, nil
}

// Close closes the store.
func (b *Backend) Close() error { return b.raw.Close() }

// AuthOptions are what differs between the commands that run the login
// server: its logger, and the loopback callback of stdio and login.
type AuthOptions struct {
	Logger *slog.Logger
	// BaseURL overrides cfg.BaseURL: drivemcp login has no HTTP server,
	// only its callback listener.
	BaseURL  string
	Loopback *authserver.LoopbackOptions
}

// AuthServer builds the login server with the configuration's policy,
// scopes, keys and refresh grace, the same for serve and login.
func (b *Backend) AuthServer(o AuthOptions) *authserver.Server {
	cfg := b.Config
	base := cfg.BaseURL
	if o.BaseURL != "" {
		base = o.BaseURL
	}
	return authserver.New(authserver.Options{
		Loopback:     o.Loopback,
		Policy:       cfg.AccessPolicy(),
		RefreshGrace: cfg.RefreshGrace,
		Store:        b.Store, Grants: b.Grants, Resolver: b.Resolver, Pages: web.NewPages(), Logger: o.Logger, Metrics: b.metrics,
		DriveScope: google.DriveScope(cfg.DriveScope), AllowedDriveScopes: google.AllowedDriveScopes(cfg.DriveScope),
		BaseURL: base, Keys: b.Keys, CORS: cfg.CORS(),
		ClientMetadataDocuments: authserver.NewClientMetadataDocuments(netguard.NewClient(netguard.Policy{}, netguard.Options{}), 0),
	})
}

// MCPDeps are the tools' dependencies for this configuration; the caller
// adds what only it has (the version, the drain).
func (b *Backend) MCPDeps(auth *authserver.Server, log *slog.Logger) mcpserver.Deps {
	cfg := b.Config
	return mcpserver.Deps{
		Resolver: b.Resolver, Grants: b.Grants, Auth: auth, UploadRoots: roots(cfg.UploadRoots), Transport: b.GoogleTransport,
		Stdio: cfg.Stdio, Logger: log, Metrics: b.metrics, AllowedDriveScopes: google.AllowedDriveScopes(cfg.DriveScope),
		AllowPrivateURLs: cfg.AllowPrivateURLs, Retry: drive.Retry{MaxBackoff: cfg.GoogleMaxBackoff},
		ResourcePollInterval: cfg.ResourcePollInterval,
		UploadCutoff:         cfg.DriveUploadCutoff(), DownloadRoots: roots(cfg.DownloadRoots),
		ReadOnly: cfg.ReadOnly, EnabledTools: cfg.Tools, DisabledTools: cfg.DisableTools,
	}
}

// roots hands configured directories, with who may use each, to the tools.
func roots(rs []config.UploadRoot) []mcpserver.UploadRoot {
	out := make([]mcpserver.UploadRoot, 0, len(rs))
	for _, r := range rs {
		out = append(out, mcpserver.UploadRoot{Dir: r.Dir, Accounts: r.Accounts})
	}
	return out
}

// OpenStore opens the database and the key that seals Google tokens in it.
func OpenStore(ctx context.Context, cfg *config.Config) (store.Store, *secrets.Keyring, error) {
	if cfg.IsPostgres() {
		keys, err := secrets.ParseKeys(cfg.SecretKey) // config requires --secret-key with Postgres
		if err != nil {
			return nil, nil, fmt.Errorf("--secret-key: %w", err)
		}
		ring, err := secrets.NewKeyring(keys...)
		if err != nil {
			return nil, nil, err
		}
		// The URL may hold a password: postgres.Open names host and database itself.
		st, err := postgres.Open(ctx, cfg.DB)
		if err != nil {
			return nil, nil, fmt.Errorf("opening the PostgreSQL database: %w", err)
		}
		return st, ring, nil
	}
	st, err := sqlite.Open(ctx, cfg.DB)
	if err != nil {
		return nil, nil, fmt.Errorf("opening the database %s: %w", cfg.DB, err)
	}
	var keys [][]byte
	if cfg.SecretKey != "" {
		keys, err = secrets.ParseKeys(cfg.SecretKey)
		if err != nil {
			st.Close()
			return nil, nil, fmt.Errorf("--secret-key: %w", err)
		}
	} else {
		key, err := secrets.LoadOrCreateKeyFile(filepath.Join(filepath.Dir(st.Path()), "secret.key"))
		if err != nil {
			st.Close()
			return nil, nil, err
		}
		keys = [][]byte{key}
	}
	ring, err := secrets.NewKeyring(keys...)
	if err != nil {
		st.Close()
		return nil, nil, err
	}
	return st, ring, nil
}

// newGoogleTransport is the connection pool for every call to Google, with
// a bound on each phase that has none by default: an answer whose headers
// do not come within a minute of the request being sent is abandoned
// (callers retry, or fail with a message). Bodies are bounded by the
// callers: the OAuth client's 30 s, the Drive client's per-call timeout, the
// uploader's stall timeout.
func newGoogleTransport() http.RoundTripper {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.ResponseHeaderTimeout = time.Minute
	return t
}
