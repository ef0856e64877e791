package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"golang.org/x/oauth2"

	"github.com/drivemcp/drivemcp/internal/e2etest"
	"github.com/drivemcp/drivemcp/internal/googleemu"
)

// Users who outgrow one machine run several drivemcp processes behind a load
// balancer on one PostgreSQL database. These stories run two replicas that
// way: every step of a login, every tool call and every refresh may land on
// either, and they must behave as one server.

// The balancer's backends.
const (
	replicaA = 0
	replicaB = 1
)

// replicas is two `drivemcp serve` processes on one PostgreSQL schema and one
// --secret-key, behind a balancer whose URL is their --base-url.
type replicas struct {
	google *e2etest.Google
	bal    *e2etest.Balancer
	a, b   *e2etest.HTTPServer
}

func startReplicas(t *testing.T, extraArgs ...string) *replicas {
	t.Helper()
	db := e2etest.PostgresURL(t) // first: its cleanup (dropping the schema) runs after the servers stop
	g := e2etest.StartGoogle(t)
	bal := e2etest.StartBalancer(t)
	args := append([]string{"--base-url", bal.URL, "--secret-key", e2etest.SecretKey(), "--stateless"}, extraArgs...)
	cfg := e2etest.Config{Binary: binary, DB: db, Google: g, ExtraArgs: args}
	r := &replicas{google: g, bal: bal, a: e2etest.StartHTTP(t, cfg), b: e2etest.StartHTTP(t, cfg)}
	if err := bal.SetBackends(r.a.BaseURL, r.b.BaseURL); err != nil {
		t.Fatal(err)
	}
	return r
}

// hopsSince returns the requests the balancer passed on after the first n.
func (r *replicas) hopsSince(n int) []e2etest.Hop { return r.bal.Hops()[n:] }

// A client registers on one replica, is authorized on the other, comes back
// from Google to the first and redeems its code on the second; its tool
// calls then alternate. A second user's login loses its replica between the
// authorization and Google's callback (kill -9), and finishes on the other.
func TestReplicas_LoginHopsBetweenReplicasAndSurvivesAKill(t *testing.T) {
	r := startReplicas(t)

	// Steer the first login so that what each step stores is picked up by
	// the other replica. (The second login crosses at Google's callback.)
	steps := map[string]int{
		"/oauth/register":  replicaA,
		"/oauth/authorize": replicaB, // finds A's client, stores the consent request
		"/oauth/consent":   replicaA, // takes it, checks B's CSRF token, sends the user to Google
		"/oauth2callback":  replicaA, // issues our code
		"/oauth/token":     replicaB, // redeems it
	}
	var toolCalls atomic.Int64
	r.bal.SetPicker(func(h e2etest.Hop) int {
		if h.RPC == "tools/call" {
			return int(toolCalls.Add(1)-1) % 2
		}
		if i, ok := steps[h.Path]; ok {
			return i
		}
		return -1
	})
	ana := connectOAuth(t, r.bal.URL, e2etest.NewBrowser("ana@example.com"))
	// Alternating, each replica answers one check and writes one file with
	// the Google grant the login stored.
	for i, tool := range []string{"check_drive_auth", "check_drive_auth", "create_drive_file", "create_drive_file"} {
		var args map[string]any
		if tool == "create_drive_file" {
			args = map[string]any{"file_name": fmt.Sprintf("replica-%d.txt", i), "content": "hello"}
		}
		res := e2etest.MustCall(t, ana, tool, args)
		if tool == "check_drive_auth" {
			if who := e2etest.Structured(t, res); who["email"] != "ana@example.com" || who["method"] != "oauth" {
				t.Fatalf("check_drive_auth = %v", who)
			}
		}
	}
	for _, name := range []string{"replica-2.txt", "replica-3.txt"} {
		if files := e2etest.FilesNamed(r.google, name); len(files) != 1 || files[0].Owner != "ana@example.com" {
			t.Fatalf("%s: %+v", name, files)
		}
	}
	hops := r.bal.Hops()
	for path, want := range steps {
		requireServedBy(t, hops, path, want)
	}
	calls := map[int]int{}
	for _, h := range hops {
		if h.RPC == "tools/call" {
			calls[h.Backend]++
		}
	}
	if calls[replicaA] != 2 || calls[replicaB] != 2 {
		t.Fatalf("tools/call served per replica: %v, want two each", calls)
	}

	// Second login: A shows the consent page and sends the user to Google,
	// keeping the Google leg's state in the database; it dies before
	// Google's redirect comes back, and B finishes from that state.
	var killed atomic.Bool
	r.bal.SetPicker(func(h e2etest.Hop) int {
		switch h.Path {
		case "/oauth/authorize", "/oauth/consent":
			return replicaA
		case "/oauth2callback":
			if killed.CompareAndSwap(false, true) {
				r.a.Kill()
				r.bal.CloseIdleConnections()
			}
			return replicaA // refused: the balancer moves it to B
		}
		return -1
	})
	mark := len(hops)
	ben := connectOAuth(t, r.bal.URL, e2etest.NewBrowser("ben@example.com"))
	if who := e2etest.Structured(t, e2etest.MustCall(t, ben, "check_drive_auth", nil)); who["email"] != "ben@example.com" {
		t.Fatalf("check_drive_auth after failover = %v", who)
	}
	e2etest.MustCall(t, ben, "create_drive_file", map[string]any{"file_name": "after-kill.txt", "content": "still here"})
	if files := e2etest.FilesNamed(r.google, "after-kill.txt"); len(files) != 1 || files[0].Owner != "ben@example.com" {
		t.Fatalf("after-kill.txt: %+v", files)
	}
	if !killed.Load() {
		t.Fatal("the login never reached the callback")
	}
	second := r.hopsSince(mark)
	requireServedBy(t, second, "/oauth/authorize", replicaA)
	requireServedBy(t, second, "/oauth/consent", replicaA)
	requireServedBy(t, second, "/oauth2callback", replicaB)
	requireServedBy(t, second, "/oauth/token", replicaB)
	for _, h := range second {
		if h.Path == "/oauth2callback" && h.Picked != replicaA {
			t.Fatalf("the callback was not meant for the killed replica: %+v", h)
		}
	}
	// The first user's session goes on, on the survivor.
	if who := e2etest.Structured(t, e2etest.MustCall(t, ana, "check_drive_auth", nil)); who["email"] != "ana@example.com" {
		t.Fatalf("ana after the kill: %v", who)
	}
}

// requireServedBy checks that requests for path were made and that every one
// was answered by backend want.
func requireServedBy(t *testing.T, hops []e2etest.Hop, path string, want int) {
	t.Helper()
	n := 0
	for _, h := range hops {
		if h.Path != path {
			continue
		}
		n++
		if h.Backend != want {
			t.Errorf("%s %s: served by replica %d, want %d (%+v)", h.Method, path, h.Backend, want, h)
		}
	}
	if n == 0 {
		t.Errorf("no request for %s went through the balancer", path)
	}
}

// Google ends the client's access tokens early. Fifty tool calls that reach
// Google, spread over both replicas, each learn it from Google's 401. An
// OAuth client's calls use tokens limited to its own scopes, which each
// replica keeps in memory only: each replica refreshes once, however many
// of its calls met the 401, so Google sees one refresh per replica.
func TestReplicas_RefreshStormRefreshesGoogleOncePerReplica(t *testing.T) {
	r := startReplicas(t)
	s := connectOAuth(t, r.bal.URL, e2etest.NewBrowser("cleo@example.com"))
	e2etest.MustCall(t, s, "create_drive_file", map[string]any{"file_name": "storm.txt", "content": "x"})

	// Google answers the refresh slowly: while the first replica to ask
	// holds the account's lock, the other meets the 401 too and waits.
	r.google.InjectFault(googleemu.Fault{Method: http.MethodPost, PathPrefix: "/token", Latency: time.Second})
	r.google.ExpireAccessTokens() // our stored copy still looks valid for an hour
	refreshesBefore := r.google.Stats().TokenRequests["refresh_token"]
	mark := len(r.bal.Hops())
	const calls = 50
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	errs := make(chan string, calls)
	start := make(chan struct{})
	for i := range calls {
		wg.Go(func() {
			<-start
			res, err := s.CallTool(ctx, &mcp.CallToolParams{Name: "list_drive_items", Arguments: map[string]any{}})
			switch {
			case err != nil:
				errs <- fmt.Sprintf("call %d: %v", i, err)
			case res.IsError || !strings.Contains(e2etest.ResultText(res), "storm.txt"):
				errs <- fmt.Sprintf("call %d: %s", i, e2etest.ResultText(res))
			}
		})
	}
	close(start)
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	if n := r.google.Stats().TokenRequests["refresh_token"] - refreshesBefore; n != 2 {
		t.Fatalf("Google saw %d refresh requests, want 2 (one per replica)", n)
	}
	served := map[int]int{}
	for _, h := range r.hopsSince(mark) {
		if h.RPC == "tools/call" {
			served[h.Backend]++
		}
	}
	if served[replicaA] == 0 || served[replicaB] == 0 || served[replicaA]+served[replicaB] != calls {
		t.Fatalf("tools/call per replica: %v", served)
	}
	// Each replica asked Google itself, once: the replica that served the
	// first upload met the 401 and asked again; the other asked at its first
	// call. No replica refreshed per call.
	var refreshed float64
	for name, srv := range map[string]*e2etest.HTTPServer{"A": r.a, "B": r.b} {
		n := metricValue(metricsOf(t, srv), `drivemcp_google_token_refreshes_total{outcome="refreshed"}`)
		if n < 1 {
			t.Errorf("replica %s never asked Google for a token", name)
		}
		refreshed += n
	}
	if refreshed != 3 {
		t.Fatalf("replicas report %v refreshes, want 3 (the first upload's, then one per replica)", refreshed)
	}
}

// A client refreshes twice at once, and a balancer sends the two requests
// to different replicas: both get the same new pair, which works on both.
func TestReplicas_RefreshRaceWithinGraceGetsOnePair(t *testing.T) {
	r := startReplicas(t)
	c := loginByHand(t, r.bal.URL, "dan@example.com")
	refresh := c.refresh
	for round := range 5 {
		var got [2]tokenAnswer
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i, srv := range []*e2etest.HTTPServer{r.a, r.b} {
			wg.Go(func() {
				<-start
				got[i] = c.exchange(t, srv.BaseURL, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh}})
			})
		}
		close(start)
		wg.Wait()
		a, b := got[0], got[1]
		if a.Status != http.StatusOK || b.Status != http.StatusOK {
			t.Fatalf("round %d: A %d %s, B %d %s", round, a.Status, a.Error, b.Status, b.Error)
		}
		if a.AccessToken != b.AccessToken || a.RefreshToken != b.RefreshToken || a.RefreshToken == refresh {
			t.Fatalf("round %d: A and B answered different pairs (or none new)", round)
		}
		for _, srv := range []*e2etest.HTTPServer{r.a, r.b} {
			if status, body := callToolRaw(t, srv.BaseURL, a.AccessToken, "check_drive_auth"); status != http.StatusOK || !strings.Contains(body, "dan@example.com") {
				t.Fatalf("round %d: the new access token at %s: %d %s", round, srv.BaseURL, status, body)
			}
		}
		refresh = a.RefreshToken
	}
}

// A refresh token used again after its grace window has leaked: the reuse,
// on one replica, revokes the family there at once, and on the other as
// soon as that one stops trusting its short-lived cache of verified tokens.
func TestReplicas_RefreshReuseAfterGraceRevokesFamilyOnBoth(t *testing.T) {
	const grace = time.Second
	// revokedWithin bounds how long the other replica may still accept a
	// revoked access token: well past its token cache's TTL (2 s).
	const revokedWithin = 5 * time.Second
	r := startReplicas(t, "--refresh-grace", grace.String())
	c := loginByHand(t, r.bal.URL, "eve@example.com")

	rotated := c.exchange(t, r.a.BaseURL, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {c.refresh}})
	if rotated.Status != http.StatusOK {
		t.Fatalf("rotation on A: %d %s", rotated.Status, rotated.Error)
	}
	time.Sleep(grace + grace/2)
	for name, srv := range map[string]*e2etest.HTTPServer{"A": r.a, "B": r.b} {
		if status, body := callToolRaw(t, srv.BaseURL, rotated.AccessToken, "check_drive_auth"); status != http.StatusOK {
			t.Fatalf("the rotated access token on %s: %d %s", name, status, body)
		}
	}

	reuse := c.exchange(t, r.b.BaseURL, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {c.refresh}})
	if reuse.Status != http.StatusBadRequest || reuse.Error != "invalid_grant" {
		t.Fatalf("reuse after the grace window on B: %d %q", reuse.Status, reuse.Error)
	}
	revoked := time.Now()
	if status, _ := callToolRaw(t, r.b.BaseURL, rotated.AccessToken, "check_drive_auth"); status != http.StatusUnauthorized {
		t.Fatalf("the family's newest access token on B, which revoked it: %d, want 401", status)
	}
	for {
		status, _ := callToolRaw(t, r.a.BaseURL, rotated.AccessToken, "check_drive_auth")
		if status == http.StatusUnauthorized {
			t.Logf("A refused the revoked access token after %v", time.Since(revoked).Round(time.Millisecond))
			break
		}
		if time.Since(revoked) > revokedWithin {
			t.Fatalf("A still accepts the family's newest access token %v after B revoked it (%d)", revokedWithin, status)
		}
		time.Sleep(100 * time.Millisecond)
	}
	for name, srv := range map[string]*e2etest.HTTPServer{"A": r.a, "B": r.b} {
		if again := c.exchange(t, srv.BaseURL, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rotated.RefreshToken}}); again.Status == http.StatusOK {
			t.Fatalf("the family's newest refresh token still works on %s", name)
		}
	}
}

// oauthClient is a public client that logged in by hand (no SDK), so the
// test holds its refresh token.
type oauthClient struct {
	id, access, refresh string
}

type tokenAnswer struct {
	Status       int    `json:"-"`
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	Error        string `json:"error"`
}

const handRedirect = "http://127.0.0.1:47914/callback"

// loginByHand registers a public client at base, runs the authorization
// code flow with PKCE for email, and redeems the code.
func loginByHand(t *testing.T, base, email string) *oauthClient {
	t.Helper()
	id, _ := e2etest.RegisterClient(t, base, map[string]any{"client_name": "replicas e2e", "redirect_uris": []string{handRedirect},
		"grant_types": []string{"authorization_code", "refresh_token"}, "token_endpoint_auth_method": "none"})
	c := &oauthClient{id: id}

	verifier := oauth2.GenerateVerifier()
	authorize := base + "/oauth/authorize?" + url.Values{
		"client_id": {c.id}, "redirect_uri": {handRedirect}, "response_type": {"code"}, "state": {"s"},
		"code_challenge": {oauth2.S256ChallengeFromVerifier(verifier)}, "code_challenge_method": {"S256"},
		"resource": {base + "/mcp"}, "scope": {"drive.file"},
	}.Encode()
	back, err := e2etest.NewBrowser(email).Run(t.Context(), authorize, handRedirect)
	if err != nil {
		t.Fatal(err)
	}
	tok := c.exchange(t, base, url.Values{"grant_type": {"authorization_code"}, "code": {back.Query().Get("code")},
		"code_verifier": {verifier}, "redirect_uri": {handRedirect}})
	if tok.Status != http.StatusOK || tok.RefreshToken == "" {
		t.Fatalf("code exchange: %d %s", tok.Status, tok.Error)
	}
	c.access, c.refresh = tok.AccessToken, tok.RefreshToken
	return c
}

// exchange posts a token request for the client to base's token endpoint.
func (c *oauthClient) exchange(t *testing.T, base string, form url.Values) tokenAnswer {
	form.Set("client_id", c.id)
	resp, err := http.PostForm(base+"/oauth/token", form)
	if err != nil {
		t.Error(err) // may run on another goroutine than the test's
		return tokenAnswer{}
	}
	defer resp.Body.Close()
	var out tokenAnswer
	_ = json.NewDecoder(resp.Body).Decode(&out)
	out.Status = resp.StatusCode
	return out
}

// callToolRaw calls a tool with one bare JSON-RPC request, as any replica of
// a stateless server accepts it: no initialize, no session.
func callToolRaw(t *testing.T, base, token, tool string) (int, string) {
	t.Helper()
	body := fmt.Sprintf(`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":%q,"arguments":{}}}`, tool)
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, base+"/mcp", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(out)
}

func metricsOf(t *testing.T, srv *e2etest.HTTPServer) string {
	t.Helper()
	resp, err := http.Get(srv.BaseURL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return string(raw)
}
