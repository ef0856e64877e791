package bench

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/drivemcp/drivemcp/internal/e2etest"
)

// checkDriveAuthCall is one tools/call of the no-op-cost tool; stateless
// servers take it without an initialize first.
var checkDriveAuthCall = []byte(`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"check_drive_auth","arguments":{}}}`)

// checkToolResult accepts a successful check_drive_auth answer (an event
// stream or JSON, whichever the server sends).
func checkToolResult(_, status int, body []byte) error {
	switch {
	case status != 200:
		return fmt.Errorf("status %d: %.200s", status, body)
	case !bytes.Contains(body, []byte(`"structuredContent"`)) || !bytes.Contains(body, []byte(`"authenticated":true`)):
		return fmt.Errorf("not an authenticated check_drive_auth result: %.300s", body)
	}
	return nil
}

// loadSettings are a run's sizes: the benchmarks read them from the
// environment, the smoke test makes them tiny.
type loadSettings struct {
	Conns    []int
	Duration time.Duration // per server and concurrency
}

func loadSettingsFromEnv(tb testing.TB) loadSettings {
	s := loadSettings{Conns: []int{1, 16, 64}, Duration: 5 * time.Second}
	if v := os.Getenv("BENCH_LOAD_CONNS"); v != "" {
		s.Conns = nil
		for _, f := range strings.Split(v, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil || n < 1 {
				tb.Fatalf("BENCH_LOAD_CONNS: %q is not a positive number", f)
			}
			s.Conns = append(s.Conns, n)
		}
	}
	if v := os.Getenv("BENCH_LOAD_SECONDS"); v != "" {
		sec, err := strconv.ParseFloat(v, 64)
		if err != nil || sec <= 0 || sec > 120 {
			tb.Fatalf("BENCH_LOAD_SECONDS: %q is not a number of seconds in (0, 120]", v)
		}
		s.Duration = time.Duration(sec * float64(time.Second))
	}
	return s
}

// TestLoadToolCall measures authenticated tools/call throughput and
// latency: check_drive_auth over streamable HTTP with a bearer token, at
// each concurrency, against `drivemcp serve --stateless` and `drivemcp
// serve` with one MCP session (SQLite), and, in the same run, against the
// bare net/http ceiling (ceiling_test.go) and the TypeScript SDK peer
// (bench/peer-ts) serving the same tool behind requireBearerAuth. Every
// request is checked. The arms rotate which goes first at each concurrency.
//
// Reported per concurrency: req/s and latency quantiles of each, the ratio
// of drivemcp's req/s to the ceiling's (both modes) and to the peer's, and
// each server's CPU time per request. Then, at the most connections,
// drivemcp and the peer get the same open-loop load (half what the slower
// sustained) for latency below saturation, and the run's peak RSS.
//
// Sizes: BENCH_LOAD_CONNS (default 1,16,64) and BENCH_LOAD_SECONDS (per
// server and concurrency, default 5). BENCH_TOOLCALL_DB=postgres runs
// drivemcp on DRIVEMCP_TEST_POSTGRES_URL instead of SQLite;
// BENCH_DRIVEMCP_GOGC sets drivemcp's GOGC.
func TestLoadToolCall(t *testing.T) {
	l := newLoadRunner(t)
	runToolCall(l, loadSettingsFromEnv(t))
}

// toolCallArm is one server under the tool-call load, with the headers
// its requests carry.
type toolCallArm struct {
	s      *server
	header http.Header
}

// load gives every request its own JSON-RPC id: a session refuses a
// second request with the id of one still in flight. The same for every
// arm, so each pays the same.
func (a toolCallArm) load(conns int, d time.Duration) load {
	head := rawRequest("POST", a.s.Host, "/mcp", a.header, nil)
	head = head[:len(head)-2] // the blank line; Content-Length comes next
	body := func(i int) []byte {
		b := make([]byte, 0, len(checkDriveAuthCall)+16)
		b = append(b, `{"jsonrpc":"2.0","id":`...)
		b = strconv.AppendInt(b, int64(i)+1, 10)
		return append(b, checkDriveAuthCall[len(`{"jsonrpc":"2.0","id":1`):]...)
	}
	return load{Addr: a.s.Host, PID: a.s.PID, Conns: conns, Duration: d, Warmup: d / 5, Requests: 10_000_000,
		Request: func(i int) []byte {
			bd := body(i)
			req := make([]byte, 0, len(head)+len(bd)+32)
			req = append(req, head...)
			req = append(req, "Content-Length: "...)
			req = strconv.AppendInt(req, int64(len(bd)), 10)
			req = append(req, "\r\n\r\n"...)
			return append(req, bd...)
		}, Check: checkToolResult}
}

func runToolCall(b runner, set loadSettings) {
	g := e2etest.StartGoogle(b)
	var env []string
	if v := os.Getenv("BENCH_DRIVEMCP_GOGC"); v != "" {
		env = append(env, "GOGC="+v)
	}
	dbs := [2]string{filepath.Join(b.TempDir(), "stateless.db"), filepath.Join(b.TempDir(), "stateful.db")}
	var args []string
	if os.Getenv("BENCH_TOOLCALL_DB") == "postgres" {
		dbs[0], dbs[1], args = e2etest.PostgresURL(b), e2etest.PostgresURL(b), []string{"--secret-key", e2etest.SecretKey()}
	}
	stateless := startDrivemcpEnv(b, g, dbs[0], env, append([]string{"--stateless"}, args...)...)
	stateful := startDrivemcpEnv(b, g, dbs[1], env, args...)
	stateful.Name = "drivemcp (sessions)"
	peer := startPeer(b)
	ours := toolCallArm{stateless, mcpHeader(login(b, stateless, register(b, stateless), "bench@example.com").Access)}
	withSession := toolCallArm{stateful, mcpHeader(login(b, stateful, register(b, stateful), "bench@example.com").Access)}
	withSession.header.Set("Mcp-Session-Id", openSession(b, stateful, withSession.header))
	theirs := toolCallArm{peer, mcpHeader(login(b, peer, register(b, peer), "bench@example.com").Access)}
	ceilingToken := rand.Text()
	ceiling := toolCallArm{startCeiling(b, ceilingToken, toolCallResult(b, stateless, ours.header, checkDriveAuthCall)), mcpHeader(ceilingToken)}
	arms := []toolCallArm{ceiling, ours, withSession, theirs}

	// run measures every arm under the same load, starting with arm first
	// and going round, and returns their figures in arms' order. Closed
	// loop, it goes round twice, the second time backwards (A B C D D C B
	// A), and adds each arm's two runs up: on this shared machine whatever
	// drifts during a round (another job, the peer's collector after its
	// turn) then falls on every arm alike, not on the one that comes first.
	run := func(b runner, first, conns int, rate float64) []loadResult {
		res := make([]loadResult, len(arms))
		order := make([]int, 0, 2*len(arms))
		for k := range arms {
			order = append(order, (first+k)%len(arms))
		}
		if rate == 0 {
			for k := len(arms) - 1; k >= 0; k-- {
				order = append(order, order[k])
			}
		}
		for _, i := range order {
			l := arms[i].load(conns, set.Duration)
			l.Rate = rate
			r, err := l.Run(context.Background())
			if err != nil {
				b.Fatalf("%s: %v", describe(arms[i].s), err)
			}
			b.Logf("%s, %d connections: %s", arms[i].s.Name, conns, r)
			if r.Failed > 0 || r.OK == 0 {
				b.Fatalf("%s: %d of %d calls failed: %v", describe(arms[i].s), r.Failed, r.OK+r.Failed, r.FirstErrs)
			}
			res[i] = res[i].add(r)
		}
		return res
	}
	var last []loadResult
	for k, conns := range set.Conns {
		b.Sub(fmt.Sprintf("conns=%d", conns), func(b runner) {
			last = run(b, k, conns, 0)
			c, o, s, p := last[0], last[1], last[2], last[3]
			b.Report(o, p)
			b.Figure(c.RPS(), "ceiling-req/s")
			b.Figure(o.RPS()/c.RPS(), "stateless/ceiling")
			b.Figure(s.RPS(), "sessions-req/s")
			b.Figure(s.RPS()/c.RPS(), "sessions/ceiling")
			b.Figure(s.Quantile(0.99), "sessions-p99-ms")
			b.Figure(c.Quantile(0.99), "ceiling-p99-ms")
			b.Figure(s.CPUPerRequest(), "sessions-cpu-µs/req")
			b.Figure(c.CPUPerRequest(), "ceiling-cpu-µs/req")
		})
	}
	if last == nil {
		return
	}
	// What the closed-loop runs cost in memory: the garbage collector's
	// setting (GOGC) trades it for CPU.
	b.Figure(float64(peakRSS(b, stateless.PID))/(1<<20), "stateless-peak-RSS-MiB")
	b.Figure(float64(peakRSS(b, stateful.PID))/(1<<20), "sessions-peak-RSS-MiB")
	b.Figure(float64(peakRSS(b, ceiling.s.PID))/(1<<20), "ceiling-peak-RSS-MiB")
	b.Figure(float64(peakRSS(b, peer.PID))/(1<<20), "peer-peak-RSS-MiB")
	// What share of all calls the fast path answered, with and without a
	// session (the rest went through the go-sdk): read from /metrics.
	for _, arm := range []*server{stateless, stateful} {
		fast, posts := metricOf(b, arm, "drivemcp_mcp_fast_path_calls_total"), metricOf(b, arm, `drivemcp_http_requests_total{code="200",method="POST",route="/mcp"}`)
		b.Figure(fast/posts, strings.ReplaceAll(arm.Name, " ", "")+"-fast-path-share")
	}
	// Latency at the most connections, below saturation: the closed-loop
	// p99 above is queueing (Little's law: connections / throughput), so
	// every arm also gets the same fixed offered load, half what the
	// slowest sustained.
	conns := set.Conns[len(set.Conns)-1]
	rate := 0.5 * min(last[1].RPS(), last[3].RPS())
	b.Sub(fmt.Sprintf("conns=%d/open-loop", conns), func(b runner) {
		res := run(b, 0, conns, rate)
		b.Logf("offered %.0f req/s to each", rate)
		b.Report(res[1], res[3])
		b.Figure(res[2].Quantile(0.99), "sessions-p99-ms")
		b.Figure(res[0].Quantile(0.99), "ceiling-p99-ms")
	})
}

// metricOf reads one series' value from s's /metrics.
func metricOf(tb testing.TB, s *server, series string) float64 {
	tb.Helper()
	resp, err := http.Get(s.Base + "/metrics")
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	for line := range strings.SplitSeq(string(raw), "\n") {
		if v, ok := strings.CutPrefix(line, series+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err == nil {
				return f
			}
		}
	}
	tb.Fatalf("%s: no %s in /metrics", s.Name, series)
	return 0
}

// openSession initializes an MCP session on s and returns its id.
func openSession(tb testing.TB, s *server, header http.Header) string {
	tb.Helper()
	post := func(body string, h http.Header) *http.Response {
		req, err := http.NewRequest(http.MethodPost, s.Base+"/mcp", strings.NewReader(body))
		if err != nil {
			tb.Fatal(err)
		}
		req.Header = h
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			tb.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp
	}
	h := header.Clone()
	h.Del("Mcp-Protocol-Version")
	resp := post(`{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"bench","version":"1"}}}`, h)
	id := resp.Header.Get("Mcp-Session-Id")
	if resp.StatusCode != http.StatusOK || id == "" {
		tb.Fatalf("%s: initialize: %s, session %q", s.Name, resp.Status, id)
	}
	h = header.Clone()
	h.Set("Mcp-Session-Id", id)
	if resp := post(`{"jsonrpc":"2.0","method":"notifications/initialized"}`, h); resp.StatusCode != http.StatusAccepted {
		tb.Fatalf("%s: notifications/initialized: %s", s.Name, resp.Status)
	}
	return id
}
