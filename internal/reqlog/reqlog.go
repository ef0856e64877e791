// Package reqlog gives every HTTP request an id and one log line, and
// records it in the metrics. The id is returned in X-Request-Id and quoted
// by error pages, so a user's report leads straight to the log line.
package reqlog

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/felixge/httpsnoop"

	"github.com/drivemcp/drivemcp/internal/metrics"
)

type ctxKey struct{}

// RequestID returns the id of the request ctx belongs to ("" outside one).
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(ctxKey{}).(string)
	return id
}

// saneID accepts a caller's X-Request-Id only if it cannot forge log lines.
var saneID = regexp.MustCompile(`^[A-Za-z0-9._-]{8,64}$`)

// Middleware wraps h: request id, one log line per request (never the query
// string: it can carry codes and states), metrics by route pattern.
func Middleware(h http.Handler, log *slog.Logger, m *metrics.Metrics) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := r.Header.Get("X-Request-Id")
		if !saneID.MatchString(id) {
			var b [8]byte
			_, _ = rand.Read(b[:])
			id = hex.EncodeToString(b[:])
		}
		w.Header().Set("X-Request-Id", id)
		// Handlers that see only the request's header (MCP tools, through
		// the go-sdk) quote the id from there.
		r.Header.Set("X-Request-Id", id)
		r = r.WithContext(context.WithValue(r.Context(), ctxKey{}, id))
		// httpsnoop keeps every optional interface of w (Flush, Unwrap for
		// http.ResponseController) that MCP's event streams need, and
		// records the final status, not a 1xx sent before it.
		rec := httpsnoop.CaptureMetrics(h, w, r)
		d := time.Since(start)
		m.HTTPRequest(r.Pattern, r.Method, rec.Code, d)
		level := slog.LevelInfo
		switch {
		case rec.Code >= 500:
			level = slog.LevelWarn
		case strings.HasSuffix(r.Pattern, "/healthz") || strings.HasSuffix(r.Pattern, "/readyz") || strings.HasSuffix(r.Pattern, "/metrics"):
			level = slog.LevelDebug
		}
		if !log.Enabled(r.Context(), level) {
			return
		}
		// The record is made here and handed to the handler: one line per
		// request is worth writing without the boxing of key-value pairs,
		// and without the caller's program counter that Logger.LogAttrs
		// looks up (runtime.Callers) for a source the handler never shows.
		line := slog.NewRecord(start.Add(d), level, "http request", 0)
		line.AddAttrs(slog.String("request_id", id), slog.String("method", metrics.Method(r.Method)),
			slog.String("path", r.URL.Path), slog.String("route", r.Pattern), slog.Int("status", rec.Code),
			slog.Int64("bytes", rec.Written), slog.Float64("duration_ms", float64(d.Microseconds())/1000))
		_ = log.Handler().Handle(r.Context(), line)
	})
}
