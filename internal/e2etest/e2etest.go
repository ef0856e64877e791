// Package e2etest starts drivemcp the way its users meet it: the real binary
// as a process, spoken to by the official MCP client, with "Google" played by
// the emulator on loopback. The end-to-end tests (e2e/) and the benchmarks
// (bench/) share it, as do package tests that need the emulator or a
// scripted browser; production code never imports it.
package e2etest

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"golang.org/x/oauth2"

	"github.com/drivemcp/drivemcp/internal/googleemu"
)

// BuildBinary builds cmd/drivemcp into dir and returns its path.
func BuildBinary(dir string) (string, error) {
	root, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}").Output()
	if err != nil {
		return "", fmt.Errorf("finding the module root: %w", err)
	}
	bin := filepath.Join(dir, "drivemcp")
	build := exec.Command("go", "build", "-o", bin, "./cmd/drivemcp")
	build.Dir = strings.TrimSpace(string(root))
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		return "", err
	}
	return bin, nil
}

// Google is an emulated Google on loopback.
type Google struct {
	*googleemu.Emulator
	URL string
}

func StartGoogle(t testing.TB) *Google {
	t.Helper()
	return StartGoogleOnDisk(t, t.TempDir())
}

// StartGoogleOnDisk is StartGoogle keeping uploaded bytes under dir.
func StartGoogleOnDisk(t testing.TB, dir string) *Google {
	t.Helper()
	return StartGoogleWith(t, googleemu.Options{Dir: dir})
}

// StartGoogleWith is StartGoogle with the emulator configured by opts
// (registered clients, accounts).
func StartGoogleWith(t testing.TB, opts googleemu.Options) *Google {
	t.Helper()
	emu, err := googleemu.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(emu)
	t.Cleanup(func() { srv.Close(); emu.Close() })
	return &Google{Emulator: emu, URL: srv.URL}
}

// FreeAddr returns a loopback address nobody listens on right now.
func FreeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// StdioServer is one drivemcp process speaking MCP on stdio.
type StdioServer struct {
	Session      *mcp.ClientSession
	CallbackAddr string
	stderr       *lockedBuffer
	cmd          *exec.Cmd
	onProgress   atomic.Pointer[func(*mcp.ProgressNotificationParams)]
	// Updated receives the URI of every notifications/resources/updated.
	Updated chan string
}

type Config struct {
	Binary      string // from BuildBinary
	DB          string
	UploadRoots []string
	Google      *Google
	ExtraArgs   []string
	// Elicit, if set, is the stdio client's elicitation handler, and the
	// client declares URL-mode elicitation (MCP 2025-11-25) with it.
	Elicit func(context.Context, *mcp.ElicitRequest) (*mcp.ElicitResult, error)
	// ElicitComplete, if set, hears the stdio client's
	// notifications/elicitation/complete.
	ElicitComplete func(context.Context, *mcp.ElicitationCompleteNotificationRequest)
	// ProtocolVersion is the MCP revision the stdio client asks for (the
	// go-sdk's latest if empty).
	ProtocolVersion string
}

// command is `drivemcp serve` with cfg's settings and the transport's own
// arguments, pointed at the emulator, logging at debug level.
func (cfg Config) command(t testing.TB, transportArgs ...string) *exec.Cmd {
	args := append([]string{"serve"}, transportArgs...)
	args = append(args, "--db", cfg.DB, "--google-endpoint", cfg.Google.URL,
		"--google-client-id", googleemu.DemoClientID, "--google-client-secret", googleemu.DemoClientSecret,
		"--log-level", "debug")
	for _, r := range cfg.UploadRoots {
		args = append(args, "--upload-root", r)
	}
	args = append(args, cfg.ExtraArgs...)
	cmd := exec.Command(cfg.Binary, args...)
	cmd.Env = append(os.Environ(), "HOME="+t.TempDir())
	return cmd
}

// MainWithBinary builds drivemcp once for a test binary, stores its path in
// *binary, runs the tests and cleans up: the TestMain of e2e and bench.
func MainWithBinary(m *testing.M, binary *string) {
	dir, err := os.MkdirTemp("", "drivemcp-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	*binary, err = BuildBinary(dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, "building drivemcp:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// StartStdio starts `drivemcp serve --stdio` and connects the go-sdk client.
func StartStdio(t testing.TB, cfg Config) *StdioServer {
	t.Helper()
	callback := FreeAddr(t)
	cmd := cfg.command(t, "--stdio", "--callback-addr", callback)
	stderr := &lockedBuffer{}
	cmd.Stderr = stderr
	s := &StdioServer{CallbackAddr: callback, stderr: stderr, cmd: cmd, Updated: make(chan string, 64)}
	opts := &mcp.ClientOptions{
		ProgressNotificationHandler: func(_ context.Context, req *mcp.ProgressNotificationClientRequest) {
			if f := s.onProgress.Load(); f != nil {
				(*f)(req.Params)
			}
		},
		ResourceUpdatedHandler: func(_ context.Context, req *mcp.ResourceUpdatedNotificationRequest) {
			select {
			case s.Updated <- req.Params.URI:
			default: // a test that does not read them
			}
		},
	}
	if cfg.Elicit != nil {
		opts.ElicitationHandler = cfg.Elicit
		opts.Capabilities = &mcp.ClientCapabilities{Elicitation: &mcp.ElicitationCapabilities{URL: &mcp.URLElicitationCapabilities{}}}
	}
	opts.ElicitationCompleteHandler = cfg.ElicitComplete
	client := mcp.NewClient(&mcp.Implementation{Name: "e2e", Version: "1"}, opts)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	session, err := client.Connect(ctx, &mcp.CommandTransport{Command: cmd, TerminateDuration: 5 * time.Second},
		&mcp.ClientSessionOptions{ProtocolVersion: cfg.ProtocolVersion})
	if err != nil {
		t.Fatalf("connecting to drivemcp: %v\nstderr:\n%s", err, stderr)
	}
	s.Session = session
	t.Cleanup(func() {
		s.Close()
		if t.Failed() {
			t.Logf("drivemcp stderr:\n%s", stderr)
		}
	})
	// The Google callback listens only while a sign-in is pending, so the
	// MCP handshake is the sign that the server started.
	return s
}

func (s *StdioServer) Close() { _ = s.Session.Close() }

// PID is the server process's id (for measuring its memory).
func (s *StdioServer) PID() int { return s.cmd.Process.Pid }

// Stderr is what the server logged so far.
func (s *StdioServer) Stderr() string { return s.stderr.String() }

func WaitListening(t testing.TB, addr string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("nothing listens on %s", addr)
}

// Call calls a tool and returns its result; protocol errors fail the test.
func Call(t testing.TB, s *mcp.ClientSession, name string, args map[string]any) *mcp.CallToolResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	res, err := s.CallTool(ctx, &mcp.CallToolParams{Name: name, Arguments: args})
	if err != nil {
		t.Fatalf("%s: protocol error: %v", name, err)
	}
	return res
}

// MustCall calls a tool that must succeed.
func MustCall(t testing.TB, s *mcp.ClientSession, name string, args map[string]any) *mcp.CallToolResult {
	t.Helper()
	res := Call(t, s, name, args)
	if res.IsError {
		t.Fatalf("%s failed: %s", name, ResultText(res))
	}
	return res
}

func ResultText(res *mcp.CallToolResult) string {
	var b strings.Builder
	for _, c := range res.Content {
		if tc, ok := c.(*mcp.TextContent); ok {
			b.WriteString(tc.Text)
		}
	}
	return b.String()
}

func Structured(t testing.TB, res *mcp.CallToolResult) map[string]any {
	t.Helper()
	m, ok := res.StructuredContent.(map[string]any)
	if !ok {
		t.Fatalf("structuredContent is %T, want an object", res.StructuredContent)
	}
	return m
}

// NoRedirects is a browser that stops at each redirect, so the test can see
// where it points.
var NoRedirects = &http.Client{
	Timeout:       10 * time.Second,
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

// Consent plays the user: it opens the Google URL (the emulator consents at
// once thanks to login_hint), follows Google's redirect to drivemcp's
// callback, and returns the callback page.
func Consent(t testing.TB, authURL string) (status int, page string) {
	t.Helper()
	u, err := url.Parse(authURL)
	if err != nil {
		t.Fatal(err)
	}
	if u.Query().Get("login_hint") == "" {
		t.Fatalf("auth URL has no login_hint; tests pass user_google_email: %s", authURL)
	}
	resp, err := NoRedirects.Get(authURL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound && resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("Google emulator answered %s, want a redirect", resp.Status)
	}
	callback := resp.Header.Get("Location")
	resp, err = NoRedirects.Get(callback)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// Connect runs start_google_auth for email and completes the consent.
func Connect(t testing.TB, s *mcp.ClientSession, email string) {
	t.Helper()
	res := MustCall(t, s, "start_google_auth", map[string]any{"user_google_email": email})
	authURL, _ := Structured(t, res)["auth_url"].(string)
	if authURL == "" {
		t.Fatalf("start_google_auth gave no auth_url: %s", ResultText(res))
	}
	status, page := Consent(t, authURL)
	if status != http.StatusOK || !strings.Contains(page, email) {
		t.Fatalf("callback page: status %d\n%s", status, page)
	}
}

// WriteRandomFile writes n pseudo-random bytes and returns the path and md5.
func WriteRandomFile(t testing.TB, dir, name string, n int64) (string, string) {
	t.Helper()
	path := filepath.Join(dir, name)
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := md5.New()
	buf := make([]byte, 1<<20)
	var seed uint32 = 2166136261
	for written := int64(0); written < n; {
		for i := range buf {
			seed = seed*16777619 + uint32(i)
			buf[i] = byte(seed >> 24)
		}
		chunk := buf[:min(int64(len(buf)), n-written)]
		if _, err := f.Write(chunk); err != nil {
			t.Fatal(err)
		}
		h.Write(chunk)
		written += int64(len(chunk))
	}
	return path, hex.EncodeToString(h.Sum(nil))
}

// DriveFileMD5 reads a file's bytes back from the emulator.
func DriveFileMD5(t testing.TB, g *Google, id string) (int64, string) {
	t.Helper()
	rc, err := g.OpenContent(id)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	h := md5.New()
	n, err := io.Copy(h, rc)
	if err != nil {
		t.Fatal(err)
	}
	return n, hex.EncodeToString(h.Sum(nil))
}

func FilesNamed(g *Google, name string) []googleemu.File {
	var out []googleemu.File
	for _, f := range g.Files() {
		if f.Name == name {
			out = append(out, f)
		}
	}
	return out
}

// lockedBuffer collects a process's stderr while tests read it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func FaultStatus(method, path string, status, times int) googleemu.Fault {
	return googleemu.Fault{Method: method, PathPrefix: path, Status: status, Times: times}
}

func FaultDrop(method, path string, afterBytes int64) googleemu.Fault {
	return googleemu.Fault{Method: method, PathPrefix: path, DropAfterBytes: afterBytes}
}

// CallWithProgress calls a tool, handing each progress notification the
// server sends to onProgress.
func (s *StdioServer) CallWithProgress(t testing.TB, params *mcp.CallToolParams, onProgress func(*mcp.ProgressNotificationParams)) *mcp.CallToolResult {
	t.Helper()
	// The handler stays installed after the call returns: notifications
	// travel beside the result and may be handled just after it.
	s.onProgress.Store(&onProgress)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	res, err := s.Session.CallTool(ctx, params)
	if err != nil {
		t.Fatalf("%s: %v", params.Name, err)
	}
	return res
}

// AccessToken logs email in at the emulator directly (no drivemcp) and
// returns a Google access token, for reference clients such as curl.
func AccessToken(t testing.TB, g *Google, email string) string {
	t.Helper()
	cfg := oauth2.Config{
		ClientID: googleemu.DemoClientID, ClientSecret: googleemu.DemoClientSecret,
		Endpoint:    oauth2.Endpoint{AuthURL: g.URL + "/o/oauth2/v2/auth", TokenURL: g.URL + "/token"},
		RedirectURL: "http://127.0.0.1:1/cb",
		Scopes:      []string{"openid", "email", "https://www.googleapis.com/auth/drive.file"},
	}
	resp, err := NoRedirects.Get(cfg.AuthCodeURL("s", oauth2.SetAuthURLParam("login_hint", email)))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	tok, err := cfg.Exchange(context.Background(), loc.Query().Get("code"))
	if err != nil {
		t.Fatal(err)
	}
	return tok.AccessToken
}
