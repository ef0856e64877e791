package drive

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

// Threat (review r3, F2, the race): the walk decides what to upload, the
// upload opens the file later. A regular file swapped for a link to a
// hidden file in between, or a link retargeted at one, must not carry the
// hidden file's bytes to Drive: the file opened must be the one the walk
// judged, else that file fails with ErrChangedSinceWalk.
func TestFolderSync_FileSwappedForLinkToHiddenAfterWalkIsRefused(t *testing.T) {
	e := newEmulated(t)
	dir := t.TempDir()
	for rel, content := range map[string]string{"a.txt": "alpha", "b.txt": "beta", "c.txt": "gamma", ".env": "SECRET=1"} {
		if err := os.WriteFile(filepath.Join(dir, rel), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink("b.txt", filepath.Join(dir, "link.txt")); err != nil {
		t.Fatal(err)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	files, err := NewFiles(t.Context(), e.client, e.url+"/drive/v3/", Retry{})
	if err != nil {
		t.Fatal(err)
	}
	u, _ := newTestUploader(e.url, e.client)
	var once sync.Once
	s := &FolderSync{Files: files, Uploader: u, Concurrency: 1,
		// The first report comes after the walk and before any file is
		// opened: the moment an attacker who shares the folder swaps.
		Progress: func(SyncProgress) {
			once.Do(func() {
				os.Remove(filepath.Join(dir, "a.txt"))
				os.Remove(filepath.Join(dir, "link.txt"))
				if os.Symlink(".env", filepath.Join(dir, "a.txt")) != nil || os.Symlink(".env", filepath.Join(dir, "link.txt")) != nil {
					t.Error("could not swap")
				}
			})
		}}
	rep, err := s.Run(t.Context(), root, "root")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]SyncFile{}
	for _, f := range rep.Files {
		got[f.Path] = f
	}
	for _, p := range []string{"a.txt", "link.txt"} {
		if f := got[p]; f.Outcome != OutcomeFailed || !errors.Is(f.Err, ErrChangedSinceWalk) {
			t.Errorf("%s: outcome %q, err %v; want failed with ErrChangedSinceWalk", p, f.Outcome, f.Err)
		}
	}
	if got["c.txt"].Outcome != OutcomeUploaded {
		t.Errorf("c.txt: %q, want uploaded", got["c.txt"].Outcome)
	}
	for _, f := range e.emu.Files() {
		rc, err := e.emu.OpenContent(f.ID)
		if err != nil {
			continue
		}
		b, _ := io.ReadAll(rc)
		rc.Close()
		if string(b) == "SECRET=1" {
			t.Errorf("%s reached Drive with the hidden file's bytes", f.Name)
		}
	}
}
