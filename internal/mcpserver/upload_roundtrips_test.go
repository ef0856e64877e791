package mcpserver

import (
	"crypto/md5"
	"encoding/hex"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/drivemcp/drivemcp/internal/googleemu"
)

// Every Google request is a round trip the user waits for: a 100 KiB file,
// below the 5 MiB cutoff, goes to Drive in one multipart request, and the
// tool still reports Drive's md5, checked against the file's.
func TestUpload_100KiBFileIsOneGoogleRequestMD5Checked(t *testing.T) {
	root := t.TempDir()
	data := make([]byte, 100<<10)
	_, _ = rand.NewChaCha8([32]byte{5}).Read(data)
	if err := os.WriteFile(filepath.Join(root, "small.bin"), data, 0o600); err != nil {
		t.Fatal(err)
	}
	sum := md5.Sum(data)
	f := newFixture(t, Deps{UploadRoots: []UploadRoot{{Dir: root}}})
	f.mustCall(t, "check_drive_auth", map[string]any{}) // warms what a first call may fetch
	before := f.google.Stats().Requests

	out := f.mustCall(t, "upload_file_to_drive", map[string]any{"filepath": "small.bin"})

	if n := f.google.Stats().Requests - before; n != 1 {
		t.Fatalf("the upload cost %d Google requests, want 1", n)
	}
	if out["md5"] != hex.EncodeToString(sum[:]) {
		t.Fatalf("tool says md5 %v, want %x", out["md5"], sum)
	}
	if files := f.google.Files(); len(files) != 1 || files[0].MD5 != hex.EncodeToString(sum[:]) {
		t.Fatalf("Drive holds %+v, want one file with md5 %x", files, sum)
	}
}

// Drive has no idempotency key: when the answer to a one-request upload is
// lost after Drive made the file, the retry must find that file rather
// than make a second one.
func TestCreateFile_GoogleAnswerLostAfterCreateLeavesExactlyOneFile(t *testing.T) {
	f := newFixture(t, Deps{})
	f.google.InjectFault(googleemu.Fault{Method: http.MethodPost, PathPrefix: "/upload/drive/v3/files", DropResponseAfterBytes: 1})

	out := f.mustCall(t, "create_drive_file", map[string]any{"file_name": "notes.txt", "content": "hello once"})

	files := f.google.Files()
	if len(files) != 1 {
		t.Fatalf("Drive holds %d files, want exactly 1: %+v", len(files), files)
	}
	if out["file_id"] != files[0].ID {
		t.Fatalf("tool names file %v, Drive has %s", out["file_id"], files[0].ID)
	}
}
