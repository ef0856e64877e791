// Package config turns flags, DRIVEMCP_* environment variables and an
// optional TOML file into a validated Config, for every drivemcp command.
// It holds no globals: cmd/drivemcp builds one per run.
package config

import (
	"encoding/json"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/drivemcp/drivemcp/internal/accesspolicy"
	"github.com/drivemcp/drivemcp/internal/cors"
	"github.com/drivemcp/drivemcp/internal/loopback"
)

// Auth modes for the HTTP transport.
const (
	AuthOAuth = "oauth"
	AuthNone  = "none"
)

// Drive scopes a user can ask for, from least to most privilege.
const (
	ScopeFile     = "file"
	ScopeReadonly = "readonly"
	ScopeFull     = "full"
)

// Config is everything a drivemcp command needs, validated.
type Config struct {
	Addr         string
	BaseURL      string // no trailing slash
	Stdio        bool
	CallbackAddr string
	DB           string // SQLite path or postgres:// URL
	// Google OAuth client. With Demo these are the emulator's demo client.
	GoogleClientID     string
	GoogleClientSecret string
	// GoogleClientSecretsFile is the Google Cloud console JSON the client
	// was read from ("" if given directly).
	GoogleClientSecretsFile string
	// GoogleClientType is "web" or "installed" (Google's Desktop app
	// client): from the client secrets file, or --google-client-type; ""
	// is taken as web.
	GoogleClientType string
	// GoogleRedirectURIs are the redirect URIs the client secrets file
	// lists (web clients carry them), for doctor to compare with ours.
	GoogleRedirectURIs []string
	GoogleEndpoint     string // "" means Google's real hosts
	SecretKey          string // base64, possibly several comma-separated
	Auth               string
	// UploadRoots are the directories upload_file_to_drive may read, each
	// with the accounts that may read it (see uploadroots.go).
	UploadRoots []UploadRoot
	// AllowAccounts and AllowDomains are the access policy: who may use
	// the server at all (both empty: every Google account).
	AllowAccounts []string
	AllowDomains  []string
	// CORSOrigins are the origins whose browser pages may call /mcp and the
	// OAuth endpoints (default: loopback pages, cors.LoopbackOrigins).
	CORSOrigins []string
	cors        *cors.Policy
	DriveScope  string
	// ReadOnly exposes only reading tools and asks Google for
	// drive.readonly (DriveScope is then ScopeReadonly).
	ReadOnly bool
	// Tools, if set, are the only tools exposed; DisableTools are never
	// exposed (names checked by the serve command against the tool list).
	Tools, DisableTools []string
	// AllowPrivateURLs lets fileUrl reach loopback and private addresses.
	AllowPrivateURLs bool
	// Stateless serves MCP without sessions (resolved from
	// StatelessSetting: default on with PostgreSQL).
	Stateless        bool
	StatelessSetting OptionalBool
	// RefreshGrace is how long a rotated refresh token still answers with
	// the same new pair.
	RefreshGrace time.Duration
	// GoogleMaxBackoff caps one wait between retries of a Google call
	// (Google's truncated exponential backoff; default 32 s).
	GoogleMaxBackoff time.Duration
	// ResourcePollInterval is how often a subscribed account's Drive
	// changes feed is polled (resources/subscribe).
	ResourcePollInterval time.Duration
	// UploadCutoff is the largest upload sent as one multipart request;
	// 0 sends every upload through a resumable session.
	UploadCutoff int64
	Demo         bool
	// DemoDB says DB is the demo's own default database, whose accounts
	// the demo may forget (never a database --db named).
	DemoDB   bool
	LogLevel string
	// File is the configuration file that was read (absolute), "" if none.
	File string

	origins        map[string]origin
	uploadRootArgs []string
	// DownloadRoots are the directories download_drive_file writes to over
	// stdio (never over HTTP, where it hands out links instead).
	DownloadRoots    []UploadRoot
	downloadRootArgs []string
	policy           *accesspolicy.Policy
}

// DriveUploadCutoff is UploadCutoff as drive.Uploader's Cutoff takes it:
// there 0 means the default, and negative means never one request.
func (c *Config) DriveUploadCutoff() int64 {
	if c.UploadCutoff <= 0 {
		return -1
	}
	return c.UploadCutoff
}

// IsPostgres reports whether DB names a PostgreSQL database.
// CORS is the policy built from CORSOrigins (nil for commands without the
// setting: their callers use the default).
func (c *Config) CORS() *cors.Policy { return c.cors }

func (c *Config) IsPostgres() bool {
	return strings.HasPrefix(c.DB, "postgres://") || strings.HasPrefix(c.DB, "postgresql://")
}

// CallbackURL is the one Google redirect URI for both flows of the server.
func (c *Config) CallbackURL() string {
	if c.Stdio {
		return c.LocalCallbackURL()
	}
	return c.BaseURL + "/oauth2callback"
}

// Google OAuth client types, as the Cloud console's JSON names them.
const (
	ClientWeb       = "web"
	ClientInstalled = "installed" // "Desktop app" in the console
)

// EphemeralCallback reports whether each local sign-in may listen on a new
// loopback port: Google accepts any loopback port for Desktop app clients
// ("OAuth 2.0 for Mobile & Desktop Apps", loopback IP address), while a Web
// application client only redirects to the exact URIs registered for it.
func (c *Config) EphemeralCallback() bool {
	return c.GoogleClientType == ClientInstalled
}

// LocalCallbackURL is the Google redirect URI of stdio mode and of
// `drivemcp login`: the same URL, so one entry in the Google console
// serves both.
func (c *Config) LocalCallbackURL() string {
	return "http://" + c.CallbackAddr + "/oauth2callback"
}

// KeyFile is where the sealing key lives when --secret-key is not given: a
// file beside the SQLite database. "" when the key comes from --secret-key
// (or the database is PostgreSQL, which requires it).
func (c *Config) KeyFile() string {
	if c.SecretKey != "" || c.IsPostgres() || c.DB == "" {
		return ""
	}
	db, err := filepath.Abs(c.DB)
	if err != nil {
		db = c.DB
	}
	return filepath.Join(filepath.Dir(db), "secret.key")
}

// TrustedLocal reports whether tool calls may name their account with
// user_google_email: only where the caller is the machine's own user.
func (c *Config) TrustedLocal() bool {
	return c.Stdio || c.Auth == AuthNone
}

// ParseServe parses the arguments of `drivemcp serve`. getenv is os.Getenv in
// production and a map lookup in tests.
func ParseServe(args []string, getenv func(string) string) (*Config, error) {
	return Serve().Parse(args, getenv)
}

// complete fills defaults that depend on other settings and returns every
// problem it finds. Only the settings the command takes are checked.
func (cmd *Command) complete(getenv func(string) string) []error {
	c, has := cmd.c, cmd.takes
	var problems []error
	add := func(format string, args ...any) { problems = append(problems, fmt.Errorf(format, args...)) }

	givenType := c.GoogleClientType
	switch givenType {
	case "", ClientWeb, ClientInstalled:
	default:
		add("%s %q is not one of web, installed (Google Cloud console: \"Web application\" or \"Desktop app\")", c.Ref("google-client-type"), givenType)
	}
	if has["google-client-secrets"] && c.GoogleClientSecretsFile != "" {
		if err := c.loadClientSecrets(); err != nil {
			problems = append(problems, err)
		} else if givenType != "" && givenType != c.GoogleClientType {
			add("%s says %s, but %s holds an %q client: drop %s (the file says the type)", c.Ref("google-client-type"), givenType,
				c.GoogleClientSecretsFile, c.GoogleClientType, c.Ref("google-client-type"))
		}
	}
	addrOK := true
	if has["addr"] {
		if _, _, err := net.SplitHostPort(c.Addr); err != nil {
			add("%s %q is not host:port: %v", c.Ref("addr"), c.Addr, err)
			addrOK = false
		}
	}
	// Serve listens on --callback-addr only with --stdio; login and doctor
	// always need it.
	if has["callback-addr"] && (c.Stdio || cmd.kind != kindServe) {
		if _, port, err := net.SplitHostPort(c.CallbackAddr); err != nil {
			add("%s %q is not host:port: %v", c.Ref("callback-addr"), c.CallbackAddr, err)
		} else if port == "0" && !c.Demo && !c.EphemeralCallback() {
			// A Web application client's redirect URI is the registered one,
			// port included; "any port" is what Desktop app clients are for.
			add("%s %s: a Web application client's redirect URI has the fixed port registered in the Google console, so port 0 cannot work. "+
				"Give that port, or use a Desktop app client (its client secrets JSON, or --google-client-type installed), which signs in on any port", c.Ref("callback-addr"), c.CallbackAddr)
		}
	}
	baseOK := false
	if has["base-url"] {
		if c.BaseURL == "" && addrOK {
			c.BaseURL = "http://" + c.Addr
		}
		c.BaseURL = strings.TrimRight(c.BaseURL, "/")
		u, err := url.Parse(c.BaseURL)
		switch {
		case c.BaseURL == "" && !addrOK:
		case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "":
			add("%s %q must be an absolute http(s) URL without query or fragment", c.Ref("base-url"), c.BaseURL)
		default:
			baseOK = true
		}
	}
	if has["cors-origins"] {
		if len(c.CORSOrigins) == 0 {
			c.CORSOrigins = slices.Clone(cors.LoopbackOrigins)
		}
		var err error
		if c.cors, err = cors.New(c.CORSOrigins); err != nil {
			add("%s: %v; give origins such as https://app.example or http://localhost:*", c.Ref("cors-origins"), err)
		}
	}
	if has["upload-cutoff"] && c.UploadCutoff > MaxUploadCutoff {
		add("%s %d is more than 64MiB: a stream below the cutoff is held in memory for retries; give at most 64MiB (the default 5MiB follows Google's advice)", c.Ref("upload-cutoff"), c.UploadCutoff)
	}
	if has["google-endpoint"] && c.GoogleEndpoint != "" {
		c.GoogleEndpoint = strings.TrimRight(c.GoogleEndpoint, "/")
		u, err := url.Parse(c.GoogleEndpoint)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") {
			add("%s %q must be a base URL like http://127.0.0.1:9090 (scheme and host, no path)", c.Ref("google-endpoint"), c.GoogleEndpoint)
		}
	}
	if has["resource-poll-interval"] && c.ResourcePollInterval < time.Minute && c.GoogleEndpoint == "" && !c.Demo {
		// Real Drive is polled at most once a minute per account, whatever
		// the number of subscriptions: the account's quota is its own.
		add("%s %s is shorter than a minute, which is only for emulators: give 1m or more, or --google-endpoint", c.Ref("resource-poll-interval"), c.ResourcePollInterval)
	}
	if has["drive-scope"] {
		switch c.DriveScope {
		case ScopeFile, ScopeReadonly, ScopeFull:
		default:
			add("%s %q is not one of file, readonly, full", c.Ref("drive-scope"), c.DriveScope)
		}
	}
	if has["read-only"] && c.ReadOnly {
		// A read-only server asks Google for no more than it uses.
		switch c.DriveScope {
		case ScopeFull:
			add("%s asks Google for drive.readonly, but %s is full: drop one of them", c.Ref("read-only"), c.Ref("drive-scope"))
		default:
			c.DriveScope = ScopeReadonly
		}
	}
	if has["log-level"] {
		switch c.LogLevel {
		case "debug", "info", "warn", "error":
		default:
			add("%s %q is not one of debug, info, warn, error", c.Ref("log-level"), c.LogLevel)
		}
	}
	if has["auth"] {
		if err := c.completeAuth(addrOK, baseOK); err != nil {
			problems = append(problems, err)
		}
	}
	if has["allow-accounts"] {
		problems = append(problems, c.completePolicy()...)
	}
	if has["upload-root"] {
		problems = append(problems, c.completeUploadRoots(getenv)...)
		problems = append(problems, c.uploadRootExposure()...)
	}
	if has["download-root"] {
		problems = append(problems, c.completeDownloadRoots(getenv)...)
	}
	if has["db"] {
		if c.DB == "" && c.Demo {
			// The emulator's accounts are not the user's: they would show in
			// accounts list and doctor, and outlive the emulator.
			c.DB = DemoDBPath(getenv)
			c.DemoDB = true
		} else if c.DB == "" {
			c.DB = DefaultDBPath(getenv)
		}
		if c.IsPostgres() && c.SecretKey == "" {
			add("--secret-key is required with a PostgreSQL %s: every replica must seal and open Google tokens with the same key (generate one with: head -c32 /dev/urandom | base64)", c.Ref("db"))
		}
		// Several replicas share one PostgreSQL: without sessions any request
		// may reach any replica.
		c.Stateless = c.IsPostgres()
	}
	if c.StatelessSetting.Given {
		c.Stateless = c.StatelessSetting.Value
	}
	if c.Demo {
		if c.GoogleEndpoint != "" {
			add("%s runs its own Google emulator: do not also give %s", c.Ref("demo"), c.Ref("google-endpoint"))
		}
		return problems
	}
	if cmd.needsClient {
		problems = append(problems, c.clientProblems(cmd.kind)...)
	}
	return problems
}

// clientProblems names what is missing of the Google OAuth client.
func (c *Config) clientProblems(k kind) []error {
	demo := ", or try drivemcp with --demo"
	if k == kindLocal {
		demo = ""
	}
	switch {
	case c.GoogleClientID == "" && c.GoogleClientSecret == "":
		return []error{fmt.Errorf("a Google OAuth client is required: give --google-client-id and --google-client-secret, or --google-client-secrets FILE (see docs/google-setup.md)%s", demo)}
	case c.GoogleClientID == "":
		return []error{fmt.Errorf("--google-client-id is missing: the client secret is set, but not the client id it belongs to (both are in the Google Cloud console, or give --google-client-secrets FILE)")}
	case c.GoogleClientSecret == "":
		return []error{fmt.Errorf("--google-client-secret is missing: the client id %s is set, but not its secret (Google Cloud console → Credentials, or give --google-client-secrets FILE)", c.GoogleClientID)}
	}
	return nil
}

func (c *Config) completeAuth(addrOK, baseOK bool) error {
	if c.Stdio {
		return nil // stdio has no HTTP /mcp to protect; the caller is the local user
	}
	if c.Auth == "" {
		c.Auth = AuthOAuth
	}
	switch c.Auth {
	case AuthNone:
		if addrOK && !loopback.IsAddr(c.Addr) {
			return fmt.Errorf("%s lets anyone who can reach %s act as any stored Google account: it is only allowed on a loopback address such as 127.0.0.1:8080", refValue(c, "auth", "none"), c.Addr)
		}
		// A loopback listener with a public base URL sits behind a reverse
		// proxy, which would hand trusted local mode to everyone it serves.
		if baseOK && !loopback.IsURL(c.BaseURL) {
			return fmt.Errorf("%s with %s %s would let everyone who reaches that URL (through a reverse proxy) act as any stored Google account: "+
				"use --auth oauth for a public URL, or drop %s to serve only this computer", refValue(c, "auth", "none"), c.Ref("base-url"), c.BaseURL, c.Ref("base-url"))
		}
	case AuthOAuth:
		if !baseOK {
			return nil
		}
		u, _ := url.Parse(c.BaseURL)
		if u.Scheme != "https" && !loopback.IsHost(u.Hostname()) {
			return fmt.Errorf("%s %s: OAuth needs https except on loopback; put drivemcp behind a TLS proxy and give its https URL", c.Ref("base-url"), c.BaseURL)
		}
	default:
		return fmt.Errorf("%s %q is not one of oauth, none", c.Ref("auth"), c.Auth)
	}
	return nil
}

// refValue names a setting with its value the way it was given: "--auth
// none", "DRIVEMCP_AUTH=none", "auth = none in FILE".
func refValue(c *Config, name, value string) string {
	switch c.origins[name].kind {
	case FromEnvironment:
		return EnvName(name) + "=" + value
	case FromFile:
		return fmt.Sprintf("%s = %q in %s", name, value, c.origins[name].file)
	}
	return "--" + name + " " + value
}

// DefaultDBPath is $XDG_DATA_HOME/drivemcp/drivemcp.db, falling back to
// ~/.local/share as the XDG base directory spec says.
func DefaultDBPath(getenv func(string) string) string {
	dir := getenv("XDG_DATA_HOME")
	if dir == "" {
		dir = filepath.Join(getenv("HOME"), ".local", "share")
	}
	return filepath.Join(dir, "drivemcp", "drivemcp.db")
}

// DemoDBPath is where --demo keeps its state unless --db says otherwise:
// beside the real database, never in it.
func DemoDBPath(getenv func(string) string) string {
	return filepath.Join(filepath.Dir(DefaultDBPath(getenv)), "demo", "drivemcp.db")
}

// loadClientSecrets reads the JSON the Google Cloud console offers for
// download: {"web": {...}} or {"installed": {...}}. Flags given directly
// win over the file's values.
func (c *Config) loadClientSecrets() error {
	path := c.GoogleClientSecretsFile
	ref := c.Ref("google-client-secrets")
	raw, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("%s: %v", ref, err)
	}
	var f map[string]struct {
		ClientID     string   `json:"client_id"`
		ClientSecret string   `json:"client_secret"`
		RedirectURIs []string `json:"redirect_uris"`
	}
	if err := json.Unmarshal(raw, &f); err != nil {
		return fmt.Errorf("%s %s is not the JSON file from the Google Cloud console: %v", ref, path, err)
	}
	for _, kind := range []string{"web", "installed"} {
		if v, ok := f[kind]; ok && v.ClientID != "" {
			if c.GoogleClientID == "" {
				c.GoogleClientID = v.ClientID
			}
			if c.GoogleClientSecret == "" {
				c.GoogleClientSecret = v.ClientSecret
			}
			c.GoogleClientType = kind
			c.GoogleRedirectURIs = v.RedirectURIs
			return nil
		}
	}
	return fmt.Errorf("%s %s has no \"web\" or \"installed\" client with a client_id", ref, path)
}
