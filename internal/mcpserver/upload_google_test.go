package mcpserver

import (
	"crypto/md5"
	"encoding/hex"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/drivemcp/drivemcp/internal/e2etest"
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

const (
	googleDoc   = "application/vnd.google-apps.document"
	googleSheet = "application/vnd.google-apps.spreadsheet"
	googleSlide = "application/vnd.google-apps.presentation"
)

// Drive's about.importFormats turns text/plain only into Docs; Sheets are
// imported from CSV or TSV. Text meant for a Sheet goes up as text/csv (or
// TSV when the name says so), and the Sheet has no md5 to check.
func TestCreateFile_GoogleImportsCSVIntoSheetSoTextForASheetUploadsTextCSV(t *testing.T) {
	f := newFixture(t, Deps{})
	for _, c := range []struct{ name, want string }{
		{"Budget", "text/csv"},
		{"budget.csv", "text/csv"},
		{"budget.tsv", "text/tab-separated-values"},
	} {
		out := f.mustCall(t, "create_drive_file", map[string]any{"file_name": c.name, "content": "a,b\n1,2\n", "mime_type": googleSheet})
		file, ok := f.google.File(out["file_id"].(string))
		if !ok || file.MimeType != googleSheet || file.SourceMimeType != c.want {
			t.Errorf("%s: Drive got %+v, want a Sheet converted from %s", c.name, file, c.want)
		}
		if _, has := out["md5"]; has || out["converted_from"] != c.want {
			t.Errorf("%s: tool answered %v, want no md5 and converted_from %s", c.name, out, c.want)
		}
	}
}

// Drive imports Markdown and HTML into Docs as well as plain text.
func TestCreateFile_GoogleImportsMarkdownAndHTMLIntoDocs(t *testing.T) {
	f := newFixture(t, Deps{})
	for _, c := range []struct{ name, want string }{
		{"notes.md", "text/markdown"},
		{"page.html", "text/html"},
		{"letter", "text/plain"},
	} {
		out := f.mustCall(t, "create_drive_file", map[string]any{"file_name": c.name, "content": "# Hi\n", "mime_type": googleDoc})
		file, _ := f.google.File(out["file_id"].(string))
		if file.MimeType != googleDoc || file.SourceMimeType != c.want {
			t.Errorf("%s: Drive got %+v, want a Doc converted from %s", c.name, file, c.want)
		}
	}
}

// A conversion Drive does not offer is refused before anything reaches
// Google, with the formats Drive does convert from.
func TestUpload_ConversionGoogleDoesNotOfferIsRefusedNamingTheOffered(t *testing.T) {
	root := t.TempDir()
	if err := os.WriteFile(filepath.Join(root, "photo.png"), []byte("\x89PNG\r\n\x1a\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	f := newFixture(t, Deps{UploadRoots: []UploadRoot{{Dir: root}}})
	before := f.google.Stats().Requests
	for _, c := range []struct {
		tool string
		args map[string]any
		want string
	}{
		{"upload_file_to_drive", map[string]any{"filepath": "photo.png", "mime_type": googleSheet}, "text/csv"},
		{"create_drive_file", map[string]any{"file_name": "deck", "content": "slide 1", "mime_type": googleSlide}, "application/vnd.openxmlformats-officedocument.presentationml.presentation"},
		{"create_drive_file", map[string]any{"file_name": "table.csv", "content": "a,b", "mime_type": googleDoc}, "text/markdown"},
	} {
		res := f.call(t, c.tool, c.args)
		text := e2etest.ResultText(res)
		if !res.IsError || !strings.Contains(text, c.want) || !strings.Contains(text, "nothing was uploaded") {
			t.Errorf("%s %v: %q, want a refusal naming %s", c.tool, c.args, text, c.want)
		}
	}
	if n := f.google.Stats().Requests - before; n != 0 {
		t.Fatalf("Google got %d requests for conversions it does not offer", n)
	}
}
