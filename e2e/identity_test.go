package e2e

import (
	"context"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/drivemcp/drivemcp/internal/e2etest"
)

// mustBearerSession opens an MCP session at base that sends token and
// never logs in again, as a client holding a token it got earlier does.
func mustBearerSession(t *testing.T, base, token string) *mcp.ClientSession {
	t.Helper()
	s, err := bearerSession(t, base, token)
	if err != nil {
		t.Fatalf("connecting with the token: %v", err)
	}
	return s
}

// ownedBy counts the emulator's files owned by the address.
func ownedBy(g *e2etest.Google, email string) int {
	n := 0
	for _, f := range g.Files() {
		if f.Owner == email {
			n++
		}
	}
	return n
}

// Google gave alice's Workspace address to a new person (a new sub, the old
// account deleted). Once the new person signs in to drivemcp, the old
// account's MCP token (OAuth over HTTP) and its stdio session binding
// cannot write a byte into the new person's Drive, as the emulator's files
// show; the new person's own login works.
func TestIdentity_AddressRecycledToANewGoogleAccount_OldMCPTokenAndStdioBindingCannotWriteIntoTheNewDrive(t *testing.T) {
	const addr = "alice@example.com"
	g := e2etest.StartGoogle(t)
	db := filepath.Join(t.TempDir(), "drivemcp.db")
	local := e2etest.StartStdio(t, e2etest.Config{Binary: binary, DB: db, Google: g})
	e2etest.Connect(t, local.Session, addr)
	e2etest.MustCall(t, local.Session, "create_drive_file", map[string]any{"file_name": "old-stdio.txt", "content": "1"})
	remote := e2etest.StartHTTP(t, e2etest.Config{Binary: binary, DB: db, Google: g})
	old := loginByHand(t, remote.BaseURL, addr)
	oldSession := mustBearerSession(t, remote.BaseURL, old.access)
	e2etest.MustCall(t, oldSession, "create_drive_file", map[string]any{"file_name": "old-http.txt", "content": "2"})

	if err := g.RecycleEmail(addr); err != nil {
		t.Fatal(err)
	}
	newcomer := connectOAuth(t, remote.BaseURL, e2etest.NewBrowser(addr))

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	res, err := oldSession.CallTool(ctx, &mcp.CallToolParams{Name: "create_drive_file",
		Arguments: map[string]any{"file_name": "crossed-http.txt", "content": "x"}})
	if err == nil && !res.IsError {
		t.Errorf("the old account's MCP token wrote after the address changed hands: %s", e2etest.ResultText(res))
	}
	if status, _ := callToolRaw(t, remote.BaseURL, old.access, "check_drive_auth"); status != http.StatusUnauthorized {
		t.Errorf("the old account's MCP token: HTTP %d, want 401", status)
	}
	if tok := old.exchange(t, remote.BaseURL, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {old.refresh}}); tok.Status != http.StatusBadRequest || tok.Error != "invalid_grant" {
		t.Errorf("the old account's MCP refresh token: %d %s, want invalid_grant", tok.Status, tok.Error)
	}
	res = e2etest.Call(t, local.Session, "create_drive_file", map[string]any{"file_name": "crossed-stdio.txt", "content": "y"})
	if !res.IsError || !strings.Contains(e2etest.ResultText(res), "no longer holds "+addr) {
		t.Errorf("the old account's stdio session: %s; want a refusal saying the address changed hands", e2etest.ResultText(res))
	}
	for _, name := range []string{"crossed-http.txt", "crossed-stdio.txt"} {
		if files := e2etest.FilesNamed(g, name); len(files) != 0 {
			t.Errorf("%s reached Drive: %+v", name, files)
		}
	}
	if n := ownedBy(g, addr); n != 0 {
		t.Fatalf("the new account's Drive holds %d files, want none", n)
	}

	e2etest.MustCall(t, newcomer, "create_drive_file", map[string]any{"file_name": "newcomer.txt", "content": "z"})
	if files := e2etest.FilesNamed(g, "newcomer.txt"); len(files) != 1 || files[0].Owner != addr || ownedBy(g, addr) != 1 {
		t.Errorf("the new account's upload: %+v", files)
	}
}

// An administrator renamed sue to susan: same Google account (sub), new
// address. The MCP client's token keeps working with no new login, before
// drivemcp knows of the rename and after it has seen the new address.
func TestIdentity_EmailChangedUnderTheSameSub_MCPTokenKeepsWorkingWithoutANewLogin(t *testing.T) {
	g := e2etest.StartGoogle(t)
	db := filepath.Join(t.TempDir(), "drivemcp.db")
	remote := e2etest.StartHTTP(t, e2etest.Config{Binary: binary, DB: db, Google: g})
	sue := loginByHand(t, remote.BaseURL, "sue@example.com")
	s := mustBearerSession(t, remote.BaseURL, sue.access)
	e2etest.MustCall(t, s, "create_drive_file", map[string]any{"file_name": "before.txt", "content": "1"})

	if err := g.ChangeEmail("sue@example.com", "susan@example.com"); err != nil {
		t.Fatal(err)
	}
	g.ExpireAccessTokens() // the next call refreshes the renamed account's grant at Google
	e2etest.MustCall(t, s, "create_drive_file", map[string]any{"file_name": "renamed.txt", "content": "2"})

	// The account signs in under its new address (another client): drivemcp
	// moves it there, with the first client's tokens.
	connectOAuth(t, remote.BaseURL, e2etest.NewBrowser("susan@example.com"))
	again := mustBearerSession(t, remote.BaseURL, sue.access)
	who := e2etest.Structured(t, e2etest.MustCall(t, again, "check_drive_auth", nil))
	if who["email"] != "susan@example.com" {
		t.Errorf("check_drive_auth with the first client's token: %v, want susan@example.com", who)
	}
	e2etest.MustCall(t, again, "create_drive_file", map[string]any{"file_name": "after.txt", "content": "3"})
	for _, name := range []string{"before.txt", "renamed.txt", "after.txt"} {
		if files := e2etest.FilesNamed(g, name); len(files) != 1 || files[0].Owner != "susan@example.com" {
			t.Errorf("%s: %+v, want one file owned by susan@example.com", name, files)
		}
	}
}
