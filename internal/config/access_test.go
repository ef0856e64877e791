package config

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// Over HTTP with OAuth, any Google account that finishes Google's sign-in
// reaches the tools: serve refuses to expose local directories to them
// unless a policy names who may use the server and each root names who may
// read it.
func TestParseServe_UploadRootOpenToEveryGoogleAccountRefused(t *testing.T) {
	root := t.TempDir()
	for _, c := range []struct {
		name string
		args []string
		want string
	}{
		{"no policy", []string{"--upload-root", root}, "--allow-accounts"},
		{"policy, root for everyone", []string{"--allow-domains", "example.com", "--upload-root", root}, "alice@example.com=" + root},
		{"scoped root, no policy", []string{"--upload-root", "alice@example.com=" + root}, "--allow-domains"},
		{"root for an account the policy refuses", []string{"--allow-domains", "example.com", "--upload-root", "bob@other.org=" + root}, "bob@other.org"},
		{"demo off loopback", []string{"--demo", "--addr", "0.0.0.0:8080", "--base-url", "https://d.example.com", "--upload-root", root}, "loopback"},
	} {
		args := append(append([]string{}, client...), c.args...)
		if slices.Contains(c.args, "--demo") {
			args = c.args
		}
		_, err := ParseServe(args, env(map[string]string{"HOME": t.TempDir()}))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want it to mention %q", c.name, err, c.want)
		}
	}
}

// Where the caller is the machine's own user (stdio, --auth none on
// loopback) or the only Google is the demo's emulator on loopback, roots
// need no policy.
func TestParseServe_UploadRootWithoutPolicyWhereTrusted(t *testing.T) {
	root := t.TempDir()
	for _, args := range [][]string{
		append(append([]string{}, client...), "--stdio", "--upload-root", root),
		append(append([]string{}, client...), "--auth", "none", "--upload-root", root),
		{"--demo", "--upload-root", root},
	} {
		if _, err := ParseServe(args, env(map[string]string{"HOME": t.TempDir()})); err != nil {
			t.Errorf("%v: %v", args, err)
		}
	}
}

func TestParseServe_AccountScopedUploadRoots(t *testing.T) {
	shared, alice := t.TempDir(), t.TempDir()
	odd := filepath.Join(t.TempDir(), "a=b")
	os.Mkdir(odd, 0o700)
	c, err := ParseServe(append(append([]string{}, client...),
		"--allow-accounts", "Alice@Example.com,bob@example.com", "--allow-domains", "example.org",
		"--upload-root", "alice@example.com,BOB@example.com="+shared,
		"--upload-root", "alice@example.com="+alice,
		"--upload-root", "carol@example.org="+odd, // a path with "=" in it, after a scope
	), env(map[string]string{"DRIVEMCP_ALLOW_DOMAINS": "ignored.example"}))
	if err != nil {
		t.Fatal(err)
	}
	want := []UploadRoot{
		{Dir: realDir(t, shared), Accounts: []string{"alice@example.com", "bob@example.com"}},
		{Dir: realDir(t, alice), Accounts: []string{"alice@example.com"}},
		{Dir: realDir(t, odd), Accounts: []string{"carol@example.org"}},
	}
	if !slices.EqualFunc(c.UploadRoots, want, func(a, b UploadRoot) bool { return a.Dir == b.Dir && slices.Equal(a.Accounts, b.Accounts) }) {
		t.Fatalf("roots = %+v, want %+v", c.UploadRoots, want)
	}
	if p := c.AccessPolicy(); p.AdmitStored("bob@example.com") != nil || p.AdmitStored("x@example.org") != nil || p.AdmitStored("x@ignored.example") == nil {
		t.Fatalf("policy %s", p.Describe())
	}
}

// A path that only looks like a scope is still a path: one with "=" whose
// part before it is not a list of addresses.
func TestSplitRootScope_PathsWithEqualsStayPaths(t *testing.T) {
	for v, want := range map[string]struct {
		accounts []string
		path     string
	}{
		"/srv/a=b":               {nil, "/srv/a=b"},
		"./x@y.com=z":            {nil, "./x@y.com=z"},
		"x=y":                    {nil, "x=y"},
		"a@b.com=/srv/c=d":       {[]string{"a@b.com"}, "/srv/c=d"},
		"a@b.com,c@d.org=~/docs": {[]string{"a@b.com", "c@d.org"}, "~/docs"},
		"a@b.com,/etc=/srv":      {nil, "a@b.com,/etc=/srv"},
		"=/srv":                  {nil, "=/srv"},
	} {
		accounts, path := splitRootScope(v)
		if !slices.Equal(accounts, want.accounts) || path != want.path {
			t.Errorf("splitRootScope(%q) = %q, %q; want %q, %q", v, accounts, path, want.accounts, want.path)
		}
	}
}

func TestParseFile_AllowListsAndScopedRootsFromTOML(t *testing.T) {
	dir := t.TempDir()
	os.Mkdir(filepath.Join(dir, "alice"), 0o700)
	file := filepath.Join(dir, "drivemcp.toml")
	os.WriteFile(file, []byte(`
google-client-id = "id"
google-client-secret = "secret"
allow-accounts = ["alice@example.com", "carol@gmail.com"]
allow-domains = ["example.org"]
upload-root = ["alice@example.com=alice"]
`), 0o600)
	c, err := ParseServe([]string{"--config", file}, env(map[string]string{"HOME": t.TempDir()}))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.UploadRoots) != 1 || c.UploadRoots[0].Dir != realDir(t, filepath.Join(dir, "alice")) || !slices.Equal(c.UploadRoots[0].Accounts, []string{"alice@example.com"}) {
		t.Fatalf("roots = %+v", c.UploadRoots)
	}
	if !slices.Equal(c.AllowAccounts, []string{"alice@example.com", "carol@gmail.com"}) || !slices.Equal(c.AllowDomains, []string{"example.org"}) {
		t.Fatalf("allow lists %q %q", c.AllowAccounts, c.AllowDomains)
	}
}

func realDir(t *testing.T, p string) string {
	t.Helper()
	r, err := filepath.EvalSymlinks(p)
	if err != nil {
		t.Fatal(err)
	}
	return r
}
