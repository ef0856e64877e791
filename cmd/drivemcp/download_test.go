package main

import (
	"crypto/md5"
	"encoding/hex"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/drivemcp/drivemcp/internal/e2etest"
)

// drivemcp download saves a Drive file inside the download root with
// Drive's md5, refuses to replace a file unless --overwrite, and refuses a
// path outside the root.
func TestDownload_SavesInsideTheRootWithDrivesMD5AndNeverOverwritesUnasked(t *testing.T) {
	e := newCLIEnv(t)
	e.login("erin@example.com")
	src, sum := e2etest.WriteRandomFile(t, t.TempDir(), "data.bin", 2<<20)
	out, errOut, err := e.run([]string{"upload", src})
	if err != nil {
		t.Fatalf("upload: %v\n%s", err, errOut)
	}
	id := regexp.MustCompile(`→ (\S+)`).FindStringSubmatch(out)[1]

	root := t.TempDir()
	out, errOut, err = e.run([]string{"download", id, "copy.bin", "--download-root", root})
	if err != nil {
		t.Fatalf("download: %v\n%s", err, errOut)
	}
	saved := filepath.Join(root, "copy.bin")
	if got := fileMD5(t, saved); got != sum || !strings.Contains(out, saved) || !strings.Contains(out, sum) {
		t.Fatalf("saved md5 %s (want %s); stdout %q", got, sum, out)
	}
	if _, _, err := e.run([]string{"download", id, "copy.bin", "--download-root", root}); err == nil || !strings.Contains(err.Error(), "--overwrite") {
		t.Fatalf("second download over the first: %v", err)
	}
	if _, _, err := e.run([]string{"download", id, "copy.bin", "--download-root", root, "--overwrite"}); err != nil {
		t.Fatalf("--overwrite: %v", err)
	}
	if _, _, err := e.run([]string{"download", id, filepath.Join(t.TempDir(), "x.bin"), "--download-root", root}); err == nil || !strings.Contains(err.Error(), "outside") {
		t.Fatalf("outside the root: %v", err)
	}
	if entries, _ := os.ReadDir(root); len(entries) != 1 {
		t.Fatalf("root holds %v, want copy.bin only", entries)
	}
}

func fileMD5(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := md5.Sum(b)
	return hex.EncodeToString(s[:])
}
