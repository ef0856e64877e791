package mcpserver

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// A prompt-injected assistant asks to upload ~/.ssh/id_rsa, or the
// server's own key file: hidden paths are refused inside a root too, also
// when a visible symlink leads to them.
func TestOpenInRoots_HiddenPathsRefused(t *testing.T) {
	root := t.TempDir()
	for _, dir := range []string{".ssh", "docs"} {
		if err := os.Mkdir(filepath.Join(root, dir), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range []string{".ssh/id_rsa", ".env", "docs/report.txt"} {
		if err := os.WriteFile(filepath.Join(root, f), []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(filepath.Join(root, ".ssh", "id_rsa"), filepath.Join(root, "docs", "notes.txt")); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{".ssh/id_rsa", ".env", filepath.Join(root, ".ssh", "id_rsa"), "docs/notes.txt", "docs/../.ssh/id_rsa"} {
		if f, err := openInRoots([]string{root}, name); !errors.Is(err, errHiddenPath) {
			if f != nil {
				f.Close()
			}
			t.Errorf("%s: err = %v, want errHiddenPath", name, err)
		}
	}
	f, err := openInRoots([]string{root}, "docs/report.txt")
	if err != nil {
		t.Fatalf("a visible file: %v", err)
	}
	f.Close()
}
