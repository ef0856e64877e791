package e2e

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/drivemcp/drivemcp/internal/e2etest"
)

// Alice logs in client A with drive.file, then client B with drive, through
// the real binary: Google holds one grant for drivemcp with both scopes.
// Client A still reaches only what drive.file reaches: not a file alice made
// in Drive herself (no read, no publishing, no search hit), while client B
// reads it and client A keeps working on its own uploads.
func TestScope_DriveFileTokenCannotReachFilesGrantedToAnotherClient(t *testing.T) {
	g := e2etest.StartGoogle(t)
	srv := e2etest.StartHTTP(t, e2etest.Config{Binary: binary, DB: filepath.Join(t.TempDir(), "db"), Google: g,
		ExtraArgs: []string{"--drive-scope", "full"}})
	clientA := registerHandClient(t, srv.BaseURL)
	tokA := clientA.login(t, srv.BaseURL, "alice@example.com")
	clientB := registerHandClient(t, srv.BaseURL)
	clientB.scope = "drive"
	tokB := clientB.login(t, srv.BaseURL, "alice@example.com")
	secret := g.SeedFile("alice@example.com", "payroll-2026.txt", "salaries")

	a, err := bearerSession(t, srv.BaseURL, tokA.AccessToken)
	if err != nil {
		t.Fatal(err)
	}
	res := e2etest.Call(t, a, "get_drive_file_content", map[string]any{"file_id": secret})
	if text := e2etest.ResultText(res); !res.IsError || strings.Contains(text, "salaries") {
		t.Errorf("client A (drive.file) read alice's own file: %s", text)
	}
	e2etest.Call(t, a, "make_drive_files_public", map[string]any{"file_ids": []string{secret}})
	if perms := g.Permissions(secret); len(perms) != 1 {
		t.Errorf("client A published alice's own file: %+v", perms)
	}
	found := e2etest.ResultText(e2etest.MustCall(t, a, "search_drive_files", map[string]any{"query": "name contains 'payroll'"}))
	if strings.Contains(found, secret) {
		t.Errorf("client A's search lists alice's own file: %s", found)
	}
	mine, _ := e2etest.Structured(t, e2etest.MustCall(t, a, "create_drive_file",
		map[string]any{"file_name": "notes.txt", "content": "mine"}))["file_id"].(string)
	if text := e2etest.ResultText(e2etest.MustCall(t, a, "get_drive_file_content", map[string]any{"file_id": mine})); !strings.Contains(text, "mine") {
		t.Errorf("client A cannot read its own upload: %s", text)
	}

	b, err := bearerSession(t, srv.BaseURL, tokB.AccessToken)
	if err != nil {
		t.Fatal(err)
	}
	if text := e2etest.ResultText(e2etest.MustCall(t, b, "get_drive_file_content", map[string]any{"file_id": secret})); !strings.Contains(text, "salaries") {
		t.Errorf("client B (drive) cannot read alice's file: %s", text)
	}
}
