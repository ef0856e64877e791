package bench

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/drivemcp/drivemcp/internal/e2etest"
	"github.com/drivemcp/drivemcp/internal/store"
	"github.com/drivemcp/drivemcp/internal/store/sqlite"
)

// oauthSettings size the OAuth endpoint runs.
type oauthSettings struct {
	Requests int // measured requests per endpoint and server
	Conns    int
	Limit    time.Duration // upper bound on each measured run
}

func oauthSettingsFromEnv(tb testing.TB) oauthSettings {
	s := oauthSettings{Requests: 3000, Conns: 16, Limit: 60 * time.Second}
	if v := os.Getenv("BENCH_OAUTH_REQUESTS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 10 || n > 1_000_000 {
			tb.Fatalf("BENCH_OAUTH_REQUESTS: %q is not a number in [10, 1000000]", v)
		}
		s.Requests = n
	}
	if v := os.Getenv("BENCH_OAUTH_CONNS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1024 {
			tb.Fatalf("BENCH_OAUTH_CONNS: %q is not a number in [1, 1024]", v)
		}
		s.Conns = n
	}
	return s
}

// TestLoadOAuthEndpoints measures the authorization server's hot
// endpoints, drivemcp against the TypeScript SDK peer's mcpAuthRouter in the
// same run: dynamic client registration (RFC 7591), the token endpoint
// redeeming authorization codes (PKCE S256), and the token endpoint rotating
// refresh tokens. Each request is different where the protocol requires it
// (one code, one refresh token per request) and every answer is checked.
//
// How the codes come to be (not timed): drivemcp's are written into its
// database through the Store, as its Google callback writes them (a real
// login per code would measure the emulated Google); the peer's come from
// its /authorize, which redirects at once with a code. The refresh tokens
// are the ones the code exchanges returned. See bench/README.md for what
// each server does per request.
//
// Sizes: BENCH_OAUTH_REQUESTS (per endpoint and server, default 3000),
// BENCH_OAUTH_CONNS (default 16).
func TestLoadOAuthEndpoints(t *testing.T) {
	l := newLoadRunner(t)
	g := e2etest.StartGoogle(t)
	runOAuthEndpoints(l, oauthSettingsFromEnv(t),
		startDrivemcp(t, g, filepath.Join(t.TempDir(), "drivemcp.db"), "--stateless"), startPeer(t))
}

// runOAuthEndpoints measures ours and, unless nil, the peer.
func runOAuthEndpoints(b runner, set oauthSettings, ours, peer *server) {
	warm := max(set.Requests/10, 1)
	total := set.Requests + warm

	b.Sub("register", func(b runner) {
		compareOAuth(b, ours, peer, func(s *server) load {
			reqs := make([][]byte, total)
			for i := range reqs {
				reqs[i] = rawRequest("POST", s.Host, s.Register, clientHeader(i, "application/json"), registrationBody)
			}
			return set.load(s, reqs, warm, func(_, status int, body []byte) error {
				if status != http.StatusCreated || !bytes.Contains(body, []byte(`"client_id"`)) {
					return fmt.Errorf("status %d: %.200s", status, body)
				}
				return nil
			})
		})
	})

	verifier := oauth2.GenerateVerifier()
	refresh := map[*server][]string{} // the code exchanges' refresh tokens
	clients := map[*server]string{}   // the client they are bound to
	b.Sub("token-code", func(b runner) {
		compareOAuth(b, ours, peer, func(s *server) load {
			client := register(b, s)
			clients[s] = client
			codes := mintCodes(b, s, client, verifier, total)
			tokens := make([]string, total)
			refresh[s] = tokens
			reqs := make([][]byte, total)
			for i := range reqs {
				reqs[i] = tokenRequest(s, i, url.Values{"grant_type": {"authorization_code"}, "code": {codes[i]},
					"code_verifier": {verifier}, "client_id": {client}, "redirect_uri": {benchRedirect}})
			}
			return set.load(s, reqs, warm, func(i, status int, body []byte) error {
				p, err := tokenAnswer(status, body)
				tokens[i] = p.Refresh
				return err
			})
		})
	})

	b.Sub("token-refresh", func(b runner) {
		compareOAuth(b, ours, peer, func(s *server) load {
			tokens := refresh[s]
			if len(tokens) == 0 || tokens[0] == "" {
				b.Skip("token-code did not run (or its tokens have no refresh token)")
			}
			client := clients[s]
			reqs := make([][]byte, total)
			for i := range reqs {
				reqs[i] = tokenRequest(s, i, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tokens[i]}, "client_id": {client}})
			}
			return set.load(s, reqs, warm, func(_, status int, body []byte) error {
				_, err := tokenAnswer(status, body)
				return err
			})
		})
	})
}

// load sends reqs, the first warm of them unmeasured.
func (set oauthSettings) load(s *server, reqs [][]byte, warm int, check func(i, status int, body []byte) error) load {
	return load{Addr: s.Host, PID: s.PID, Conns: set.Conns, Duration: set.Limit, Requests: len(reqs),
		Warmup: set.Limit, WarmupRequests: warm, Request: func(i int) []byte { return reqs[i] }, Check: check}
}

// clientHeader presents request i as coming from a client address of its
// own: drivemcp limits the rate of its OAuth endpoints per address, with no
// switch to turn that off, and takes the address from X-Forwarded-For when
// the connection comes from loopback (a reverse proxy on the same host). So
// no request of the load is refused, while the limiter's bookkeeping stays
// in drivemcp's figures. The addresses are from IPv6's documentation prefix
// (2001:db8::/32), one /64 each, as the limiter keys IPv6 clients; nothing
// is sent to them. The peer ignores the header; its rate limits are off.
func clientHeader(i int, contentType string) http.Header {
	return http.Header{"Content-Type": {contentType}, "X-Forwarded-For": {fmt.Sprintf("2001:db8:%x:%x::1", i>>16, i&0xffff)}}
}

// compareOAuth runs one endpoint's load on both servers and reports both
// (without a peer: logs drivemcp's figures). Which goes first alternates
// from one endpoint to the next.
func compareOAuth(b runner, ours, peer *server, prepare func(*server) load) {
	order := []*server{ours, peer}
	if peer != nil && oauthTurn.Add(1)%2 == 0 {
		order[0], order[1] = peer, ours
	}
	res := map[*server]loadResult{}
	for _, s := range order {
		if s == nil {
			return
		}
		l := prepare(s)
		r, err := l.Run(context.Background())
		if err != nil {
			b.Fatalf("%s: %v", describe(s), err)
		}
		b.Logf("%s: %s", s.Name, r)
		if r.Failed > 0 || r.OK == 0 {
			b.Fatalf("%s: %d of %d requests failed: %v", describe(s), r.Failed, r.OK+r.Failed, r.FirstErrs)
		}
		res[s] = r
	}
	b.Report(res[ours], res[peer])
}

// oauthTurn alternates compareOAuth's order.
var oauthTurn atomic.Int64

func tokenRequest(s *server, i int, form url.Values) []byte {
	return rawRequest("POST", s.Host, s.Token, clientHeader(i, "application/x-www-form-urlencoded"), []byte(form.Encode()))
}

func tokenAnswer(status int, body []byte) (tokenPair, error) {
	var p tokenPair
	if err := json.Unmarshal(body, &p); err != nil || status != http.StatusOK || p.Access == "" || p.Refresh == "" {
		return p, fmt.Errorf("status %d: %.200s", status, body)
	}
	return p, nil
}

// mintCodes makes n single-use authorization codes for client, all with
// verifier's challenge.
func mintCodes(tb testing.TB, s *server, client, verifier string, n int) []string {
	tb.Helper()
	if s.DB != "" {
		return storeCodes(tb, s, client, verifier, n)
	}
	// The peer: its /authorize answers with a redirect carrying a code.
	codes := make([]string, n)
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }, Timeout: 10 * time.Second}
	for i := range codes {
		resp, err := c.Get(authorizeURL(s, client, verifier))
		if err != nil {
			tb.Fatal(err)
		}
		resp.Body.Close()
		loc, err := url.Parse(resp.Header.Get("Location"))
		if err != nil || loc.Query().Get("code") == "" {
			tb.Fatalf("%s: /authorize answered %s, Location %q", s.Name, resp.Status, resp.Header.Get("Location"))
		}
		codes[i] = loc.Query().Get("code")
	}
	return codes
}

// storeCodes writes codes into drivemcp's database as its Google callback
// does after a login: only the SHA-256 of each code is stored.
func storeCodes(tb testing.TB, s *server, client, verifier string, n int) []string {
	tb.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, s.DB)
	if err != nil {
		tb.Fatal(err)
	}
	defer st.Close()
	now := time.Now()
	codes := make([]string, n)
	for i := range codes {
		codes[i] = randomString(32)
		sum := sha256.Sum256([]byte(codes[i]))
		err := st.CreateAuthCode(ctx, store.AuthCode{
			Hash: hex.EncodeToString(sum[:]), ClientID: client, RedirectURI: benchRedirect,
			CodeChallenge: oauth2.S256ChallengeFromVerifier(verifier), Resource: s.Base + "/mcp",
			Scopes: []string{"drive.file"}, Email: "bench@example.com", FamilyID: randomString(16),
			CreatedAt: now, ExpiresAt: now.Add(30 * time.Minute),
		})
		if err != nil {
			tb.Fatalf("storing authorization code %d: %v", i, err)
		}
	}
	return codes
}

func randomString(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
