package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/drivemcp/drivemcp/internal/e2etest"
	"github.com/drivemcp/drivemcp/internal/googleemu"
)

// userDirs is one user's machine: a home and XDG data folder shared by
// every drivemcp the user's assistants start.
type userDirs struct{ home, data string }

func newUserDirs(t *testing.T) userDirs {
	home := t.TempDir()
	return userDirs{home: home, data: filepath.Join(home, ".local", "share")}
}

func (u userDirs) env(extra ...string) []string {
	env := append(os.Environ(), "HOME="+u.home, "XDG_DATA_HOME="+u.data)
	return append(env, extra...)
}

// syncBuffer collects a process's stderr while it runs.
type syncBuffer struct {
	mu      sync.Mutex
	b       bytes.Buffer
	written chan struct{} // closed and replaced on every write
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.written != nil {
		close(s.written)
		s.written = nil
	}
	return s.b.Write(p)
}

// changed returns the buffer's text and a channel closed at the next write.
func (s *syncBuffer) changed() (string, <-chan struct{}) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.written == nil {
		s.written = make(chan struct{})
	}
	return s.b.String(), s.written
}

// waitLogged waits, on the processes' own writes rather than on a clock,
// until one of bufs holds a line containing every part, or fails the test
// after 20 s.
func waitLogged(t *testing.T, bufs []*syncBuffer, parts ...string) {
	t.Helper()
	timeout := time.After(20 * time.Second)
	for {
		var wake []<-chan struct{}
		for _, b := range bufs {
			text, ch := b.changed()
			for line := range strings.SplitSeq(text, "\n") {
				if containsAll(line, parts) {
					return
				}
			}
			wake = append(wake, ch)
		}
		cases := make([]reflect.SelectCase, 0, len(wake)+1)
		for _, ch := range wake {
			cases = append(cases, reflect.SelectCase{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(ch)})
		}
		cases = append(cases, reflect.SelectCase{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(timeout)})
		if chosen, _, _ := reflect.Select(cases); chosen == len(wake) {
			t.Fatalf("no process logged %q", parts)
		}
	}
}

func containsAll(s string, parts []string) bool {
	for _, p := range parts {
		if !strings.Contains(s, p) {
			return false
		}
	}
	return true
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startStdioAs starts exactly `command args…` as an assistant would, with
// env, and connects the go-sdk client to it.
func startStdioAs(t *testing.T, env []string, command string, args ...string) (*mcp.ClientSession, *syncBuffer) {
	t.Helper()
	cmd := exec.Command(command, args...)
	cmd.Env = env
	stderr := &syncBuffer{}
	cmd.Stderr = stderr
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	client := mcp.NewClient(&mcp.Implementation{Name: "e2e-assistant", Version: "1"}, nil)
	s, err := client.Connect(ctx, &mcp.CommandTransport{Command: cmd, TerminateDuration: 5 * time.Second}, nil)
	if err != nil {
		t.Fatalf("%s %s did not start: %v\nstderr:\n%s", command, strings.Join(args, " "), err, stderr)
	}
	t.Cleanup(func() {
		_ = s.Close()
		if t.Failed() {
			t.Logf("stderr of %s:\n%s", strings.Join(args, " "), stderr)
		}
	})
	return s, stderr
}

// startAuth calls start_google_auth and returns its link and text.
func startAuth(t *testing.T, s *mcp.ClientSession, email string) (string, string) {
	t.Helper()
	res := e2etest.MustCall(t, s, "start_google_auth", map[string]any{"user_google_email": email})
	link, _ := e2etest.Structured(t, res)["auth_url"].(string)
	if link == "" {
		t.Fatalf("start_google_auth gave no link: %s", e2etest.ResultText(res))
	}
	return link, e2etest.ResultText(res)
}

func redirectURIOf(t *testing.T, link string) *url.URL {
	t.Helper()
	u, err := url.Parse(link)
	if err != nil {
		t.Fatal(err)
	}
	r, err := url.Parse(u.Query().Get("redirect_uri"))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func signIn(t *testing.T, link, email string) {
	t.Helper()
	status, page := e2etest.Consent(t, link)
	if status != http.StatusOK || !strings.Contains(page, email) {
		t.Fatalf("callback page for %s: status %d\n%s", email, status, page)
	}
}

func actingAs(t *testing.T, s *mcp.ClientSession) string {
	t.Helper()
	who := e2etest.Structured(t, e2etest.MustCall(t, s, "check_drive_auth", nil))
	email, _ := who["email"].(string)
	return email
}

// waitClosed waits until the process serving addr's callback says it closed
// the listener (it exists only while a sign-in is pending), then checks that
// nothing accepts connections there.
func waitClosed(t *testing.T, addr string, bufs ...*syncBuffer) {
	t.Helper()
	waitLogged(t, bufs, "callback listener closed", addr)
	if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		c.Close()
		t.Fatalf("%s still accepts connections after its listener closed", addr)
	}
}

// Claude Desktop and VS Code both run `drivemcp serve --stdio` for one user
// with a Web application client, whose one registered redirect URI is a
// fixed port: both start, and the second's sign-in completes through the
// first one's callback listener, the grant landing in the shared store.
func TestStdio_TwoClientsWebClient_BothStartAndSignInThroughOneListener(t *testing.T) {
	callback := e2etest.FreeAddr(t)
	const client = "web-1234.apps.googleusercontent.com"
	g := e2etest.StartGoogleWith(t, googleemu.Options{Registrations: map[string]googleemu.Registration{
		client: {Secret: "web-secret", Type: googleemu.ClientWeb, RedirectURIs: []string{"http://" + callback + "/oauth2callback"}},
	}})
	user := newUserDirs(t)
	args := []string{"serve", "--stdio", "--google-endpoint", g.URL, "--google-client-id", client, "--google-client-secret", "web-secret",
		"--callback-addr", callback, "--log-level", "debug"}
	desktop, desktopLog := startStdioAs(t, user.env(), binary, args...)
	vscode, vscodeLog := startStdioAs(t, user.env(), binary, args...)

	aliceLink, aliceText := startAuth(t, desktop, "alice@example.com")
	if got := redirectURIOf(t, aliceLink).Host; got != callback {
		t.Fatalf("redirect_uri host = %s, want the registered %s", got, callback)
	}
	bobLink, bobText := startAuth(t, vscode, "bob@example.com")
	if !strings.Contains(bobText, "Another program holds") || strings.Contains(aliceText, "Another program holds") {
		t.Fatalf("only the second process should say another program holds the port:\nfirst: %s\nsecond: %s", aliceText, bobText)
	}

	signIn(t, bobLink, "bob@example.com") // served by the first process's listener
	if got := actingAs(t, vscode); got != "bob@example.com" {
		t.Fatalf("the second process acts as %q after its sign-in, want bob@example.com", got)
	}
	signIn(t, aliceLink, "alice@example.com")
	if got := actingAs(t, desktop); got != "alice@example.com" {
		t.Fatalf("the first process acts as %q after its sign-in, want alice@example.com", got)
	}
	waitClosed(t, callback, desktopLog, vscodeLog)
}

// The same two assistants with a Desktop app client: each sign-in listens on
// a port of its own, and Google is sent that real port (the emulator refuses
// a redirect URI with port 0 or a port nobody chose).
func TestStdio_TwoClientsDesktopClient_EachSignsInOnItsOwnEphemeralPort(t *testing.T) {
	const client = "desktop-1234.apps.googleusercontent.com"
	g := e2etest.StartGoogleWith(t, googleemu.Options{Registrations: map[string]googleemu.Registration{
		client: {Secret: "desktop-secret", Type: googleemu.ClientInstalled},
	}})
	user := newUserDirs(t)
	secrets := filepath.Join(user.home, "client_secret.json")
	raw, _ := json.Marshal(map[string]any{"installed": map[string]any{"client_id": client, "client_secret": "desktop-secret",
		"redirect_uris": []string{"http://localhost"}}})
	if err := os.WriteFile(secrets, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	args := []string{"serve", "--stdio", "--google-endpoint", g.URL, "--google-client-secrets", secrets, "--log-level", "debug"}
	desktop, desktopLog := startStdioAs(t, user.env(), binary, args...)
	vscode, vscodeLog := startStdioAs(t, user.env(), binary, args...)

	aliceLink, _ := startAuth(t, desktop, "alice@example.com")
	bobLink, _ := startAuth(t, vscode, "bob@example.com")
	a, b := redirectURIOf(t, aliceLink), redirectURIOf(t, bobLink)
	if a.Host == b.Host || a.Port() == "0" || b.Port() == "0" || a.Hostname() != "127.0.0.1" {
		t.Fatalf("redirect URIs %s and %s: want two different real loopback ports", a, b)
	}
	signIn(t, aliceLink, "alice@example.com")
	if got := actingAs(t, desktop); got != "alice@example.com" {
		t.Fatalf("first process acts as %q, want alice@example.com", got)
	}
	signIn(t, bobLink, "bob@example.com")
	if got := actingAs(t, vscode); got != "bob@example.com" {
		t.Fatalf("second process acts as %q, want bob@example.com", got)
	}
	waitClosed(t, a.Host, desktopLog)
	waitClosed(t, b.Host, vscodeLog)
}

// The banner's own stdio snippet, `serve --stdio --demo`, with HOME and
// XDG_DATA_HOME in a temp dir: the demo keeps its state in a folder of its
// own, never the real database, and a restarted demo (a new emulator)
// forgets the earlier run's account and asks to sign in again instead of
// claiming to act as it.
func TestStdioDemo_LeavesTheRealDataFolderUntouchedAndRestartAsksToSignInAgain(t *testing.T) {
	user := newUserDirs(t)
	root := t.TempDir()
	args := []string{"serve", "--stdio", "--demo", "--upload-root", root}
	s, _ := startStdioAs(t, user.env(), binary, args...)
	link, _ := startAuth(t, s, "alice@example.com")
	signIn(t, link, "alice@example.com")
	if got := actingAs(t, s); got != "alice@example.com" {
		t.Fatalf("demo acts as %q after sign-in", got)
	}
	e2etest.MustCall(t, s, "create_drive_file", map[string]any{"file_name": "hello.txt", "content": "hi"})
	_ = s.Close()

	if _, err := os.Stat(filepath.Join(user.data, "drivemcp", "drivemcp.db")); err == nil {
		t.Fatal("the demo wrote the real database $XDG_DATA_HOME/drivemcp/drivemcp.db")
	}
	if _, err := os.Stat(filepath.Join(user.data, "drivemcp", "demo", "drivemcp.db")); err != nil {
		t.Fatalf("the demo database is not in its own folder: %v", err)
	}

	again, _ := startStdioAs(t, user.env(), binary, args...)
	res := e2etest.MustCall(t, again, "check_drive_auth", nil)
	if e2etest.Structured(t, res)["authenticated"] != false || !strings.Contains(e2etest.ResultText(res), "start_google_auth") {
		t.Fatalf("a restarted demo should ask to sign in again, got: %s", e2etest.ResultText(res))
	}
	link, _ = startAuth(t, again, "alice@example.com")
	signIn(t, link, "alice@example.com")
	e2etest.MustCall(t, again, "create_drive_file", map[string]any{"file_name": "again.txt", "content": "hi"})
}

// A client that exits right after printing the link (MCP Inspector's CLI)
// takes the callback with it: over stdio the tool says so, and offers
// drivemcp login.
func TestStdio_StartGoogleAuthSaysKeepTheClientOpenOrRunDrivemcpLogin(t *testing.T) {
	g := e2etest.StartGoogle(t)
	s := e2etest.StartStdio(t, e2etest.Config{Binary: binary, DB: filepath.Join(t.TempDir(), "drivemcp.db"), Google: g})
	_, text := startAuth(t, s.Session, "alice@example.com")
	for _, want := range []string{"Keep this client open until you have signed in", "drivemcp login"} {
		if !strings.Contains(text, want) {
			t.Errorf("start_google_auth over stdio does not say %q:\n%s", want, text)
		}
	}
}
