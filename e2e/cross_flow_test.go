package e2e

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/drivemcp/drivemcp/internal/e2etest"
)

// The older server's two flows never met. Here an account connected with
// start_google_auth over stdio is the account an OAuth login over HTTP
// reaches: the tools work at once, and the Google grant from the first
// consent (with its refresh token) serves both.
func TestCrossFlow_DirectThenOAuth(t *testing.T) {
	g := e2etest.StartGoogle(t)
	db := filepath.Join(t.TempDir(), "drivemcp.db")
	local := e2etest.StartStdio(t, e2etest.Config{Binary: binary, DB: db, Google: g})
	e2etest.Connect(t, local.Session, "alice@example.com")
	e2etest.MustCall(t, local.Session, "create_drive_file", map[string]any{"file_name": "from-stdio.txt", "content": "1"})

	remote := e2etest.StartHTTP(t, e2etest.Config{Binary: binary, DB: db, Google: g})
	s := connectOAuth(t, remote.BaseURL, e2etest.NewBrowser("alice@example.com"))
	who := e2etest.Structured(t, e2etest.MustCall(t, s, "check_drive_auth", nil))
	if who["email"] != "alice@example.com" || who["method"] != "oauth" {
		t.Fatalf("over OAuth check_drive_auth = %v", who)
	}
	// start_google_auth knows the connection is already signed in.
	res := e2etest.MustCall(t, s, "start_google_auth", nil)
	if e2etest.Structured(t, res)["already_connected_as"] != "alice@example.com" || !strings.Contains(e2etest.ResultText(res), "already signed in") {
		t.Fatalf("start_google_auth over OAuth: %s", e2etest.ResultText(res))
	}
	// Google gave no new refresh token on the second consent; the stored one
	// still refreshes for both servers.
	g.ExpireAccessTokens()
	e2etest.MustCall(t, s, "create_drive_file", map[string]any{"file_name": "from-http.txt", "content": "2"})
	e2etest.MustCall(t, local.Session, "create_drive_file", map[string]any{"file_name": "from-stdio-again.txt", "content": "3"})
	for _, name := range []string{"from-stdio.txt", "from-http.txt", "from-stdio-again.txt"} {
		if files := e2etest.FilesNamed(g, name); len(files) != 1 || files[0].Owner != "alice@example.com" {
			t.Fatalf("%s: %+v", name, files)
		}
	}
}

// The reverse: an OAuth login over HTTP stores the grant; a local stdio
// server on the same store uses it with no start_google_auth at all.
func TestCrossFlow_OAuthThenLocal(t *testing.T) {
	g := e2etest.StartGoogle(t)
	db := filepath.Join(t.TempDir(), "drivemcp.db")
	remote := e2etest.StartHTTP(t, e2etest.Config{Binary: binary, DB: db, Google: g})
	s := connectOAuth(t, remote.BaseURL, e2etest.NewBrowser("bob@example.com"))
	e2etest.MustCall(t, s, "create_drive_file", map[string]any{"file_name": "remote.txt", "content": "r"})

	root := t.TempDir()
	path, sum := e2etest.WriteRandomFile(t, root, "local.bin", 3<<20)
	local := e2etest.StartStdio(t, e2etest.Config{Binary: binary, DB: db, Google: g, UploadRoots: []string{root}})
	who := e2etest.Structured(t, e2etest.MustCall(t, local.Session, "check_drive_auth", nil))
	if who["email"] != "bob@example.com" || who["method"] != "local" {
		t.Fatalf("stdio after OAuth login: %v", who)
	}
	out := e2etest.Structured(t, e2etest.MustCall(t, local.Session, "upload_file_to_drive", map[string]any{"filepath": path}))
	if out["md5"] != sum || out["account"] != "bob@example.com" {
		t.Fatalf("upload = %v", out)
	}
}
