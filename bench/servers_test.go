package bench

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/drivemcp/drivemcp/internal/e2etest"
	"github.com/drivemcp/drivemcp/internal/googleemu"
)

// server is a server under load: drivemcp or the TypeScript peer.
type server struct {
	Name string
	Base string // http://127.0.0.1:port
	Host string // 127.0.0.1:port
	PID  int
	// Paths of the OAuth endpoints, which differ between the two.
	Register, Authorize, Token string
	// DB is drivemcp's --db (empty for the peer, which keeps all in memory).
	DB string
}

// startDrivemcp starts `drivemcp serve` on loopback with the given extra
// flags, in front of the emulator, logging at its default level (info: a
// line per request, as in production) to a file rather than to this
// process, which generates the load.
func startDrivemcp(tb testing.TB, g *e2etest.Google, db string, extra ...string) *server {
	tb.Helper()
	return startDrivemcpEnv(tb, g, db, nil, extra...)
}

// startDrivemcpEnv is startDrivemcp with more environment variables.
func startDrivemcpEnv(tb testing.TB, g *e2etest.Google, db string, env []string, extra ...string) *server {
	tb.Helper()
	addr := e2etest.FreeAddr(tb)
	args := append([]string{"serve", "--addr", addr, "--db", db,
		"--google-endpoint", g.URL,
		"--google-client-id", googleemu.DemoClientID, "--google-client-secret", googleemu.DemoClientSecret}, extra...)
	logPath := filepath.Join(tb.TempDir(), "drivemcp.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		tb.Fatal(err)
	}
	cmd := exec.Command(binary, args...)
	cmd.Env = append(append(os.Environ(), "HOME="+tb.TempDir()), env...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	logFile.Close()
	tb.Cleanup(func() {
		stopProcess(cmd)
		if tb.Failed() {
			out, _ := os.ReadFile(logPath)
			tb.Logf("drivemcp log (last 4 KiB):\n%s", tail(out, 4<<10))
		}
	})
	s := &server{Name: "drivemcp", Base: "http://" + addr, Host: addr, PID: cmd.Process.Pid,
		Register: "/oauth/register", Authorize: "/oauth/authorize", Token: "/oauth/token", DB: db}
	waitReady(tb, s.Base+"/readyz", func() string { out, _ := os.ReadFile(logPath); return string(tail(out, 4<<10)) })
	return s
}

// startPeer starts the TypeScript SDK peer (bench/peer-ts), installing its
// pinned packages with `npm ci` first if they are missing.
func startPeer(tb testing.TB) *server {
	tb.Helper()
	dir, err := filepath.Abs("peer-ts")
	if err != nil {
		tb.Fatal(err)
	}
	node := requireNode(tb)
	installNodeModules(tb, dir)
	cmd := exec.Command(node, "server.mjs")
	cmd.Dir = dir
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	logPath := filepath.Join(tb.TempDir(), "peer.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		tb.Fatal(err)
	}
	cmd.Stderr = logFile
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	logFile.Close()
	tb.Cleanup(func() {
		stopProcess(cmd)
		if tb.Failed() {
			out, _ := os.ReadFile(logPath)
			tb.Logf("peer stderr (last 4 KiB):\n%s", tail(out, 4<<10))
		}
	})
	first := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			select {
			case first <- sc.Text():
			default: // the peer prints nothing else; keep the pipe drained
			}
		}
	}()
	var line string
	select {
	case line = <-first:
	case <-time.After(20 * time.Second):
		tb.Fatal("the TypeScript peer did not say it was listening within 20 s")
	}
	base, ok := strings.CutPrefix(line, "listening ")
	if !ok {
		tb.Fatalf("the TypeScript peer said %q, want \"listening <url>\"", line)
	}
	return &server{Name: "peer-ts", Base: base, Host: strings.TrimPrefix(base, "http://"), PID: cmd.Process.Pid,
		Register: "/register", Authorize: "/authorize", Token: "/token"}
}

// stopProcess sends SIGTERM to a process this package started, then kills
// it if it has not exited within 10 s.
func stopProcess(cmd *exec.Cmd) {
	_ = cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = cmd.Process.Kill()
		<-done
	}
}

func waitReady(tb testing.TB, url string, output func() string) {
	tb.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			tb.Fatalf("%s did not answer 200 within 20 s:\n%s", url, output())
		}
		time.Sleep(25 * time.Millisecond)
	}
}

func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}

// requireNode finds Node.js 20 or newer.
func requireNode(tb testing.TB) string {
	tb.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		tb.Fatal("node is not installed: the TypeScript peer needs Node.js 20 or newer (apt-get install nodejs npm)")
	}
	out, err := exec.Command(node, "--version").Output()
	if err != nil {
		tb.Fatalf("node --version: %v", err)
	}
	major, err := strconv.Atoi(strings.SplitN(strings.TrimPrefix(strings.TrimSpace(string(out)), "v"), ".", 2)[0])
	if err != nil || major < 20 {
		tb.Fatalf("node %s is too old: the TypeScript peer needs Node.js 20 or newer", out)
	}
	return node
}

// installNodeModules runs `npm ci` when dir has no node_modules yet: the
// lockfile pins the SDK and everything under it.
func installNodeModules(tb testing.TB, dir string) {
	tb.Helper()
	_, err := os.Stat(filepath.Join(dir, "node_modules"))
	if err == nil {
		return
	}
	if !errors.Is(err, fs.ErrNotExist) {
		tb.Fatal(err)
	}
	npm, err := exec.LookPath("npm")
	if err != nil {
		tb.Fatal("npm is not installed: the TypeScript peer is installed with `npm ci`")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, npm, "ci", "--no-audit", "--no-fund")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		// A half-written node_modules would make the next run skip the install.
		os.RemoveAll(filepath.Join(dir, "node_modules"))
		tb.Fatalf("npm ci in %s failed (%v):\n%s", dir, err, out)
	}
}

// benchRedirect is the redirect URI of every client the benchmarks register;
// nothing listens there: the browser (or this code) stops at the redirect.
const benchRedirect = "http://127.0.0.1:47999/callback"

// registrationBody is the DCR request both servers get: a public client
// with refresh tokens, as MCP clients register.
var registrationBody = []byte(`{"client_name":"drivemcp bench","redirect_uris":["` + benchRedirect +
	`"],"grant_types":["authorization_code","refresh_token"],"response_types":["code"],"token_endpoint_auth_method":"none"}`)

// register registers a public client and returns its id.
func register(tb testing.TB, s *server) string {
	tb.Helper()
	resp, err := http.Post(s.Base+s.Register, "application/json", strings.NewReader(string(registrationBody)))
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		ClientID string `json:"client_id"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != http.StatusCreated || out.ClientID == "" {
		tb.Fatalf("%s: registering a client: %s %v", s.Name, resp.Status, err)
	}
	return out.ClientID
}

// tokenPair is an access token with its refresh token.
type tokenPair struct {
	Access  string `json:"access_token"`
	Refresh string `json:"refresh_token"`
}

// authorizeURL is an authorization request of client for the server's /mcp.
func authorizeURL(s *server, clientID, verifier string) string {
	return s.Base + s.Authorize + "?" + url.Values{
		"client_id": {clientID}, "redirect_uri": {benchRedirect}, "response_type": {"code"},
		"state": {"bench"}, "code_challenge": {oauth2.S256ChallengeFromVerifier(verifier)},
		"code_challenge_method": {"S256"}, "resource": {s.Base + "/mcp"}, "scope": {"drive.file"},
	}.Encode()
}

// login gets a token pair for client from s the way a client does:
// authorization request (the browser plays the user: drivemcp's consent
// page and the emulated Google sign-in; the peer redirects at once), then
// the code exchange.
func login(tb testing.TB, s *server, clientID, email string) tokenPair {
	tb.Helper()
	verifier := oauth2.GenerateVerifier()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	back, err := e2etest.NewBrowser(email).Run(ctx, authorizeURL(s, clientID, verifier), benchRedirect)
	if err != nil {
		tb.Fatalf("%s: authorization: %v", s.Name, err)
	}
	code := back.Query().Get("code")
	if code == "" {
		tb.Fatalf("%s: the authorization response has no code: %s", s.Name, back)
	}
	return exchangeCode(tb, s, clientID, code, verifier)
}

func exchangeCode(tb testing.TB, s *server, clientID, code, verifier string) tokenPair {
	tb.Helper()
	resp, err := http.PostForm(s.Base+s.Token, url.Values{"grant_type": {"authorization_code"}, "code": {code},
		"code_verifier": {verifier}, "client_id": {clientID}, "redirect_uri": {benchRedirect}})
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var p tokenPair
	if err := json.Unmarshal(body, &p); err != nil || resp.StatusCode != http.StatusOK || p.Access == "" {
		tb.Fatalf("%s: exchanging the code: %s %s", s.Name, resp.Status, body)
	}
	return p
}

// mcpHeader is what a streamable HTTP client sends with each POST.
func mcpHeader(token string) http.Header {
	return http.Header{
		"Authorization":        {"Bearer " + token},
		"Content-Type":         {"application/json"},
		"Accept":               {"application/json, text/event-stream"},
		"Mcp-Protocol-Version": {"2025-06-18"},
	}
}

func describe(s *server) string { return fmt.Sprintf("%s (pid %d, %s)", s.Name, s.PID, s.Base) }
