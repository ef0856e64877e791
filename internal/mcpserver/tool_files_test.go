package mcpserver

import (
	"context"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"golang.org/x/oauth2"

	"github.com/drivemcp/drivemcp/internal/e2etest"
	"github.com/drivemcp/drivemcp/internal/google"
	"github.com/drivemcp/drivemcp/internal/googleemu"
	"github.com/drivemcp/drivemcp/internal/identity"
	"github.com/drivemcp/drivemcp/internal/secrets"
	"github.com/drivemcp/drivemcp/internal/store/sqlite"
)

// fixture is the MCP server as New builds it, in trusted local mode with
// alice@example.com connected, Google played by the emulator, and a real
// MCP client talking to it in memory. (The end-to-end tests in e2e/ do the
// same through the binary; these cover what needs Deps the binary does not
// expose yet, and run in a fraction of the time.)
type fixture struct {
	google  *e2etest.Google
	session *mcp.ClientSession
}

const alice = "alice@example.com"

func newFixture(t *testing.T, deps Deps, driveScopes ...string) *fixture {
	t.Helper()
	deps, g := fixtureDeps(t, deps, driveScopes...)
	deps.Stdio = true
	return connectFixture(t, g, New(deps), nil)
}

// fixtureDeps fills deps with a store, grants and an identity resolver, with
// alice@example.com signed in to the emulator with driveScopes.
func fixtureDeps(t testing.TB, deps Deps, driveScopes ...string) (Deps, *e2etest.Google) {
	t.Helper()
	if len(driveScopes) == 0 {
		driveScopes = []string{google.ScopeDriveFile}
	}
	g := e2etest.StartGoogle(t)
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	ring, err := secrets.NewKeyring(make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	up := google.NewUpstream(googleemu.DemoClientID, googleemu.DemoClientSecret, "http://127.0.0.1:1/oauth2callback", google.EndpointsAt(g.URL), nil)
	grants := google.NewGrants(st, ring, up)
	signIn(t, up, grants, alice, google.LoginScopes(driveScopes...))

	deps.Resolver, deps.Grants = identity.NewResolver(st, true), grants
	if deps.URLResolver == nil {
		deps.URLResolver = noLookups{t}
	}
	return deps, g
}

// connectFixture connects a client to server, in memory when ct is nil.
func connectFixture(t *testing.T, g *e2etest.Google, server *mcp.Server, ct mcp.Transport) *fixture {
	t.Helper()
	ctx := context.Background()
	if ct == nil {
		var st mcp.Transport
		ct, st = mcp.NewInMemoryTransports()
		if _, err := server.Connect(ctx, st, nil); err != nil {
			t.Fatal(err)
		}
	}
	session, err := mcp.NewClient(&mcp.Implementation{Name: "test", Version: "1"}, nil).Connect(ctx, ct, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { session.Close() })
	return &fixture{google: g, session: session}
}

// noLookups is the fixture's fileUrl resolver: fixtures fetch only from
// loopback literals, so any name lookup is a test that reached for DNS.
type noLookups struct{ t testing.TB }

func (r noLookups) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	r.t.Errorf("fileUrl looked up %q; tests must not resolve names (set Deps.URLResolver)", host)
	return nil, &net.DNSError{Err: "no lookups in this test", Name: host, IsNotFound: true}
}

// signIn consents at the emulator and stores the grant, as the callback does.
func signIn(t testing.TB, up *google.Upstream, grants *google.Grants, email string, scopes []string) {
	t.Helper()
	verifier := oauth2.GenerateVerifier()
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noFollow.Get(up.AuthCodeURL(google.ConsentRequest{State: "s", Verifier: verifier, Scopes: scopes, LoginHint: email}))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	tok, err := up.Exchange(ctx, loc.Query().Get("code"), verifier)
	if err != nil {
		t.Fatal(err)
	}
	info, err := up.UserInfo(ctx, tok)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := grants.Save(ctx, info, tok, scopes); err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) call(t *testing.T, tool string, args map[string]any) *mcp.CallToolResult {
	t.Helper()
	return e2etest.Call(t, f.session, tool, args)
}

func (f *fixture) mustCall(t *testing.T, tool string, args map[string]any) map[string]any {
	t.Helper()
	return e2etest.Structured(t, e2etest.MustCall(t, f.session, tool, args))
}

// Bad arguments are refused before anything reaches Google, with a
// sentence that says how to fix the call.
func TestDriveTools_BadArgumentsSayWhatToDo(t *testing.T) {
	f := newFixture(t, Deps{})
	before := f.google.Stats().Requests
	cases := []struct {
		tool string
		args map[string]any
		want string
	}{
		{"list_drive_items", map[string]any{"page_size": 0}, "page_size 0 is out of range"},
		{"list_drive_items", map[string]any{"page_size": 1001}, "from 1 to 1000"},
		{"search_drive_files", map[string]any{"query": "  "}, "query is empty"},
		{"search_drive_files", map[string]any{"query": "x", "page_size": -3}, "page_size -3"},
		{"get_drive_file_content", map[string]any{"file_id": ""}, "file_id is empty"},
		{"create_drive_folder", map[string]any{}, "folder_name is empty"},
		{"create_drive_folder", map[string]any{"folder_name": "a/b"}, "folder_path"},
		{"create_drive_folder", map[string]any{"folder_name": "x", "parent_folder_id": "p", "folder_path": "A/B"}, "either parent_folder_id or folder_path"},
		{"create_drive_folder", map[string]any{"folder_path": "A/../B"}, "no . or .."},
		{"create_drive_file", map[string]any{"file_name": "a.txt", "content": "x", "folder_id": "f", "folder_path": "A"}, "either folder_id or folder_path"},
		{"upload_file_to_drive", map[string]any{"filepath": "a.txt", "folder_id": "f", "folder_path": "A"}, "either folder_id or folder_path"},
		{"share_drive_files", map[string]any{"file_ids": []string{}, "email_addresses": []string{"bob@example.com"}}, "file_ids is empty"},
		{"share_drive_files", map[string]any{"file_ids": []string{"f"}, "email_addresses": []string{" "}}, "email_addresses is empty"},
		{"share_drive_files", map[string]any{"file_ids": []string{"f"}, "email_addresses": []string{"bob", "x@"}}, "None of email_addresses"},
		{"share_drive_files", map[string]any{"file_ids": []string{"f"}, "email_addresses": []string{"bob@example.com"}, "role": "owner"}, `role "owner" is not one of reader, commenter, writer`},
		{"share_drive_files", map[string]any{"file_ids": []string{"f"}, "email_addresses": []string{"bob@example.com"}, "send_notification": false, "message": "hi"}, "send_notification is false"},
		{"make_drive_files_public", map[string]any{"file_ids": []string{}}, "file_ids is empty"},
		{"make_drive_files_public", map[string]any{"file_ids": []string{"f"}, "role": "writer"}, `role "writer" is not one of reader, commenter`},
		{"create_drive_file", map[string]any{"file_name": "a", "fileUrl": "ftp://example.com/a"}, "http:// or https://"},
		{"create_drive_file", map[string]any{"file_name": "a", "fileUrl": "file:///etc/passwd"}, "http:// or https://"},
		{"create_drive_file", map[string]any{"file_name": "a", "fileUrl": "http:///a"}, "has no host"},
		{"create_drive_file", map[string]any{"file_name": "a", "fileUrl": "https://u:p@example.com/a"}, "user name or password"},
		{"create_drive_file", map[string]any{"file_name": "a", "fileUrl": "https://example.com/a", "content": "x"}, "only one of"},
	}
	for _, c := range cases {
		res := f.call(t, c.tool, c.args)
		text := e2etest.ResultText(res)
		if !res.IsError || !strings.Contains(text, c.want) || !strings.HasSuffix(text, ".") {
			t.Errorf("%s %v:\n got %q (isError %v)\nwant an error sentence containing %q", c.tool, c.args, text, res.IsError, c.want)
		}
	}
	if n := f.google.Stats().Requests - before; n != 0 {
		t.Errorf("bad arguments sent %d requests to Google", n)
	}
}

// With drive.file, listings warn that most of Drive is hidden and say how
// to see more; with a wider scope they do not.
func TestListings_SayWhatADriveFileGrantHides(t *testing.T) {
	calls := []struct {
		tool string
		args map[string]any
	}{
		{"list_drive_items", nil},
		{"search_drive_files", map[string]any{"query": "anything"}},
	}
	narrow := newFixture(t, Deps{})
	wide := newFixture(t, Deps{}, google.ScopeDriveReadonly)
	for _, c := range calls {
		res := e2etest.MustCall(t, narrow.session, c.tool, c.args)
		note, _ := e2etest.Structured(t, res)["visibility_note"].(string)
		if !strings.Contains(note, "drive.file") || !strings.Contains(note, `scope: "readonly"`) || !strings.Contains(e2etest.ResultText(res), note) {
			t.Errorf("%s with drive.file: note %q in %q", c.tool, note, e2etest.ResultText(res))
		}
		if note := wide.mustCall(t, c.tool, c.args)["visibility_note"]; note != nil {
			t.Errorf("%s with drive.readonly: note %q", c.tool, note)
		}
	}
}
