package mcpserver

// A review found that create_drive_file answered a store outage with the
// store's own words (database user, host, address) through the upload's
// last-resort explanation, which the tools TestStoreOutage_* covers did not
// reach: over OAuth the first store read happens inside the upload.

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/drivemcp/drivemcp/internal/authserver"
	"github.com/drivemcp/drivemcp/internal/e2etest"
	"github.com/drivemcp/drivemcp/internal/google"
	"github.com/drivemcp/drivemcp/internal/googleemu"
	"github.com/drivemcp/drivemcp/internal/identity"
	"github.com/drivemcp/drivemcp/internal/reqlog"
	"github.com/drivemcp/drivemcp/internal/secrets"
	"github.com/drivemcp/drivemcp/internal/store/sqlite"
)

func TestStoreOutage_UploadErrorHidesInternalDetails(t *testing.T) {
	g := e2etest.StartGoogle(t)
	raw, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { raw.Close() })
	st := &downStore{Store: raw}
	ring, _ := secrets.NewKeyring(make([]byte, 32))
	up := google.NewUpstream(googleemu.DemoClientID, googleemu.DemoClientSecret, "http://127.0.0.1:1/oauth2callback", google.EndpointsAt(g.URL), nil)
	grants := google.NewGrants(st, ring, up)
	signIn(t, up, grants, alice, google.LoginScopes(google.ScopeDriveFile))
	log := slog.New(slog.DiscardHandler)
	resolver := identity.NewResolver(st, true)
	auth := authserver.New(authserver.Options{Store: st, Grants: grants, Resolver: resolver, BaseURL: "http://127.0.0.1:1", Keys: ring, Logger: log})
	s := New(Deps{Resolver: resolver, Grants: grants, Auth: auth, Logger: log})
	h := reqlog.Middleware(mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return s },
		&mcp.StreamableHTTPOptions{Stateless: true, JSONResponse: true}), log, nil)
	st.accounts.Store(true) // grants unreadable; the account list still resolves alice
	req := httptest.NewRequest(http.MethodPost, "/mcp", strings.NewReader(
		`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"create_drive_file","arguments":{"file_name":"a.txt","content":"hi"}}}`))
	req.Header = http.Header{"Content-Type": {"application/json"}, "Accept": {"application/json, text/event-stream"}, "Mcp-Protocol-Version": {"2025-06-18"}}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	body, _ := io.ReadAll(rec.Body)
	var a struct{ Result *mcp.CallToolResult }
	_ = json.Unmarshal(body, &a)
	if a.Result == nil || !a.Result.IsError || !strings.Contains(string(body), "request id") {
		t.Fatalf("want a tool error quoting a reference, got %s", body)
	}
	for _, leak := range []string{"postgres", "10.0.3", "user="} {
		if strings.Contains(string(body), leak) {
			t.Errorf("create_drive_file's answer leaks %q", leak)
		}
	}
}
