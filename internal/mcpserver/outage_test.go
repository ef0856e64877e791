package mcpserver

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/drivemcp/drivemcp/internal/authserver"
	"github.com/drivemcp/drivemcp/internal/e2etest"
	"github.com/drivemcp/drivemcp/internal/google"
	"github.com/drivemcp/drivemcp/internal/googleemu"
	"github.com/drivemcp/drivemcp/internal/identity"
	"github.com/drivemcp/drivemcp/internal/reqlog"
	"github.com/drivemcp/drivemcp/internal/secrets"
	"github.com/drivemcp/drivemcp/internal/store"
	"github.com/drivemcp/drivemcp/internal/store/sqlite"
)

// errDatabaseDown is what a PostgreSQL store said while its server was
// restarting: every word of it is for the operator, none for a client.
var errDatabaseDown = errors.New("postgres: google account: failed to connect to user=postgres database=drivemcp: 127.0.0.1:5432 (10.0.3.7): dial error: connection refused")

// downStore is a store that can be taken down under a running server.
// accounts takes down reading and writing grants and sign-ins; all takes
// down listing the accounts too, so that no account can be resolved.
type downStore struct {
	store.Store
	accounts, all atomic.Bool
}

func (d *downStore) err() error {
	if d.accounts.Load() || d.all.Load() {
		return errDatabaseDown
	}
	return nil
}

func (d *downStore) ListGoogleAccounts(ctx context.Context) ([]store.GoogleAccount, error) {
	if d.all.Load() {
		return nil, errDatabaseDown
	}
	return d.Store.ListGoogleAccounts(ctx)
}

func (d *downStore) GetGoogleAccount(ctx context.Context, email string) (store.GoogleAccount, error) {
	if err := d.err(); err != nil {
		return store.GoogleAccount{}, err
	}
	return d.Store.GetGoogleAccount(ctx, email)
}

func (d *downStore) CreateAuthTransaction(ctx context.Context, tx store.AuthTransaction) error {
	if err := d.err(); err != nil {
		return err
	}
	return d.Store.CreateAuthTransaction(ctx, tx)
}

func (d *downStore) DeleteGoogleAccount(ctx context.Context, email string) error {
	if err := d.err(); err != nil {
		return err
	}
	return d.Store.DeleteGoogleAccount(ctx, email)
}

// While the database is down, a tool call is answered with a tool error
// in plain words that quotes the request id; what the store said goes to
// the log only. The calls go through the request-id middleware and the
// go-sdk's streamable HTTP handler, as `serve --auth none` has them.
func TestStoreOutage_ToolErrorsHideInternalDetails(t *testing.T) {
	g := e2etest.StartGoogle(t)
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
	up := google.NewUpstream(googleemu.DemoClientID, googleemu.DemoClientSecret, "http://127.0.0.1:1/oauth2callback", google.EndpointsAt(g.URL), nil)
	grants := google.NewGrants(st, ring, up)
	signIn(t, up, grants, alice, google.LoginScopes(google.ScopeDriveFile))
	var logged strings.Builder
	log := slog.New(slog.NewTextHandler(&logged, nil))
	resolver := identity.NewResolver(st, true)
	auth := authserver.New(authserver.Options{Store: st, Grants: grants, Resolver: resolver, BaseURL: "http://127.0.0.1:1", Keys: ring, Logger: log})
	s := New(Deps{Resolver: resolver, Grants: grants, Auth: auth, Logger: log})
	h := reqlog.Middleware(mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return s },
		&mcp.StreamableHTTPOptions{Stateless: true, JSONResponse: true}), log, nil)

	call := func(tool, args string) (text, requestID string) {
		t.Helper()
		req := httptest.NewRequest(http.MethodPost, "/mcp",
			strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"`+tool+`","arguments":`+args+`}}`))
		req.Header = http.Header{"Content-Type": {"application/json"}, "Accept": {"application/json, text/event-stream"},
			"Mcp-Protocol-Version": {"2025-06-18"}}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		body, _ := io.ReadAll(rec.Body)
		var a struct {
			Result *mcp.CallToolResult `json:"result"`
		}
		if err := json.Unmarshal(body, &a); err != nil || a.Result == nil || !a.Result.IsError {
			t.Fatalf("%s: want a tool error, got %d %s", tool, rec.Code, body)
		}
		return string(body), rec.Header().Get("X-Request-Id")
	}
	for _, c := range []struct {
		down       *atomic.Bool
		tool, args string
	}{
		{&st.all, "check_drive_auth", `{}`},
		{&st.all, "list_drive_items", `{}`},
		{&st.accounts, "check_drive_auth", `{}`},
		{&st.accounts, "list_drive_items", `{}`},
		{&st.accounts, "create_drive_folder", `{"folder_name":"x"}`},
		{&st.accounts, "start_google_auth", `{"user_google_email":"alice@example.com"}`},
		{&st.accounts, "sign_out", `{"revoke":true}`},
	} {
		c.down.Store(true)
		text, id := call(c.tool, c.args)
		c.down.Store(false)
		if id == "" || !strings.Contains(text, id) {
			t.Errorf("%s: the answer should quote the request id %q: %s", c.tool, id, text)
		}
		for _, leak := range []string{"postgres", "127.0", "10.0.3", "sqlite", "dial", "user="} {
			if strings.Contains(strings.ToLower(text), leak) {
				t.Errorf("%s: the answer leaks %q: %s", c.tool, leak, text)
			}
		}
		if !strings.Contains(logged.String(), id) {
			t.Errorf("%s: the log has no line with the request id %s, so the details are lost", c.tool, id)
		}
	}
}
