package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/drivemcp/drivemcp/internal/e2etest"
)

// TestLoadReplicasToolCalls measures authenticated tools/call throughput
// with one and with two stateless replicas on one PostgreSQL database, in
// the same run. The tool is check_drive_auth: a bearer-token check and a
// store read, no Google, so the figure is drivemcp's own. A load generator
// with a fixed number of workers sends a fixed number of calls, spreading
// them round-robin over the replicas' own addresses (no proxy shares the
// machine's cores); each call is one bare JSON-RPC POST, as any replica of a
// stateless server takes it. The two arms alternate within each iteration,
// on the same token, database and processes: with one replica, B sits idle.
// It reports both rates and their ratio; on a machine with few cores, where
// the replicas, PostgreSQL and the load generator share them, expect the
// ratio to say what that machine can give, not what more machines would.
//
// Tuning: BENCH_REPLICAS_CALLS (per arm and round, default 4000),
// BENCH_REPLICAS_ROUNDS (default 1),
// BENCH_REPLICAS_WORKERS (default 16).
func TestLoadReplicasToolCalls(t *testing.T) {
	b := newLoadRunner(t)
	rounds := envInt(b, "BENCH_REPLICAS_ROUNDS", 1)
	calls := envInt(b, "BENCH_REPLICAS_CALLS", 4000)
	workers := envInt(b, "BENCH_REPLICAS_WORKERS", 16)

	db := e2etest.PostgresURL(b)
	g := e2etest.StartGoogle(b)
	bal := e2etest.StartBalancer(b) // the public URL, for the login
	cfg := e2etest.Config{Binary: binary, DB: db, Google: g, ExtraArgs: []string{
		"--base-url", bal.URL, "--secret-key", e2etest.SecretKey(), "--stateless", "--log-level", "warn"}}
	a, bb := e2etest.StartHTTP(b, cfg), e2etest.StartHTTP(b, cfg)
	if err := bal.SetBackends(a.BaseURL, bb.BaseURL); err != nil {
		b.Fatal(err)
	}
	const email = "bench@example.com"
	token := benchLogin(b, bal.URL, email)

	gen := &loadGenerator{token: token, want: email, workers: workers,
		client: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 2 * workers}, Timeout: 30 * time.Second}}
	defer gen.client.CloseIdleConnections()
	one, two := []string{a.BaseURL}, []string{a.BaseURL, bb.BaseURL}
	gen.run(b, one, 300) // warm both: connections, caches, the processes' heaps
	gen.run(b, two, 300)

	var oneTime, twoTime time.Duration
	for range rounds {
		oneTime += gen.run(b, one, calls)
		twoTime += gen.run(b, two, calls)
	}
	oneRate := float64(calls*rounds) / oneTime.Seconds()
	twoRate := float64(calls*rounds) / twoTime.Seconds()
	b.Figure(oneRate, "1-replica-req/s")
	b.Figure(twoRate, "2-replicas-req/s")
	b.Figure(twoRate/oneRate, "ratio")
}

// loadGenerator sends check_drive_auth calls from a fixed set of workers.
type loadGenerator struct {
	client  *http.Client
	token   string
	want    string // in every answer: the account the token acts as
	workers int
}

// run sends calls calls, the i-th to bases[i % len(bases)], and returns the
// wall time from the first to the last answer. Any failed call fails b.
func (l *loadGenerator) run(b testing.TB, bases []string, calls int) time.Duration {
	var next atomic.Int64
	var failed atomic.Pointer[string]
	var wg sync.WaitGroup
	start := time.Now()
	for range l.workers {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= calls || failed.Load() != nil {
					return
				}
				if err := l.call(bases[i%len(bases)]); err != nil {
					msg := err.Error()
					failed.CompareAndSwap(nil, &msg)
					return
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	if msg := failed.Load(); msg != nil {
		b.Fatalf("a tool call failed: %s", *msg)
	}
	return elapsed
}

const checkAuthCall = `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"check_drive_auth","arguments":{}}}`

func (l *loadGenerator) call(base string) error {
	req, err := http.NewRequest(http.MethodPost, base+"/mcp", strings.NewReader(checkAuthCall))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	req.Header.Set("Authorization", "Bearer "+l.token)
	resp, err := l.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK || !bytes.Contains(body, []byte(l.want)) || bytes.Contains(body, []byte(`"isError":true`)) {
		return fmt.Errorf("%s: %s %.300s", base, resp.Status, body)
	}
	return nil
}

// benchLogin registers a public client at base and logs email in, playing
// the user with the scripted browser; it returns the access token.
func benchLogin(b testing.TB, base, email string) string {
	const redirect = "http://127.0.0.1:47915/callback"
	clientID, _ := e2etest.RegisterClient(b, base, map[string]any{"client_name": "replicas bench", "redirect_uris": []string{redirect},
		"token_endpoint_auth_method": "none"})
	verifier := oauth2.GenerateVerifier()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	back, err := e2etest.NewBrowser(email).Run(ctx, base+"/oauth/authorize?"+url.Values{
		"client_id": {clientID}, "redirect_uri": {redirect}, "response_type": {"code"}, "state": {"s"},
		"code_challenge": {oauth2.S256ChallengeFromVerifier(verifier)}, "code_challenge_method": {"S256"},
		"resource": {base + "/mcp"},
	}.Encode(), redirect)
	if err != nil {
		b.Fatal(err)
	}
	resp, err := http.PostForm(base+"/oauth/token", url.Values{"grant_type": {"authorization_code"}, "client_id": {clientID},
		"code": {back.Query().Get("code")}, "code_verifier": {verifier}, "redirect_uri": {redirect}})
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&tok)
	if resp.StatusCode != http.StatusOK || tok.AccessToken == "" {
		b.Fatalf("code exchange: %s", resp.Status)
	}
	return tok.AccessToken
}

func envInt(b testing.TB, name string, def int) int {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		b.Fatalf("%s: want a positive integer, got %q", name, v)
	}
	return n
}
