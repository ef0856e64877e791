package safefile

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// Threat (review r3, F2): a visibly named link is judged by where it
// leads, whether the link names a hidden file, a file in a hidden folder
// or goes there through another link; a link to a visible file through a
// ".." stays visible, and a link out of the directory resolves to
// ErrEscapes without being followed.
func TestHiddenIn_VisibleLinkIsJudgedByItsHiddenTarget(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, ".git"), 0o700)
	os.MkdirAll(filepath.Join(dir, "docs"), 0o700)
	os.WriteFile(filepath.Join(dir, ".env"), []byte("SECRET=1"), 0o600)
	os.WriteFile(filepath.Join(dir, ".git", "config"), []byte("[core]"), 0o600)
	os.WriteFile(filepath.Join(dir, "a.txt"), []byte("a"), 0o600)
	for link, target := range map[string]string{
		"notes.txt": ".env", "cfg.txt": ".git/config", "chain.txt": "notes.txt",
		"gitdir": ".git", "alias.txt": "docs/../a.txt", "out.txt": "../x", "abs.txt": "/etc/passwd",
	} {
		if err := os.Symlink(target, filepath.Join(dir, link)); err != nil {
			t.Fatal(err)
		}
	}
	r, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for rel, want := range map[string]bool{
		"notes.txt": true, "cfg.txt": true, "chain.txt": true, "gitdir/config": true, ".env": true,
		"a.txt": false, "alias.txt": false, "docs": false, "missing.txt": false,
	} {
		if got := HiddenIn(r, rel); got != want {
			t.Errorf("HiddenIn(%q) = %v, want %v", rel, got, want)
		}
	}
	for _, rel := range []string{"out.txt", "abs.txt", "../a.txt"} {
		if _, err := ResolveIn(r, rel); !errors.Is(err, ErrEscapes) {
			t.Errorf("ResolveIn(%q) = %v, want ErrEscapes", rel, err)
		}
	}
}

// A file judged by a walk and then swapped for a link to another file (or
// for a named pipe) is refused when opened, never read in its place.
func TestOpenSame_FileSwappedAfterJudgingIsRefused(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, ".env"), []byte("SECRET=1"), 0o600)
	os.WriteFile(filepath.Join(dir, "a.txt"), []byte("a"), 0o600)
	r, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	judged, err := r.Lstat("a.txt")
	if err != nil {
		t.Fatal(err)
	}
	f, err := OpenSame(r, "a.txt", judged)
	if err != nil {
		t.Fatalf("unchanged file refused: %v", err)
	}
	f.Close()
	os.Remove(filepath.Join(dir, "a.txt"))
	os.Symlink(".env", filepath.Join(dir, "a.txt"))
	if _, err := OpenSame(r, "a.txt", judged); !errors.Is(err, ErrChanged) {
		t.Fatalf("swapped file: err = %v, want ErrChanged", err)
	}
}
