// Package config turns flags and DRIVEMCP_* environment variables into a
// validated Config. It holds no globals: cmd/drivemcp builds one per run.
package config

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
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

// Config is everything `drivemcp serve` needs, validated.
type Config struct {
	Addr         string
	BaseURL      string // no trailing slash
	Stdio        bool
	CallbackAddr string
	DB           string // SQLite path or postgres:// URL
	// Google OAuth client. With Demo these are the emulator's demo client.
	GoogleClientID     string
	GoogleClientSecret string
	GoogleEndpoint     string // "" means Google's real hosts
	SecretKey          string // base64, possibly several comma-separated
	Auth               string
	UploadRoots        []string
	DriveScope         string
	Demo               bool
	LogLevel           string
}

// IsPostgres reports whether DB names a PostgreSQL database.
func (c *Config) IsPostgres() bool {
	return strings.HasPrefix(c.DB, "postgres://") || strings.HasPrefix(c.DB, "postgresql://")
}

// CallbackURL is the one Google redirect URI for both flows.
func (c *Config) CallbackURL() string {
	if c.Stdio {
		return "http://" + c.CallbackAddr + "/oauth2callback"
	}
	return c.BaseURL + "/oauth2callback"
}

// TrustedLocal reports whether tool calls may name their account with
// user_google_email: only where the caller is the machine's own user.
func (c *Config) TrustedLocal() bool {
	return c.Stdio || c.Auth == AuthNone
}

// stringList is a repeatable flag.
type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, string(os.PathListSeparator)) }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

// ParseServe parses the arguments of `drivemcp serve`. getenv is os.Getenv in
// production and a map lookup in tests.
func ParseServe(args []string, getenv func(string) string) (*Config, error) {
	c := &Config{}
	var roots stringList
	var secretsFile string
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(new(strings.Builder)) // errors are returned, usage is printed by cmd
	fs.StringVar(&c.Addr, "addr", "127.0.0.1:8080", "HTTP listen address")
	fs.StringVar(&c.BaseURL, "base-url", "", "public URL of this server (default http://<addr>)")
	fs.BoolVar(&c.Stdio, "stdio", false, "speak MCP on stdin/stdout")
	fs.StringVar(&c.CallbackAddr, "callback-addr", "127.0.0.1:8765", "with --stdio: where the Google callback is served")
	fs.StringVar(&c.DB, "db", "", "SQLite file path or postgres:// URL (default $XDG_DATA_HOME/drivemcp/drivemcp.db)")
	fs.StringVar(&c.GoogleClientID, "google-client-id", "", "Google OAuth client id")
	fs.StringVar(&c.GoogleClientSecret, "google-client-secret", "", "Google OAuth client secret")
	fs.StringVar(&secretsFile, "google-client-secrets", "", "client secrets JSON downloaded from the Google Cloud console")
	fs.StringVar(&c.GoogleEndpoint, "google-endpoint", "", "send every Google call to this base URL (emulators, tests)")
	fs.StringVar(&c.SecretKey, "secret-key", "", "base64 of 32 bytes sealing stored Google tokens; several comma-separated keys: the first seals, all open")
	fs.StringVar(&c.Auth, "auth", "", "oauth|none: how /mcp is protected (none only on loopback)")
	fs.Var(&roots, "upload-root", "directory upload_file_to_drive may read (repeatable)")
	fs.StringVar(&c.DriveScope, "drive-scope", ScopeFile, "file|readonly|full: the Google Drive scope requested")
	fs.BoolVar(&c.Demo, "demo", false, "run the built-in Google emulator (NOT real Google) and use it")
	fs.StringVar(&c.LogLevel, "log-level", "info", "debug|info|warn|error")
	if err := parseWithEnv(fs, args, getenv); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q: serve takes only flags", fs.Arg(0))
	}
	c.UploadRoots = roots
	if secretsFile != "" {
		if err := c.loadClientSecrets(secretsFile); err != nil {
			return nil, err
		}
	}
	return c, c.finish(getenv)
}

// parseWithEnv parses args, then fills each flag not given on the command
// line from DRIVEMCP_<NAME>, so flags win over the environment.
func parseWithEnv(fs *flag.FlagSet, args []string, getenv func(string) string) error {
	if err := fs.Parse(args); err != nil {
		return err
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		if given[f.Name] || err != nil {
			return
		}
		env := EnvName(f.Name)
		v := getenv(env)
		if v == "" {
			return
		}
		if _, repeatable := f.Value.(*stringList); repeatable {
			for _, part := range filepath.SplitList(v) {
				if part != "" {
					_ = f.Value.Set(part)
				}
			}
			return
		}
		if e := f.Value.Set(v); e != nil {
			err = fmt.Errorf("environment variable %s=%q: %v", env, v, e)
		}
	})
	return err
}

// EnvName is the environment variable that stands for a flag.
func EnvName(flagName string) string {
	return "DRIVEMCP_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// finish fills defaults that depend on other settings and validates.
func (c *Config) finish(getenv func(string) string) error {
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		return fmt.Errorf("--addr %q is not host:port: %v", c.Addr, err)
	}
	if c.Stdio {
		if _, _, err := net.SplitHostPort(c.CallbackAddr); err != nil {
			return fmt.Errorf("--callback-addr %q is not host:port: %v", c.CallbackAddr, err)
		}
	}
	if c.BaseURL == "" {
		c.BaseURL = "http://" + c.Addr
	}
	c.BaseURL = strings.TrimRight(c.BaseURL, "/")
	u, err := url.Parse(c.BaseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("--base-url %q must be an absolute http(s) URL without query or fragment", c.BaseURL)
	}
	if c.GoogleEndpoint != "" {
		c.GoogleEndpoint = strings.TrimRight(c.GoogleEndpoint, "/")
		u, err := url.Parse(c.GoogleEndpoint)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") {
			return fmt.Errorf("--google-endpoint %q must be a base URL like http://127.0.0.1:9090 (scheme and host, no path)", c.GoogleEndpoint)
		}
	}
	switch c.DriveScope {
	case ScopeFile, ScopeReadonly, ScopeFull:
	default:
		return fmt.Errorf("--drive-scope %q is not one of file, readonly, full", c.DriveScope)
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		return fmt.Errorf("--log-level %q is not one of debug, info, warn, error", c.LogLevel)
	}
	if err := c.finishAuth(); err != nil {
		return err
	}
	if err := c.finishUploadRoots(getenv); err != nil {
		return err
	}
	if c.DB == "" {
		c.DB = DefaultDBPath(getenv)
	}
	if c.IsPostgres() && c.SecretKey == "" {
		return errors.New("--secret-key is required with a PostgreSQL --db: every replica must seal and open Google tokens with the same key (generate one with: head -c32 /dev/urandom | base64)")
	}
	if c.Demo {
		if c.GoogleEndpoint != "" {
			return errors.New("--demo runs its own Google emulator: do not also give --google-endpoint")
		}
		return nil
	}
	if c.GoogleClientID == "" || c.GoogleClientSecret == "" {
		return errors.New("a Google OAuth client is required: give --google-client-id and --google-client-secret, or --google-client-secrets FILE (see docs/google-setup.md), or try drivemcp with --demo")
	}
	return nil
}

func (c *Config) finishAuth() error {
	if c.Stdio {
		return nil // stdio has no HTTP /mcp to protect; the caller is the local user
	}
	if c.Auth == "" {
		c.Auth = AuthOAuth
	}
	switch c.Auth {
	case AuthNone:
		if !IsLoopbackAddr(c.Addr) {
			return fmt.Errorf("--auth none lets anyone who can reach %s act as any stored Google account: it is only allowed on a loopback address such as 127.0.0.1:8080", c.Addr)
		}
	case AuthOAuth:
		u, _ := url.Parse(c.BaseURL)
		if u.Scheme != "https" && !isLoopbackHost(u.Hostname()) {
			return fmt.Errorf("--base-url %s: OAuth needs https except on loopback; put drivemcp behind a TLS proxy and give its https URL", c.BaseURL)
		}
	default:
		return fmt.Errorf("--auth %q is not one of oauth, none", c.Auth)
	}
	return nil
}

// finishUploadRoots makes every root absolute and symlink-free, so the path
// check in the upload tool compares like with like. In stdio mode the
// default root is the user's home.
func (c *Config) finishUploadRoots(getenv func(string) string) error {
	if len(c.UploadRoots) == 0 && c.Stdio {
		if home := getenv("HOME"); home != "" {
			c.UploadRoots = []string{home}
		}
	}
	for i, r := range c.UploadRoots {
		abs, err := filepath.Abs(r)
		if err == nil {
			abs, err = filepath.EvalSymlinks(abs)
		}
		if err != nil {
			return fmt.Errorf("--upload-root %q: %v", r, err)
		}
		fi, err := os.Stat(abs)
		if err != nil || !fi.IsDir() {
			return fmt.Errorf("--upload-root %q is not a directory", r)
		}
		c.UploadRoots[i] = abs
	}
	return nil
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

func isLoopbackHost(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// IsLoopbackAddr reports whether a listen address only accepts connections
// from this machine.
func IsLoopbackAddr(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	return err == nil && isLoopbackHost(host)
}

// loadClientSecrets reads the JSON the Google Cloud console offers for
// download: {"web": {...}} or {"installed": {...}}.
func (c *Config) loadClientSecrets(path string) error {
	raw, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("--google-client-secrets: %v", err)
	}
	var f map[string]struct {
		ClientID     string `json:"client_id"`
		ClientSecret string `json:"client_secret"`
	}
	if err := json.Unmarshal(raw, &f); err != nil {
		return fmt.Errorf("--google-client-secrets %s is not the JSON file from the Google Cloud console: %v", path, err)
	}
	for _, kind := range []string{"web", "installed"} {
		if v, ok := f[kind]; ok && v.ClientID != "" {
			if c.GoogleClientID == "" {
				c.GoogleClientID = v.ClientID
			}
			if c.GoogleClientSecret == "" {
				c.GoogleClientSecret = v.ClientSecret
			}
			return nil
		}
	}
	return fmt.Errorf("--google-client-secrets %s has no \"web\" or \"installed\" client with a client_id", path)
}
