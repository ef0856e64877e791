package config

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// Flags win over the environment, which wins over the file, which wins
// over the defaults; each value remembers where it came from.
func TestParse_PrecedenceFlagsEnvFileDefaults(t *testing.T) {
	dir := t.TempDir()
	conf := writeFile(t, dir, "drivemcp.toml", `
# every key is a flag's name
addr = "127.0.0.1:7000"
drive-scope = "full"
log-level = "debug"
google-client-id = "file-id"
google-client-secret = "file-secret"
`)
	c, err := ParseServe([]string{"--config", conf, "--addr", "127.0.0.1:9000"}, env(map[string]string{
		"DRIVEMCP_DRIVE_SCOPE": "readonly", "DRIVEMCP_ADDR": "127.0.0.1:8000", "HOME": "/home/u",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr != "127.0.0.1:9000" || c.DriveScope != ScopeReadonly || c.LogLevel != "debug" || c.GoogleClientID != "file-id" || c.CallbackAddr != "127.0.0.1:8765" {
		t.Fatalf("%+v", c)
	}
	for name, want := range map[string]Source{"addr": FromFlag, "drive-scope": FromEnvironment, "log-level": FromFile, "callback-addr": FromDefault} {
		if got := c.Origin(name); got != want {
			t.Errorf("Origin(%s) = %s, want %s", name, got, want)
		}
	}
	if c.File != conf {
		t.Errorf("File = %q", c.File)
	}
}

func TestParse_ConfigFileFromEnvironmentWithPathsAndLists(t *testing.T) {
	dir := t.TempDir()
	home := t.TempDir()
	os.Mkdir(filepath.Join(dir, "uploads"), 0o700)
	os.Mkdir(filepath.Join(home, "docs"), 0o700)
	writeFile(t, dir, "client.json", `{"installed":{"client_id":"c.apps.googleusercontent.com","client_secret":"s"}}`)
	conf := writeFile(t, dir, "drivemcp.toml", `
db = "state/drivemcp.db"
google-client-secrets = "client.json"
upload-root = ["uploads", "~/docs"]
stdio = true
`)
	c, err := ParseServe(nil, env(map[string]string{"DRIVEMCP_CONFIG": conf, "HOME": home}))
	if err != nil {
		t.Fatal(err)
	}
	uploads, _ := filepath.EvalSymlinks(filepath.Join(dir, "uploads"))
	docs, _ := filepath.EvalSymlinks(filepath.Join(home, "docs"))
	if c.DB != filepath.Join(dir, "state", "drivemcp.db") || !c.Stdio || c.GoogleClientID != "c.apps.googleusercontent.com" || c.GoogleClientType != "installed" {
		t.Fatalf("%+v", c)
	}
	if len(c.UploadRoots) != 2 || c.UploadRoots[0].Dir != uploads || c.UploadRoots[1].Dir != docs {
		t.Fatalf("upload roots %v, want %s and %s", c.UploadRoots, uploads, docs)
	}
	if c.KeyFile() != filepath.Join(dir, "state", "secret.key") {
		t.Errorf("KeyFile = %s", c.KeyFile())
	}
}

// A typo in the file is an error naming the file and key, and a value in
// the file is named as such in the problem.
func TestParse_FileProblemsNameTheFileAndKey(t *testing.T) {
	dir := t.TempDir()
	cases := []struct{ content, want string }{
		{`google-client-idd = "x"`, `unknown key "google-client-idd"`},
		{`addr = "nope"`, `addr in ` + filepath.Join(dir, "drivemcp.toml") + ` "nope" is not host:port`},
		{`stdio = "maybe"`, `stdio = "maybe"`},
		{`drive-scope = ["file"]`, "drive-scope takes one value"},
		{"[server]\naddr = \"x\"", "every key belongs at the top"},
		{`config = "other.toml"`, "cannot name another one"},
		{`addr = `, "drivemcp.toml"}, // a syntax error
	}
	for _, tc := range cases {
		conf := writeFile(t, dir, "drivemcp.toml", tc.content)
		_, err := ParseServe(append([]string{"--config", conf}, client...), env(nil))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: error %v, want it to mention %q", tc.content, err, tc.want)
		}
	}
	_, err := ParseServe([]string{"--config", filepath.Join(dir, "missing.toml")}, env(nil))
	if err == nil || !strings.Contains(err.Error(), "missing.toml") {
		t.Errorf("missing file: %v", err)
	}
}

// One file serves every command: keys a command does not take are
// skipped, not refused.
func TestLocal_SharesTheServersFile(t *testing.T) {
	dir := t.TempDir()
	conf := writeFile(t, dir, "drivemcp.toml", `
addr = "0.0.0.0:8080"
base-url = "https://drive.example.com"
upload-root = ["/nonexistent"]
db = "/var/lib/drivemcp/drivemcp.db"
callback-addr = "127.0.0.1:9876"
google-client-id = "id"
google-client-secret = "secret"
`)
	cmd := Local("login", "[flags]", true)
	noBrowser := cmd.Flags().Bool("no-browser", false, "")
	c, err := cmd.Parse([]string{"--config", conf, "--no-browser"}, env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if !*noBrowser || c.DB != "/var/lib/drivemcp/drivemcp.db" || c.LocalCallbackURL() != "http://127.0.0.1:9876/oauth2callback" || c.Addr != "" || c.UploadRoots != nil {
		t.Fatalf("%+v", c)
	}
	if cmd.Flags().Lookup("addr") != nil {
		t.Error("login takes --addr")
	}
}

// Flags may follow the positional arguments, as people type them.
func TestLocal_FlagsAnywhereAmongArguments(t *testing.T) {
	cmd := Local("upload", "FILE...", true)
	account := cmd.Flags().String("account", "", "")
	_, err := cmd.Parse([]string{"a.txt", "--account", "me@example.com", "b.txt", "--", "--weird-name.txt"}, env(map[string]string{
		"DRIVEMCP_GOOGLE_CLIENT_ID": "id", "DRIVEMCP_GOOGLE_CLIENT_SECRET": "s",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(cmd.Args(), " "); got != "a.txt b.txt --weird-name.txt" || *account != "me@example.com" {
		t.Fatalf("args %q account %q", got, *account)
	}
}

func TestLocal_ClientOnlyWhenNeeded(t *testing.T) {
	if _, err := Local("accounts list", "", false).Parse(nil, env(map[string]string{"HOME": "/h"})); err != nil {
		t.Fatalf("accounts list needs no client: %v", err)
	}
	_, err := Local("upload", "", true).Parse(nil, env(nil))
	if err == nil || !strings.Contains(err.Error(), "--google-client-id") || strings.Contains(err.Error(), "--demo") {
		t.Fatalf("upload without a client: %v", err)
	}
	if _, err := Local("login", "", true).Parse([]string{"-h"}, env(nil)); !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("-h: %v", err)
	}
}

// doctor gets every problem at once, with the Config, and each names the
// place to fix it.
func TestDoctor_CollectsEveryProblem(t *testing.T) {
	c, err := Doctor().Parse([]string{"--drive-scope", "all", "--addr", "nope", "--google-client-id", "x"}, env(map[string]string{
		"DRIVEMCP_LOG_LEVEL": "chatty", "DRIVEMCP_GOOGLE_ENDPOINT": "ftp://x/y",
	}))
	var invalid *Invalid
	if !errors.As(err, &invalid) || c == nil {
		t.Fatalf("err %v config %v", err, c)
	}
	want := []string{"--addr", "--drive-scope", "DRIVEMCP_LOG_LEVEL", "DRIVEMCP_GOOGLE_ENDPOINT", "--google-client-secret is missing"}
	if len(invalid.Problems) != len(want) {
		t.Fatalf("problems: %v", invalid.Problems)
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("%q not named in %v", w, err)
		}
	}
	if !strings.HasPrefix(err.Error(), "the configuration has 5 problems:") {
		t.Errorf("message: %v", err)
	}
}

func TestDocsAndExampleCoverEverySetting(t *testing.T) {
	doc, err := os.ReadFile("../../docs/configuration.md")
	if err != nil {
		t.Fatal(err)
	}
	example, err := os.ReadFile("../../deploy/drivemcp.example.toml")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range settings {
		for _, want := range []string{"`--" + s.name + "`", "`" + EnvName(s.name) + "`"} {
			if !strings.Contains(string(doc), want) {
				t.Errorf("docs/configuration.md does not mention %s", want)
			}
		}
		if s.name != "config" && !strings.Contains(string(example), s.name+" =") {
			t.Errorf("deploy/drivemcp.example.toml has no (commented) %s line", s.name)
		}
	}
	// The example, uncommented as shipped, is a valid file.
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "var", "lib", "drivemcp"), 0o700)
	conf := writeFile(t, dir, "drivemcp.toml", string(example))
	cmd := Serve()
	if _, err := cmd.Parse([]string{"--config", conf}, env(map[string]string{"HOME": dir})); err != nil {
		var invalid *Invalid
		if !errors.As(err, &invalid) {
			t.Fatalf("the example does not parse: %v", err)
		}
		for _, p := range invalid.Problems {
			if strings.Contains(p.Error(), "drivemcp.toml") {
				t.Errorf("the example has a problem: %v", p)
			}
		}
	}
}

// DRIVEMCP_DEMO=yes is how people write booleans in environment files; flag's
// own parser answered a bare "parse error" that named nothing.
func TestParse_BooleanWordsInTheEnvironment(t *testing.T) {
	for v, want := range map[string]bool{"yes": true, "On": true, "1": true, "no": false, "OFF": false, "false": false} {
		c, err := ParseServe([]string{"--google-client-id", "id", "--google-client-secret", "s"},
			env(map[string]string{"DRIVEMCP_DEMO": v, "HOME": t.TempDir()}))
		if err != nil {
			t.Fatalf("DRIVEMCP_DEMO=%s: %v", v, err)
		}
		if c.Demo != want {
			t.Errorf("DRIVEMCP_DEMO=%s: demo %v, want %v", v, c.Demo, want)
		}
	}
	_, err := ParseServe(nil, env(map[string]string{"DRIVEMCP_DEMO": "maybe", "HOME": t.TempDir()}))
	if err == nil || !strings.Contains(err.Error(), "DRIVEMCP_DEMO") || !strings.Contains(err.Error(), "not true or false") {
		t.Fatalf("DRIVEMCP_DEMO=maybe: %v", err)
	}
}
