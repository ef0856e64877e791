package e2e

import (
	"io"
	"net/http"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/drivemcp/drivemcp/internal/e2etest"
)

// An operator watching /metrics sees a login and an upload happen, and no
// account or token ever appears there.
func TestMetrics_CountLoginAndUpload(t *testing.T) {
	g := e2etest.StartGoogle(t)
	srv := e2etest.StartHTTP(t, e2etest.Config{Binary: binary, DB: filepath.Join(t.TempDir(), "db"), Google: g})
	s := connectOAuth(t, srv.BaseURL, e2etest.NewBrowser("erin@example.com"))
	e2etest.MustCall(t, s, "create_drive_file", map[string]any{"file_name": "counted.txt", "content": "12345"})

	resp, err := http.Get(srv.BaseURL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	text := string(raw)
	for _, series := range []string{
		`drivemcp_oauth_outcomes_total{endpoint="register",outcome="ok"}`,
		`drivemcp_oauth_outcomes_total{endpoint="token",outcome="ok"}`,
		`drivemcp_oauth_outcomes_total{endpoint="authorize",outcome="ok"}`,
		`drivemcp_uploads_total{result="ok"}`,
		`drivemcp_upload_bytes_total`,
		`drivemcp_google_requests_total{code="200",endpoint="token"}`,
		`drivemcp_google_requests_total{code="200",endpoint="drive_upload"}`,
		`drivemcp_http_requests_total{code="200",method="POST",route="/oauth/token"}`,
		`drivemcp_store_operation_duration_seconds_count{operation="redeem_auth_code"}`,
	} {
		if v := metricValue(text, series); v < 1 {
			t.Errorf("%s = %v, want ≥ 1", series, v)
		}
	}
	if v := metricValue(text, `drivemcp_upload_bytes_total`); v != 5 {
		t.Errorf("upload bytes = %v, want 5", v)
	}
	if strings.Contains(text, "erin@") || strings.Contains(text, "dmcp_") || strings.Contains(text, "ya29.") {
		t.Fatal("/metrics mentions an account or a token")
	}
}

// metricValue reads one series' value from the Prometheus text format.
func metricValue(text, series string) float64 {
	re := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(series) + ` ([0-9.e+-]+)$`)
	m := re.FindStringSubmatch(text)
	if m == nil {
		return -1
	}
	v, _ := strconv.ParseFloat(m[1], 64)
	return v
}

// An assistant on an MCP session (revision 2025-11-25, stateful serve)
// gets its plain calls answered by the fast path — the operator sees them
// counted — can resume a broken answer's stream from the events kept for
// it, and when it disconnects its session is gone at once: the session's
// id no longer reaches a tool through either path.
func TestMetrics_SessionCallsTakeTheFastPathAndEndWithTheSession(t *testing.T) {
	g := e2etest.StartGoogle(t)
	srv := e2etest.StartHTTP(t, e2etest.Config{Binary: binary, DB: filepath.Join(t.TempDir(), "db"), Google: g})
	c := hostileToken(t, srv.BaseURL, "fiona@example.com", "drive.file")
	session := c.openSession(t, map[string]string{"Authorization": "Bearer " + c.access}, "2025-11-25")
	const calls = 6
	var last string
	for i := range calls {
		status, _, body := c.post(t, session, rawToolCall(10+i, "check_drive_auth", map[string]any{}))
		if status != 200 || !strings.Contains(body, "fiona@example.com") {
			t.Fatalf("call %d: %d %s", i, status, body)
		}
		last = body
	}
	text := metricsOf(t, srv)
	// The first call may beat the SDK's handling of notifications/initialized
	// (then the SDK answers it); every later one finds the session known.
	if v := metricValue(text, "drivemcp_mcp_fast_path_calls_total"); v < calls-1 {
		t.Errorf("fast path answered %v of %d calls on the session, want ≥ %d", v, calls, calls-1)
	}
	if v := metricValue(text, "drivemcp_mcp_session_event_bytes"); v <= 0 {
		t.Errorf("session event bytes = %v, want the calls' events kept for resumption", v)
	}

	// The last answer's stream, resumed after its priming event, replays the answer.
	prime := regexp.MustCompile(`(?m)^id: (\S+_0)$`).FindStringSubmatch(last)
	if prime == nil {
		t.Fatalf("no priming event in %q", last)
	}
	status, _, replay := c.do(t, http.MethodGet, withHeader(session, "Last-Event-ID", prime[1]), "")
	answer := last[strings.Index(last, "event: message"):]
	if status != 200 || !strings.Contains(replay, answer) {
		t.Errorf("resuming the stream: %d %q, want the answer %q again", status, replay, answer)
	}

	if status, _, body := c.do(t, http.MethodDelete, session, ""); status != http.StatusNoContent {
		t.Fatalf("DELETE: %d %s", status, body)
	}
	if v := metricValue(metricsOf(t, srv), "drivemcp_mcp_sessions"); v != 0 {
		t.Errorf("%v sessions open after the client disconnected, want 0", v)
	}
	if status, _, body := c.post(t, session, rawToolCall(99, "check_drive_auth", map[string]any{})); status != http.StatusNotFound {
		t.Errorf("a call on the closed session got %d %s, want 404", status, body)
	}
}
