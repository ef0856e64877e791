package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/drivemcp/drivemcp/internal/e2etest"
)

// Uploading to a pipe (a log, CI): plain progress lines on stderr, one
// result line per file on stdout, and the bytes arrive intact.
func TestUpload_PlainOutputWhenNotATerminal(t *testing.T) {
	e := newCLIEnv(t)
	e.login("erin@example.com")
	dir := t.TempDir()
	a, sumA := e2etest.WriteRandomFile(t, dir, "a.bin", 3<<20)
	b, sumB := e2etest.WriteRandomFile(t, dir, "notes.txt", 1234)

	out, errOut, err := e.run([]string{"upload", a, b}) // the only account is used
	if err != nil {
		t.Fatalf("upload: %v\n%s\n%s", err, out, errOut)
	}
	for _, f := range []struct{ path, sum, size, name string }{{a, sumA, "3145728", "a.bin"}, {b, sumB, "1234", "notes.txt"}} {
		re := regexp.MustCompile(`(?m)^uploaded ` + regexp.QuoteMeta(f.path) + ` \(` + f.size + ` bytes, md5 ` + f.sum + `\) → (\S+)$`)
		m := re.FindStringSubmatch(out)
		if m == nil {
			t.Fatalf("no result line for %s in:\n%s", f.path, out)
		}
		if n, sum := e2etest.DriveFileMD5(t, e.google, m[1]); sum != f.sum {
			t.Fatalf("Drive holds %d bytes with md5 %s for %s", n, sum, f.name)
		}
	}
	if !strings.Contains(errOut, "a.bin: 100% (3.0 MiB of 3.0 MiB") || !strings.Contains(errOut, "notes.txt: 100% (1.2 KiB of 1.2 KiB") {
		t.Fatalf("progress lines:\n%s", errOut)
	}
	if strings.Contains(errOut, "\r") {
		t.Fatalf("a terminal bar was drawn into a pipe:\n%q", errOut)
	}
}

// One file is missing, another uploads: the good one is uploaded, the bad
// one is named, and the command fails.
func TestUpload_FailureOfOneFileFailsTheCommand(t *testing.T) {
	e := newCLIEnv(t)
	e.login("erin@example.com")
	good := filepath.Join(t.TempDir(), "good.txt")
	os.WriteFile(good, []byte("hello"), 0o600)
	out, errOut, err := e.run([]string{"upload", "/does/not/exist.txt", good, "--account", "Erin@Example.com"})
	if err == nil || !strings.Contains(err.Error(), "1 of 2 uploads failed") {
		t.Fatalf("err = %v", err)
	}
	if !strings.Contains(errOut, "upload of /does/not/exist.txt failed") || !strings.Contains(out, "uploaded "+good+" (5 bytes") {
		t.Fatalf("stdout:\n%s\nstderr:\n%s", out, errOut)
	}
	if len(e2etest.FilesNamed(e.google, "good.txt")) != 1 {
		t.Fatal("good.txt is not in Drive")
	}
}

func TestUpload_AccountChoiceIsExplained(t *testing.T) {
	e := newCLIEnv(t)
	seedAccounts(t, e.db)
	f := filepath.Join(t.TempDir(), "x.txt")
	os.WriteFile(f, []byte("x"), 0o600)
	if _, _, err := e.run([]string{"upload", f}); err == nil || !strings.Contains(err.Error(), "run drivemcp login first") {
		t.Fatalf("no account: %v", err)
	}
	e.login("erin@example.com")
	e.login("fay@example.com")
	if _, _, err := e.run([]string{"upload", f}); err == nil || !strings.Contains(err.Error(), "--account EMAIL") || !strings.Contains(err.Error(), "erin@example.com, fay@example.com") {
		t.Fatalf("two accounts: %v", err)
	}
	if _, _, err := e.run([]string{"upload", f, "--account", "gus@example.com"}); err == nil || !strings.Contains(err.Error(), "gus@example.com") || !strings.Contains(err.Error(), "accounts list") {
		t.Fatalf("unknown account: %v", err)
	}
	if _, errOut, err := e.run([]string{"upload", f, "--account", "fay@example.com", "--folder-id", "nope"}); err == nil || !strings.Contains(errOut, `no Drive folder "nope" that fay@example.com can write to`) {
		t.Fatalf("missing folder: %v\n%s", err, errOut)
	}
}

// --folder-path makes the missing folders once and reuses them after.
func TestUpload_FolderPathIsCreatedThenReused(t *testing.T) {
	e := newCLIEnv(t)
	e.login("erin@example.com")
	dir := t.TempDir()
	one := filepath.Join(dir, "one.txt")
	two := filepath.Join(dir, "two.txt")
	os.WriteFile(one, []byte("1"), 0o600)
	os.WriteFile(two, []byte("2"), 0o600)
	_, errOut, err := e.run([]string{"upload", one, "--folder-path", "Reports/2026"})
	if err != nil || !strings.Contains(errOut, "created folder Reports in My Drive") || !strings.Contains(errOut, "created folder Reports/2026 in My Drive") {
		t.Fatalf("first upload: %v\n%s", err, errOut)
	}
	_, errOut, err = e.run([]string{"upload", two, "--folder-path", "/Reports/2026/"})
	if err != nil || strings.Contains(errOut, "created folder") {
		t.Fatalf("second upload: %v\n%s", err, errOut)
	}
	folders := e2etest.FilesNamed(e.google, "2026")
	if len(folders) != 1 {
		t.Fatalf("%d folders named 2026, want 1", len(folders))
	}
	for _, name := range []string{"one.txt", "two.txt"} {
		f := e2etest.FilesNamed(e.google, name)
		if len(f) != 1 || len(f[0].Parents) != 1 || f[0].Parents[0] != folders[0].ID {
			t.Fatalf("%s is in %v, want the folder %s", name, f, folders[0].ID)
		}
	}
	if _, _, err := e.run([]string{"upload", one, "--folder-path", "a/../b"}); err == nil || !strings.Contains(err.Error(), "--folder-path") {
		t.Fatalf("a path with .. : %v", err)
	}
	if _, _, err := e.run([]string{"upload", one, "--folder-path", "a", "--folder-id", "x"}); err == nil || !strings.Contains(err.Error(), "not both") {
		t.Fatalf("both folder flags: %v", err)
	}
}
