package bench

import (
	"bytes"
	"context"
	"fmt"
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

// toolCallLoad is the check_drive_auth load on s.
func toolCallLoad(s *server, token string, conns int, d time.Duration) load {
	req := rawRequest("POST", s.Host, "/mcp", mcpHeader(token), checkDriveAuthCall)
	return load{Addr: s.Host, PID: s.PID, Conns: conns, Duration: d, Warmup: d / 5, Requests: 10_000_000,
		Request: func(int) []byte { return req }, Check: checkToolResult}
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
// each concurrency, against `drivemcp serve --stateless` (SQLite) and, in
// the same run, against the TypeScript SDK peer (bench/peer-ts) serving the
// same tool behind requireBearerAuth. Every request is checked. The two
// alternate which goes first at each concurrency.
//
// Reported per concurrency: req/s and latency quantiles of both, the ratio
// of drivemcp's req/s to the peer's, and each server's CPU time per
// request. Then, at the most connections, both get the same open-loop load
// (half what the slower sustained) for latency below saturation.
//
// Sizes: BENCH_LOAD_CONNS (default 1,16,64) and BENCH_LOAD_SECONDS (per
// server and concurrency, default 5). BENCH_TOOLCALL_DB=postgres runs
// drivemcp on DRIVEMCP_TEST_POSTGRES_URL instead of SQLite;
// BENCH_DRIVEMCP_GOGC sets drivemcp's GOGC.
func TestLoadToolCall(t *testing.T) {
	l := newLoadRunner(t)
	runToolCall(l, loadSettingsFromEnv(t))
}

func runToolCall(b runner, set loadSettings) {
	g := e2etest.StartGoogle(b)
	var env []string
	if v := os.Getenv("BENCH_DRIVEMCP_GOGC"); v != "" {
		env = append(env, "GOGC="+v)
	}
	db, args := filepath.Join(b.TempDir(), "drivemcp.db"), []string{"--stateless"}
	if os.Getenv("BENCH_TOOLCALL_DB") == "postgres" {
		db, args = e2etest.PostgresURL(b), append(args, "--secret-key", e2etest.SecretKey())
	}
	ours := startDrivemcpEnv(b, g, db, env, args...)
	peer := startPeer(b)
	tokens := map[*server]string{
		ours: login(b, ours, register(b, ours), "bench@example.com").Access,
		peer: login(b, peer, register(b, peer), "bench@example.com").Access,
	}
	// run measures both servers under the same load, alternating which
	// goes first, and returns drivemcp's figures and the peer's.
	run := func(b runner, first bool, conns int, rate float64) (oursRes, peerRes loadResult) {
		order := []*server{ours, peer}
		if !first {
			order[0], order[1] = peer, ours
		}
		res := map[*server]loadResult{}
		for _, s := range order {
			l := toolCallLoad(s, tokens[s], conns, set.Duration)
			l.Rate = rate
			r, err := l.Run(context.Background())
			if err != nil {
				b.Fatalf("%s: %v", describe(s), err)
			}
			b.Logf("%s, %d connections: %s", s.Name, conns, r)
			if r.Failed > 0 || r.OK == 0 {
				b.Fatalf("%s: %d of %d calls failed: %v", describe(s), r.Failed, r.OK+r.Failed, r.FirstErrs)
			}
			res[s] = r
		}
		return res[ours], res[peer]
	}
	var last struct{ ours, peer loadResult }
	for k, conns := range set.Conns {
		b.Sub(fmt.Sprintf("conns=%d", conns), func(b runner) {
			last.ours, last.peer = run(b, k%2 == 0, conns, 0)
			b.Report(last.ours, last.peer)
		})
	}
	if last.ours.OK == 0 || last.peer.OK == 0 {
		return
	}
	// Latency at the most connections, below saturation: the closed-loop
	// p99 above is queueing (Little's law: connections / throughput), so
	// both servers also get the same fixed offered load, half what the
	// slower of the two sustained.
	conns := set.Conns[len(set.Conns)-1]
	rate := 0.5 * min(last.ours.RPS(), last.peer.RPS())
	b.Sub(fmt.Sprintf("conns=%d/open-loop", conns), func(b runner) {
		o, p := run(b, true, conns, rate)
		b.Logf("offered %.0f req/s to both", rate)
		b.Report(o, p)
		// What the whole run cost in memory: the garbage collector's
		// setting (GOGC) trades it for CPU.
		b.Logf("peak RSS over the run: drivemcp %.1f MiB, peer %.1f MiB",
			float64(peakRSS(b, ours.PID))/(1<<20), float64(peakRSS(b, peer.PID))/(1<<20))
	})
}
