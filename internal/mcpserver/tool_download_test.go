package mcpserver

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/auth"

	"github.com/drivemcp/drivemcp/internal/e2etest"
	"github.com/drivemcp/drivemcp/internal/secrets"
)

// A text three pages long is read in three calls, each ending with the
// "more from offset N" marker that the next call passes back; the last
// says it is the end.
func TestGetDriveFileContent_ThreePagesEachSayWhereTheNextStarts(t *testing.T) {
	f := newFixture(t, Deps{})
	text := strings.Repeat("line of text ✓\n", 200) // 3,400 bytes
	id, _ := f.mustCall(t, "create_drive_file", map[string]any{"file_name": "long.txt", "content": text})["file_id"].(string)
	var got strings.Builder
	offset := 0.0
	for page := 1; ; page++ {
		res := e2etest.MustCall(t, f.session, "get_drive_file_content", map[string]any{"file_id": id, "offset": offset, "max_bytes": 1200})
		out := e2etest.Structured(t, res)
		got.WriteString(out["content"].(string))
		next, more := out["next_offset"].(float64)
		shown := e2etest.ResultText(res)
		if page < 3 {
			if !more || !strings.Contains(shown, fmt.Sprintf("more from offset %d", int(next))) || out["has_more"] != true {
				t.Fatalf("page %d: next_offset %v has_more %v, text ends %q", page, out["next_offset"], out["has_more"], shown[max(0, len(shown)-120):])
			}
			offset = next
			continue
		}
		if more || out["has_more"] == true || strings.Contains(shown, "more from offset") || !strings.Contains(shown, "end of the file") {
			t.Fatalf("page 3 says there is more: %v, %q", out, shown[max(0, len(shown)-120):])
		}
		break
	}
	if got.String() != text {
		t.Fatalf("three pages joined to %d bytes, want the %d of the file", got.Len(), len(text))
	}
	before := f.google.Stats().Requests
	for _, c := range []struct {
		args map[string]any
		want string
	}{
		{map[string]any{"file_id": id, "offset": -1}, "offset -1"},
		{map[string]any{"file_id": id, "max_bytes": 10}, "max_bytes 10"},
		{map[string]any{"file_id": id, "max_bytes": 2 << 20}, "max_bytes"},
	} {
		res := f.call(t, "get_drive_file_content", c.args)
		if !res.IsError || !strings.Contains(e2etest.ResultText(res), c.want) {
			t.Errorf("%v: %q, want an error about %q", c.args, e2etest.ResultText(res), c.want)
		}
	}
	if n := f.google.Stats().Requests - before; n != 0 {
		t.Errorf("bad paging arguments sent %d requests to Google", n)
	}
	res := f.call(t, "get_drive_file_content", map[string]any{"file_id": id, "offset": len(text)})
	if !res.IsError || !strings.Contains(e2etest.ResultText(res), "past the end") {
		t.Errorf("offset at the end: %q", e2etest.ResultText(res))
	}
}

// downloadFixture is the stdio server with a download root.
func downloadFixture(t *testing.T) (*fixture, string) {
	t.Helper()
	root := t.TempDir()
	root, _ = filepath.EvalSymlinks(root)
	return newFixture(t, Deps{DownloadRoots: []UploadRoot{{Dir: root}}}), root
}

// Over stdio the file lands inside the download root, whole, with the md5
// Drive keeps for it; a second download to the same name is refused unless
// overwrite is true, and the first file is left as it was.
func TestDownloadDriveFile_StdioWritesIntoTheDownloadRootWithDrivesMD5(t *testing.T) {
	f, root := downloadFixture(t)
	content := strings.Repeat("report data\n", 50_000)
	id, _ := f.mustCall(t, "create_drive_file", map[string]any{"file_name": "report.txt", "content": content})["file_id"].(string)
	out := f.mustCall(t, "download_drive_file", map[string]any{"file_id": id})
	want := filepath.Join(root, "report.txt")
	disk, err := os.ReadFile(want)
	sum := md5.Sum([]byte(content))
	if err != nil || string(disk) != content || out["local_path"] != want || out["md5"] != hex.EncodeToString(sum[:]) || out["verified"] != true {
		t.Fatalf("download: %v, file %d bytes (err %v); want %s with md5 %x verified", out, len(disk), err, want, sum)
	}
	res := f.call(t, "download_drive_file", map[string]any{"file_id": id, "local_path": "report.txt"})
	if !res.IsError || !strings.Contains(e2etest.ResultText(res), "overwrite: true") {
		t.Fatalf("second download over the first: %q, want a refusal that says overwrite: true", e2etest.ResultText(res))
	}
	os.WriteFile(want, []byte("mine"), 0o644)
	f.mustCall(t, "download_drive_file", map[string]any{"file_id": id, "local_path": "report.txt", "overwrite": true})
	if disk, _ := os.ReadFile(want); string(disk) != content {
		t.Fatalf("overwrite: %d bytes on disk", len(disk))
	}
	sub := filepath.Join(root, "sub")
	os.Mkdir(sub, 0o755)
	out = f.mustCall(t, "download_drive_file", map[string]any{"file_id": id, "local_path": sub})
	if out["local_path"] != filepath.Join(sub, "report.txt") {
		t.Fatalf("a directory as local_path: saved to %v", out["local_path"])
	}
	entries, _ := os.ReadDir(root)
	for _, e := range entries {
		if strings.Contains(e.Name(), ".part") {
			t.Errorf("left behind %s", e.Name())
		}
	}
}

// The download root holds like an upload root: no way out by "..", an
// absolute path elsewhere or a symlink, and no hidden files (a download
// must not be able to plant ~/.bashrc).
func TestDownloadDriveFile_CannotWriteOutsideTheDownloadRootOrHiddenFiles(t *testing.T) {
	f, root := downloadFixture(t)
	outside := t.TempDir()
	os.Symlink(outside, filepath.Join(root, "link"))
	id, _ := f.mustCall(t, "create_drive_file", map[string]any{"file_name": "a.txt", "content": "x"})["file_id"].(string)
	for _, p := range []string{"../escape.txt", filepath.Join(outside, "abs.txt"), "link/through.txt", ".bashrc", "dir/.ssh/authorized_keys"} {
		res := f.call(t, "download_drive_file", map[string]any{"file_id": id, "local_path": p})
		if !res.IsError {
			t.Errorf("local_path %q was accepted", p)
		}
	}
	if entries, _ := os.ReadDir(outside); len(entries) != 0 {
		t.Fatalf("wrote outside the root: %v", entries)
	}
	if _, err := os.Stat(filepath.Join(root, ".bashrc")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("wrote a hidden file")
	}
	noRoot := newFixture(t, Deps{})
	res := noRoot.call(t, "download_drive_file", map[string]any{"file_id": id})
	if !res.IsError || !strings.Contains(e2etest.ResultText(res), "--download-root") {
		t.Fatalf("without a download root: %q", e2etest.ResultText(res))
	}
}

// Google Docs, Sheets and Slides come down exported in the format asked
// for, named with its extension; a format their type does not offer is
// refused with the formats it does.
func TestDownloadDriveFile_ExportsDocsSheetsAndSlides(t *testing.T) {
	f, root := downloadFixture(t)
	doc, _ := f.mustCall(t, "create_drive_file", map[string]any{"file_name": "Plan", "content": "# Plan", "mime_type": "application/vnd.google-apps.document"})["file_id"].(string)
	sheet, _ := f.mustCall(t, "create_drive_file", map[string]any{"file_name": "Budget", "content": "a,b\n", "mime_type": "application/vnd.google-apps.spreadsheet"})["file_id"].(string)
	for _, c := range []struct{ id, format, name, magic string }{
		{doc, "pdf", "Plan.pdf", "%PDF-"},
		{doc, "docx", "Plan.docx", "PK\x03\x04"},
		{doc, "md", "Plan.md", "# Plan"},
		{doc, "txt", "Plan.txt", "# Plan"},
		{sheet, "", "Budget.xlsx", "PK\x03\x04"},
		{sheet, "csv", "Budget.csv", "a,b"},
	} {
		args := map[string]any{"file_id": c.id}
		if c.format != "" {
			args["export_format"] = c.format
		}
		out := f.mustCall(t, "download_drive_file", args)
		b, err := os.ReadFile(filepath.Join(root, c.name))
		if err != nil || !strings.HasPrefix(string(b), c.magic) || out["export_format"] == "" {
			t.Errorf("%s as %q: %v; file starts %q (%v)", c.name, c.format, out, b[:min(len(b), 8)], err)
		}
	}
	res := f.call(t, "download_drive_file", map[string]any{"file_id": sheet, "export_format": "docx"})
	if text := e2etest.ResultText(res); !res.IsError || !strings.Contains(text, "xlsx, pdf, csv") {
		t.Fatalf("a Sheet as docx: %q", text)
	}
}

// linkFixture is drivemcp over HTTP: download_drive_file answers with a
// link to drivemcp's own /files/ endpoint, served by srv.
type linkFixture struct {
	*fixture
	srv   *httptest.Server
	clock atomic.Pointer[time.Time]
}

func newLinkFixture(t *testing.T) *linkFixture {
	t.Helper()
	deps, g := fixtureDeps(t, Deps{})
	lf := &linkFixture{}
	now := time.Now()
	lf.clock.Store(&now)
	mux := http.NewServeMux()
	lf.srv = httptest.NewServer(mux)
	t.Cleanup(lf.srv.Close)
	ring, _ := secrets.NewKeyring(make([]byte, 32))
	links := NewDownloadLinks(DownloadLinkOptions{
		BaseURL: lf.srv.URL, Keys: ring, Grants: deps.Grants,
		Now: func() time.Time { return *lf.clock.Load() },
		// Stands for authserver's verifier: "bob-token" is bob's.
		Verify: func(_ context.Context, token string, _ *http.Request) (*auth.TokenInfo, error) {
			if token == "bob-token" {
				return &auth.TokenInfo{UserID: "bob@example.com", Expiration: time.Now().Add(time.Hour)}, nil
			}
			return nil, auth.ErrInvalidToken
		},
	})
	mux.Handle("GET /files/", links)
	deps.DownloadLinks = links
	deps.DownloadRoots = []UploadRoot{{Dir: t.TempDir()}} // must never be written over HTTP
	lf.fixture = connectFixture(t, g, New(deps), nil)
	t.Cleanup(func() {
		if entries, _ := os.ReadDir(deps.DownloadRoots[0].Dir); len(entries) != 0 {
			t.Errorf("over HTTP the server wrote to its disk: %v", entries)
		}
	})
	return lf
}

func get(t *testing.T, url, bearer string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, string(b)
}

// Over HTTP nothing is written to the server's disk: the tool returns a
// link to drivemcp's /files/ that streams the file from Drive, as an
// attachment, for 15 minutes, for the account that asked only.
func TestDownloadLink_OverHTTPStreamsFromDriveForFifteenMinutesToOneAccount(t *testing.T) {
	lf := newLinkFixture(t)
	content := strings.Repeat("quarterly numbers\n", 1000)
	id, _ := lf.mustCall(t, "create_drive_file", map[string]any{"user_google_email": alice, "file_name": "q4.csv", "content": content})["file_id"].(string)
	out := lf.mustCall(t, "download_drive_file", map[string]any{"user_google_email": alice, "file_id": id, "local_path": "/etc/passwd"})
	link, _ := out["download_url"].(string)
	if !strings.HasPrefix(link, lf.srv.URL+"/files/") || out["local_path"] != nil || out["expires_at"] == nil {
		t.Fatalf("over HTTP: %v, want a %s/files/ link and no local path", out, lf.srv.URL)
	}
	resp, body := get(t, link, "")
	if resp.StatusCode != 200 || body != content || !strings.HasPrefix(resp.Header.Get("Content-Disposition"), "attachment") ||
		resp.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Fatalf("GET link: %s %q… headers %v", resp.Status, body[:min(len(body), 40)], resp.Header)
	}
	req, _ := http.NewRequest("GET", link, nil)
	req.Header.Set("Range", "bytes=18-")
	ranged, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	rest, _ := io.ReadAll(ranged.Body)
	ranged.Body.Close()
	if ranged.StatusCode != http.StatusPartialContent || string(rest) != content[18:] {
		t.Fatalf("Range on the link: %s, %d bytes", ranged.Status, len(rest))
	}

	// Another account's bearer token is refused the link.
	if resp, body := get(t, link, "bob-token"); resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "another") {
		t.Fatalf("bob with alice's link: %s %q", resp.Status, body)
	}
	// A link whose token was altered is no link.
	tampered := strings.Replace(link, "/files/", "/files/A", 1)
	if resp, _ := get(t, tampered, ""); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("altered link: %s", resp.Status)
	}
	// After 15 minutes the link is refused and says how to get a new one.
	later := time.Now().Add(15*time.Minute + time.Second)
	lf.clock.Store(&later)
	if resp, body := get(t, link, ""); resp.StatusCode != http.StatusGone || !strings.Contains(body, "download_drive_file") {
		t.Fatalf("link after 15 minutes: %s %q", resp.Status, body)
	}
}

// A Google Doc over the link comes as its export, named for it.
func TestDownloadLink_ExportsAGoogleDoc(t *testing.T) {
	lf := newLinkFixture(t)
	doc, _ := lf.mustCall(t, "create_drive_file", map[string]any{"user_google_email": alice, "file_name": "Plan", "content": "# Plan",
		"mime_type": "application/vnd.google-apps.document"})["file_id"].(string)
	out := lf.mustCall(t, "download_drive_file", map[string]any{"user_google_email": alice, "file_id": doc, "export_format": "pdf"})
	resp, body := get(t, out["download_url"].(string), "")
	if resp.StatusCode != 200 || !strings.HasPrefix(body, "%PDF-") || resp.Header.Get("Content-Type") != "application/pdf" ||
		!strings.Contains(resp.Header.Get("Content-Disposition"), "Plan.pdf") {
		t.Fatalf("Doc as pdf over the link: %s %v %q", resp.Status, resp.Header, body[:min(len(body), 10)])
	}
}
