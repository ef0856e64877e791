package mcpserver

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
)

// A stateless server connects a session per request; at the default level
// that must not cost a log line per connect and disconnect.
func TestSDKLogger_SessionLinesOnlyAtDebug(t *testing.T) {
	for _, c := range []struct {
		level slog.Level
		lines bool
	}{{slog.LevelInfo, false}, {slog.LevelDebug, true}} {
		t.Run(c.level.String(), func(t *testing.T) {
			var buf bytes.Buffer
			s := New(Deps{Logger: slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: c.level}))})
			serveStateless(t, s)("tools/list", "{}")
			if got := strings.Contains(buf.String(), `"msg":"server session connected"`); got != c.lines {
				t.Fatalf("session lines logged: %v, want %v; the log:\n%s", got, c.lines, &buf)
			}
			if c.lines && !strings.Contains(buf.String(), `"level":"DEBUG","msg":"server session connected"`) {
				t.Fatalf("session lines not at debug level:\n%s", &buf)
			}
		})
	}
}

// The SDK's warnings and errors reach the log as they are.
func TestSDKLogger_KeepsWarningsAndErrors(t *testing.T) {
	var buf bytes.Buffer
	log := sdkLogger(slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelInfo}))).With("k", "v")
	log.Info("chatter")
	log.Warn("a warning")
	log.Error("an error")
	got := buf.String()
	for _, want := range []string{`"level":"WARN","msg":"a warning","k":"v"`, `"level":"ERROR","msg":"an error","k":"v"`} {
		if !strings.Contains(got, want) {
			t.Errorf("the log lacks %s:\n%s", want, got)
		}
	}
	if strings.Contains(got, "chatter") {
		t.Errorf("an info line was logged at info level:\n%s", got)
	}
}
