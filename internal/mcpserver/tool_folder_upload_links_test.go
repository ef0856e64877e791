package mcpserver

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Threat (review r3, F2): a visibly named link inside the folder
// (notes.txt -> .env, cfg.txt -> .git/config, easily shipped in a cloned
// repository) must not carry a hidden file's bytes to Drive.
// upload_folder_to_drive judges a link by where it leads, as
// upload_file_to_drive does, and lists it as skipped with the reason.
func TestUploadFolder_VisibleLinkToHiddenFileIsNotUploaded(t *testing.T) {
	root := folderTree(t) // proj/.env = "SECRET=1", proj/.git/config = "[core]"
	if err := os.Symlink(".env", filepath.Join(root, "proj", "notes.txt")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(".git/config", filepath.Join(root, "proj", "cfg.txt")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("docs/../a.txt", filepath.Join(root, "proj", "alias.txt")); err != nil {
		t.Fatal(err)
	}
	f := newFixture(t, Deps{UploadRoots: []UploadRoot{{Dir: root}}})
	if single := f.call(t, "upload_file_to_drive", map[string]any{"filepath": "proj/notes.txt"}); !single.IsError {
		t.Fatalf("upload_file_to_drive uploaded a link to .env")
	}
	out := f.mustCall(t, "upload_folder_to_drive", map[string]any{"local_path": "proj", "folder_path": "Backups/proj"})
	names := driveNames(f.google)
	for _, n := range []string{"notes.txt", "cfg.txt"} {
		if file, ok := names[n]; ok {
			rc, _ := f.google.OpenContent(file.ID)
			b, _ := io.ReadAll(rc)
			rc.Close()
			t.Errorf("%s (a link to a hidden file) reached Drive with content %q", n, b)
		}
	}
	if got := filesByOutcome(out)["alias.txt"]; got != "uploaded" {
		t.Errorf("alias.txt (a link to a visible file) = %q, want uploaded", got)
	}
	skipped := map[string]string{}
	for _, s := range out["skipped"].([]any) {
		m := s.(map[string]any)
		skipped[m["path"].(string)] = m["reason"].(string)
	}
	for _, n := range []string{"notes.txt", "cfg.txt"} {
		if !strings.Contains(skipped[n], "hidden") {
			t.Errorf("%s skipped with reason %q, want one naming the hidden target", n, skipped[n])
		}
	}
}
