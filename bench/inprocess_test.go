package bench

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/drivemcp/drivemcp/internal/authserver"
	"github.com/drivemcp/drivemcp/internal/e2etest"
	"github.com/drivemcp/drivemcp/internal/eventstore"
	"github.com/drivemcp/drivemcp/internal/google"
	"github.com/drivemcp/drivemcp/internal/googleemu"
	"github.com/drivemcp/drivemcp/internal/httpguard"
	"github.com/drivemcp/drivemcp/internal/identity"
	"github.com/drivemcp/drivemcp/internal/logsink"
	"github.com/drivemcp/drivemcp/internal/mcpserver"
	"github.com/drivemcp/drivemcp/internal/metrics"
	"github.com/drivemcp/drivemcp/internal/ratelimit"
	"github.com/drivemcp/drivemcp/internal/reqlog"
	"github.com/drivemcp/drivemcp/internal/secrets"
	"github.com/drivemcp/drivemcp/internal/store/sqlite"
)

// startInProcess serves drivemcp's HTTP stack inside this test process,
// wired as `drivemcp serve --stateless` wires it (cmd/drivemcp/serve.go:
// metrics-timed SQLite store, authorization server, the MCP server with its
// drain behind ProtectMCP, RequireToolScopes and RequireOrigin, the rate
// limits on the OAuth endpoints, the request log at info level written to a
// file as the benchmark's binary writes it), so that `go test -cpuprofile`
// sees the server's work. Keep it in step with serve.go: a part missing here
// is a cost the profiles do not show. The process benchmarks measure the
// real binary; this one is for profiles.
func startInProcess(tb testing.TB, g *e2etest.Google) (*server, http.Handler) {
	tb.Helper()
	ctx := context.Background()
	dbPath := filepath.Join(tb.TempDir(), "drivemcp.db")
	raw, err := sqlite.Open(ctx, dbPath)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { raw.Close() })
	keys, err := secrets.NewKeyring(make([]byte, 32))
	if err != nil {
		tb.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	// A file, as the process benchmarks give the binary: the write per log
	// line is part of a request's cost.
	logFile, err := os.Create(filepath.Join(tb.TempDir(), "drivemcp.log"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { logFile.Close() })
	level := slog.LevelInfo
	if os.Getenv("BENCH_NO_LOG") != "" {
		level = slog.LevelError // to measure what the line per request costs
	}
	// Through the sink serve puts in front of stderr (BENCH_LOG_DIRECT=1:
	// a write per line, to measure what the sink saves).
	var logOut io.Writer = logFile
	if os.Getenv("BENCH_LOG_DIRECT") == "" {
		sink := logsink.New(logFile, logsink.Options{})
		tb.Cleanup(func() { sink.Close() })
		logOut = sink
	}
	log := slog.New(slog.NewJSONHandler(logOut, &slog.HandlerOptions{Level: level}))
	m := metrics.New()
	st := m.Store(raw)
	transport := m.GoogleTransport(http.DefaultTransport)
	upstream := google.NewUpstream(googleemu.DemoClientID, googleemu.DemoClientSecret, base+"/oauth2callback",
		google.EndpointsAt(g.URL), &http.Client{Transport: transport, Timeout: 30 * time.Second})
	grantOpts := []google.GrantsOption{google.WithMetrics(m)}
	if os.Getenv("BENCH_NO_ACCOUNT_CACHE") != "" {
		grantOpts = append(grantOpts, google.WithAccountCacheTTL(-1)) // to measure what the account cache saves
	}
	grants := google.NewGrants(st, keys, upstream, grantOpts...)
	resolver := identity.NewResolver(st, false)
	var cacheTTL time.Duration // the default
	if os.Getenv("BENCH_NO_TOKEN_CACHE") != "" {
		cacheTTL = -1 // to measure what the access token cache saves
	}
	auth := authserver.New(authserver.Options{
		Store: st, Grants: grants, Resolver: resolver, Logger: log, Metrics: m,
		DriveScope: google.ScopeDriveFile, AllowedDriveScopes: []string{google.ScopeDriveFile},
		BaseURL: base, Keys: keys, AccessTokenCacheTTL: cacheTTL,
	})
	drain := httpguard.NewDrain()
	mcpSrv, fast := mcpserver.NewWithFastPath(mcpserver.Deps{Resolver: resolver, Grants: grants, Auth: auth, Transport: transport,
		Logger: log, Metrics: m, AllowedDriveScopes: []string{google.ScopeDriveFile}, Drain: drain})
	mux := http.NewServeMux()
	auth.Routes(mux)
	var mcpHandler http.Handler = mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return mcpSrv },
		&mcp.StreamableHTTPOptions{Logger: log, SessionTimeout: 30 * time.Minute, Stateless: true,
			MaxRequestBodyBytes: httpguard.RequestBodyLimit(mcpserver.DefaultMaxInlineBytes)})
	fastOpts := mcpserver.FastPathOptions{MaxBodyBytes: httpguard.RequestBodyLimit(mcpserver.DefaultMaxInlineBytes), LocalhostProtection: true, SessionTimeout: 30 * time.Minute}
	if os.Getenv("BENCH_NO_FAST_PATH") == "" { // to measure what the fast path saves
		mcpHandler = fast.HTTP(mcpHandler, fastOpts)
	}
	if os.Getenv("BENCH_SESSIONS") != "" {
		// serve without --stateless: sessions for the older revisions, as
		// cmd/drivemcp/serve.go wires them.
		stateful := mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return mcpSrv },
			&mcp.StreamableHTTPOptions{Logger: log, SessionTimeout: 30 * time.Minute,
				EventStore: fast.Events(eventstore.New(eventstore.Options{})), MaxRequestBodyBytes: httpguard.RequestBodyLimit(mcpserver.DefaultMaxInlineBytes)})
		sessions := mcpserver.SSERetry(fast.SessionsHTTP(stateful, fastOpts), 2*time.Second)
		mcpHandler = mcpserver.ByRevision(httpguard.NewSessionLimit(mcpSrv, 0).HTTP(sessions), mcpHandler)
	}
	mcpHandler = auth.ProtectMCP(httpguard.RequireToolScopes(mcpHandler, httpguard.ToolScopes{Offered: auth.Scopes(), Write: mcpserver.WriteScopes(), NeedsWrite: mcpserver.NeedsWriteScope}, auth.InsufficientScope))
	mux.Handle("/mcp", httpguard.RequireOrigin(drain.HTTP(mcpHandler), base))
	// serve's limits; the OAuth benchmarks send each request from its own
	// address (clientHeader), so none is refused.
	limited := ratelimit.Paths(mux, map[string]*ratelimit.Limiter{
		"/oauth/register": ratelimit.New(ratelimit.RegisterDefaults()),
		"/oauth/token":    ratelimit.New(ratelimit.TokenDefaults()),
	})
	handler := reqlog.Middleware(limited, log, m)
	hs := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}
	go func() { _ = hs.Serve(ln) }()
	tb.Cleanup(func() { _ = hs.Close() })
	return &server{Name: "drivemcp (in-process)", Base: base, Host: ln.Addr().String(),
		Register: "/oauth/register", Authorize: "/oauth/authorize", Token: "/oauth/token", DB: dbPath}, handler
}

// TestLoadToolCallInProcess is TestLoadToolCall's drivemcp arm against
// startInProcess, for profiles:
//
//	cd bench && BENCH_PROFILE=1 go test -run TestLoadToolCallInProcess -cpuprofile cpu.out -args -load
//	go tool pprof -top bench.test cpu.out
//
// The load generator runs in the same process, so the profile holds its
// share too (bench.loadConn and net/http.ReadResponse); what is left is
// the server's.
func TestLoadToolCallInProcess(t *testing.T) {
	l := newLoadRunner(t)
	skipUnlessProfiling(t)
	set := loadSettingsFromEnv(t)
	g := e2etest.StartGoogle(t)
	s, _ := startInProcess(t, g)
	token := login(t, s, register(t, s), "bench@example.com").Access
	arm := toolCallArm{s, mcpHeader(token)}
	if os.Getenv("BENCH_SESSIONS") != "" { // every call on one MCP session
		arm.header.Set("Mcp-Session-Id", openSession(t, s, arm.header))
	}
	for _, conns := range set.Conns {
		l.Sub(fmt.Sprintf("conns=%d", conns), func(b runner) {
			r, err := arm.load(conns, set.Duration).Run(context.Background())
			if err != nil {
				b.Fatal(err)
			}
			b.Logf("%s", r)
			if r.Failed > 0 {
				b.Fatalf("%d calls failed: %v", r.Failed, r.FirstErrs)
			}
			b.Figure(r.RPS(), "req/s")
			b.Figure(r.Quantile(0.5), "p50-ms")
			b.Figure(r.Quantile(0.99), "p99-ms")
		})
	}
}

// BenchmarkToolCallHandler calls the same HTTP stack directly, without a
// network or a load generator: ns/op, B/op and allocs/op are one
// check_drive_auth call's cost inside drivemcp, and its profiles hold
// nothing else.
//
//	go test -run '^$' -bench ToolCallHandler -benchmem -cpuprofile cpu.out ./bench/
//
// BENCH_REVISION sets the call's protocol revision (2025-06-18 unless
// set); at 2026-07-28 it is the call the go-sdk client sends by default.
func BenchmarkToolCallHandler(b *testing.B) {
	skipUnlessProfiling(b)
	g := e2etest.StartGoogle(b)
	s, h := startInProcess(b, g)
	token := login(b, s, register(b, s), "bench@example.com").Access
	header, call := revisionCall(token, os.Getenv("BENCH_REVISION"))
	b.ReportAllocs()
	cpu0 := ownCPU()
	b.ResetTimer()
	for range b.N {
		req := httptest.NewRequest(http.MethodPost, s.Base+"/mcp", bytes.NewReader(call))
		req.Header = header.Clone()
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if err := checkToolResult(0, rec.Code, rec.Body.Bytes()); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	// CPU time, unlike ns/op, does not count the time other processes on a
	// shared machine held the cores; it does count the garbage collector's.
	b.ReportMetric(float64((ownCPU()-cpu0).Microseconds())/float64(b.N), "cpu-µs/op")
}

// revisionCall is the headers and body of a check_drive_auth call at the
// protocol revision (mcpHeader's when empty). From 2026-07-28 on, a call
// names its method and tool in headers and carries the revision and the
// client's capabilities in _meta, as the go-sdk client (v1.8.0) sends it.
func revisionCall(token, revision string) (http.Header, []byte) {
	header := mcpHeader(token)
	if revision == "" {
		return header, checkDriveAuthCall
	}
	header.Set("Mcp-Protocol-Version", revision)
	if revision < "2026-07-28" {
		return header, checkDriveAuthCall
	}
	header.Set("Mcp-Method", "tools/call")
	header.Set("Mcp-Name", "check_drive_auth")
	return header, []byte(`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"_meta":{` +
		`"io.modelcontextprotocol/clientCapabilities":{"roots":{"listChanged":true}},` +
		`"io.modelcontextprotocol/clientInfo":{"name":"bench","version":"1"},` +
		`"io.modelcontextprotocol/protocolVersion":"` + revision + `"},"name":"check_drive_auth","arguments":{}}}`)
}

// skipUnlessProfiling keeps the profiling harnesses out of `make load`
// and `make bench`: they measure drivemcp alone, and ToolCallHandler needs
// many iterations to mean anything.
func skipUnlessProfiling(b testing.TB) {
	if os.Getenv("BENCH_PROFILE") == "" {
		b.Skip("a profiling harness: run it with BENCH_PROFILE=1 (bench/README.md)")
	}
}

// TestLoadOAuthEndpointsInProcess is TestLoadOAuthEndpoints's drivemcp
// arm against startInProcess, for profiles.
func TestLoadOAuthEndpointsInProcess(t *testing.T) {
	l := newLoadRunner(t)
	skipUnlessProfiling(t)
	s, _ := startInProcess(t, e2etest.StartGoogle(t))
	runOAuthEndpoints(l, oauthSettingsFromEnv(t), s, nil)
}
