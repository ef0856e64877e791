package main

import (
	"context"
	"fmt"
	"io"

	"github.com/drivemcp/drivemcp/internal/config"
	"github.com/drivemcp/drivemcp/internal/doctor"
)

// doctorCmd checks the configuration serve would run with, and the things
// it depends on (internal/doctor), and says for each what to fix. It exits
// non-zero on any ✗.
func doctorCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cmd := config.Doctor()
	offline := cmd.Flags().Bool("offline", false, "check only local things: send no request to Google (or --google-endpoint)")
	cfg, err := parseCommand(cmd, args, stdout, stderr)
	if cfg == nil {
		return err // -h printed the help (nil), or the command line is wrong
	}
	fmt.Fprintln(stdout, "drivemcp doctor: checking the configuration drivemcp serve would run with")
	fmt.Fprintln(stdout)
	failed := doctor.Run(ctx, cfg, err, stdout, doctor.Options{Offline: *offline})
	fmt.Fprintln(stdout)
	if failed > 0 {
		fmt.Fprintf(stdout, "%d problem(s) found.\n", failed)
		return fmt.Errorf("doctor found %d problem(s)", failed)
	}
	fmt.Fprintln(stdout, "All checks passed.")
	return nil
}
