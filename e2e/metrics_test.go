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
