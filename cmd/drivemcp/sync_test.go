package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/drivemcp/drivemcp/internal/e2etest"
)

// drivemcp sync pushes a tree on the tool's code path: a dry run changes
// nothing and says what it would do, the real run uploads (hidden file
// left out), a second run uploads nothing, and --trash-missing trashes
// what was deleted locally.
func TestSync_DryRunThenPushThenNothingThenTrashMissing(t *testing.T) {
	e := newCLIEnv(t)
	e.login("erin@example.com")
	dir := t.TempDir()
	for rel, content := range map[string]string{"a.txt": "alpha", "sub/b.txt": "beta", ".secret": "x"} {
		os.MkdirAll(filepath.Dir(filepath.Join(dir, rel)), 0o700)
		if err := os.WriteFile(filepath.Join(dir, rel), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	out, errOut, err := e.run([]string{"sync", dir, "Backups/proj", "--dry-run"})
	if err != nil {
		t.Fatalf("dry run: %v\n%s\n%s", err, out, errOut)
	}
	if len(e.google.Files()) != 0 || !strings.Contains(out, "would upload a.txt") || !strings.Contains(out, "would upload sub/b.txt") {
		t.Fatalf("dry run changed Drive or said too little:\n%s\n%v", out, e.google.Files())
	}
	out, errOut, err = e.run([]string{"sync", dir, "Backups/proj"})
	if err != nil {
		t.Fatalf("sync: %v\n%s\n%s", err, out, errOut)
	}
	if !strings.Contains(out, "uploaded a.txt") || !strings.Contains(out, "skipped .secret") || !strings.Contains(out, "2 uploaded, 0 updated, 0 unchanged") {
		t.Fatalf("sync output:\n%s", out)
	}
	if len(e2etest.FilesNamed(e.google, ".secret")) != 0 || len(e2etest.FilesNamed(e.google, "b.txt")) != 1 {
		t.Fatalf("Drive: %v", e.google.Files())
	}
	before := e.google.Stats().UploadBytesReceived
	out, _, err = e.run([]string{"sync", dir, "Backups/proj"})
	if err != nil || !strings.Contains(out, "0 uploaded, 0 updated, 2 unchanged") || e.google.Stats().UploadBytesReceived != before {
		t.Fatalf("second sync uploaded something: %v\n%s", err, out)
	}
	os.Remove(filepath.Join(dir, "a.txt"))
	out, _, err = e.run([]string{"sync", dir, "Backups/proj", "--trash-missing"})
	if err != nil || !strings.Contains(out, "trashed a.txt") {
		t.Fatalf("trash-missing: %v\n%s", err, out)
	}
	if a := e2etest.FilesNamed(e.google, "a.txt"); len(a) != 1 || !a[0].Trashed {
		t.Fatalf("a.txt in Drive: %+v", a)
	}
}
