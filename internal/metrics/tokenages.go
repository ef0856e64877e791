package metrics

import (
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// refreshTokenAgeBuckets are whole days up to a Testing app's 7-day limit,
// then a few coarse ones: the interesting line is the one at 5 to 7 days.
var refreshTokenAgeBuckets = func() []float64 {
	day := (24 * time.Hour).Seconds()
	var b []float64
	for _, d := range []float64{1, 2, 3, 4, 5, 6, 7, 14, 30, 90} {
		b = append(b, d*day)
	}
	return b
}()

// tokenAgeCollector reports the ages it is handed at each scrape as a
// histogram: how many refresh tokens are how old, never whose.
type tokenAgeCollector struct {
	desc *prometheus.Desc
	ages func() []time.Duration

	// The ages are read from the store (every account's row) at most once
	// a minute: scrapes come every few seconds, and a minute is nothing
	// against day-wide buckets.
	mu     sync.Mutex
	read   time.Time
	cached []time.Duration
}

// tokenAgeReread is how long one reading of the ages serves scrapes.
const tokenAgeReread = time.Minute

func (c *tokenAgeCollector) current() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.read.IsZero() || time.Since(c.read) >= tokenAgeReread {
		c.cached, c.read = c.ages(), time.Now()
	}
	return c.cached
}

func (c *tokenAgeCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *tokenAgeCollector) Collect(ch chan<- prometheus.Metric) {
	counts := make(map[float64]uint64, len(refreshTokenAgeBuckets))
	var sum float64
	ages := c.current()
	for _, a := range ages {
		s := a.Seconds()
		sum += s
		for _, b := range refreshTokenAgeBuckets {
			if s <= b {
				counts[b]++
			}
		}
	}
	ch <- prometheus.MustNewConstHistogram(c.desc, uint64(len(ages)), sum, counts)
}

// RefreshTokenAges registers drivemcp_google_refresh_token_age_seconds, a
// histogram of how long ago Google issued each stored refresh token, read
// from ages when scraped. Apps in Google's "Testing" status lose refresh
// tokens after 7 days, so tokens in the 5–7 day buckets are about to stop
// working there. It carries no account label: metrics hold no personal data.
func (m *Metrics) RefreshTokenAges(ages func() []time.Duration) {
	if m == nil {
		return
	}
	m.reg.MustRegister(&tokenAgeCollector{
		desc: prometheus.NewDesc("drivemcp_google_refresh_token_age_seconds",
			"Age of the stored Google refresh tokens; an app in Google's Testing status loses them at 7 days (604800 s).", nil, nil),
		ages: ages,
	})
}
