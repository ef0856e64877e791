package e2e

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/drivemcp/drivemcp/internal/e2etest"
)

// Every tool answers wrong or missing arguments with a tool error whose
// sentence says what to do, and the server keeps serving.
func TestTools_BadInputsExplainThemselves(t *testing.T) {
	g := e2etest.StartGoogle(t)
	root := t.TempDir()
	s := e2etest.StartStdio(t, e2etest.Config{Binary: binary, DB: filepath.Join(t.TempDir(), "drivemcp.db"), UploadRoots: []string{root}, Google: g})
	e2etest.Connect(t, s.Session, "alice@example.com")

	cases := []struct {
		tool string
		args map[string]any
		want string // a fragment of the explanation
	}{
		{"upload_file_to_drive", map[string]any{}, "filepath"},
		{"upload_file_to_drive", map[string]any{"filepath": 42}, "filepath"},
		{"upload_file_to_drive", map[string]any{"filepath": ""}, "filepath is empty"},
		{"upload_file_to_drive", map[string]any{"filepath": "missing.txt"}, "no file missing.txt"},
		{"upload_file_to_drive", map[string]any{"filepath": root}, "not a regular file"},
		{"upload_file_to_drive", map[string]any{"filepath": "a.txt", "folder_id": []any{"x"}}, "folder_id"},
		{"create_drive_file", map[string]any{}, "file_name"},
		{"create_drive_file", map[string]any{"file_name": "  "}, "file_name is empty"},
		{"create_drive_file", map[string]any{"file_name": "a.bin", "content_base64": "!!not base64!!"}, "not valid base64"},
		{"create_drive_file", map[string]any{"file_name": "a.txt", "content": "x", "content_base64": "eA=="}, "only one of"},
		{"create_drive_file", map[string]any{"file_name": "a.txt", "content": "x", "folder_id": "no-such-folder"}, "no folder"},
		{"create_drive_file", map[string]any{"file_name": "a.txt", "content": "x", "unknown_arg": true}, "unknown_arg"},
		{"start_google_auth", map[string]any{"force": "yes"}, "force"},
		{"check_drive_auth", map[string]any{"user_google_email": 7}, "user_google_email"},
		{"sign_out", map[string]any{"revoke": "please"}, "revoke"},
	}
	for _, c := range cases {
		res := e2etest.Call(t, s.Session, c.tool, c.args)
		text := e2etest.ResultText(res)
		if !res.IsError {
			t.Errorf("%s %v: not an error: %s", c.tool, c.args, text)
			continue
		}
		if !strings.Contains(text, c.want) {
			t.Errorf("%s %v: error %q does not mention %q", c.tool, c.args, text, c.want)
		}
		if !strings.HasSuffix(strings.TrimSpace(text), ".") {
			t.Errorf("%s %v: error %q is not a finished sentence", c.tool, c.args, text)
		}
	}
	// Still alive and still signed in.
	if who := e2etest.Structured(t, e2etest.MustCall(t, s.Session, "check_drive_auth", nil)); who["email"] != "alice@example.com" {
		t.Fatalf("after bad inputs check_drive_auth = %v", who)
	}
}
