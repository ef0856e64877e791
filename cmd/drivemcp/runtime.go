package main

import (
	"errors"
	"flag"
	"io"
	"log/slog"
	"os"

	"github.com/drivemcp/drivemcp/internal/config"
)

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
