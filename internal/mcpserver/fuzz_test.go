//go:build unix

package mcpserver

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// uploadTree is a directory tree with two upload roots, a secret outside
// them, and every kind of link and special file a hostile path can aim at.
type uploadTree struct {
	roots  []string
	secret string // outside every root
	inside []os.FileInfo
}

func newUploadTree(t testing.TB) *uploadTree {
	t.Helper()
	base, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	root, root2, outside := filepath.Join(base, "root"), filepath.Join(base, "root2"), filepath.Join(base, "outside")
	for _, d := range []string{root, root2, outside, filepath.Join(root, "sub", "deeper"), filepath.Join(root, "empty")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	write := func(p string) {
		if err := os.WriteFile(p, []byte(filepath.Base(p)), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(root, "a.txt"))
	write(filepath.Join(root, "sub", "b.txt"))
	write(filepath.Join(root, "sub", "deeper", "c.txt"))
	write(filepath.Join(root2, "d.txt"))
	write(filepath.Join(outside, "secret.txt"))
	links := map[string]string{
		filepath.Join(root, "link-in"):            "sub/b.txt",
		filepath.Join(root, "link-in-abs"):        filepath.Join(root, "a.txt"),
		filepath.Join(root, "link-dir-in"):        "sub",
		filepath.Join(root, "link-out"):           "../outside/secret.txt",
		filepath.Join(root, "link-out-abs"):       filepath.Join(outside, "secret.txt"),
		filepath.Join(root, "link-dir-out"):       "../outside",
		filepath.Join(root, "link-parent"):        "..",
		filepath.Join(root, "sub", "link-up"):     "../../outside/secret.txt",
		filepath.Join(root, "loop1"):              "loop2",
		filepath.Join(root, "loop2"):              "loop1",
		filepath.Join(root, "dangling"):           "nowhere",
		filepath.Join(root, "link-etc"):           "/etc/passwd",
		filepath.Join(root, "link-fifo"):          "fifo",
		filepath.Join(root2, "link-to-root"):      "../root/a.txt",
		filepath.Join(base, "root-alias"):         root,
		filepath.Join(outside, "link-into-root"):  filepath.Join(root, "a.txt"),
		filepath.Join(root, "sub", "link-to-top"): "../a.txt",
	}
	for link, target := range links {
		if err := os.Symlink(target, link); err != nil {
			t.Fatal(err)
		}
	}
	if err := syscall.Mkfifo(filepath.Join(root, "fifo"), 0o600); err != nil {
		t.Fatal(err)
	}
	tree := &uploadTree{roots: []string{root, root2}, secret: filepath.Join(outside, "secret.txt")}
	for _, r := range tree.roots {
		err := filepath.WalkDir(r, func(p string, d fs.DirEntry, err error) error {
			if err != nil || !d.Type().IsRegular() {
				return err
			}
			fi, err := os.Lstat(p)
			tree.inside = append(tree.inside, fi)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return tree
}

// open calls openInRoots, failing the test if it blocks.
func (tr *uploadTree) open(t *testing.T, name string) (*os.File, error) {
	t.Helper()
	type result struct {
		f   *os.File
		err error
	}
	done := make(chan result, 1)
	go func() {
		f, err := openInRoots(tr.roots, name)
		done <- result{f, err}
	}()
	select {
	case r := <-done:
		return r.f, r.err
	case <-time.After(2 * time.Second):
		t.Fatalf("openInRoots(%q) is still blocked after 2s", name)
		return nil, nil
	}
}

// FuzzOpenInRoots: whatever path a client names, a file that opens is a
// regular file that really lies inside an upload root: no "..", symlink,
// absolute path or special file leads anywhere else, and nothing blocks.
func FuzzOpenInRoots(f *testing.F) {
	tr := newUploadTree(f)
	for _, seed := range []string{
		"a.txt", "sub/b.txt", "./sub/../a.txt", "sub/deeper/c.txt", "d.txt",
		"link-in", "link-in-abs", "link-dir-in/b.txt", "sub/link-to-top",
		"link-out", "link-out-abs", "link-dir-out/secret.txt", "link-parent/outside/secret.txt",
		"sub/link-up", "loop1", "dangling", "link-etc", "fifo", "link-fifo", "link-to-root",
		"../outside/secret.txt", "sub/../../outside/secret.txt", "..", ".", "", "empty", "sub/",
		"/etc/passwd", "a.txt\x00.jpg", "sub//b.txt", "a.txt/", "~/a.txt",
		tr.roots[0] + "/a.txt", tr.roots[0] + "/../outside/secret.txt", tr.roots[0] + "/link-out",
		tr.roots[1] + "/link-to-root", filepath.Dir(tr.roots[0]) + "/root-alias/a.txt",
		filepath.Dir(tr.roots[0]) + "/outside/link-into-root", tr.secret, tr.roots[0] + "/fifo",
		tr.roots[0] + "2/d.txt", tr.roots[0] + "/sub/deeper/../../a.txt",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, name string) {
		file, err := tr.open(t, name)
		if err != nil {
			return
		}
		defer file.Close()
		fi, err := file.Stat()
		if err != nil {
			t.Fatal(err)
		}
		if !fi.Mode().IsRegular() {
			t.Fatalf("%q opened %s, not a regular file", name, fi.Mode())
		}
		for _, in := range tr.inside {
			if os.SameFile(fi, in) {
				return
			}
		}
		t.Fatalf("%q opened %s, which is not inside an upload root", name, file.Name())
	})
}

// A named pipe inside an upload root must be refused at once: opening one
// for reading waits for a writer forever, which would hang the tool call.
func TestOpenInRoots_NamedPipeRefusedWithoutBlocking(t *testing.T) {
	tr := newUploadTree(t)
	for _, name := range []string{"fifo", "link-fifo", tr.roots[0] + "/fifo"} {
		f, err := tr.open(t, name)
		if err == nil {
			f.Close()
			t.Fatalf("%s opened", name)
		}
		if !strings.Contains(err.Error(), "not a regular file") {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// Escapes are refused whichever way they are spelled.
func TestOpenInRoots_EscapesRefused(t *testing.T) {
	tr := newUploadTree(t)
	for _, name := range []string{
		"link-out", "link-out-abs", "link-dir-out/secret.txt", "sub/link-up", "link-parent/outside/secret.txt",
		"../outside/secret.txt", "link-etc", "link-to-root", tr.secret, tr.roots[0] + "/../outside/secret.txt",
		filepath.Dir(tr.roots[0]) + "/outside/link-into-root",
	} {
		f, err := tr.open(t, name)
		if err == nil {
			f.Close()
			t.Errorf("%s opened", name)
			continue
		}
		if !errors.Is(err, errOutsideRoots) && !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s: %v", name, err)
		}
	}
}
