package metrics

import (
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// Google's Testing-mode refresh tokens end at 7 days: the metric shows how
// many stored tokens are how old, in day buckets, with no account label.
func TestRefreshTokenAges_GoogleTestingModeAgesAreAHistogramWithoutAccounts(t *testing.T) {
	m := New()
	day := 24 * time.Hour
	m.RefreshTokenAges(func() []time.Duration { return []time.Duration{day / 2, 5*day + time.Hour, 6 * day, 40 * day} })
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body, _ := io.ReadAll(rec.Body)
	text := string(body)
	for _, want := range []string{
		`drivemcp_google_refresh_token_age_seconds_bucket{le="86400"} 1`,
		`drivemcp_google_refresh_token_age_seconds_bucket{le="432000"} 1`,
		`drivemcp_google_refresh_token_age_seconds_bucket{le="518400"} 3`,
		`drivemcp_google_refresh_token_age_seconds_bucket{le="604800"} 3`,
		`drivemcp_google_refresh_token_age_seconds_count 4`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("metrics lack %s:\n%s", want, text)
		}
	}
	for _, line := range strings.Split(text, "\n") {
		if strings.HasPrefix(line, "drivemcp_google_refresh_token_age") && (strings.Contains(line, "account") || strings.Contains(line, "email") || strings.Contains(line, "@")) {
			t.Errorf("a personal label: %s", line)
		}
	}
}
