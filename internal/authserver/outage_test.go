package authserver

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/drivemcp/drivemcp/internal/google"
	"github.com/drivemcp/drivemcp/internal/googleemu"
	"github.com/drivemcp/drivemcp/internal/identity"
	"github.com/drivemcp/drivemcp/internal/netguard"
	"github.com/drivemcp/drivemcp/internal/reqlog"
	"github.com/drivemcp/drivemcp/internal/secrets"
	"github.com/drivemcp/drivemcp/internal/store"
	"github.com/drivemcp/drivemcp/internal/store/sqlite"
)

// errDatabaseDown is what a PostgreSQL store said while its server was
// restarting: every word of it is for the operator, none for a client.
var errDatabaseDown = errors.New("postgres: token: failed to connect to user=postgres database=drivemcp: 127.0.0.1:5432 (10.0.3.7): dial error: connection refused")

// downStore is a store that can be taken down under a running server: then
// every call fails as a store whose database went away does.
type downStore struct {
	store.Store
	down atomic.Bool
}

func (d *downStore) err() error {
	if d.down.Load() {
		return errDatabaseDown
	}
	return nil
}

func (d *downStore) GetToken(ctx context.Context, hash string) (store.Token, error) {
	if err := d.err(); err != nil {
		return store.Token{}, err
	}
	return d.Store.GetToken(ctx, hash)
}

func (d *downStore) GetClient(ctx context.Context, id string) (store.Client, error) {
	if err := d.err(); err != nil {
		return store.Client{}, err
	}
	return d.Store.GetClient(ctx, id)
}

func (d *downStore) CreateClient(ctx context.Context, c store.Client) error {
	if err := d.err(); err != nil {
		return err
	}
	return d.Store.CreateClient(ctx, c)
}

func (d *downStore) RotateRefreshToken(ctx context.Context, hash string, rotate func(old store.Token) (store.Token, []store.Token, error)) error {
	if err := d.err(); err != nil {
		return err
	}
	return d.Store.RotateRefreshToken(ctx, hash, rotate)
}

// newOutageFixture is the fixture with its store behind a downStore and
// the request-id middleware in front, as serve has it.
func newOutageFixture(t *testing.T) (*fixture, *downStore) {
	t.Helper()
	g := startGoogle(t, nil)
	raw, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { raw.Close() })
	st := &downStore{Store: raw}
	ring, err := secrets.NewKeyring(make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	hs := httptest.NewServer(reqlog.Middleware(mux, log, nil))
	t.Cleanup(hs.Close)
	up := google.NewUpstream(googleemu.DemoClientID, googleemu.DemoClientSecret, hs.URL+"/oauth2callback", google.EndpointsAt(g.URL), nil)
	s := New(Options{
		Store: st, Grants: google.NewGrants(st, ring, up), Resolver: identity.NewResolver(st, false),
		BaseURL: hs.URL, Keys: ring, Logger: log, AccessTokenCacheTTL: -1,
		ClientMetadataDocuments: NewClientMetadataDocuments(netguard.NewClient(netguard.Policy{}, netguard.Options{}), 0),
	})
	s.Routes(mux)
	mux.Handle("/mcp", s.ProtectMCP(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "reached") })))
	return &fixture{t: t, srv: s, base: hs.URL, google: g}, st
}

// While the database is down, clients get a plain sentence, a 503 they may
// retry and the request id to quote; what the store said (database user,
// host, address, driver) goes only to the log.
func TestStoreOutage_InternalErrorsNeverReachTheClient(t *testing.T) {
	f, st := newOutageFixture(t)
	clientID := f.registerPublic()
	access, refresh := f.tokens(clientID, "alice@example.com")
	st.down.Store(true)

	for _, c := range []struct {
		name string
		req  func() *http.Request
	}{
		{"bearer check at /mcp", func() *http.Request {
			r, _ := http.NewRequest(http.MethodPost, f.base+"/mcp", strings.NewReader("{}"))
			r.Header.Set("Authorization", "Bearer "+access)
			return r
		}},
		{"token refresh", func() *http.Request {
			r, _ := http.NewRequest(http.MethodPost, f.base+"/oauth/token", strings.NewReader(url.Values{
				"grant_type": {"refresh_token"}, "refresh_token": {refresh}, "client_id": {clientID}}.Encode()))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			return r
		}},
		{"registration", func() *http.Request {
			r, _ := http.NewRequest(http.MethodPost, f.base+"/oauth/register",
				strings.NewReader(`{"client_name":"x","redirect_uris":["`+testRedirect+`"],"token_endpoint_auth_method":"none"}`))
			r.Header.Set("Content-Type", "application/json")
			return r
		}},
	} {
		resp, err := http.DefaultClient.Do(c.req())
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		id := resp.Header.Get("X-Request-Id")
		if resp.StatusCode != http.StatusServiceUnavailable {
			t.Errorf("%s: %s, want 503: %s", c.name, resp.Status, body)
		}
		if resp.Header.Get("Retry-After") == "" {
			t.Errorf("%s: no Retry-After", c.name)
		}
		if id == "" || !strings.Contains(string(body), id) {
			t.Errorf("%s: the answer should quote the request id %q: %s", c.name, id, body)
		}
		for _, leak := range []string{"postgres", "127.0", "10.0.3", "sqlite", "dial", "user="} {
			if strings.Contains(strings.ToLower(string(body)), leak) || strings.Contains(resp.Header.Get("WWW-Authenticate"), leak) {
				t.Errorf("%s: the answer leaks %q: %s", c.name, leak, body)
			}
		}
	}
}
