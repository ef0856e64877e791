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

// Google's access tokens live an hour; a large upload can outlive its token.
// When the connection breaks half-way and the token has died meanwhile, the
// session's status query answers 401: the server must refresh the account's
// token once and resume the same session, making exactly one file whose md5
// is the source's.
func TestUpload_GoogleTokenExpiringMidUploadOf64MiBFinishesOneFileMD5Right(t *testing.T) {
	root := t.TempDir()
	data := make([]byte, 64<<20)
	rng := rand.NewChaCha8([32]byte{4})
	_, _ = rng.Read(data)
	if err := os.WriteFile(filepath.Join(root, "big.bin"), data, 0o600); err != nil {
		t.Fatal(err)
	}
	sum := md5.Sum(data)
	want := hex.EncodeToString(sum[:])
	f := newFixture(t, Deps{UploadRoots: []UploadRoot{{Dir: root}}})
	// The connection breaks after 32 MiB and every access token dies with it.
	f.google.InjectFault(googleemu.Fault{Method: http.MethodPut, PathPrefix: "/upload/drive/v3/files",
		DropAfterBytes: 32 << 20, ExpireAccessTokens: true})
	refreshesBefore := f.google.Stats().TokenRequests["refresh_token"]

	out := f.mustCall(t, "upload_file_to_drive", map[string]any{"filepath": "big.bin"})

	if out["md5"] != want {
		t.Fatalf("tool says md5 %v, want %s", out["md5"], want)
	}
	files := f.google.Files()
	if len(files) != 1 {
		t.Fatalf("Drive holds %d files, want exactly 1: %v", len(files), files)
	}
	if files[0].MD5 != want || files[0].Size != int64(len(data)) {
		t.Fatalf("Drive kept %d bytes with md5 %s, want %d bytes with md5 %s", files[0].Size, files[0].MD5, len(data), want)
	}
	if n := f.google.Stats().TokenRequests["refresh_token"] - refreshesBefore; n != 1 {
		t.Fatalf("%d token refreshes during the upload, want exactly 1", n)
	}
	// Resuming, not restarting: Drive received the first half only once.
	if got := f.google.Stats().UploadBytesReceived; got > int64(len(data))+(1<<20) {
		t.Fatalf("Drive received %d bytes for a %d-byte file: the upload started over", got, len(data))
	}
}
