// Package roundtrips measures what users feel of Google's distance: how
// many requests to Google each tool call makes, and how long the call
// takes when every request costs a round trip. The real binary runs over
// stdio against the emulator, which waits BENCH_RTT (default 50 ms) before
// each answer. See bench/README.md for the method and the last results.
package roundtrips

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/drivemcp/drivemcp/internal/e2etest"
)

var binary string

func TestMain(m *testing.M) { e2etest.MainWithBinary(m, &binary) }

const account = "bench@example.com"

// env is one signed-in server with the files the rows use.
type env struct {
	g        *e2etest.Google
	s        *mcp.ClientSession
	dir      string
	textFile string // a text file in Drive, for get_drive_file_content
	seq      atomic.Int64
}

func start(tb testing.TB) *env {
	tb.Helper()
	dir := tb.TempDir()
	e2etest.WriteRandomFile(tb, dir, "100k.bin", 100<<10)
	g := e2etest.StartGoogle(tb)
	s := e2etest.StartStdio(tb, e2etest.Config{Binary: binary, DB: filepath.Join(tb.TempDir(), "db"), UploadRoots: []string{dir}, Google: g})
	e2etest.Connect(tb, s.Session, account)
	g.SeedFile("friend@example.com", "hello", "x") // a person Google knows, to share with
	e := &env{g: g, s: s.Session, dir: dir}
	// Warm up: the first Drive call may refresh the account's token.
	res := e2etest.MustCall(tb, e.s, "create_drive_file", map[string]any{"file_name": "notes.txt", "content": strings.Repeat("text ", 200)})
	e.textFile, _ = e2etest.Structured(tb, res)["file_id"].(string)
	e2etest.MustCall(tb, e.s, "create_drive_folder", map[string]any{"folder_path": "Existing/A/B"})
	e2etest.MustCall(tb, e.s, "create_drive_file", map[string]any{"file_name": "warm.txt", "content": "x", "folder_path": "Existing/A/B"})
	return e
}

// row is one line of the table: a tool call and the fewest Google
// requests it can make (the floor).
type row struct {
	name  string
	floor int64 // the target: at most this many requests
	shown string
	call  func(tb testing.TB, e *env)
}

var rows = []row{
	{"check_drive_auth", 0, "0", func(tb testing.TB, e *env) {
		e2etest.MustCall(tb, e.s, "check_drive_auth", map[string]any{})
	}},
	{"upload_100KiB", 1, "1", func(tb testing.TB, e *env) {
		e2etest.MustCall(tb, e.s, "upload_file_to_drive", map[string]any{"filepath": "100k.bin"})
	}},
	{"create_drive_file_1KiB", 1, "1", func(tb testing.TB, e *env) {
		e2etest.MustCall(tb, e.s, "create_drive_file", map[string]any{"file_name": "one.txt", "content": strings.Repeat("x", 1<<10)})
	}},
	{"upload_new_folder_path_RT/A/B", 5, "≤ 5", func(tb testing.TB, e *env) {
		// A path no call has seen: a new top folder each time.
		path := fmt.Sprintf("RT%d/A/B", e.seq.Add(1))
		e2etest.MustCall(tb, e.s, "create_drive_file", map[string]any{"file_name": "f.txt", "content": "x", "folder_path": path})
	}},
	{"upload_existing_folder_path", 1, "1", func(tb testing.TB, e *env) {
		e2etest.MustCall(tb, e.s, "create_drive_file", map[string]any{"file_name": "g.txt", "content": "x", "folder_path": "Existing/A/B"})
	}},
	{"get_drive_file_content_text", 2, "≤ 2", func(tb testing.TB, e *env) {
		e2etest.MustCall(tb, e.s, "get_drive_file_content", map[string]any{"file_id": e.textFile})
	}},
	{"share_one_file_one_person", 2, "1–2", func(tb testing.TB, e *env) {
		e2etest.MustCall(tb, e.s, "share_drive_files", map[string]any{"file_ids": []string{e.textFile},
			"email_addresses": []string{"friend@example.com"}, "send_notification": false})
	}},
}

// measure runs call and returns the Google requests it made and its time.
func measure(tb testing.TB, e *env, call func(testing.TB, *env)) (int64, time.Duration) {
	before := e.g.Stats().Requests
	t0 := time.Now()
	call(tb, e)
	return e.g.Stats().Requests - before, time.Since(t0)
}

// TestRoundTrips is the benchmark's smoke version, run by `go test ./...`:
// with no simulated round trip, every row's tool call makes at most its
// floor of Google requests. Counts, not times.
func TestRoundTrips(t *testing.T) {
	e := start(t)
	for _, r := range rows {
		for i := range 2 { // twice: a cache must not make the first call the only cheap one
			if n, _ := measure(t, e, r.call); n > r.floor {
				t.Errorf("%s (call %d): %d Google requests, the floor is %s", r.name, i+1, n, r.shown)
			}
		}
	}
}

// BenchmarkRoundTrips reports, per row, Google requests per call, the
// floor, wall time per call and its ratio to floor × round trip (target
// ≤ 1.2). Run with `make bench`, or:
//
//	go test -run '^$' -bench RoundTrips -benchtime 10x ./bench/roundtrips/
func BenchmarkRoundTrips(b *testing.B) {
	rtt := 50 * time.Millisecond
	if v := os.Getenv("BENCH_RTT"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			b.Fatalf("BENCH_RTT: %v", err)
		}
		rtt = d
	}
	e := start(b)
	e.g.SetRoundTrip(rtt)
	b.Cleanup(func() { e.g.SetRoundTrip(0) })
	for _, r := range rows {
		b.Run(strings.ReplaceAll(r.name, "/", "-"), func(b *testing.B) {
			var requests int64
			var wall time.Duration
			b.ResetTimer()
			for b.Loop() {
				n, d := measure(b, e, r.call)
				requests += n
				wall += d
			}
			calls := float64(b.N)
			b.ReportMetric(float64(requests)/calls, "google-req/op")
			b.ReportMetric(float64(r.floor), "floor-req")
			b.ReportMetric(float64(wall.Milliseconds())/calls, "wall-ms/op")
			if r.floor > 0 {
				b.ReportMetric(float64(wall)/calls/float64(time.Duration(r.floor)*rtt), "x-floor-time")
			}
			if float64(requests)/calls > float64(r.floor) {
				b.Errorf("%s: %.1f Google requests per call, the floor is %s", r.name, float64(requests)/calls, r.shown)
			}
		})
	}
}
