package config

import (
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// setting is one key of drivemcp's configuration. The same name is the
// flag (--name), the environment variable (DRIVEMCP_NAME) and the key in a
// configuration file.
type setting struct {
	name  string
	usage string
	// path: a relative value in a configuration file is taken relative to
	// the file's directory, and a leading ~/ is the user's home.
	path bool
	bind func(fs *flag.FlagSet, c *Config, s setting)
}

// settings are every key, in the order -h and the docs list them.
var settings = []setting{
	str("config", "", "read settings from this TOML file (keys are the flag names; flags and environment win)", func(c *Config) *string { return &c.File }).asPath(),
	str("addr", "127.0.0.1:8080", "HTTP listen address", func(c *Config) *string { return &c.Addr }),
	str("base-url", "", "public URL of this server (default http://<addr>)", func(c *Config) *string { return &c.BaseURL }),
	boolean("stdio", "speak MCP on stdin/stdout", func(c *Config) *bool { return &c.Stdio }),
	str("callback-addr", "127.0.0.1:8765", "where the Google callback of --stdio and drivemcp login is served", func(c *Config) *string { return &c.CallbackAddr }),
	str("db", "", "SQLite file path or postgres:// URL (default $XDG_DATA_HOME/drivemcp/drivemcp.db)", func(c *Config) *string { return &c.DB }).asPath(),
	str("google-client-id", "", "Google OAuth client id", func(c *Config) *string { return &c.GoogleClientID }),
	str("google-client-secret", "", "Google OAuth client secret", func(c *Config) *string { return &c.GoogleClientSecret }),
	str("google-client-secrets", "", "client secrets JSON downloaded from the Google Cloud console", func(c *Config) *string { return &c.GoogleClientSecretsFile }).asPath(),
	str("google-client-type", "", "web|installed: the Google client's type when --google-client-id is given directly (a client secrets file says it itself); installed (Desktop app) clients get a new loopback callback port per sign-in", func(c *Config) *string { return &c.GoogleClientType }),
	str("google-endpoint", "", "send every Google call to this base URL (emulators, tests)", func(c *Config) *string { return &c.GoogleEndpoint }),
	str("secret-key", "", "base64 of 32 bytes sealing stored Google tokens; several comma-separated keys: the first seals, all open", func(c *Config) *string { return &c.SecretKey }),
	str("auth", "", "oauth|none: how /mcp is protected (none only on loopback)", func(c *Config) *string { return &c.Auth }),
	list("upload-root", "directory upload_file_to_drive may read (repeatable); EMAIL[,EMAIL...]=DIR lets only those accounts read it", func(c *Config) *[]string { return &c.uploadRootArgs }).asPath(),
	list("download-root", "directory download_drive_file saves into over stdio, and drivemcp download (repeatable; default in stdio mode: ~/Downloads); EMAIL[,EMAIL...]=DIR lets only those accounts write there", func(c *Config) *[]string { return &c.downloadRootArgs }).asPath(),
	commas("allow-accounts", "Google accounts that may use this server (repeatable, comma-separated; default: every account)", func(c *Config) *[]string { return &c.AllowAccounts }),
	commas("allow-domains", "Google Workspace domains whose accounts may use this server (matched against Google's hd claim; repeatable, comma-separated)", func(c *Config) *[]string { return &c.AllowDomains }),
	commas("cors-origins", "origins whose browser pages may call /mcp and the OAuth endpoints, e.g. https://app.example or http://localhost:* (repeatable, comma-separated; default: http://localhost:*, http://127.0.0.1:*, http://[::1]:*)", func(c *Config) *[]string { return &c.CORSOrigins }),
	boolean("allow-private-urls", "let create_drive_file's fileUrl reach loopback and private addresses (never the cloud metadata service)", func(c *Config) *bool { return &c.AllowPrivateURLs }),
	optionalBool("stateless", "serve MCP without sessions: any request may go to any replica, identity comes from the bearer token (default: on with a postgres:// --db)", func(c *Config) *OptionalBool { return &c.StatelessSetting }),
	boolean("read-only", "expose only the tools that change nothing in Drive, and ask Google for drive.readonly", func(c *Config) *bool { return &c.ReadOnly }),
	commas("tools", "expose only these tools, by name (repeatable, comma-separated; default: every tool)", func(c *Config) *[]string { return &c.Tools }),
	commas("disable-tools", "never expose these tools, by name (repeatable, comma-separated)", func(c *Config) *[]string { return &c.DisableTools }),
	str("drive-scope", ScopeFile, "file|readonly|full: the Google Drive scope requested", func(c *Config) *string { return &c.DriveScope }),
	boolean("demo", "run the built-in Google emulator (NOT real Google) and use it", func(c *Config) *bool { return &c.Demo }),
	duration("refresh-grace", 30*time.Second, "how long a just-rotated refresh token still returns the same new pair (clients that refresh twice at once stay logged in)", func(c *Config) *time.Duration { return &c.RefreshGrace }),
	duration("google-max-backoff", 32*time.Second, "longest single wait before retrying a Google call that was rate-limited or failed (Google's truncated exponential backoff: 1, 2, 4 … s up to this)", func(c *Config) *time.Duration { return &c.GoogleMaxBackoff }),
	duration("resource-poll-interval", time.Minute, "how often the Drive changes feed of an account with subscribed MCP resources is polled (at least 1m against Google; shorter only with --google-endpoint or --demo, for tests)", func(c *Config) *time.Duration { return &c.ResourcePollInterval }),
	byteSize("upload-cutoff", 5<<20, "uploads of at most this many bytes go to Drive in one request (Google's advice: one multipart request up to 5 MB); larger ones through a resumable session; 0 sends every upload resumable; at most 64MiB (e.g. 8MiB, 512KiB, 1048576)", func(c *Config) *int64 { return &c.UploadCutoff }),
	str("log-level", "info", "debug|info|warn|error", func(c *Config) *string { return &c.LogLevel }),
}

// localSettings are what the local commands (login, accounts, upload) take:
// where the store is, how it is sealed, and how to reach Google.
var localSettings = []string{
	"config", "db", "secret-key", "google-client-id", "google-client-secret", "google-client-secrets",
	"google-client-type", "google-endpoint", "callback-addr", "drive-scope", "log-level", "allow-accounts", "allow-domains", "google-max-backoff",
	"upload-cutoff",
}

func lookupSetting(name string) (setting, bool) {
	for _, s := range settings {
		if s.name == name {
			return s, true
		}
	}
	return setting{}, false
}

func (s setting) asPath() setting { s.path = true; return s }

func str(name, def, usage string, field func(*Config) *string) setting {
	return setting{name: name, usage: usage, bind: func(fs *flag.FlagSet, c *Config, s setting) {
		fs.StringVar(field(c), s.name, def, s.usage)
	}}
}

func boolean(name, usage string, field func(*Config) *bool) setting {
	return setting{name: name, usage: usage, bind: func(fs *flag.FlagSet, c *Config, s setting) {
		fs.Var((*boolValue)(field(c)), s.name, s.usage)
	}}
}

// boolValue is a boolean flag that also takes the words people put in
// environment files (DRIVEMCP_DEMO=yes), where flag's own ParseBool says
// only "parse error".
type boolValue bool

func (b *boolValue) String() string {
	if b == nil {
		return "false"
	}
	return strconv.FormatBool(bool(*b))
}

func (b *boolValue) Set(v string) error {
	val, err := parseBool(v)
	if err != nil {
		return err
	}
	*b = boolValue(val)
	return nil
}

// IsBoolFlag lets "--demo" stand for "--demo=true".
func (b *boolValue) IsBoolFlag() bool { return true }

// parseBool accepts true/false, yes/no, on/off, y/n and 1/0 in any case.
func parseBool(v string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "1", "t", "true", "y", "yes", "on":
		return true, nil
	case "0", "f", "false", "n", "no", "off":
		return false, nil
	}
	return false, fmt.Errorf("%q is not true or false (yes/no, on/off and 1/0 work too)", v)
}

func duration(name string, def time.Duration, usage string, field func(*Config) *time.Duration) setting {
	return setting{name: name, usage: usage, bind: func(fs *flag.FlagSet, c *Config, s setting) {
		fs.DurationVar(field(c), s.name, def, s.usage)
	}}
}

func byteSize(name string, def int64, usage string, field func(*Config) *int64) setting {
	return setting{name: name, usage: usage, bind: func(fs *flag.FlagSet, c *Config, s setting) {
		*field(c) = def
		fs.Var((*byteSizeValue)(field(c)), s.name, s.usage)
	}}
}

// MaxUploadCutoff bounds --upload-cutoff: a stream below the cutoff is
// held in memory so a retry can send it again.
const MaxUploadCutoff = 64 << 20

// byteSizeValue is a size in bytes: a number, optionally followed by KiB,
// MiB or GiB (or K, M, G, meaning the same powers of two).
type byteSizeValue int64

func (b *byteSizeValue) String() string {
	if b == nil {
		return "0"
	}
	n := int64(*b)
	for _, u := range []struct {
		suffix string
		size   int64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}} {
		if n != 0 && n%u.size == 0 {
			return strconv.FormatInt(n/u.size, 10) + u.suffix
		}
	}
	return strconv.FormatInt(n, 10)
}

func (b *byteSizeValue) Set(v string) error {
	s := strings.TrimSpace(v)
	mult := int64(1)
	for _, u := range []struct {
		suffixes []string
		size     int64
	}{{[]string{"GiB", "G", "GB"}, 1 << 30}, {[]string{"MiB", "M", "MB"}, 1 << 20}, {[]string{"KiB", "K", "KB"}, 1 << 10}, {[]string{"B"}, 1}} {
		found := false
		for _, suf := range u.suffixes {
			if len(s) > len(suf) && strings.EqualFold(s[len(s)-len(suf):], suf) {
				s, mult, found = strings.TrimSpace(s[:len(s)-len(suf)]), u.size, true
				break
			}
		}
		if found {
			break
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 || n > (1<<62)/mult {
		return fmt.Errorf("%q is not a size: give bytes, or a number with KiB, MiB or GiB, such as 8MiB", v)
	}
	*b = byteSizeValue(n * mult)
	return nil
}

func optionalBool(name, usage string, field func(*Config) *OptionalBool) setting {
	return setting{name: name, usage: usage, bind: func(fs *flag.FlagSet, c *Config, s setting) {
		fs.Var(field(c), s.name, s.usage)
	}}
}

// OptionalBool is a boolean setting that knows whether it was given, for
// defaults that depend on other settings.
type OptionalBool struct {
	Given, Value bool
}

func (b *OptionalBool) String() string {
	if b == nil || !b.Given {
		return ""
	}
	return strconv.FormatBool(b.Value)
}

func (b *OptionalBool) Set(v string) error {
	val, err := parseBool(v)
	if err != nil {
		return err
	}
	b.Given, b.Value = true, val
	return nil
}

// IsBoolFlag lets "--stateless" stand for "--stateless=true".
func (b *OptionalBool) IsBoolFlag() bool { return true }

func list(name, usage string, field func(*Config) *[]string) setting {
	return setting{name: name, usage: usage, bind: func(fs *flag.FlagSet, c *Config, s setting) {
		fs.Var((*stringList)(field(c)), s.name, s.usage)
	}}
}

// stringList is a repeatable flag.
type stringList []string

func (s *stringList) String() string {
	if s == nil {
		return ""
	}
	return strings.Join(*s, string(os.PathListSeparator))
}
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

func commas(name, usage string, field func(*Config) *[]string) setting {
	return setting{name: name, usage: usage, bind: func(fs *flag.FlagSet, c *Config, s setting) {
		fs.Var((*commaList)(field(c)), s.name, s.usage)
	}}
}

// commaList is a repeatable flag whose values may also be comma-separated,
// for lists of addresses and domains (which never contain commas).
type commaList []string

func (s *commaList) String() string {
	if s == nil {
		return ""
	}
	return strings.Join(*s, ",")
}

func (s *commaList) Set(v string) error {
	for part := range strings.SplitSeq(v, ",") {
		if part = strings.TrimSpace(part); part != "" {
			*s = append(*s, part)
		}
	}
	return nil
}

// EnvName is the environment variable that stands for a flag.
func EnvName(flagName string) string {
	return "DRIVEMCP_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}
