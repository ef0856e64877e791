package safefile

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// A named pipe opens at once and is refused (a plain open would wait for a
// writer forever), a symlink out of the directory is refused, and a file
// over the limit is an error rather than a truncated read.
func TestReadRegular_RefusesPipesEscapesAndOversizedFiles(t *testing.T) {
	dir, outside := t.TempDir(), t.TempDir()
	if err := syscall.Mkfifo(filepath.Join(dir, "pipe.json"), 0o600); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(outside, "secret"), []byte("x"), 0o600)
	os.Symlink(filepath.Join(outside, "secret"), filepath.Join(dir, "out.json"))
	os.WriteFile(filepath.Join(dir, "big"), make([]byte, 11), 0o600)
	os.WriteFile(filepath.Join(dir, "ok"), []byte("0123456789"), 0o600)
	os.Symlink("ok", filepath.Join(dir, "link-inside"))

	for name, want := range map[string]error{"pipe.json": ErrNotRegular, "out.json": ErrEscapes, "../x": ErrEscapes, "big": ErrTooLarge} {
		if _, err := ReadRegular(dir, name, 10); !errors.Is(err, want) {
			t.Errorf("%s: err = %v, want %v", name, err, want)
		}
	}
	for _, name := range []string{"ok", "link-inside"} {
		if b, err := ReadRegular(dir, name, 10); err != nil || string(b) != "0123456789" {
			t.Errorf("%s: %q, %v", name, b, err)
		}
	}
}
