package e2e

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"golang.org/x/oauth2"

	"github.com/drivemcp/drivemcp/internal/e2etest"
	"github.com/drivemcp/drivemcp/internal/googleemu"
)

// The server dies at the worst moments (kill -9: no cleanup at all) and is
// started again on the same database; or it is asked to stop (SIGTERM) and
// must finish what it started.

const uploadPrefix = "/upload/drive/v3/files"

// waitFor polls cond until it holds, or fails the test after 20 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
	}
}

// An upload is killed halfway: Google holds part of it in a session that
// never finishes. Restarted on the same database, the server still has
// alice's grant whole (it must refresh with it), and the retried upload
// makes exactly one file: the half upload left nothing behind.
func TestCrash_KillDuringAnUploadThenTheRetryMakesOneFile(t *testing.T) {
	g := e2etest.StartGoogle(t)
	root := t.TempDir()
	cfg := e2etest.Config{Binary: binary, DB: filepath.Join(t.TempDir(), "drivemcp.db"), UploadRoots: []string{root}, Google: g}
	first := e2etest.StartStdio(t, cfg)
	e2etest.Connect(t, first.Session, "alice@example.com")
	const size = 48 << 20
	path, wantMD5 := e2etest.WriteRandomFile(t, root, "interrupted.bin", size)

	// Google takes 16 MiB, the connection breaks, and the resumed transfer
	// hangs: that is when the server dies.
	g.InjectFault(googleemu.Fault{Method: "PUT", PathPrefix: uploadPrefix, DropAfterBytes: 16 << 20})
	g.InjectFault(googleemu.Fault{Method: "PUT", PathPrefix: uploadPrefix, Latency: time.Nanosecond}) // the status query
	// (Killed, the server never sends the body the emulator waits on, so the
	// emulator notices only when the latency is over.)
	g.InjectFault(googleemu.Fault{Method: "PUT", PathPrefix: uploadPrefix, Latency: 3 * time.Second})
	before := g.Stats().Requests
	go func() { // fails when the server dies; nobody waits for it
		_, _ = first.Session.CallTool(context.Background(), &mcp.CallToolParams{Name: "upload_file_to_drive", Arguments: map[string]any{"filepath": path}})
	}()
	waitFor(t, "the resumed transfer reached Google", func() bool { return g.Stats().Requests >= before+4 })
	if err := syscall.Kill(first.PID(), syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	first.Close()
	g.ClearFaults()
	if n := len(e2etest.FilesNamed(g, "interrupted.bin")); n != 0 {
		t.Fatalf("the killed upload made %d files", n)
	}

	g.ExpireAccessTokens() // the restarted server must renew with the stored refresh token
	second := e2etest.StartStdio(t, cfg)
	who := e2etest.Structured(t, e2etest.MustCall(t, second.Session, "check_drive_auth", nil))
	if who["email"] != "alice@example.com" || who["authenticated"] != true {
		t.Fatalf("after the crash check_drive_auth = %v", who)
	}
	out := e2etest.Structured(t, e2etest.MustCall(t, second.Session, "upload_file_to_drive", map[string]any{"filepath": path}))
	if out["md5"] != wantMD5 {
		t.Fatalf("retried upload = %v", out)
	}
	files := e2etest.FilesNamed(g, "interrupted.bin")
	if len(files) != 1 {
		t.Fatalf("Drive has %d files named interrupted.bin after the retry, want 1", len(files))
	}
	if n, sum := e2etest.DriveFileMD5(t, g, files[0].ID); n != size || sum != wantMD5 {
		t.Fatalf("Drive holds %d bytes with md5 %s", n, sum)
	}
}

// restartable is one HTTP server behind a balancer whose URL is its
// --base-url, so that a server started again on another port is the same
// server to clients: same issuer, same resource their tokens are bound to.
type restartable struct {
	t    *testing.T
	g    *e2etest.Google
	bal  *e2etest.Balancer
	cfg  e2etest.Config
	srv  *e2etest.HTTPServer
	base string
}

func startRestartable(t *testing.T) *restartable {
	t.Helper()
	g := e2etest.StartGoogle(t)
	bal := e2etest.StartBalancer(t)
	r := &restartable{t: t, g: g, bal: bal, base: bal.URL, cfg: e2etest.Config{Binary: binary,
		DB: filepath.Join(t.TempDir(), "drivemcp.db"), Google: g, ExtraArgs: []string{"--base-url", bal.URL}}}
	r.start()
	return r
}

func (r *restartable) start() {
	r.t.Helper()
	r.srv = e2etest.StartHTTP(r.t, r.cfg)
	if err := r.bal.SetBackends(r.srv.BaseURL); err != nil {
		r.t.Fatal(err)
	}
}

// crash kills the server (kill -9) and starts it again on the same database.
func (r *restartable) crash() {
	r.t.Helper()
	r.srv.Kill()
	r.bal.CloseIdleConnections()
	r.start()
}

// handClient is a public OAuth client driven one step at a time (no SDK),
// so that a test can stop the server between any two steps.
type handClient struct {
	id    string
	scope string // the OAuth scope it asks for; "" is drive.file
}

// handToken is a token endpoint's answer.
type handToken struct {
	Status       int
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	Error        string `json:"error"`
	Body         string
}

const handClientRedirect = "http://127.0.0.1:47916/callback"

func registerHandClient(t *testing.T, base string) *handClient {
	t.Helper()
	id, _ := e2etest.RegisterClient(t, base, map[string]any{"client_name": "crash e2e", "redirect_uris": []string{handClientRedirect},
		"grant_types": []string{"authorization_code", "refresh_token"}, "token_endpoint_auth_method": "none"})
	return &handClient{id: id}
}

// authorizeURL is the start of a login, with a fresh PKCE verifier.
func (c *handClient) authorizeURL(base string) (authURL, verifier string) {
	verifier = oauth2.GenerateVerifier()
	return base + "/oauth/authorize?" + url.Values{
		"client_id": {c.id}, "redirect_uri": {handClientRedirect}, "response_type": {"code"}, "state": {"st"},
		"code_challenge": {oauth2.S256ChallengeFromVerifier(verifier)}, "code_challenge_method": {"S256"},
		"resource": {base + "/mcp"}, "scope": {cmp.Or(c.scope, "drive.file")},
	}.Encode(), verifier
}

// code runs the browser part of a login as email and returns our code.
func (c *handClient) code(t *testing.T, base, email string) (code, verifier string) {
	t.Helper()
	authURL, verifier := c.authorizeURL(base)
	back, err := e2etest.NewBrowser(email).Run(t.Context(), authURL, handClientRedirect)
	if err != nil {
		t.Fatal(err)
	}
	if back.Query().Get("code") == "" {
		t.Fatalf("no code: %s", back)
	}
	return back.Query().Get("code"), verifier
}

func (c *handClient) redeem(base, code, verifier string) (handToken, error) {
	return c.token(base, url.Values{"grant_type": {"authorization_code"}, "code": {code},
		"code_verifier": {verifier}, "redirect_uri": {handClientRedirect}})
}

func (c *handClient) token(base string, form url.Values) (handToken, error) {
	form.Set("client_id", c.id)
	resp, err := http.PostForm(base+"/oauth/token", form)
	if err != nil {
		return handToken{}, err
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	out := handToken{Status: resp.StatusCode, Body: string(raw)}
	_ = json.Unmarshal(raw, &out)
	return out, nil
}

// login runs a whole login as email and returns the tokens.
func (c *handClient) login(t *testing.T, base, email string) handToken {
	t.Helper()
	code, verifier := c.code(t, base, email)
	tok, err := c.redeem(base, code, verifier)
	if err != nil || tok.Status != http.StatusOK || tok.AccessToken == "" {
		t.Fatalf("redeeming the code: %v %d %s", err, tok.Status, tok.Body)
	}
	return tok
}

// bearerSession connects an MCP client that sends a fixed access token.
func bearerSession(t *testing.T, base, token string) (*mcp.ClientSession, error) {
	t.Helper()
	client := &http.Client{Transport: bearerTransport{token}}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	s, err := mcp.NewClient(&mcp.Implementation{Name: "e2e-bearer", Version: "1"}, nil).
		Connect(ctx, &mcp.StreamableClientTransport{Endpoint: base + "/mcp", HTTPClient: client}, nil)
	if err == nil {
		t.Cleanup(func() { s.Close() })
	}
	return s, err
}

type bearerTransport struct{ token string }

func (b bearerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.token)
	return http.DefaultTransport.RoundTrip(r)
}

// actsAs checks that an access token works for tool calls, as email.
func actsAs(t *testing.T, base, token, email string) {
	t.Helper()
	s, err := bearerSession(t, base, token)
	if err != nil {
		t.Fatalf("connecting with the access token: %v", err)
	}
	if who := e2etest.Structured(t, e2etest.MustCall(t, s, "check_drive_auth", nil)); who["email"] != email {
		t.Fatalf("the token acts as %v, want %s", who["email"], email)
	}
}

// Logins are interrupted by kill -9 at each step that talks to someone
// else. Afterwards, on the same database: what was done stays done (the
// registered client, the tokens issued, a code already handed out), and
// what was half done either completes or fails with a page that says to
// start again — never a half-written grant.
func TestCrash_KillsDuringLoginsLoseNothingThatWasDone(t *testing.T) {
	r := startRestartable(t)
	alice := registerHandClient(t, r.base)
	aliceTok := alice.login(t, r.base, "alice@example.com")

	// 1. Between the callback and the token request: the client holds our
	// code when the server dies; after the restart it redeems it.
	carol := registerHandClient(t, r.base)
	code, verifier := carol.code(t, r.base, "carol@example.com")
	r.crash()
	carolTok, err := carol.redeem(r.base, code, verifier)
	if err != nil || carolTok.Status != http.StatusOK {
		t.Fatalf("a code handed out before the crash: %v %d %s", err, carolTok.Status, carolTok.Body)
	}
	actsAs(t, r.base, carolTok.AccessToken, "carol@example.com")

	// 2. While drivemcp exchanges Google's code at Google: Google is slow,
	// the server dies. The sign-in in progress fails cleanly afterwards,
	// and starting over works.
	bob := registerHandClient(t, r.base)
	authURL, _ := bob.authorizeURL(r.base)
	bobsBrowser := e2etest.NewBrowser("bob@example.com")
	callback, err := bobsBrowser.Run(t.Context(), authURL, r.base+"/oauth2callback")
	if err != nil {
		t.Fatal(err)
	}
	r.g.InjectFault(googleemu.Fault{PathPrefix: "/token", Latency: 3 * time.Second})
	before := r.g.Stats().Requests
	go func() { // answered by the balancer with 502 when the server dies
		if resp, err := bobsBrowser.Open(context.Background(), callback.String()); err == nil {
			resp.Body.Close()
		}
	}()
	waitFor(t, "drivemcp asked Google for the tokens", func() bool { return r.g.Stats().Requests > before })
	r.crash()
	r.g.ClearFaults()
	resp, err := bobsBrowser.Open(t.Context(), callback.String())
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusFound: // it completed after all
	case resp.StatusCode >= 400 && resp.StatusCode < 500 && strings.Contains(string(page), "again"):
	default:
		t.Fatalf("the interrupted callback, loaded again: %s\n%s", resp.Status, page)
	}
	bobTok := bob.login(t, r.base, "bob@example.com")
	actsAs(t, r.base, bobTok.AccessToken, "bob@example.com")

	// 3. During our own token request: it may have finished before the
	// kill or not; either the client has working tokens, or its code still
	// redeems, or it is told invalid_grant and logs in again.
	dana := registerHandClient(t, r.base)
	code, verifier = dana.code(t, r.base, "dana@example.com")
	answered := make(chan handToken, 1)
	go func() {
		tok, _ := dana.redeem(r.base, code, verifier)
		answered <- tok
	}()
	r.crash()
	danaTok := <-answered
	outcome := "answered before the kill"
	if danaTok.Status != http.StatusOK {
		danaTok, err = dana.redeem(r.base, code, verifier)
		switch {
		case err == nil && danaTok.Status == http.StatusOK:
			outcome = "redeemed after the restart"
		case err == nil && danaTok.Status == http.StatusBadRequest && danaTok.Error == "invalid_grant":
			outcome = "refused after the restart; logged in again"
			danaTok = dana.login(t, r.base, "dana@example.com")
		default:
			t.Fatalf("redeeming after the restart: %v %d %s", err, danaTok.Status, danaTok.Body)
		}
	}
	t.Logf("token request killed in flight: %s", outcome)
	actsAs(t, r.base, danaTok.AccessToken, "dana@example.com")

	// Three crashes later, the first client's registration and tokens
	// still work: its access token, its refresh token, a new login.
	actsAs(t, r.base, aliceTok.AccessToken, "alice@example.com")
	refreshed, err := alice.token(r.base, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {aliceTok.RefreshToken}})
	if err != nil || refreshed.Status != http.StatusOK {
		t.Fatalf("refreshing alice's tokens after the crashes: %v %d %s", err, refreshed.Status, refreshed.Body)
	}
	actsAs(t, r.base, refreshed.AccessToken, "alice@example.com")
	alice.login(t, r.base, "alice@example.com")
	if strings.Contains(r.srv.Output(), "panic") {
		t.Fatalf("the restarted server panicked:\n%s", r.srv.Output())
	}
}

// SIGTERM (a deploy, a scale-down) reaches a server that is uploading: it
// stops taking connections, lets the upload finish and deliver its result,
// and exits.
func TestSIGTERM_HTTPServerFinishesTheUploadInFlight(t *testing.T) {
	g := e2etest.StartGoogle(t)
	root := t.TempDir()
	srv := e2etest.StartHTTP(t, e2etest.Config{Binary: binary, DB: filepath.Join(t.TempDir(), "db"),
		UploadRoots: []string{"erin@example.com=" + root}, Google: g, ExtraArgs: []string{"--allow-accounts", "erin@example.com"}})
	s := connectOAuth(t, srv.BaseURL, e2etest.NewBrowser("erin@example.com"))
	path, wantMD5 := e2etest.WriteRandomFile(t, root, "drained.bin", 24<<20)
	// Google holds the transfer for a second: the upload is surely in
	// flight when the signal comes.
	g.InjectFault(googleemu.Fault{Method: "PUT", PathPrefix: uploadPrefix, Latency: time.Second})

	result := make(chan *mcp.CallToolResult, 1)
	callErr := make(chan error, 1)
	go func() {
		res, err := s.CallTool(context.Background(), &mcp.CallToolParams{Name: "upload_file_to_drive", Arguments: map[string]any{"filepath": path}})
		result <- res
		callErr <- err
	}()
	waitFor(t, "the upload started at Google", func() bool { return g.Stats().UploadBytesReceived > 0 })
	stopped := time.Now()
	srv.Stop() // SIGTERM, and wait (SIGKILL after 10 s)
	took := time.Since(stopped)
	res, err := <-result, <-callErr
	if err != nil || res.IsError {
		t.Fatalf("the upload in flight at SIGTERM: %v %v\n%s", err, res, srv.Output())
	}
	if out := e2etest.Structured(t, res); out["md5"] != wantMD5 {
		t.Fatalf("upload = %v", out)
	}
	if files := e2etest.FilesNamed(g, "drained.bin"); len(files) != 1 {
		t.Fatalf("Drive has %d files named drained.bin", len(files))
	}
	if took > 8*time.Second || !strings.Contains(srv.Output(), "stopping: finishing the tool calls in flight") ||
		strings.Contains(srv.Output(), "cancelled tool calls") {
		t.Fatalf("stopping took %v:\n%s", took, srv.Output())
	}
	if _, err := http.Get(srv.BaseURL + "/healthz"); err == nil {
		t.Fatal("the server still answers after SIGTERM")
	}
}

// A stdio server whose client is still connected finishes the upload in
// flight on SIGTERM and delivers its result before it exits.
func TestSIGTERM_StdioServerFinishesTheUploadInFlight(t *testing.T) {
	g := e2etest.StartGoogle(t)
	root := t.TempDir()
	s := e2etest.StartStdio(t, e2etest.Config{Binary: binary, DB: filepath.Join(t.TempDir(), "drivemcp.db"), UploadRoots: []string{root}, Google: g})
	e2etest.Connect(t, s.Session, "alice@example.com")
	path, wantMD5 := e2etest.WriteRandomFile(t, root, "drained.bin", 24<<20)
	g.InjectFault(googleemu.Fault{Method: "PUT", PathPrefix: uploadPrefix, Latency: time.Second})

	type answer struct {
		res *mcp.CallToolResult
		err error
	}
	answers := make(chan answer, 1)
	go func() {
		res, err := s.Session.CallTool(context.Background(), &mcp.CallToolParams{Name: "upload_file_to_drive", Arguments: map[string]any{"filepath": path}})
		answers <- answer{res, err}
	}()
	waitFor(t, "the upload started at Google", func() bool { return g.Stats().UploadBytesReceived > 0 })
	if err := syscall.Kill(s.PID(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	a := <-answers
	if a.err != nil || a.res.IsError {
		t.Fatalf("the upload in flight at SIGTERM: %v %v\n%s", a.err, a.res, s.Stderr())
	}
	if out := e2etest.Structured(t, a.res); out["md5"] != wantMD5 {
		t.Fatalf("upload = %v", out)
	}
	waitFor(t, "the server exited", func() bool { return exited(s.PID()) })
	if !strings.Contains(s.Stderr(), "stopping: finishing the tool calls in flight") {
		t.Fatalf("no drain in the log:\n%s", s.Stderr())
	}
}

// exited reports whether the process is gone or a zombie (exited, not yet
// waited for by its parent, the test).
func exited(pid int) bool {
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return true
	}
	// pid (comm) state …; comm may hold spaces and parentheses.
	rest := string(stat[bytes.LastIndexByte(stat, ')')+1:])
	return strings.HasPrefix(strings.TrimSpace(rest), "Z")
}
