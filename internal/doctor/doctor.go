// Package doctor checks the configuration drivemcp serve would run with,
// and what it depends on (the sealing key, the database, every stored
// grant, Google), and says for each problem what to fix. cmd/drivemcp
// parses the flags and prints; docs/architecture.md has the map.
package doctor

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/drivemcp/drivemcp/internal/app"
	"github.com/drivemcp/drivemcp/internal/config"
	"github.com/drivemcp/drivemcp/internal/google"
	"github.com/drivemcp/drivemcp/internal/loopback"
	"github.com/drivemcp/drivemcp/internal/secrets"
)

// Timeout bounds each call doctor makes to Google or the database.
const Timeout = 5 * time.Second

// Run writes one line per check to w and returns how many failed. cfg is
// the parsed configuration; cfgErr, if a *config.Invalid, lists its
// problems (doctor reports them and goes on checking the rest).
func Run(ctx context.Context, cfg *config.Config, cfgErr error, w io.Writer, o Options) int {
	r := &report{w: w, offline: o.Offline}
	var invalid *config.Invalid
	if errors.As(cfgErr, &invalid) {
		for _, p := range invalid.Problems {
			r.fail("configuration", p.Error(), "")
		}
	} else {
		r.ok("configuration", "valid ("+configSources(cfg)+")")
	}
	checkConfigFile(r, cfg)
	switch {
	case cfg.Demo:
		r.ok("Google", "--demo: an emulator in the serve process plays Google; nothing here reaches real Google")
	case o.Offline:
		r.ok("Google", "--offline: only local things are checked; neither Google nor the accounts' grants are asked")
		checkClient(r, cfg)
		checkRedirectURIs(r, cfg)
	default:
		r.ok("Google", "checking against "+googleDescription(cfg)+" (--offline checks only local things)")
		checkClient(r, cfg)
		checkRedirectURIs(r, cfg)
	}
	if !cfg.Stdio && httpURL(cfg.BaseURL) {
		r.ok("MCP endpoint", fmt.Sprintf("%s/mcp (auth %s)", cfg.BaseURL, cfg.Auth))
	}
	keyOK := checkKey(r, cfg)
	b := checkStore(ctx, r, cfg, keyOK)
	if b != nil {
		checkAccounts(ctx, r, b)
		b.Close()
	}
	if !cfg.Demo && !o.Offline {
		checkGoogleReachable(ctx, r, cfg)
	}
	return r.failed
}

// Options change what Run checks.
type Options struct {
	// Offline checks only local things: no request leaves the machine (a
	// Google refresh, the endpoints' reachability).
	Offline bool
}

// googleDescription names where doctor's Google checks go, so that a
// person running it knows it reaches real Google unless told otherwise.
func googleDescription(cfg *config.Config) string {
	if cfg.GoogleEndpoint != "" {
		return "the Google endpoint " + cfg.GoogleEndpoint
	}
	return "Google's servers (oauth2.googleapis.com, www.googleapis.com)"
}

// report prints one line per check.
type report struct {
	w       io.Writer
	failed  int
	offline bool
}

func (r *report) ok(what, detail string) {
	fmt.Fprintf(r.w, "✓ %s: %s\n", what, detail)
}

// warn is a check that passes today but will not for long: it does not
// make doctor fail.
func (r *report) warn(what, detail, fix string) {
	fmt.Fprintf(r.w, "! %s: %s\n", what, detail)
	if fix != "" {
		fmt.Fprintf(r.w, "    fix: %s\n", fix)
	}
}

func (r *report) fail(what, detail, fix string) {
	r.failed++
	fmt.Fprintf(r.w, "✗ %s: %s\n", what, detail)
	if fix != "" {
		fmt.Fprintf(r.w, "    fix: %s\n", fix)
	}
}

func configSources(cfg *config.Config) string {
	if cfg.File != "" {
		return "flags, environment and " + cfg.File
	}
	return "flags and environment; no --config file"
}

// checkConfigFile: a file holding secrets must not be world-readable (group
// access, as root:drivemcp 0640, is how a service account reads it).
func checkConfigFile(r *report, cfg *config.Config) {
	if cfg.File == "" || runtime.GOOS == "windows" {
		return
	}
	fi, err := os.Stat(cfg.File)
	if err != nil {
		return // already reported as a configuration problem
	}
	holdsSecrets := cfg.Origin("google-client-secret") == config.FromFile || cfg.Origin("secret-key") == config.FromFile
	if perm := fi.Mode().Perm(); holdsSecrets && perm&0o007 != 0 {
		r.fail("configuration file", fmt.Sprintf("%s holds secrets but every user of this machine may read it (mode %#o)", cfg.File, perm),
			"chmod o-rwx "+cfg.File+" (the service's group may keep read access)")
	}
}

func checkClient(r *report, cfg *config.Config) {
	if cfg.GoogleClientID == "" || cfg.GoogleClientSecret == "" {
		return // named among the configuration problems
	}
	from := cfg.Origin("google-client-id").String()
	if cfg.GoogleClientSecretsFile != "" {
		from = cfg.GoogleClientSecretsFile
	}
	if cfg.GoogleEndpoint == "" && !strings.HasSuffix(cfg.GoogleClientID, ".apps.googleusercontent.com") {
		r.fail("Google OAuth client", fmt.Sprintf("%q does not look like a Google client id (they end in .apps.googleusercontent.com)", cfg.GoogleClientID),
			"copy the client id from Google Cloud console → APIs & Services → Credentials, or give --google-client-secrets FILE")
		return
	}
	kind := ""
	if cfg.GoogleClientType != "" {
		kind = ", a " + cfg.GoogleClientType + " client"
	}
	r.ok("Google OAuth client", fmt.Sprintf("%s (from %s%s)", cfg.GoogleClientID, from, kind))
}

// checkRedirectURIs says which redirect URIs the Google console must list
// and, when the client secrets file lists them, whether it does.
func checkRedirectURIs(r *report, cfg *config.Config) {
	var uris []string
	if !cfg.Stdio && httpURL(cfg.BaseURL) {
		uris = append(uris, cfg.BaseURL+"/oauth2callback") // serve over HTTP
	}
	if cfg.CallbackAddr != "" {
		uris = append(uris, cfg.LocalCallbackURL()) // serve --stdio and drivemcp login
	}
	bad := false
	for _, u := range uris {
		parsed, err := url.Parse(u)
		if err != nil {
			continue // named among the configuration problems
		}
		if parsed.Scheme != "https" && !loopback.IsURL(u) {
			bad = true
			r.fail("Google redirect URI", u+" is plain http on a host that is not loopback: Google refuses such redirect URIs",
				"serve drivemcp over https (a TLS proxy) and give that URL as --base-url; keep --callback-addr on 127.0.0.1")
		}
	}
	if bad || len(uris) == 0 {
		return
	}
	switch {
	case cfg.GoogleClientType == "installed":
		for _, u := range uris {
			if !loopback.IsURL(u) {
				r.fail("Google redirect URI", "the client in "+cfg.GoogleClientSecretsFile+" is a Desktop (installed) client, which can only redirect to loopback, not to "+u,
					"create a Web application client in the Google Cloud console, list "+u+" among its authorized redirect URIs, and use its JSON")
				return
			}
		}
		r.ok("Google redirect URIs", "a Desktop client accepts any loopback redirect, such as "+strings.Join(uris, " and "))
	case len(cfg.GoogleRedirectURIs) > 0:
		var missing []string
		for _, u := range uris {
			if !slices.Contains(cfg.GoogleRedirectURIs, u) {
				missing = append(missing, u)
			}
		}
		if len(missing) > 0 {
			r.fail("Google redirect URIs", fmt.Sprintf("%s lists %s but not %s, so Google will answer redirect_uri_mismatch",
				cfg.GoogleClientSecretsFile, strings.Join(cfg.GoogleRedirectURIs, ", "), strings.Join(missing, ", ")),
				"add "+strings.Join(missing, " and ")+" to the client's Authorized redirect URIs in the Google Cloud console, then download its JSON again")
			return
		}
		r.ok("Google redirect URIs", "the client lists "+strings.Join(uris, " and "))
	default:
		r.ok("Google redirect URIs", "the Google console must list "+strings.Join(uris, " and ")+" (not checkable without --google-client-secrets)")
	}
}

// checkKey checks the sealing key; it reports whether one is usable.
func checkKey(r *report, cfg *config.Config) bool {
	if cfg.SecretKey != "" {
		keys, err := secrets.ParseKeys(cfg.SecretKey)
		if err != nil {
			r.fail("sealing key", fmt.Sprintf("%s: %v", cfg.Ref("secret-key"), err), "generate one with: head -c32 /dev/urandom | base64")
			return false
		}
		r.ok("sealing key", fmt.Sprintf("%d key(s) from %s", len(keys), cfg.Ref("secret-key")))
		return true
	}
	path := cfg.KeyFile()
	if path == "" {
		return false // PostgreSQL without --secret-key: a configuration problem already
	}
	fi, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if dbExists(cfg) {
			r.fail("sealing key", "the database exists but its key file "+path+" does not: the Google tokens in it cannot be opened",
				"restore "+path+" from a backup (or give the key as --secret-key); without it, delete the database and have every user sign in again")
			return false
		}
		r.ok("sealing key", path+" does not exist yet; drivemcp creates it (mode 0600) on first use")
		return true
	case err != nil:
		r.fail("sealing key", err.Error(), "")
		return false
	}
	if perm := fi.Mode().Perm(); runtime.GOOS != "windows" && perm&0o077 != 0 {
		r.fail("sealing key", fmt.Sprintf("%s is accessible to other users (mode %#o)", path, perm), "chmod 600 "+path)
		return false
	}
	if _, err := secrets.LoadOrCreateKeyFile(path); err != nil {
		r.fail("sealing key", err.Error(), "")
		return false
	}
	r.ok("sealing key", path+" (mode 0600)")
	return true
}

func dbExists(cfg *config.Config) bool {
	if cfg.IsPostgres() || cfg.DB == "" {
		return false
	}
	_, err := os.Stat(cfg.DB)
	return err == nil
}

// checkStore opens the store (which brings its schema up to date) unless
// that would create something: doctor only looks.
func checkStore(ctx context.Context, r *report, cfg *config.Config, keyOK bool) *app.Backend {
	if cfg.DB == "" {
		return nil
	}
	if !cfg.IsPostgres() && !dbExists(cfg) {
		r.ok("database", cfg.DB+" does not exist yet; drivemcp serve or drivemcp login creates it")
		return nil
	}
	if !keyOK {
		return nil
	}
	b, err := app.Open(ctx, cfg, app.Options{})
	if err != nil {
		r.fail("database", err.Error(), "check --db, the file's permissions and free disk space")
		return nil
	}
	pctx, cancel := context.WithTimeout(ctx, Timeout)
	defer cancel()
	if err := b.Store.Ping(pctx); err != nil {
		r.fail("database", fmt.Sprintf("%s does not answer: %v", cfg.DB, err), "")
		b.Close()
		return nil
	}
	r.ok("database", cfg.DB+" is reachable and its schema up to date")
	return b
}

// checkAccounts makes sure every stored grant can be opened and used.
func checkAccounts(ctx context.Context, r *report, b *app.Backend) {
	accts, err := b.Store.ListGoogleAccounts(ctx)
	if err != nil {
		r.fail("accounts", err.Error(), "")
		return
	}
	if len(accts) == 0 {
		r.ok("accounts", "none connected yet (drivemcp login connects one)")
		return
	}
	var missing *google.MissingKeyError
	if err := b.Grants.CheckKeys(ctx); errors.As(err, &missing) {
		r.fail("secret key", fmt.Sprintf("key id %s, which sealed the grants of %s, is not among the configured keys",
			strings.Join(missing.KeyIDs, ", "), strings.Join(missing.Accounts, ", ")),
			"give that key with --secret-key (comma-separated after the current one), or restore the key file; drivemcp serve refuses to start until then")
	}
	for _, a := range accts {
		if b.Config.Demo {
			r.ok("account "+a.Email, "stored (not checked against the demo emulator)")
			continue
		}
		if r.offline {
			if err := b.Grants.Readable(a); err != nil {
				r.fail("account "+a.Email, err.Error(), "give the key that sealed it (--secret-key), or revoke it and sign in again")
				continue
			}
			r.ok("account "+a.Email, "stored and readable with the configured key (not checked against Google: --offline)")
			continue
		}
		tctx, cancel := context.WithTimeout(ctx, Timeout)
		_, err := b.Grants.Token(tctx, a.Email)
		cancel()
		switch {
		case err == nil:
			age, known := b.Grants.RefreshTokenAge(a)
			if w := google.TestingExpiryWarning(age); known && w != "" {
				r.warn("account "+a.Email, "its Google grant works, but: "+w,
					"publish the app in Google Cloud console (docs/google-setup.md, Testing or In production), or drivemcp login --force --email "+a.Email+" before then")
				continue
			}
			r.ok("account "+a.Email, "its Google grant works")
		case errors.Is(err, google.ErrReconsentNeeded):
			r.fail("account "+a.Email, "Google no longer honours its grant."+google.TestingExpiredHint(a, time.Now()), "drivemcp login --force --email "+a.Email)
		case errors.Is(err, secrets.ErrUnknownKey), errors.Is(err, secrets.ErrCorrupt):
			r.fail("account "+a.Email, "its stored token cannot be opened with the configured key: "+err.Error(),
				"give the key that sealed it (--secret-key, or restore the key file), or revoke it and sign in again")
		default:
			r.fail("account "+a.Email, "its token could not be refreshed: "+err.Error(), "")
		}
	}
}

// checkGoogleReachable sends Google a refresh that cannot succeed, with our
// client, through the same Google client the server uses: invalid_grant
// means Google is reachable and knows the client; invalid_client or
// unauthorized_client means the id or secret is wrong. Other Google hosts
// get a plain request: any HTTP answer means reachable.
func checkGoogleReachable(ctx context.Context, r *report, cfg *config.Config) {
	ep := google.EndpointsAt(cfg.GoogleEndpoint)
	client := &http.Client{Timeout: Timeout}
	hosts := []string{hostOf(ep.TokenURL)}
	if cfg.GoogleClientID != "" && cfg.GoogleClientSecret != "" {
		checkTokenEndpoint(ctx, r, google.NewUpstream(cfg.GoogleClientID, cfg.GoogleClientSecret, "", ep, client), cfg)
	} else {
		hosts = nil
	}
	for _, u := range []string{ep.TokenURL, ep.UserinfoURL, ep.DriveBase} {
		h := hostOf(u)
		if slices.Contains(hosts, h) {
			continue
		}
		hosts = append(hosts, h)
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		if err != nil {
			continue
		}
		resp, err := client.Do(req)
		if err != nil {
			r.fail("Google reachable", fmt.Sprintf("%s: %v", h, err), unreachableFix(cfg))
			continue
		}
		resp.Body.Close()
		r.ok("Google reachable", h)
	}
}

// probeRefreshToken is a refresh token Google cannot know.
const probeRefreshToken = "drivemcp-doctor-probe"

func checkTokenEndpoint(ctx context.Context, r *report, up *google.Upstream, cfg *config.Config) {
	host := hostOf(up.Endpoints().TokenURL)
	_, err := up.Refresh(ctx, probeRefreshToken)
	code, re, answered := google.OAuthError(err)
	switch {
	case err == nil:
		r.fail("Google reachable", host+" accepted a refresh token it cannot know", "check --google-endpoint (or leave it out for Google itself)")
	case !answered:
		r.fail("Google reachable", fmt.Sprintf("%s: %v", host, err), unreachableFix(cfg))
	case code == google.InvalidClient || code == google.UnauthorizedClient:
		r.fail("Google OAuth client", fmt.Sprintf("Google (%s) does not accept the client id and secret: %s", host, oneLine(string(re.Body))),
			"copy the client id and secret again from the Google Cloud console (or download its JSON for --google-client-secrets)")
	case code == google.InvalidGrant:
		r.ok("Google reachable", host+" answers, and accepts the client id and secret")
	default:
		status := "no HTTP answer"
		if re.Response != nil {
			status = re.Response.Status
		}
		r.fail("Google reachable", fmt.Sprintf("%s answered %s to a token request: %s", host, status, oneLine(string(re.Body))),
			"check --google-endpoint (or leave it out for Google itself)")
	}
}

func unreachableFix(cfg *config.Config) string {
	if cfg.GoogleEndpoint != "" {
		return "is the emulator running at " + cfg.Ref("google-endpoint") + " = " + cfg.GoogleEndpoint + "?"
	}
	return "check this machine's network, DNS and HTTPS proxy (HTTPS_PROXY) settings"
}

// httpURL reports whether u is an http(s) URL; a wrong one is already
// named among the configuration problems.
func httpURL(u string) bool {
	p, err := url.Parse(u)
	return err == nil && (p.Scheme == "http" || p.Scheme == "https") && p.Host != ""
}

func hostOf(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return u
	}
	return p.Host
}

func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}
