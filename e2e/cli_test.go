package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/drivemcp/drivemcp/internal/e2etest"
	"github.com/drivemcp/drivemcp/internal/google"
	"github.com/drivemcp/drivemcp/internal/googleemu"
	"github.com/drivemcp/drivemcp/internal/legacyimport/legacytest"
)

// cliUser is a person at a terminal, with drivemcp configured by a TOML
// file (as the server would be) and "Google" played by the emulator.
type cliUser struct {
	t      *testing.T
	google *e2etest.Google
	config string
	db     string
	home   string
}

func newCLIUser(t *testing.T) *cliUser {
	t.Helper()
	u := &cliUser{t: t, google: e2etest.StartGoogle(t), home: t.TempDir()}
	dir := t.TempDir()
	u.db = filepath.Join(dir, "state", "drivemcp.db")
	u.config = filepath.Join(dir, "drivemcp.toml")
	conf := "db = \"state/drivemcp.db\"\n" +
		"google-endpoint = \"" + u.google.URL + "\"\n" +
		"google-client-id = \"" + googleemu.DemoClientID + "\"\n" +
		"google-client-secret = \"" + googleemu.DemoClientSecret + "\"\n" +
		"callback-addr = \"" + e2etest.FreeAddr(t) + "\"\n"
	if err := os.WriteFile(u.config, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	return u
}

// command is drivemcp with the user's environment: the config file, and
// nothing of the developer's DRIVEMCP_* settings.
func (u *cliUser) command(args ...string) *exec.Cmd {
	cmd := exec.Command(binary, args...)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "DRIVEMCP_") && !strings.HasPrefix(kv, "HOME=") && !strings.HasPrefix(kv, "DISPLAY=") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, "HOME="+u.home, "DRIVEMCP_CONFIG="+u.config)
	return cmd
}

// run runs drivemcp to the end.
func (u *cliUser) run(args ...string) (stdout, stderr string, err error) {
	cmd := u.command(args...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err = cmd.Run()
	return out.String(), errOut.String(), err
}

func (u *cliUser) mustRun(args ...string) (stdout, stderr string) {
	u.t.Helper()
	out, errOut, err := u.run(args...)
	if err != nil {
		u.t.Fatalf("drivemcp %s: %v\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), err, out, errOut)
	}
	return out, errOut
}

// login runs `drivemcp login`, opens the URL it prints in the scripted
// browser, signs in as email on the emulator's page, lets the browser come
// back to the callback, and returns what login printed.
func (u *cliUser) login(email string) string {
	t := u.t
	t.Helper()
	cmd := u.command("login", "--no-browser")
	pipe, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var errOut bytes.Buffer
	cmd.Stderr = &errOut
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	lines := bufio.NewScanner(pipe)
	var printed strings.Builder
	authURL := ""
	for authURL == "" && lines.Scan() {
		printed.WriteString(lines.Text() + "\n")
		if l := strings.TrimSpace(lines.Text()); strings.HasPrefix(l, "http://") {
			authURL = l
		}
	}
	if authURL == "" {
		t.Fatalf("login printed no URL:\n%s%s", printed.String(), errOut.String())
	}
	redirect, _ := url.Parse(authURL)
	callback := redirect.Query().Get("redirect_uri")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	back, err := e2etest.NewBrowser(email).Run(ctx, authURL, callback)
	if err != nil {
		t.Fatalf("browser: %v", err)
	}
	resp, err := http.Get(back.String())
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(page), email) {
		t.Fatalf("the browser shows %s:\n%s", resp.Status, page)
	}
	for lines.Scan() {
		printed.WriteString(lines.Text() + "\n")
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("login: %v\n%s%s", err, printed.String(), errOut.String())
	}
	return printed.String()
}

type listedAccount struct {
	Email  string   `json:"email"`
	Scopes []string `json:"scopes"`
	Status string   `json:"status"`
}

func (u *cliUser) accounts() []listedAccount {
	u.t.Helper()
	out, _ := u.mustRun("accounts", "list", "--json")
	var list []listedAccount
	if err := json.Unmarshal([]byte(out), &list); err != nil {
		u.t.Fatalf("accounts list --json: %v\n%s", err, out)
	}
	return list
}

// Someone sets drivemcp up from a terminal: signs in with drivemcp login,
// sees the account, uploads two files with a pipe as output, and finally
// revokes the account, at Google too.
func TestCLI_LoginUploadRevoke(t *testing.T) {
	u := newCLIUser(t)

	printed := u.login("hana@example.com")
	if !strings.Contains(printed, "Connected hana@example.com") {
		t.Fatalf("login said:\n%s", printed)
	}
	if got := u.accounts(); len(got) != 1 || got[0].Email != "hana@example.com" || got[0].Status != "ok" ||
		!slices.Contains(got[0].Scopes, "https://www.googleapis.com/auth/drive.file") {
		t.Fatalf("accounts after login: %+v", got)
	}
	if out, _ := u.mustRun("doctor"); !strings.Contains(out, "✓ account hana@example.com: its Google grant works") {
		t.Fatalf("doctor:\n%s", out)
	}

	dir := t.TempDir()
	big, bigSum := e2etest.WriteRandomFile(t, dir, "video.bin", 5<<20)
	small, smallSum := e2etest.WriteRandomFile(t, dir, "notes.md", 300)
	out, progress := u.mustRun("upload", big, small, "--folder-path", "Uploads/CLI")
	for _, f := range []struct{ path, sum, size string }{{big, bigSum, "5242880"}, {small, smallSum, "300"}} {
		line := regexp.MustCompile(`(?m)^uploaded ` + regexp.QuoteMeta(f.path) + ` \(` + f.size + ` bytes, md5 ` + f.sum + `\) → (\S+)$`).FindStringSubmatch(out)
		if line == nil {
			t.Fatalf("no result line for %s:\n%s", f.path, out)
		}
		if _, sum := e2etest.DriveFileMD5(t, u.google, line[1]); sum != f.sum {
			t.Fatalf("Drive has md5 %s for %s, want %s", sum, f.path, f.sum)
		}
	}
	if !strings.Contains(progress, "video.bin: 100% (5.0 MiB of 5.0 MiB") || strings.Contains(progress, "\r") {
		t.Fatalf("progress to a pipe must be plain lines:\n%q", progress)
	}

	out, _ = u.mustRun("accounts", "revoke", "hana@example.com")
	if !strings.Contains(out, "Revoked hana@example.com at Google") {
		t.Fatalf("revoke said: %s", out)
	}
	if len(u.google.RevokedTokens()) == 0 {
		t.Fatal("Google was not told to revoke the grant")
	}
	if got := u.accounts(); len(got) != 0 {
		t.Fatalf("accounts after revoke: %+v", got)
	}
	if _, errOut, err := u.run("upload", small); err == nil || !strings.Contains(errOut, "run drivemcp login first") {
		t.Fatalf("upload after revoke: %v\n%s", err, errOut)
	}
}

// Someone moves from the older Python server, which by default keeps its
// grants encrypted (FILE_ENCRYPTED): pointed at that server's checkout,
// whose top level holds its own fastmcp.json and client secrets, the import
// finds credentials/, opens the .enc file with .auth_encryption_key and the
// per_user envelope through its OAuth recipient, and uploads then work as
// those accounts, landing in each one's own Drive.
func TestCLI_ImportTheOlderServersEncryptedCheckout(t *testing.T) {
	u := newCLIUser(t)
	co := legacytest.NewCheckout(t, filepath.Join(t.TempDir(), "old-server"), map[string]string{"CREDENTIAL_STORAGE_MODE": "FILE_ENCRYPTED"})
	os.WriteFile(filepath.Join(co.Dir, "fastmcp.json"), []byte(`{"name":"google-workspace"}`), 0o600)
	os.WriteFile(filepath.Join(co.Dir, "credentials.json"), []byte(`{"web":{"client_id":"x","client_secret":"y"}}`), 0o600)
	ines := olderServerGrant(t, u.google, "ines@example.com")
	co.WriteEncrypted("ines@example.com", legacytest.CredOf(ines, googleemu.DemoClientID, googleemu.DemoClientSecret), false, false)
	jon := olderServerGrant(t, u.google, "jon@example.com")
	info, err := google.NewUpstream(googleemu.DemoClientID, googleemu.DemoClientSecret, "", google.EndpointsAt(u.google.URL), nil).UserInfo(context.Background(), jon)
	if err != nil {
		t.Fatal(err)
	}
	co.WritePerUserEnvelope("jon@example.com", info.Subject, legacytest.CredOf(jon, googleemu.DemoClientID, googleemu.DemoClientSecret), true)

	out, errOut := u.mustRun("accounts", "import", co.Dir)
	for _, want := range []string{
		"imported ines_at_example_com_credentials.enc: ines@example.com (Google scopes: openid, userinfo.email, drive.file) — encrypted with .auth_encryption_key",
		"imported jon_at_example_com_credentials.enc: jon@example.com (Google scopes: openid, userinfo.email, drive.file) — per_user envelope, opened through its OAuth recipient",
	} {
		if !strings.Contains(out, want) {
			t.Fatalf("import lacks %q:\n%s", want, out)
		}
	}
	if !strings.Contains(errOut, ".auth_encryption_key") || !strings.Contains(errOut, "delete them") {
		t.Fatalf("no advice on what to delete:\n%s", errOut)
	}
	for _, s := range u.google.IssuedSecrets() {
		if strings.Contains(out+errOut, s) {
			t.Fatal("import printed a token")
		}
	}
	if got := u.accounts(); len(got) != 2 {
		t.Fatalf("accounts after import: %+v", got)
	}

	// Google stops honouring the access tokens the files held; drivemcp
	// uses the grants it refreshed and stored.
	u.google.ExpireAccessTokens()
	for _, who := range []string{"ines@example.com", "jon@example.com"} {
		file, sum := e2etest.WriteRandomFile(t, t.TempDir(), "from-"+who+".txt", 1000)
		out, _ = u.mustRun("upload", file, "--account", who)
		if !strings.Contains(out, "md5 "+sum) {
			t.Fatalf("upload as %s: %s", who, out)
		}
		if f := e2etest.FilesNamed(u.google, "from-"+who+".txt"); len(f) != 1 || f[0].Owner != who {
			t.Fatalf("Drive files: %+v", f)
		}
	}
}

// doctor on a healthy setup passes with the config file; a flag overrides
// the file, and doctor then names the broken setting and exits non-zero.
func TestCLI_DoctorReadsTheConfigFile(t *testing.T) {
	u := newCLIUser(t)
	out, _ := u.mustRun("doctor")
	if !strings.Contains(out, "valid (flags, environment and "+u.config+")") || !strings.Contains(out, "All checks passed.") {
		t.Fatalf("doctor:\n%s", out)
	}
	out, _, err := u.run("doctor", "--google-client-secret", "wrong", "--drive-scope", "most")
	if err == nil || !strings.Contains(out, `--drive-scope "most" is not one of file, readonly, full`) ||
		!strings.Contains(out, "does not accept the client id and secret") {
		t.Fatalf("doctor with bad flags: %v\n%s", err, out)
	}
}

// olderServerGrant signs email in at the emulator with offline access, as
// the Python server did, and returns its tokens.
func olderServerGrant(t *testing.T, g *e2etest.Google, email string) *oauth2.Token {
	t.Helper()
	cfg := oauth2.Config{
		ClientID: googleemu.DemoClientID, ClientSecret: googleemu.DemoClientSecret,
		Endpoint:    oauth2.Endpoint{AuthURL: g.URL + "/o/oauth2/v2/auth", TokenURL: g.URL + "/token"},
		RedirectURL: "http://127.0.0.1:1/oauth2callback",
		Scopes:      []string{"openid", "https://www.googleapis.com/auth/userinfo.email", "https://www.googleapis.com/auth/drive.file"},
	}
	resp, err := e2etest.NoRedirects.Get(cfg.AuthCodeURL("s", oauth2.AccessTypeOffline, oauth2.SetAuthURLParam("login_hint", email)))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, _ := url.Parse(resp.Header.Get("Location"))
	tok, err := cfg.Exchange(context.Background(), loc.Query().Get("code"))
	if err != nil || tok.RefreshToken == "" {
		t.Fatalf("emulator grant: %v", err)
	}
	return tok
}
