package mcpserver

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/drivemcp/drivemcp/internal/e2etest"
	"github.com/drivemcp/drivemcp/internal/googleemu"
)

// Arguments that can never succeed are refused before anything reaches
// Google, and before an upload slot is taken: a mime_type with a line break
// used to be retried eight times over some 25 s while holding a slot.
func TestUpload_ArgumentsThatCanNeverSucceedRefusedBeforeGoogle(t *testing.T) {
	root := t.TempDir()
	if err := os.WriteFile(filepath.Join(root, "report.txt"), []byte("hello"), 0o600); err != nil {
		t.Fatal(err)
	}
	f := newFixture(t, Deps{UploadRoots: []UploadRoot{{Dir: root}}})
	before := f.google.Stats().Requests
	cases := []struct {
		tool string
		args map[string]any
		want string
	}{
		{"create_drive_file", map[string]any{"file_name": "a.txt", "content": "x", "mime_type": "text/plain\r\nX-Injected: 1"}, "mime_type"},
		{"create_drive_file", map[string]any{"file_name": "a.txt", "content": "x", "mime_type": "text plain"}, "mime_type"},
		{"create_drive_file", map[string]any{"file_name": "a.txt", "content": "x", "mime_type": "text/plain; charset=\"utf\x07\""}, "mime_type"},
		{"create_drive_file", map[string]any{"file_name": "a.txt", "fileUrl": "http://127.0.0.1:1/x", "mime_type": "text/plain\n"}, "mime_type"},
		{"upload_file_to_drive", map[string]any{"filepath": "report.txt", "mime_type": "text/plain\r\n"}, "mime_type"},
		{"create_drive_file", map[string]any{"file_name": "a\x00.txt", "content": "x"}, "file_name"},
		{"create_drive_file", map[string]any{"file_name": "a\r\nb.txt", "content": "x"}, "file_name"},
		{"create_drive_file", map[string]any{"file_name": strings.Repeat("n", 1025), "content": "x"}, "file_name"},
		{"upload_file_to_drive", map[string]any{"filepath": "report.txt", "filename": "r\x1b[31m.txt"}, "filename"},
		{"create_drive_file", map[string]any{"file_name": "a.txt", "content": "x", "folder_id": "1abc' or name contains '"}, "folder_id"},
		{"create_drive_file", map[string]any{"file_name": "a.txt", "content": "x", "folder_id": "../root"}, "folder_id"},
		{"upload_file_to_drive", map[string]any{"filepath": "report.txt", "folder_id": "id\x00x"}, "folder_id"},
		{"create_drive_folder", map[string]any{"folder_name": "x", "parent_folder_id": "a/b"}, "parent_folder_id"},
		{"create_drive_folder", map[string]any{"folder_name": "bad\x00name"}, "folder_name"},
		{"create_drive_folder", map[string]any{"folder_path": "Reports/\x00"}, "folder_path"},
	}
	for _, c := range cases {
		res := f.call(t, c.tool, c.args)
		text := e2etest.ResultText(res)
		if !res.IsError || !strings.Contains(text, c.want) || !strings.HasSuffix(text, ".") {
			t.Errorf("%s %q: %q, want a tool error about %s that says what to do", c.tool, c.args, text, c.want)
		}
	}
	if n := f.google.Stats().Requests - before; n != 0 {
		t.Fatalf("Google got %d requests for calls that could never succeed", n)
	}
	if files := f.google.Files(); len(files) != 0 {
		t.Fatalf("files created: %v", files)
	}
	// Legitimate values still pass.
	out := f.mustCall(t, "create_drive_file", map[string]any{"file_name": "Résumé (final) — 2026.txt", "content": "x",
		"mime_type": "text/plain; charset=utf-8", "folder_id": "root"})
	if out["name"] != "Résumé (final) — 2026.txt" {
		t.Fatalf("created %v", out)
	}
}

// A 400 from Google is the request's own fault: the tool makes one request,
// says what Google said, and does not retry.
func TestUpload_BadRequestFromGoogleIsNotRetried(t *testing.T) {
	f := newFixture(t, Deps{})
	f.google.InjectFault(googleemu.Fault{Method: http.MethodPost, PathPrefix: "/upload/drive/v3/files", Status: http.StatusBadRequest, Times: 8})
	before := f.google.Stats().Requests
	res := f.call(t, "create_drive_file", map[string]any{"file_name": "a.txt", "content": "x"})
	if text := e2etest.ResultText(res); !res.IsError || !strings.Contains(text, "HTTP 400") {
		t.Fatalf("result %q, want Google's 400", text)
	}
	if n := f.google.Stats().Requests - before; n != 1 {
		t.Fatalf("Google got %d requests, want 1 (no retries)", n)
	}
}
