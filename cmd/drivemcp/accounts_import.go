package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/drivemcp/drivemcp/internal/app"

	"github.com/drivemcp/drivemcp/internal/config"
	"github.com/drivemcp/drivemcp/internal/google"
	"github.com/drivemcp/drivemcp/internal/legacyimport"
)

// accountsImport moves the older Python server's credential files into the
// sealed store (internal/legacyimport does the work; this wires flags and
// prints one line per file).
func accountsImport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cmd := config.Local("accounts import", "CHECKOUT|CREDENTIALS_DIR|FILE... [flags]", true)
	dryRun := cmd.Flags().Bool("dry-run", false, "say what would be imported and why, asking Google but storing nothing")
	cfg, err := parseCommand(cmd, args, stdout, stderr)
	if cfg == nil || err != nil {
		return err
	}
	if len(cmd.Args()) == 0 {
		cmd.Usage(stderr)
		return errors.New("accounts import needs the older server's checkout, its credentials folder, or credential files")
	}
	files, err := legacyimport.Find(cmd.Args(), os.Getenv)
	if err != nil {
		return err
	}
	// The redirect URI is unused here: the import only refreshes.
	im := &legacyimport.Importer{Upstream: google.NewUpstream(cfg.GoogleClientID, cfg.GoogleClientSecret, cfg.LocalCallbackURL(), google.EndpointsAt(cfg.GoogleEndpoint), nil)}
	if !*dryRun {
		b, err := app.Open(ctx, cfg, app.Options{Create: true})
		if err != nil {
			return err
		}
		defer b.Close()
		im.Upstream, im.Grants = b.Upstream, b.Grants
	}
	noted := map[*legacyimport.Source]bool{}
	imported, failed, needUser := 0, 0, 0
	for _, f := range files {
		if !noted[f.Source] {
			noted[f.Source] = true
			for _, n := range f.Source.Notes {
				fmt.Fprintf(stdout, "note: %s\n", n)
			}
		}
		res, err := im.Import(ctx, f)
		switch {
		case errors.Is(err, legacyimport.ErrNotCredentials):
			fmt.Fprintf(stdout, "skipped  %s: %v\n", f.Name, err)
		case err != nil:
			failed++
			if errors.Is(err, legacyimport.ErrNeedsUser) {
				needUser++
			}
			fmt.Fprintf(stdout, "FAILED   %s: %s\n", f.Name, strings.TrimPrefix(err.Error(), legacyimport.ErrNeedsUser.Error()+": "))
		default:
			imported++
			verb := "imported"
			switch {
			case *dryRun:
				verb = "would import"
			case res.Existed:
				verb = "updated "
			}
			fmt.Fprintf(stdout, "%s %s: %s (Google scopes: %s) — %s\n", verb, f.Name, res.Email, shortScopes(res.Scopes), res.Format)
			for _, n := range res.Notes {
				fmt.Fprintf(stdout, "         note: %s\n", n)
			}
		}
	}
	if imported > 0 && !*dryRun {
		fmt.Fprintf(stderr, "\n%d account(s) now sealed in %s. The files you imported from still hold live Google tokens: delete them, the older server's .auth_encryption_key and .oauth_linkage_prefs.json, and any backups now (docs/migrating.md lists what to delete).\n", imported, cfg.DB)
	}
	if needUser > 0 {
		fmt.Fprintf(stderr, "\n%d file(s) are sealed with a secret only their user holds: those people sign in once with drivemcp login.\n", needUser)
	}
	if *dryRun {
		fmt.Fprintf(stderr, "\nDry run: nothing was stored. Google was asked to refresh each grant, to say truthfully whose it is.\n")
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d credential files could not be imported", failed, len(files))
	}
	if imported == 0 {
		return errors.New("no credential file was found to import")
	}
	return nil
}
