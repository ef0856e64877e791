package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/drivemcp/drivemcp/internal/e2etest"
)

// Threat (review r3, F2): drivemcp sync runs the folder upload's engine,
// so a visibly named link to a hidden file (notes.txt -> .env) is skipped
// and said so, never uploaded with the hidden file's bytes.
func TestSync_VisibleLinkToHiddenFileIsSkippedNotUploaded(t *testing.T) {
	e := newCLIEnv(t)
	e.login("erin@example.com")
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, ".env"), []byte("SECRET=1"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "a.txt"), []byte("alpha"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(".env", filepath.Join(dir, "notes.txt")); err != nil {
		t.Fatal(err)
	}
	out, errOut, err := e.run([]string{"sync", dir, "Backups/proj"})
	if err != nil {
		t.Fatalf("sync: %v\n%s\n%s", err, out, errOut)
	}
	if len(e2etest.FilesNamed(e.google, "notes.txt")) != 0 {
		t.Fatalf("notes.txt (a link to .env) reached Drive:\n%s", out)
	}
	if !strings.Contains(out, "skipped notes.txt") || !strings.Contains(out, "1 uploaded") {
		t.Fatalf("sync output does not list the link as skipped:\n%s", out)
	}
}
