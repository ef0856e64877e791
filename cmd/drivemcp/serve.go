package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/drivemcp/drivemcp/internal/authserver"
	"github.com/drivemcp/drivemcp/internal/config"
	"github.com/drivemcp/drivemcp/internal/google"
	"github.com/drivemcp/drivemcp/internal/googleemu"
	"github.com/drivemcp/drivemcp/internal/identity"
	"github.com/drivemcp/drivemcp/internal/mcpserver"
	"github.com/drivemcp/drivemcp/internal/netguard"
	"github.com/drivemcp/drivemcp/internal/secrets"
	"github.com/drivemcp/drivemcp/internal/store"
	"github.com/drivemcp/drivemcp/internal/store/sqlite"
	"github.com/drivemcp/drivemcp/internal/web"
)

func serve(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	cfg, err := config.ParseServe(args, os.Getenv)
	if err != nil {
		return err
	}
	log := newLogger(stderr, cfg.LogLevel)
	mcpserver.Version = version

	if cfg.Demo {
		stopDemo, err := startDemoEmulator(ctx, cfg, stderr)
		if err != nil {
			return err
		}
		defer stopDemo()
	}

	st, keys, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer st.Close()

	upstream := google.NewUpstream(cfg.GoogleClientID, cfg.GoogleClientSecret, cfg.CallbackURL(), google.EndpointsAt(cfg.GoogleEndpoint), nil)
	grants := google.NewGrants(st, keys, upstream)
	resolver := identity.NewResolver(st, cfg.TrustedLocal())
	auth := authserver.New(authserver.Options{
		Store: st, Grants: grants, Resolver: resolver, Pages: web.NewPages(), Logger: log,
		DriveScope: google.DriveScope(cfg.DriveScope), AllowedDriveScopes: google.AllowedDriveScopes(cfg.DriveScope),
		BaseURL: cfg.BaseURL, Keys: keys,
		ClientMetadataDocuments: authserver.NewClientMetadataDocuments(netguard.NewClient(netguard.Policy{}, netguard.Options{}), 0),
	})
	mcpSrv := mcpserver.New(mcpserver.Deps{
		Resolver: resolver, Grants: grants, Auth: auth, UploadRoots: cfg.UploadRoots,
		Stdio: cfg.Stdio, Logger: log, AllowedDriveScopes: google.AllowedDriveScopes(cfg.DriveScope),
	})
	go cleanExpired(ctx, st, log)

	if cfg.Stdio {
		return serveStdio(ctx, cfg, mcpSrv, auth, st, stdin, stdout, log)
	}
	return serveHTTP(ctx, cfg, mcpSrv, auth, st, log)
}

// openStore opens the database and the key that seals Google tokens in it.
func openStore(ctx context.Context, cfg *config.Config) (store.Store, *secrets.Keyring, error) {
	if cfg.IsPostgres() {
		return nil, nil, errors.New("--db postgres:// is not available in this build yet: use a SQLite file path")
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

func serveHTTP(ctx context.Context, cfg *config.Config, mcpSrv *mcp.Server, auth *authserver.Server, st store.Store, log *slog.Logger) error {
	mux := http.NewServeMux()
	addHealthRoutes(mux, st)
	auth.Routes(mux)
	var mcpHandler http.Handler = mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return mcpSrv }, &mcp.StreamableHTTPOptions{
		Logger:         log,
		SessionTimeout: 30 * time.Minute,
	})
	if cfg.Auth == config.AuthOAuth {
		mcpHandler = auth.ProtectMCP(mcpserver.RequireToolScopes(mcpHandler, auth.Scopes(), auth.InsufficientScope))
	}
	mux.Handle("/mcp", mcpHandler)
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("--addr %s: %w", cfg.Addr, err)
	}
	log.Info("drivemcp listening", "mcp", cfg.BaseURL+"/mcp", "auth", cfg.Auth, "addr", ln.Addr().String())
	return serveUntilDone(ctx, newHTTPServer(mux), ln)
}

func serveStdio(ctx context.Context, cfg *config.Config, mcpSrv *mcp.Server, auth *authserver.Server, st store.Store, stdin io.Reader, stdout io.Writer, log *slog.Logger) error {
	mux := http.NewServeMux()
	addHealthRoutes(mux, st)
	mux.HandleFunc("/oauth2callback", auth.HandleGoogleCallback)
	ln, err := net.Listen("tcp", cfg.CallbackAddr)
	if err != nil {
		return fmt.Errorf("--callback-addr %s (the Google callback of stdio mode): %w", cfg.CallbackAddr, err)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	httpDone := make(chan error, 1)
	go func() { httpDone <- serveUntilDone(ctx, newHTTPServer(mux), ln) }()
	log.Info("drivemcp serving MCP on stdio", "callback", cfg.CallbackURL())
	err = mcpSrv.Run(ctx, &mcp.IOTransport{Reader: io.NopCloser(stdin), Writer: nopWriteCloser{stdout}})
	cancel()
	<-httpDone
	if errors.Is(err, context.Canceled) || errors.Is(err, io.EOF) {
		return nil
	}
	return err
}

type nopWriteCloser struct{ io.Writer }

func (nopWriteCloser) Close() error { return nil }

// addHealthRoutes serves liveness and readiness checks.
func addHealthRoutes(mux *http.ServeMux, st store.Store) {
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		_, _ = io.WriteString(w, "ok\n")
	})
	mux.HandleFunc("/readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		w.Header().Set("Content-Type", "text/plain")
		if err := st.Ping(ctx); err != nil {
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = io.WriteString(w, "store unreachable\n")
			return
		}
		_, _ = io.WriteString(w, "ready\n")
	})
}

// newHTTPServer bounds how long a client may take to send headers; bodies
// (uploads are not sent to us, but MCP streams are long-lived) have no
// overall deadline.
func newHTTPServer(h http.Handler) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
	}
}

// cleanExpired removes expired transactions and bindings now and then. It is
// safe on every replica: deletes of expired rows commute.
func cleanExpired(ctx context.Context, st store.Store, log *slog.Logger) {
	t := time.NewTicker(10 * time.Minute)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := st.DeleteExpired(ctx, time.Now()); err != nil && ctx.Err() == nil {
				log.Warn("cleaning expired records", "err", err)
			}
		}
	}
}

func newLogger(w io.Writer, level string) *slog.Logger {
	var l slog.Level
	_ = l.UnmarshalText([]byte(level))
	opts := &slog.HandlerOptions{Level: l}
	if f, ok := w.(*os.File); ok && isTerminal(f) {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}

func isTerminal(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// startDemoEmulator runs the Google emulator in this process and points the
// config at it, with a banner nobody can miss.
func startDemoEmulator(ctx context.Context, cfg *config.Config, stderr io.Writer) (func(), error) {
	emu, err := googleemu.New(googleemu.Options{Demo: true})
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	srv := &http.Server{Handler: emu, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	cfg.GoogleEndpoint = "http://" + ln.Addr().String()
	cfg.GoogleClientID = googleemu.DemoClientID
	cfg.GoogleClientSecret = googleemu.DemoClientSecret
	printDemoBanner(stderr, cfg)
	return func() {
		_ = srv.Close()
		_ = emu.Close()
	}, nil
}

func printDemoBanner(w io.Writer, cfg *config.Config) {
	fmt.Fprintf(w, `
################################################################################
#  DEMO MODE: Google is EMULATED at %s
#  Nothing reaches real Google Drive. Do not use --demo for real work.
################################################################################
`, cfg.GoogleEndpoint)
	if cfg.Stdio {
		fmt.Fprintf(w, "MCP is on stdin/stdout. Call start_google_auth and open its link; type any email on the emulator's page.\n\n")
		return
	}
	exe, _ := os.Executable()
	fmt.Fprintf(w, `Connect an MCP client:
  MCP Inspector:  npx @modelcontextprotocol/inspector
                  Transport: Streamable HTTP   URL: %[1]s/mcp
                  It registers and opens drivemcp's consent page: Allow, then
                  type any email on the emulator's sign-in page.
  Claude Desktop / VS Code (stdio), in the mcpServers config:
                  {"drivemcp": {"command": %[2]q, "args": ["serve", "--stdio", "--demo"]}}
                  then call start_google_auth and open its link.
Then upload with create_drive_file or upload_file_to_drive.

`, cfg.BaseURL, exe)
}
