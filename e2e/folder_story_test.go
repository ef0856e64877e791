package e2e

import (
	"os"
	"path/filepath"
	"testing"
)

// "Back up my project folder to Drive", then again after an edit: the
// client uploads the tree once, the second call finds nothing to do, and
// the third sends only the file that changed, keeping its Drive id.
func TestStory_BackUpAProjectFolderThenOnlyWhatChanged(t *testing.T) {
	d := startDrive(t)
	write := func(rel, content string) {
		p := filepath.Join(d.root, "project", rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("README.md", "# project")
	write("src/main.go", "package main")
	write("src/util/util.go", "package util")
	write(".env", "TOKEN=secret")

	args := map[string]any{"local_path": "project", "folder_path": "Backups/project", "concurrency": 8}
	first := d.ok(t, "upload_folder_to_drive", args)
	if first["uploaded"] != 3.0 || first["failed"] != 0.0 || len(first["skipped"].([]any)) != 1 {
		t.Fatalf("first backup: %v", first)
	}
	var mainID string
	for _, f := range first["files"].([]any) {
		if m := f.(map[string]any); m["path"] == "src/main.go" {
			mainID = m["file_id"].(string)
		}
	}

	again := d.ok(t, "upload_folder_to_drive", args)
	if again["skipped_unchanged"] != 3.0 || again["uploaded"] != 0.0 || again["bytes_sent"] != 0.0 {
		t.Fatalf("second backup did work: %v", again)
	}

	write("src/main.go", "package main\n\nfunc main() {}")
	third := d.ok(t, "upload_folder_to_drive", args)
	if third["updated"] != 1.0 || third["skipped_unchanged"] != 2.0 {
		t.Fatalf("third backup: %v", third)
	}
	for _, f := range third["files"].([]any) {
		if m := f.(map[string]any); m["path"] == "src/main.go" && m["file_id"] != mainID {
			t.Fatalf("main.go got a new id %v, was %s", m["file_id"], mainID)
		}
	}
	folders, files := 0, 0
	for _, f := range d.g.Files() {
		if f.MimeType == "application/vnd.google-apps.folder" {
			folders++
		} else {
			files++
		}
	}
	if files != 3 || folders != 4 { // Backups, project, src, util
		t.Fatalf("Drive holds %d files and %d folders, want 3 and 4", files, folders)
	}
}
