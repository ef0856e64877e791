package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"time"

	"github.com/drivemcp/drivemcp/internal/app"

	"github.com/drivemcp/drivemcp/internal/authserver"
	"github.com/drivemcp/drivemcp/internal/config"
	"github.com/drivemcp/drivemcp/internal/google"
)

// login connects a Google account from a terminal with the direct flow: the
// same pending transaction, Google URL and callback as start_google_auth,
// with the callback served on --callback-addr as in stdio mode.
func login(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cmd := config.Local("login", "[--no-browser] [--email EMAIL] [--force] [flags]", true)
	noBrowser := cmd.Flags().Bool("no-browser", false, "print the Google URL but do not open a browser")
	email := cmd.Flags().String("email", "", "the Google account you will sign in with (Google pre-selects it)")
	force := cmd.Flags().Bool("force", false, "ask Google for consent again: renews an account that needs re-consent")
	timeout := cmd.Flags().Duration("timeout", 5*time.Minute, "how long to wait for the sign-in to complete")
	cfg, err := parseCommand(cmd, args, stdout, stderr)
	if cfg == nil || err != nil {
		return err
	}
	if len(cmd.Args()) > 0 {
		return fmt.Errorf("unexpected argument %q: login takes only flags (the account is chosen on Google's page; --email pre-selects it)", cmd.Args()[0])
	}
	b, err := app.Open(ctx, cfg, app.Options{Create: true})
	if err != nil {
		return err
	}
	defer b.Close()
	failed := make(chan error, 1)
	// The login server is serve's (app.Backend.AuthServer), with only the
	// callback listener of serve --stdio: open while this sign-in is
	// pending, on a new port for a Desktop app client.
	auth := b.AuthServer(app.AuthOptions{
		Logger: cliLogger(stderr, cfg), BaseURL: "http://" + cfg.CallbackAddr,
		Loopback: &authserver.LoopbackOptions{
			Addr: cfg.CallbackAddr, Ephemeral: cfg.EphemeralCallback(),
			OnCallback: func(status int) {
				if status >= 400 {
					select {
					case failed <- callbackFailure(status):
					default:
					}
				}
			},
		},
	})
	// Closing lets the browser get its page before the listener goes.
	defer auth.CloseCallbacks()

	// The callback binds this one-off key to the account that signed in:
	// that is how login learns, through the store, who it was, even when
	// another drivemcp (serve --stdio on the same database) answers the
	// callback instead.
	session := "cli-login-" + rand.Text()
	defer b.Store.DeleteSessionBinding(context.WithoutCancel(ctx), session)

	start, err := auth.StartDirectLogin(ctx, authserver.DirectRequest{SessionKey: session, LoginHint: *email, ForceConsent: *force})
	if err != nil {
		return fmt.Errorf("%s %s: %w", cfg.Ref("callback-addr"), cfg.CallbackAddr, err)
	}
	authURL := start.URL
	if start.Elsewhere {
		fmt.Fprintf(stderr, "Note: another program already listens on %s, probably drivemcp serve --stdio. If it uses this database (%s) it completes this login; if not, stop it or use --callback-addr.\n",
			cfg.CallbackAddr, cfg.DB)
	}
	fmt.Fprintf(stdout, "Sign in to Google in a browser on this machine:\n\n  %s\n\n", authURL)
	if !*noBrowser {
		if err := openBrowser(authURL); err == nil {
			fmt.Fprintln(stdout, "(Opened in your browser. If it did not appear, open the URL above yourself.)")
		}
	}
	fmt.Fprintf(stdout, "Waiting up to %s for Google to send the browser back to %s …\n", *timeout, start.RedirectURI)

	connected, err := waitForLogin(ctx, b, session, *timeout, failed)
	if err != nil {
		return err
	}
	acct, err := b.Grants.Account(ctx, connected)
	if err != nil {
		return err
	}
	if len(google.DriveScopesOf(acct.Scopes)) == 0 {
		return fmt.Errorf("%s signed in, but the Google Drive box on Google's page was left unticked, so drivemcp has no access to its Drive: run drivemcp login again and leave the Google Drive box ticked", acct.Email)
	}
	fmt.Fprintf(stdout, "Connected %s (Google scopes: %s).\n", acct.Email, shortScopes(acct.Scopes))
	if *email != "" && google.NormalizeEmail(*email) != acct.Email {
		fmt.Fprintf(stdout, "Note: you signed in as %s, not %s.\n", acct.Email, *email)
	}
	if acct.NeedsReconsent {
		fmt.Fprintf(stdout, "Google sent no refresh token, so this connection lasts about an hour: run drivemcp login --force --email %s to renew it for good.\n", acct.Email)
	}
	return nil
}

// callbackFailure says in a sentence what an error page of the callback
// means; the page in the browser has the details.
func callbackFailure(status int) error {
	switch status {
	case http.StatusForbidden:
		// The callback answers 403 for a Deny on Google's page, for a Drive
		// box left unticked there, and for an account the access policy
		// refuses; the browser page says which.
		return errors.New("access was not granted, so nothing was connected: Deny was chosen on Google's page, or its Google Drive box was left unticked " +
			"(run drivemcp login again, choose Allow and leave the Google Drive box ticked), or the account is not one --allow-accounts / --allow-domains accept " +
			"(the browser page says; sign in with an allowed account)")
	case http.StatusBadRequest:
		return errors.New("the sign-in link had expired or was already used: run drivemcp login again")
	default:
		return fmt.Errorf("the Google sign-in did not complete (HTTP %d; the browser page says why): check the Google client id and secret with drivemcp doctor, then run drivemcp login again", status)
	}
}

// waitForLogin waits until the callback has bound session to an account.
func waitForLogin(ctx context.Context, b *app.Backend, session string, timeout time.Duration, failed <-chan error) (string, error) {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return "", fmt.Errorf("login cancelled: %w", ctx.Err())
		case err := <-failed:
			return "", err
		case <-deadline.C:
			if b.Config.EphemeralCallback() {
				return "", fmt.Errorf("no sign-in completed within %s. Open the URL above and finish on Google's page; if Google showed redirect_uri_mismatch, the client is not of type Desktop app: give its JSON with --google-client-secrets (or drop --google-client-type installed). Then run drivemcp login again (--timeout allows longer)",
					timeout)
			}
			return "", fmt.Errorf("no sign-in completed within %s. Open the URL above and finish on Google's page; if Google showed redirect_uri_mismatch, add %s to the client's authorized redirect URIs in the Google Cloud console. Then run drivemcp login again (--timeout allows longer)",
				timeout, b.Config.LocalCallbackURL())
		case <-tick.C:
			bind, err := b.Store.GetSessionBinding(ctx, session, time.Now())
			if err == nil {
				return bind.Email, nil
			}
		}
	}
}

// openBrowser shows url in the desktop's browser, best effort: a headless
// machine or a missing opener is fine, the URL is printed anyway.
func openBrowser(url string) error {
	var c *exec.Cmd
	switch runtime.GOOS {
	case "darwin":
		c = exec.Command("open", url)
	case "windows":
		c = exec.Command("rundll32", "url.dll,FileProtocolHandler", url)
	default:
		if os.Getenv("DISPLAY") == "" && os.Getenv("WAYLAND_DISPLAY") == "" {
			return errors.New("no graphical display")
		}
		c = exec.Command("xdg-open", url)
	}
	if err := c.Start(); err != nil {
		return err
	}
	go func() { _ = c.Wait() }()
	return nil
}

// shortScopes names Google scopes the way people read them.
func shortScopes(scopes []string) string {
	if len(scopes) == 0 {
		return "none"
	}
	short := make([]string, len(scopes))
	for i, s := range scopes {
		short[i] = google.ShortScope(s)
	}
	return strings.Join(short, ", ")
}
