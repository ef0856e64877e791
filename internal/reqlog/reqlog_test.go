package reqlog

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/drivemcp/drivemcp/internal/metrics"
)

// httpSeries counts the series of drivemcp's HTTP metrics, gathered from
// the registry in process.
func httpSeries(t *testing.T, m *metrics.Metrics) int {
	t.Helper()
	families, err := m.Gatherer().Gather()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, f := range families {
		if strings.HasPrefix(f.GetName(), "drivemcp_http_") {
			n += len(f.GetMetric())
		}
	}
	return n
}

// Anyone may send any method and any path without a token; were either a
// label as sent, every new one would add a series that is never freed (the
// attack: 300 requests with 32 KB methods grew the process by 38 MB).
func TestMetrics_InventedMethodsAndPathsDoNotGrowSeries(t *testing.T) {
	m := metrics.New()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {})
	mux.HandleFunc("/mcp", func(w http.ResponseWriter, r *http.Request) {})
	mux.HandleFunc("POST /oauth/token", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusBadRequest) })
	h := Middleware(mux, slog.New(slog.NewTextHandler(io.Discard, nil)), m)

	// The ordinary requests first: their series are the most there may be.
	for _, method := range []string{"GET", "POST", "DELETE", "OPTIONS", "HEAD"} {
		for _, path := range []string{"/healthz", "/mcp", "/oauth/token", "/nowhere"} {
			h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(method, path, nil))
		}
	}
	before := httpSeries(t, m)
	long := strings.Repeat("X", 32<<10)
	for i := range 10_000 {
		method := fmt.Sprintf("FOO%d", i)
		if i%1000 == 0 {
			method += long
		}
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(method, fmt.Sprintf("/x/%d", i), nil))
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(method, "/mcp", nil))
	}
	after := httpSeries(t, m)
	// Invented methods may add one "other" series per route and status
	// they reach, no more.
	if after > before+8 {
		t.Fatalf("10,000 invented methods and paths grew the HTTP series from %d to %d", before, after)
	}
}

// A handler may send 103 Early Hints before its answer; the log line and
// the metrics must carry the answer's status, not the interim one, and an
// event stream behind the log must still be able to flush through it.
func TestMiddleware_LogsTheFinalStatusAndStillFlushes(t *testing.T) {
	var logged strings.Builder
	flushErr := make(chan error, 1)
	h := Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusEarlyHints)
		w.WriteHeader(http.StatusTeapot)
		_, _ = io.WriteString(w, "short and stout")
		flushErr <- http.NewResponseController(w).Flush()
	}), slog.New(slog.NewTextHandler(&logged, nil)), metrics.New())
	srv := httptest.NewServer(h)
	defer srv.Close()
	resp, err := srv.Client().Get(srv.URL + "/pot")
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if err := <-flushErr; err != nil {
		t.Errorf("Flush did not reach the connection through the request log: %v", err)
	}
	srv.Close() // the log line is written before the handler returns to the server
	if !strings.Contains(logged.String(), "status=418") || !strings.Contains(logged.String(), "bytes=15") {
		t.Errorf("log line should carry the final status 418 and 15 bytes: %s", logged.String())
	}
}
