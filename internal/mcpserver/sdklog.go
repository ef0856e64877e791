package mcpserver

import (
	"context"
	"log/slog"
)

// sdkLogger is the logger the go-sdk's server gets: l, with the SDK's
// info-level records logged at debug level. The SDK logs "server
// connecting", "server session connected" and "server session
// disconnected" at info for every session, and a stateless HTTP server
// makes a session per request, so at the default level every tool call
// wrote three lines about nothing beside reqlog's one (5–7 % of a call's
// CPU, with the writes). --log-level debug still shows them; the SDK's
// warnings and errors are unchanged.
func sdkLogger(l *slog.Logger) *slog.Logger {
	return slog.New(infoAsDebug{l.Handler()})
}

// infoAsDebug logs records below warning level at debug level.
type infoAsDebug struct{ h slog.Handler }

func demote(l slog.Level) slog.Level {
	if l >= slog.LevelInfo && l < slog.LevelWarn {
		return slog.LevelDebug
	}
	return l
}

func (d infoAsDebug) Enabled(ctx context.Context, l slog.Level) bool {
	return d.h.Enabled(ctx, demote(l))
}

func (d infoAsDebug) Handle(ctx context.Context, r slog.Record) error {
	r.Level = demote(r.Level)
	return d.h.Handle(ctx, r)
}

func (d infoAsDebug) WithAttrs(as []slog.Attr) slog.Handler { return infoAsDebug{d.h.WithAttrs(as)} }

func (d infoAsDebug) WithGroup(name string) slog.Handler { return infoAsDebug{d.h.WithGroup(name)} }
