package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/drivemcp/drivemcp/internal/app"

	"github.com/drivemcp/drivemcp/internal/config"
	"github.com/drivemcp/drivemcp/internal/google"
	"github.com/drivemcp/drivemcp/internal/store"
)

const accountsUsage = `Usage:
  drivemcp accounts list [--json]       the connected Google accounts
  drivemcp accounts revoke EMAIL...     revoke at Google and forget here
  drivemcp accounts import DIR|FILE...  import the older Python server's credentials/*.json

Run "drivemcp accounts <command> -h" for the flags.
`

// accounts manages the Google accounts in the store.
func accounts(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, accountsUsage)
		return errors.New("accounts needs a command: list, revoke or import")
	}
	switch args[0] {
	case "list":
		return accountsList(ctx, args[1:], stdout, stderr)
	case "revoke":
		return accountsRevoke(ctx, args[1:], stdout, stderr)
	case "import":
		return accountsImport(ctx, args[1:], stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, accountsUsage)
		return nil
	}
	fmt.Fprint(stderr, accountsUsage)
	return fmt.Errorf("unknown accounts command %q", args[0])
}

// accountView is one account as `accounts list` shows it.
type accountView struct {
	Email       string     `json:"email"`
	Scopes      []string   `json:"scopes"`
	LastRefresh *time.Time `json:"last_refresh"`
	// RefreshTokenAgeDays: apps in Google's Testing status lose refresh
	// tokens at 7 days, so their age is worth seeing.
	RefreshTokenAgeDays *float64 `json:"refresh_token_age_days,omitempty"`
	Status              string   `json:"status"`
}

const (
	statusOK        = "ok"
	statusReconsent = "needs re-consent"
)

func accountsList(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cmd := config.Local("accounts list", "[--json] [flags]", false)
	asJSON := cmd.Flags().Bool("json", false, "print JSON instead of a table")
	cfg, err := parseCommand(cmd, args, stdout, stderr)
	if cfg == nil || err != nil {
		return err
	}
	if len(cmd.Args()) > 0 {
		return fmt.Errorf("unexpected argument %q: accounts list takes only flags", cmd.Args()[0])
	}
	b, err := app.Open(ctx, cfg, app.Options{})
	if err != nil {
		return err
	}
	defer b.Close()
	accts, err := b.Store.ListGoogleAccounts(ctx)
	if err != nil {
		return fmt.Errorf("listing accounts: %w", err)
	}
	views := make([]accountView, 0, len(accts))
	for _, a := range accts {
		views = append(views, viewAccount(a))
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(views)
	}
	if len(views) == 0 {
		fmt.Fprintln(stdout, "No Google account is connected. Run drivemcp login to connect one.")
		return nil
	}
	writeAccountsTable(stdout, views)
	for i, v := range views {
		if v.Status == statusReconsent {
			fmt.Fprintf(stderr, "%s must consent again: run drivemcp login --force --email %s\n", v.Email, v.Email)
		}
		// Warn before Google's 7-day limit for Testing apps ends the token,
		// not only after it did.
		if a := accts[i]; !a.NeedsReconsent && !a.RefreshTokenObtainedAt.IsZero() {
			if w := google.TestingExpiryWarning(time.Since(a.RefreshTokenObtainedAt)); w != "" {
				fmt.Fprintf(stderr, "%s: %s From the command line: drivemcp login --force --email %s\n", v.Email, w, v.Email)
			}
		}
	}
	return nil
}

func viewAccount(a store.GoogleAccount) accountView {
	v := accountView{Email: a.Email, Scopes: a.Scopes, Status: statusOK}
	if v.Scopes == nil {
		v.Scopes = []string{}
	}
	if !a.LastRefreshAt.IsZero() {
		t := a.LastRefreshAt.UTC()
		v.LastRefresh = &t
	}
	if a.NeedsReconsent {
		v.Status = statusReconsent
	} else if !a.RefreshTokenObtainedAt.IsZero() {
		days := math.Round(time.Since(a.RefreshTokenObtainedAt).Hours()/24*10) / 10
		v.RefreshTokenAgeDays = &days
	}
	return v
}

// writeAccountsTable prints aligned columns. Times are UTC so that the
// output reads the same on every machine (and in the golden test).
func writeAccountsTable(w io.Writer, views []accountView) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "EMAIL\tSCOPES\tLAST REFRESH\tTOKEN AGE\tSTATUS")
	for _, v := range views {
		last := "never"
		if v.LastRefresh != nil {
			last = v.LastRefresh.Format("2006-01-02 15:04 UTC")
		}
		short := make([]string, len(v.Scopes))
		for i, s := range v.Scopes {
			short[i] = google.ShortScope(s)
		}
		age := "-" // unknown: signed in before drivemcp recorded it, or no usable token
		if v.RefreshTokenAgeDays != nil {
			age = fmt.Sprintf("%.1f days", *v.RefreshTokenAgeDays)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", v.Email, strings.Join(short, ","), last, age, v.Status)
	}
	_ = tw.Flush()
}

func accountsRevoke(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cmd := config.Local("accounts revoke", "EMAIL... [flags]", false)
	cfg, err := parseCommand(cmd, args, stdout, stderr)
	if cfg == nil || err != nil {
		return err
	}
	if len(cmd.Args()) == 0 {
		cmd.Usage(stderr)
		return errors.New("accounts revoke needs the email of the account to revoke (drivemcp accounts list shows them)")
	}
	b, err := app.Open(ctx, cfg, app.Options{})
	if err != nil {
		return err
	}
	defer b.Close()
	failed := 0
	for _, email := range cmd.Args() {
		email = google.NormalizeEmail(email)
		err := b.Grants.Revoke(ctx, email)
		switch {
		case errors.Is(err, google.ErrNoAccount):
			failed++
			fmt.Fprintf(stderr, "%s is not connected; drivemcp accounts list shows the accounts that are.\n", email)
		case err != nil && storeHasNo(ctx, b, email):
			// Gone here; only Google's side failed.
			failed++
			fmt.Fprintf(stderr, "Removed %s from drivemcp, but Google could not be told (%v). Revoke drivemcp's access at https://myaccount.google.com/permissions.\n", email, err)
		case err != nil:
			failed++
			fmt.Fprintf(stderr, "Could not revoke %s: %v\n", email, err)
		default:
			fmt.Fprintf(stdout, "Revoked %s at Google and removed it from drivemcp.\n", email)
		}
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d accounts not revoked cleanly", failed, len(cmd.Args()))
	}
	return nil
}

// storeHasNo reports whether the account is gone from the store.
func storeHasNo(ctx context.Context, b *app.Backend, email string) bool {
	_, err := b.Store.GetGoogleAccount(ctx, email)
	return errors.Is(err, store.ErrNotFound)
}
