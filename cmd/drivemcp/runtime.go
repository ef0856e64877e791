package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"

	"github.com/drivemcp/drivemcp/internal/config"
	"github.com/drivemcp/drivemcp/internal/google"
	"github.com/drivemcp/drivemcp/internal/secrets"
	"github.com/drivemcp/drivemcp/internal/store"
)

// backend is what the local commands (login, accounts, upload) share with
// the server: the same store, the same sealing key and the same Google
// client, built from a Config the way serve builds them.
type backend struct {
	cfg      *config.Config
	store    store.Store
	keys     *secrets.Keyring
	upstream *google.Upstream
	grants   *google.Grants
}

// openBackend opens the store and wires the Google client. With create
// false a SQLite database that does not exist is an error: listing or
// revoking on a mistyped --db must say so, not answer "no accounts" from
// a fresh empty file.
func openBackend(ctx context.Context, cfg *config.Config, create bool) (*backend, error) {
	if !create && !cfg.IsPostgres() {
		if _, err := os.Stat(cfg.DB); errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("there is no drivemcp database at %s, so no Google account is connected there: run drivemcp login, or point --db at the server's database", cfg.DB)
		}
	}
	st, keys, err := openStore(ctx, cfg)
	if err != nil {
		return nil, err
	}
	// The redirect URI only matters to login; it is the stdio server's, so
	// one entry in the Google console serves both.
	up := google.NewUpstream(cfg.GoogleClientID, cfg.GoogleClientSecret, cfg.LocalCallbackURL(), google.EndpointsAt(cfg.GoogleEndpoint), nil)
	return &backend{cfg: cfg, store: st, keys: keys, upstream: up, grants: google.NewGrants(st, keys, up)}, nil
}

func (b *backend) Close() error { return b.store.Close() }

// parseCommand parses a command's line. On -h it prints the help and
// returns a nil Config and a nil error: the command is done. A wrong
// command line prints the help to stderr.
func parseCommand(cmd *config.Command, args []string, stdout, stderr io.Writer) (*config.Config, error) {
	cfg, err := cmd.Parse(args, os.Getenv)
	switch {
	case errors.Is(err, flag.ErrHelp):
		cmd.Usage(stdout)
		return nil, nil
	case err != nil && cfg == nil:
		cmd.Usage(stderr)
		return nil, err
	}
	return cfg, err
}

// cliLogger logs for a local command: warnings only, unless the user asked
// for more with --log-level, since the command prints what matters itself.
func cliLogger(w io.Writer, cfg *config.Config) *slog.Logger {
	level := slog.LevelWarn
	if cfg.Origin("log-level") != config.FromDefault {
		_ = level.UnmarshalText([]byte(cfg.LogLevel))
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level}))
}
