package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"time"

	"github.com/drivemcp/drivemcp/internal/app"
	"github.com/drivemcp/drivemcp/internal/eventstore"
	"github.com/drivemcp/drivemcp/internal/httpguard"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/drivemcp/drivemcp/internal/authserver"
	"github.com/drivemcp/drivemcp/internal/config"
	"github.com/drivemcp/drivemcp/internal/googleemu"
	"github.com/drivemcp/drivemcp/internal/logsink"
	"github.com/drivemcp/drivemcp/internal/loopback"
	"github.com/drivemcp/drivemcp/internal/mcpserver"
	"github.com/drivemcp/drivemcp/internal/metrics"
	"github.com/drivemcp/drivemcp/internal/ratelimit"
	"github.com/drivemcp/drivemcp/internal/reqlog"
	"github.com/drivemcp/drivemcp/internal/store"
)

func serve(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	cfg, err := parseCommand(config.Serve(), args, stdout, stderr)
	if cfg == nil || err != nil {
		return err // -h printed the help (nil), or the configuration is wrong
	}
	for _, l := range []struct {
		flag  string
		names []string
	}{{"tools", cfg.Tools}, {"disable-tools", cfg.DisableTools}} {
		if unknown := mcpserver.UnknownTools(l.names); len(unknown) > 0 {
			return fmt.Errorf("%s names no drivemcp tool: %s; README.md lists the tools", cfg.Ref(l.flag), strings.Join(unknown, ", "))
		}
	}
	// Everything serve writes to stderr (the log, a line per HTTP request;
	// the demo banner) goes through one sink, in order, written off the
	// requests that log (internal/logsink); Close on every way out.
	tty := isTerminalWriter(stderr)
	sink := logsink.New(stderr, logsink.Options{})
	defer sink.Close()
	stderr = sink
	log := newLogger(stderr, tty, cfg.LogLevel)
	if !cfg.Stdio && os.Getenv("GOGC") == "" {
		// Tool calls over HTTP take the fast path (mcpserver/fastcall.go,
		// with or without sessions), which makes 18 KB of garbage per call
		// where the go-sdk makes 317 KB: GOGC=400 costs no CPU measurable
		// in bench/ there and keeps the peak RSS under 64 connections near
		// 60 MiB instead of 80-90.
		debug.SetGCPercent(400)
	}

	if cfg.Demo {
		stopDemo, err := startDemoEmulator(ctx, cfg, stderr)
		if err != nil {
			return err
		}
		defer stopDemo()
	}

	m := metrics.New()
	if dir := filepath.Dir(cfg.DB); !cfg.IsPostgres() {
		if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
			log.Info("creating the database's folder", "dir", dir)
		}
	}
	b, err := app.Open(ctx, cfg, app.Options{Create: true, Serve: true, Metrics: m})
	if err != nil {
		return err
	}
	defer b.Close()
	st, grants := b.Store, b.Grants
	if cfg.DemoDB {
		if err := forgetDemoAccounts(ctx, st, log); err != nil {
			return err
		}
	}
	if err := grants.CheckKeys(ctx); err != nil {
		return err
	}
	var callbacks *authserver.LoopbackOptions
	if cfg.Stdio {
		// Every stdio process must start whatever else runs on the machine,
		// so the callback listens only while a sign-in is pending.
		callbacks = &authserver.LoopbackOptions{
			Addr: cfg.CallbackAddr, Ephemeral: cfg.EphemeralCallback(),
			Wrap: func(h http.Handler) http.Handler { return reqlog.Middleware(h, log, m) },
		}
	}
	auth := b.AuthServer(app.AuthOptions{Logger: log, Loopback: callbacks})
	defer auth.CloseCallbacks()
	drain := httpguard.NewDrain()
	deps := b.MCPDeps(auth, log)
	deps.Version, deps.Drain = version, drain
	var links *mcpserver.DownloadLinks
	var uploads *mcpserver.UploadSessions
	if !cfg.Stdio {
		// Over HTTP download_drive_file writes nothing here: it hands out
		// links that stream from Drive, sealed with the store's keys so any
		// replica serves them.
		lo := mcpserver.DownloadLinkOptions{BaseURL: cfg.BaseURL, Keys: b.Keys, Grants: b.Grants, Transport: b.GoogleTransport, Retry: deps.Retry, Logger: log}
		if cfg.Auth == config.AuthOAuth {
			lo.Verify = auth.VerifyAccessToken
		}
		links = mcpserver.NewDownloadLinks(lo)
		deps.DownloadLinks = links
		// create_upload_session's URLs: the same keys seal them, and Drive's
		// own session holds the bytes, so any replica takes any PUT.
		uploads = mcpserver.NewUploadSessions(lo)
		if deps.ToolHidden("create_upload_session") {
			// URLs sealed before a restart with the same keys would go on
			// writing for their hour after the operator turned uploads off.
			uploads = nil
		}
		deps.UploadSessions = uploads
	}
	mcpSrv, fast := mcpserver.NewWithFastPath(deps)
	m.GaugeFunc("drivemcp_mcp_sessions", "MCP sessions currently open.", func() float64 {
		n := 0
		for range mcpSrv.Sessions() {
			n++
		}
		return float64(n)
	})
	m.CounterFunc("drivemcp_mcp_fast_path_calls_total", "Tool calls answered without the go-sdk's per-call session machinery (mcpserver's fast path), with or without MCP sessions.", func() float64 {
		return float64(fast.Served())
	})
	m.RefreshTokenAges(func() []time.Duration {
		// Read at each scrape, bounded so a slow store cannot hang /metrics.
		sctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		ages, err := grants.RefreshTokenAges(sctx)
		if err != nil {
			log.Warn("refresh token ages for /metrics", "err", err)
		}
		return ages
	})
	go cleanExpired(ctx, st, log)

	a := &running{cfg: cfg, log: log, store: st, auth: auth, mcp: mcpSrv, fast: fast, metrics: m, drain: drain, limits: defaultLimits(), links: links, uploads: uploads}
	if cfg.Demo {
		a.banner = func() { printDemoBanner(stderr, cfg) }
	}
	if cfg.Stdio {
		return a.serveStdio(ctx, stdin, stdout)
	}
	return a.serveHTTP(ctx)
}

// running is a running server's parts, as the transports need them.
type running struct {
	cfg     *config.Config
	log     *slog.Logger
	store   store.Store
	auth    *authserver.Server
	mcp     *mcp.Server
	fast    *mcpserver.FastPath // stateless tools/call without the SDK's per-request session
	metrics *metrics.Metrics
	drain   *httpguard.Drain
	limits  limits
	links   *mcpserver.DownloadLinks  // HTTP only
	uploads *mcpserver.UploadSessions // HTTP only
	// banner, if set, is printed once the server listens: a banner printed
	// before a bad key or a busy port is reported reads as if it started.
	banner func()
}

// limits are the bounds the HTTP surface puts on its clients.
type limits struct {
	// register and token are per-address rate limits on the OAuth
	// endpoints anyone may call without a token: registration writes a row
	// per call, and the token endpoint is where credentials are guessed.
	register, token ratelimit.Options
	// bodyTimeout bounds reading one request, headers and body (slow
	// clients that hold a connection open); writeTimeout bounds a response,
	// except on /mcp, whose event streams last as long as the tool call
	// they carry.
	bodyTimeout, writeTimeout time.Duration
	// drainTimeout is how long a stopping server lets tool calls in flight
	// (uploads, mostly) finish before cancelling them.
	drainTimeout time.Duration
	// sessionsPerAccount caps the live MCP sessions of one account (of the
	// local user without OAuth); each holds memory until it ends.
	sessionsPerAccount int
	// bodies bounds the bytes of /mcp request bodies in flight at once.
	bodies httpguard.BodyBudgetOptions
}

func defaultLimits() limits {
	return limits{
		register: ratelimit.RegisterDefaults(),
		token:    ratelimit.TokenDefaults(),
		// Two minutes reads the largest inline upload (about 45 MB of
		// base64) at 400 KB/s.
		bodyTimeout:  2 * time.Minute,
		writeTimeout: 2 * time.Minute,
		// Under the 30 s a container orchestrator waits before SIGKILL.
		drainTimeout:       25 * time.Second,
		sessionsPerAccount: httpguard.DefaultSessionsPerAccount,
		bodies:             httpguard.BodyBudgetOptions{Bytes: httpguard.DefaultBodyBudget, Queue: httpguard.DefaultBodyQueue, Wait: httpguard.DefaultBodyWait},
	}
}

// sessionTimeout ends an MCP session no request has used for this long.
const sessionTimeout = 30 * time.Minute

func (a *running) serveHTTP(ctx context.Context) error {
	mux := a.commonRoutes()
	a.auth.Routes(mux)
	mux.Handle("/files/", a.links) // download_drive_file's links
	// create_upload_session's URLs: no body limit of /mcp's (a PUT carries
	// gigabytes); the handler moves the read and write deadlines to the
	// session's expiry, and the stall watchdog toward Drive bounds a PUT
	// that stops moving.
	if a.uploads != nil {
		mux.Handle("/uploads/", a.uploads)
	} else {
		mux.HandleFunc("/uploads/", uploadsOff)
	}
	bodyLimit := httpguard.RequestBodyLimit(mcpserver.DefaultMaxInlineBytes)
	streamable := func(stateless bool, events mcp.EventStore) http.Handler {
		return mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return a.mcp }, &mcp.StreamableHTTPOptions{
			Logger:              a.log,
			SessionTimeout:      sessionTimeout,
			Stateless:           stateless,
			EventStore:          events,
			MaxRequestBodyBytes: bodyLimit,
			// The SDK refuses a request to a loopback listener whose Host is not
			// loopback. Behind a reverse proxy on the same host (docs/deploy.md)
			// every request is such a request; RequireOrigin below is the
			// defence against DNS rebinding there.
			DisableLocalhostProtection: !loopback.IsURL(a.cfg.BaseURL),
		})
	}
	// Plain tools/call requests skip the SDK's per-request session and its
	// JSON-RPC connection (fastcall.go, fastsession.go); the guards below
	// apply to them all the same.
	fastOpts := mcpserver.FastPathOptions{MaxBodyBytes: bodyLimit, LocalhostProtection: loopback.IsURL(a.cfg.BaseURL), SessionTimeout: sessionTimeout}
	// Stateless answers cannot be resumed (any replica may get the retry).
	mcpHandler := a.fast.HTTP(streamable(true, nil), fastOpts)
	if !a.cfg.Stateless {
		// Sessions keep their recent events in this process so a client
		// whose stream breaks resumes it (SEP-1699); the go-sdk then opens
		// each stream with a priming event. The fast path stores its
		// answers there too, and learns there when a session ends. Not the
		// go-sdk's MemoryEventStore: it keeps every stream a session ever
		// opened until the session closes, so one busy session grows the
		// heap with every call (internal/eventstore).
		store := eventstore.New(eventstore.Options{})
		a.metrics.GaugeFunc("drivemcp_mcp_session_event_bytes", "Bytes the MCP sessions' resumable events take in memory (bounded).", func() float64 {
			return float64(store.Stats().Bytes)
		})
		events := a.fast.Events(store)
		sessions := mcpserver.SSERetry(a.fast.SessionsHTTP(streamable(false, events), fastOpts), 2*time.Second)
		// The go-sdk serves the sessionless revision (2026-07-28) only
		// statelessly; sessions stay for the older revisions.
		mcpHandler = mcpserver.ByRevision(httpguard.NewSessionLimit(a.mcp, a.limits.sessionsPerAccount).HTTP(sessions), mcpHandler)
	}
	// The budget is taken after the bearer check (a request without a
	// token reserves nothing) and before anything reads the body.
	budget := httpguard.NewBodyBudget(a.limits.bodies, bodyLimit)
	if a.cfg.Auth == config.AuthOAuth {
		mcpHandler = a.auth.ProtectMCP(budget.HTTP(httpguard.RequireToolScopes(mcpHandler, httpguard.ToolScopes{Offered: a.auth.Scopes(), Write: mcpserver.WriteScopes(), NeedsWrite: mcpserver.NeedsWriteScope}, a.auth.InsufficientScope)))
	} else {
		mcpHandler = budget.HTTP(mcpHandler)
	}
	// CORS answers browser pages' preflights before the bearer check (they
	// carry no token); the pages it allows also pass the rebinding check.
	origins := a.cfg.CORS()
	mux.Handle("/mcp", origins.Wrap(httpguard.RequireOriginOr(a.drain.HTTP(mcpHandler), a.cfg.BaseURL, origins.Allows),
		http.MethodPost, http.MethodGet, http.MethodDelete))
	handler := ratelimit.Paths(mux, map[string]*ratelimit.Limiter{
		"/oauth/register": ratelimit.New(a.limits.register),
		"/oauth/token":    ratelimit.New(a.limits.token),
	})
	if a.cfg.Auth == config.AuthNone {
		handler = httpguard.LocalOnly(handler)
	}
	ln, err := net.Listen("tcp", a.cfg.Addr)
	if err != nil {
		return fmt.Errorf("--addr %s: %w", a.cfg.Addr, err)
	}
	a.log.Info("drivemcp listening", "mcp", a.cfg.BaseURL+"/mcp", "auth", a.cfg.Auth, "addr", ln.Addr().String())
	if a.banner != nil {
		a.banner()
	}
	srv := a.newHTTPServer(reqlog.Middleware(handler, a.log, a.metrics))
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	return a.drainHTTP(srv)
}

// drainHTTP stops the way a replica behind a load balancer should: it stops
// accepting connections at once (the balancer moves new traffic to the
// other replicas), refuses new tool calls, lets the calls in flight finish
// and deliver their results, and only then ends the MCP sessions, whose
// event streams would otherwise hold the shutdown open.
func (a *running) drainHTTP(srv *http.Server) error {
	a.log.Info("stopping: finishing the tool calls in flight", "timeout", a.limits.drainTimeout)
	// Everything is over by the drain timeout plus the drain's last grace
	// (httpguard.AfterDeadline): 29 s, before an orchestrator's SIGKILL at
	// 30. Connections still busy then are closed.
	shutCtx, cancelShut := context.WithTimeout(context.Background(), a.limits.drainTimeout+httpguard.AfterDeadline)
	defer cancelShut()
	shut := make(chan error, 1)
	go func() { shut <- srv.Shutdown(shutCtx) }()
	a.stopCalls()
	for ss := range a.mcp.Sessions() {
		_ = ss.Close()
	}
	if err := <-shut; err != nil {
		_ = srv.Close()
		return fmt.Errorf("stopping the HTTP server: %w", err)
	}
	return nil
}

// stopCalls waits, at most drainTimeout, for the tool calls in flight.
func (a *running) stopCalls() {
	ctx, cancel := context.WithTimeout(context.Background(), a.limits.drainTimeout)
	defer cancel()
	if n := a.drain.Stop(ctx); n > 0 {
		a.log.Warn("stopping: cancelled tool calls that did not finish in time", "calls", n, "timeout", a.limits.drainTimeout)
	} else {
		a.log.Info("stopping: no tool calls in flight")
	}
}

// serveStdio speaks MCP on stdin/stdout. When the client closes stdin it is
// gone: calls in flight are cancelled (nobody could hear their results, and
// an upload cancelled before its end leaves no file behind, so the client's
// retry cannot make a duplicate). On SIGTERM with the client still there,
// the calls in flight finish first (at most drainTimeout) and their results
// reach the client; new calls are refused meanwhile.
//
// The Google callback is not served here: start_google_auth opens it for
// the time a sign-in is pending (authserver.LoopbackOptions).
func (a *running) serveStdio(ctx context.Context, stdin io.Reader, stdout io.Writer) error {
	out := a.drain.Writer(stdout)
	// The MCP connection outlives the signal until the drain is over.
	runCtx, stopRun := context.WithCancel(context.WithoutCancel(ctx))
	defer stopRun()
	go func() {
		select {
		case <-ctx.Done():
			a.log.Info("stopping: finishing the tool calls in flight", "timeout", a.limits.drainTimeout)
			a.stopCalls()
			stopRun()
		case <-runCtx.Done():
		}
	}()
	callback := a.cfg.CallbackURL()
	if a.cfg.EphemeralCallback() {
		callback = "a new loopback port per sign-in (Desktop app client)"
	}
	a.log.Info("drivemcp serving MCP on stdio", "callback", callback)
	if a.banner != nil {
		a.banner()
	}
	err := a.mcp.Run(runCtx, &mcp.IOTransport{Reader: io.NopCloser(stdin), Writer: nopWriteCloser{out}})
	if errors.Is(err, context.Canceled) || errors.Is(err, io.EOF) {
		return nil
	}
	return err
}

type nopWriteCloser struct{ io.Writer }

func (nopWriteCloser) Close() error { return nil }

// commonRoutes serves what both transports need: liveness, readiness and
// metrics.
func (a *running) commonRoutes() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		_, _ = io.WriteString(w, "ok\n")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		w.Header().Set("Content-Type", "text/plain")
		if err := a.store.Ping(ctx); err != nil {
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = io.WriteString(w, "store unreachable\n")
			return
		}
		_, _ = io.WriteString(w, "ready\n")
	})
	mux.Handle("GET /metrics", a.metrics.Handler())
	return mux
}

// newHTTPServer bounds how long a client may take to send its headers and
// its body, and, except on /mcp, to read the response. ReadTimeout covers
// only the headers and the body: once a handler has read the body to its
// end, net/http lifts the connection's read deadline, so MCP event streams
// that last as long as the tool call behind them (an upload of gigabytes
// to Google) are not cut off. There is no server-wide WriteTimeout for the
// same reason; writeDeadlines sets one for every other route.
func (a *running) newHTTPServer(h http.Handler) *http.Server {
	log := a.log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &http.Server{
		Handler:           writeDeadlines(h, a.limits.writeTimeout),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       a.limits.bodyTimeout,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		// net/http's own lines (a panicking handler, Accept errors) go
		// through serve's logger and its sink, in order with the rest.
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelError),
	}
}

// writeDeadlines gives each response but /mcp's writeTimeout from the
// start of its request to be written, so a client that stops reading cannot
// hold a handler.
func writeDeadlines(h http.Handler, writeTimeout time.Duration) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/mcp" {
			_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(writeTimeout))
		}
		h.ServeHTTP(w, r)
	})
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

func newLogger(w io.Writer, text bool, level string) *slog.Logger {
	var l slog.Level
	_ = l.UnmarshalText([]byte(level))
	opts := &slog.HandlerOptions{Level: l}
	if text {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}

// isTerminalWriter: a person reads it (text lines), not a log collector (JSON).
func isTerminalWriter(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && isTerminal(f)
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
	// Like a Desktop app client: each stdio sign-in gets its own port, so
	// several demo processes (Claude Desktop and VS Code) never collide.
	cfg.GoogleClientType = config.ClientInstalled
	return func() {
		_ = srv.Close()
		_ = emu.Close()
	}, nil
}

// forgetDemoAccounts deletes the accounts an earlier demo left in the demo
// database: their grants belong to that run's emulator, which is gone, so
// keeping them would make check_drive_auth say "Acting as …" and the next
// Drive call fail. The restarted demo asks to sign in again instead. Only
// the demo's own default database is ever cleared (Config.DemoDB).
func forgetDemoAccounts(ctx context.Context, st store.Store, log *slog.Logger) error {
	accts, err := st.ListGoogleAccounts(ctx)
	if err != nil {
		return fmt.Errorf("reading the demo database: %w", err)
	}
	for _, a := range accts {
		if err := st.DeleteGoogleAccount(ctx, a.Email); err != nil && !errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("forgetting the earlier demo's account %s: %w", a.Email, err)
		}
	}
	// Tokens, codes, bindings and pending sign-ins of the earlier run go
	// too (everything "expired" by the end of time), so an MCP client
	// holding an old token gets 401 and signs in again with the client it
	// registered, which stays.
	if err := st.DeleteExpired(ctx, time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)); err != nil {
		return fmt.Errorf("forgetting the earlier demo's sign-ins: %w", err)
	}
	if len(accts) > 0 {
		log.Info("forgot the accounts of an earlier demo run: its emulator is gone, sign in again", "accounts", len(accts))
	}
	return nil
}

// readable says which local files this server's upload_file_to_drive reads.
func readable(cfg *config.Config) string {
	if len(cfg.UploadRoots) == 0 {
		return "it reads no local files over HTTP until --upload-root DIR names a directory"
	}
	dirs := make([]string, len(cfg.UploadRoots))
	for i, r := range cfg.UploadRoots {
		dirs[i] = r.Dir
	}
	return "it reads files under " + strings.Join(dirs, ", ") + " (the stdio snippets: under " + mustGetwd() + ")"
}

func mustGetwd() string {
	wd, err := os.Getwd()
	if err != nil {
		return "."
	}
	return wd
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
	wd := mustGetwd()
	login := `It registers and opens drivemcp's consent page: Allow, then
                  type any email on the emulator's sign-in page.`
	if cfg.Auth == config.AuthNone {
		login = `No login (--auth none): call start_google_auth, open its link
                  and type any email on the emulator's sign-in page.`
	}
	stdio, _ := json.Marshal(map[string]any{"command": exe, "args": []string{"serve", "--stdio", "--demo", "--upload-root", wd}})
	fmt.Fprintf(w, `Connect an MCP client:
  MCP Inspector:  npx @modelcontextprotocol/inspector
                  Transport: Streamable HTTP   URL: %[1]s/mcp
                  %[2]s
  Claude Desktop (stdio), in claude_desktop_config.json under "mcpServers":
                  "drivemcp": %[3]s
  VS Code (stdio), in .vscode/mcp.json under "servers":
                  "drivemcp": %[3]s
                  then call start_google_auth and open its link.
Then upload with create_drive_file, or upload_file_to_drive: %[4]s.

`, cfg.BaseURL, login, stdio, readable(cfg))
}

// uploadsOff answers /uploads/ when create_upload_session is hidden
// (--read-only, --tools, --disable-tools): a URL made before the operator
// turned uploads off writes nothing.
func uploadsOff(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Cache-Control", "private, no-store")
	http.Error(w, "This server takes no uploads now (create_upload_session is turned off here), so nothing was saved. "+
		"Upload another way, or ask the server's operator to turn upload sessions back on.", http.StatusForbidden)
}
