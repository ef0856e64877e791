// Package metrics is what drivemcp tells Prometheus: HTTP requests, OAuth
// outcomes, calls to Google, refreshes, uploads and sessions. Labels never
// carry accounts, tokens or client ids: only routes, endpoints, statuses and
// outcome names, so cardinality stays small and nothing personal leaks.
package metrics

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics holds every collector. A nil *Metrics is valid and records
// nothing, so packages and tests need no setup.
type Metrics struct {
	reg            *prometheus.Registry
	httpRequests   *prometheus.CounterVec
	httpDuration   *prometheus.HistogramVec
	oauthOutcomes  *prometheus.CounterVec
	googleCalls    *prometheus.CounterVec
	googleDuration *prometheus.HistogramVec
	refreshes      *prometheus.CounterVec
	uploads        *prometheus.CounterVec
	uploadBytes    prometheus.Counter
	uploadDuration prometheus.Histogram
	uploadRetries  prometheus.Counter
	storeDuration  *prometheus.HistogramVec
}

// New registers drivemcp's collectors (and Go's runtime ones) on a fresh
// registry.
func New() *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry()}
	m.httpRequests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "drivemcp_http_requests_total", Help: "HTTP requests served, by route pattern, method and status code.",
	}, []string{"route", "method", "code"})
	m.httpDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "drivemcp_http_request_duration_seconds", Help: "Time to serve HTTP requests, by route pattern.",
		Buckets: prometheus.ExponentialBuckets(0.0005, 4, 10),
	}, []string{"route"})
	m.oauthOutcomes = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "drivemcp_oauth_outcomes_total", Help: "Authorization server outcomes, by endpoint and outcome (ok or an RFC 6749 error code).",
	}, []string{"endpoint", "outcome"})
	m.googleCalls = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "drivemcp_google_requests_total", Help: "Requests to Google, by endpoint and status code (\"error\" when no answer came).",
	}, []string{"endpoint", "code"})
	m.googleDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "drivemcp_google_request_duration_seconds", Help: "Latency of requests to Google until the response headers, by endpoint.",
		Buckets: prometheus.ExponentialBuckets(0.005, 3, 10),
	}, []string{"endpoint"})
	m.refreshes = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "drivemcp_google_token_refreshes_total", Help: "Google access-token refreshes, by outcome: refreshed, joined (waited for another caller's refresh), reused (another process had refreshed), reconsent (grant dead), failed.",
	}, []string{"outcome"})
	m.uploads = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "drivemcp_uploads_total", Help: "Uploads to Drive, by result (ok or failed).",
	}, []string{"result"})
	m.uploadBytes = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "drivemcp_upload_bytes_total", Help: "Bytes of files uploaded successfully.",
	})
	m.uploadDuration = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name: "drivemcp_upload_duration_seconds", Help: "Time per upload, start to verified finish.",
		Buckets: prometheus.ExponentialBuckets(0.05, 3, 10),
	})
	m.uploadRetries = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "drivemcp_upload_retries_total", Help: "Upload requests that failed and were resumed from what Drive had.",
	})
	m.storeDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "drivemcp_store_operation_duration_seconds", Help: "Latency of store operations, by operation.",
		Buckets: prometheus.ExponentialBuckets(0.0001, 4, 9),
	}, []string{"operation"})
	m.reg.MustRegister(m.httpRequests, m.httpDuration, m.oauthOutcomes, m.googleCalls, m.googleDuration,
		m.refreshes, m.uploads, m.uploadBytes, m.uploadDuration, m.uploadRetries, m.storeDuration,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Handler serves /metrics.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// GaugeFunc registers a gauge read when scraped (e.g. active MCP sessions).
func (m *Metrics) GaugeFunc(name, help string, f func() float64) {
	if m == nil {
		return
	}
	m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, f))
}

// CounterFunc registers a counter read when scraped, for counts kept
// elsewhere (e.g. tool calls the fast path answered).
func (m *Metrics) CounterFunc(name, help string, f func() float64) {
	if m == nil {
		return
	}
	m.reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help}, f))
}

// HTTPRequest records one served request.
func (m *Metrics) HTTPRequest(route, method string, code int, d time.Duration) {
	if m == nil {
		return
	}
	// route is the pattern the mux matched, one of the routes registered
	// at start, never the path a client sent.
	if route == "" {
		route = "unmatched"
	}
	// A Go 1.22 pattern names its method ("POST /oauth/token"); the method
	// has a label of its own, so the route is the path alone, and one route
	// stays one series whichever way it is registered.
	if _, path, ok := strings.Cut(route, " "); ok {
		route = path
	}
	m.httpRequests.WithLabelValues(route, Method(method), statusLabel(code)).Inc()
	m.httpDuration.WithLabelValues(route).Observe(d.Seconds())
}

// knownMethods are the methods a label may name; a client can send any
// token as a method, and each distinct label would be a series kept for the
// life of the process.
var knownMethods = map[string]bool{
	http.MethodGet: true, http.MethodHead: true, http.MethodPost: true, http.MethodPut: true, http.MethodPatch: true,
	http.MethodDelete: true, http.MethodOptions: true, http.MethodConnect: true, http.MethodTrace: true,
}

// Method is the label (and log) form of a request method: the standard
// methods as they are, anything else "other".
func Method(method string) string {
	if knownMethods[method] {
		return method
	}
	return "other"
}

// statusLabel keeps the status label to the codes HTTP defines, so a
// handler's odd code cannot widen it either.
func statusLabel(code int) string {
	if code < 100 || code > 599 {
		return "other"
	}
	return strconv.Itoa(code)
}

// OAuthOutcome records an authorization server outcome ("ok" or an error code).
func (m *Metrics) OAuthOutcome(endpoint, outcome string) {
	if m == nil {
		return
	}
	m.oauthOutcomes.WithLabelValues(endpoint, outcome).Inc()
}

// Refresh records a token refresh outcome.
func (m *Metrics) Refresh(outcome string) {
	if m == nil {
		return
	}
	m.refreshes.WithLabelValues(outcome).Inc()
}

// Upload records a finished upload.
func (m *Metrics) Upload(ok bool, bytes int64, d time.Duration, retries int) {
	if m == nil {
		return
	}
	if !ok {
		m.uploads.WithLabelValues("failed").Inc()
		return
	}
	m.uploads.WithLabelValues("ok").Inc()
	m.uploadBytes.Add(float64(bytes))
	m.uploadDuration.Observe(d.Seconds())
	m.uploadRetries.Add(float64(retries))
}

// StoreOperation records the latency of one store call.
func (m *Metrics) StoreOperation(op string, d time.Duration) {
	if m == nil {
		return
	}
	m.storeDuration.WithLabelValues(op).Observe(d.Seconds())
}

// GoogleTransport counts and times requests to Google made through base.
func (m *Metrics) GoogleTransport(base http.RoundTripper) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
	}
	if m == nil {
		return base
	}
	return roundTripFunc(func(r *http.Request) (*http.Response, error) {
		start := time.Now()
		resp, err := base.RoundTrip(r)
		ep := googleEndpoint(r.URL.Path)
		m.googleDuration.WithLabelValues(ep).Observe(time.Since(start).Seconds())
		code := "error"
		if err == nil {
			code = strconv.Itoa(resp.StatusCode)
		}
		m.googleCalls.WithLabelValues(ep, code).Inc()
		return resp, err
	})
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// googleEndpoint names a Google API by its path, never by ids in it.
func googleEndpoint(path string) string {
	switch {
	case path == "/token":
		return "token"
	case strings.HasSuffix(path, "/userinfo"):
		return "userinfo"
	case path == "/revoke":
		return "revoke"
	case strings.HasPrefix(path, "/upload/"):
		return "drive_upload"
	case strings.HasPrefix(path, "/drive/"):
		return "drive"
	}
	return "other"
}

// Gatherer is the registry behind Handler, for tests that count series.
func (m *Metrics) Gatherer() prometheus.Gatherer { return m.reg }
