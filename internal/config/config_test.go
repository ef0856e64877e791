package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

var client = []string{"--google-client-id", "id", "--google-client-secret", "secret"}

func TestParseServe_Defaults(t *testing.T) {
	c, err := ParseServe(client, env(map[string]string{"HOME": "/home/u"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr != "127.0.0.1:8080" || c.BaseURL != "http://127.0.0.1:8080" || c.Auth != AuthOAuth || c.DriveScope != ScopeFile {
		t.Fatalf("defaults: %+v", c)
	}
	if c.DB != "/home/u/.local/share/drivemcp/drivemcp.db" {
		t.Fatalf("default db = %s", c.DB)
	}
	if c.CallbackURL() != "http://127.0.0.1:8080/oauth2callback" {
		t.Fatalf("callback = %s", c.CallbackURL())
	}
	if len(c.UploadRoots) != 0 {
		t.Fatalf("HTTP mode must have no default upload root, got %v", c.UploadRoots)
	}
}

func TestParseServe_FlagsWinOverEnvironment(t *testing.T) {
	c, err := ParseServe(append(client, "--addr", "127.0.0.1:9999"), env(map[string]string{
		"DRIVEMCP_ADDR": "127.0.0.1:1111", "DRIVEMCP_DRIVE_SCOPE": "readonly", "DRIVEMCP_BASE_URL": "https://drive.example.com/",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr != "127.0.0.1:9999" || c.DriveScope != ScopeReadonly || c.BaseURL != "https://drive.example.com" {
		t.Fatalf("%+v", c)
	}
}

func TestParseServe_StdioDefaultsToHomeRoot(t *testing.T) {
	home := t.TempDir()
	c, err := ParseServe(append(client, "--stdio"), env(map[string]string{"HOME": home}))
	if err != nil {
		t.Fatal(err)
	}
	want, _ := filepath.EvalSymlinks(home)
	if len(c.UploadRoots) != 1 || c.UploadRoots[0].Dir != want || c.UploadRoots[0].Accounts != nil || !c.TrustedLocal() {
		t.Fatalf("roots %v trusted %v", c.UploadRoots, c.TrustedLocal())
	}
	if c.CallbackURL() != "http://127.0.0.1:8765/oauth2callback" {
		t.Fatalf("callback = %s", c.CallbackURL())
	}
}

func TestParseServe_UploadRootsFromEnvironment(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	c, err := ParseServe(client, env(map[string]string{"DRIVEMCP_ALLOW_ACCOUNTS": "alice@example.com,bob@example.com",
		"DRIVEMCP_UPLOAD_ROOT": "alice@example.com=" + a + string(os.PathListSeparator) + "bob@example.com=" + b}))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.UploadRoots) != 2 {
		t.Fatalf("roots = %v", c.UploadRoots)
	}
}

func TestParseServe_ClientSecretsFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "client.json")
	os.WriteFile(path, []byte(`{"web":{"client_id":"abc.apps.googleusercontent.com","client_secret":"s3"}}`), 0o600)
	c, err := ParseServe([]string{"--google-client-secrets", path}, env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.GoogleClientID != "abc.apps.googleusercontent.com" || c.GoogleClientSecret != "s3" {
		t.Fatalf("%+v", c)
	}
}

// Each validation error names the flag and what is wrong.
func TestParseServe_ErrorsNameTheFlag(t *testing.T) {
	file := filepath.Join(t.TempDir(), "f")
	os.WriteFile(file, nil, 0o600)
	bad := filepath.Join(t.TempDir(), "bad.json")
	os.WriteFile(bad, []byte(`{"other":{}}`), 0o600)
	cases := []struct {
		args []string
		env  map[string]string
		want string
	}{
		{[]string{"--auth", "none", "--addr", "0.0.0.0:8080"}, nil, "--auth none"},
		{[]string{"--auth", "basic"}, nil, "--auth"},
		{[]string{"--addr", "0.0.0.0:8080"}, nil, "needs https"},
		{[]string{"--addr", "nope"}, nil, "--addr"},
		{[]string{"--base-url", "ftp://x"}, nil, "--base-url"},
		{[]string{"--google-endpoint", "http://x/path"}, nil, "--google-endpoint"},
		{[]string{"--drive-scope", "everything"}, nil, "--drive-scope"},
		{[]string{"--upload-root", "/does/not/exist"}, nil, "--upload-root"},
		{[]string{"--upload-root", file}, nil, "not a directory"},
		{[]string{"--db", "postgres://x/y"}, nil, "--secret-key is required"},
		{[]string{"--log-level", "loud"}, nil, "--log-level"},
		{[]string{"--demo", "--google-endpoint", "http://127.0.0.1:1"}, nil, "--demo"},
		{nil, map[string]string{"DRIVEMCP_STDIO": "maybe"}, "DRIVEMCP_STDIO"},
		{[]string{"extra"}, nil, "unexpected argument"},
	}
	for _, c := range cases {
		_, err := ParseServe(append(append([]string{}, client...), c.args...), env(c.env))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v %v: error %v, want it to mention %q", c.args, c.env, err, c.want)
		}
	}
	if _, err := ParseServe(nil, env(nil)); err == nil || !strings.Contains(err.Error(), "--google-client-id") {
		t.Errorf("missing client: %v", err)
	}
	if _, err := ParseServe([]string{"--google-client-secrets", bad}, env(nil)); err == nil || !strings.Contains(err.Error(), "web") {
		t.Errorf("bad secrets file: %v", err)
	}
}

func TestEnvName(t *testing.T) {
	if got := EnvName("google-client-secret"); got != "DRIVEMCP_GOOGLE_CLIENT_SECRET" {
		t.Fatal(got)
	}
}
