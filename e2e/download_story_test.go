package e2e

import (
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/drivemcp/drivemcp/internal/e2etest"
)

// A user reads a long report a page at a time, then keeps a copy on their
// laptop: the real binary over stdio, a download folder of its own.
func TestStory_ReadALongReportInPagesThenDownloadItAndItsPDF(t *testing.T) {
	downloads := t.TempDir()
	downloads, _ = filepath.EvalSymlinks(downloads)
	d := startDrive(t, "--download-root", downloads)
	report := strings.Repeat("Revenue grew in every region — détails ci-dessous.\n", 120) // ~6 KB
	id := d.create(t, map[string]any{"file_name": "annual report.txt", "content": report})

	// "Read me the annual report." It comes in pages; the model follows the marker.
	var read strings.Builder
	offset := 0.0
	for pages := 1; ; pages++ {
		res := e2etest.MustCall(t, d.session, "get_drive_file_content", map[string]any{"file_id": id, "offset": offset, "max_bytes": 2200})
		out := e2etest.Structured(t, res)
		read.WriteString(out["content"].(string))
		next, more := out["next_offset"].(float64)
		if !more {
			if pages != 3 {
				t.Fatalf("read in %d pages, want 3", pages)
			}
			break
		}
		if !strings.Contains(e2etest.ResultText(res), "more from offset") || pages > 3 {
			t.Fatalf("page %d does not say where to go on: %q", pages, e2etest.ResultText(res))
		}
		offset = next
	}
	if read.String() != report {
		t.Fatalf("the pages joined to %d bytes, not the %d-byte report", read.Len(), len(report))
	}

	// "Save it to my Downloads."
	saved := d.ok(t, "download_drive_file", map[string]any{"file_id": id})
	path := filepath.Join(downloads, "annual report.txt")
	b, err := os.ReadFile(path)
	sum := md5.Sum([]byte(report))
	if err != nil || string(b) != report || saved["local_path"] != path || saved["md5"] != hex.EncodeToString(sum[:]) || saved["verified"] != true {
		t.Fatalf("download: %v (%v)", saved, err)
	}
	// "Again." It will not replace the copy unasked.
	d.mustFail(t, "download_drive_file", map[string]any{"file_id": id}, "already exists", "overwrite: true")

	// "And the summary Doc as a PDF."
	doc := d.create(t, map[string]any{"file_name": "Summary", "content": "# Summary\n\nAll good.", "mime_type": "application/vnd.google-apps.document"})
	pdf := d.ok(t, "download_drive_file", map[string]any{"file_id": doc, "export_format": "pdf"})
	if b, err := os.ReadFile(filepath.Join(downloads, "Summary.pdf")); err != nil || !strings.HasPrefix(string(b), "%PDF-") || pdf["export_format"] != "pdf" {
		t.Fatalf("Doc as PDF: %v (%v)", pdf, err)
	}
	// "Put it in /etc." No.
	d.mustFail(t, "download_drive_file", map[string]any{"file_id": id, "local_path": "/etc/annual.txt"}, "outside the download folders")
}

// Over HTTP the server writes nothing to its disk: the assistant gets a
// link to drivemcp that streams the file, for alice only, for 15 minutes.
func TestStory_OverHTTPADownloadIsALinkForOneAccount(t *testing.T) {
	g := e2etest.StartGoogle(t)
	srv := e2etest.StartHTTP(t, e2etest.Config{Binary: binary, DB: filepath.Join(t.TempDir(), "db"), Google: g})
	alice := hostileLogin(t, srv.BaseURL, "alice@example.com")
	bob := hostileToken(t, srv.BaseURL, "bob@example.com", "drive.file")

	created := toolResult(t, alice, "create_drive_file", map[string]any{"file_name": "plan.txt", "content": "the plan"})
	out := toolResult(t, alice, "download_drive_file", map[string]any{"file_id": created["file_id"]})
	link, _ := out["download_url"].(string)
	if !strings.HasPrefix(link, srv.BaseURL+"/files/") || out["local_path"] != nil {
		t.Fatalf("download over HTTP: %v", out)
	}
	get := func(bearer string) (int, string) {
		req, _ := http.NewRequest("GET", link, nil)
		if bearer != "" {
			req.Header.Set("Authorization", "Bearer "+bearer)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if status, body := get(""); status != 200 || body != "the plan" {
		t.Fatalf("the link: %d %q", status, body)
	}
	if status, body := get(alice.access); status != 200 || body != "the plan" {
		t.Fatalf("the link with alice's token: %d %q", status, body)
	}
	if status, body := get(bob.access); status != http.StatusForbidden || !strings.Contains(body, "another Google account") {
		t.Fatalf("bob with alice's link: %d %q", status, body)
	}
}

// toolResult calls a tool on c's session and returns its structuredContent.
func toolResult(t *testing.T, c *hostileClient, tool string, args map[string]any) map[string]any {
	t.Helper()
	status, _, body := c.post(t, c.headers(), rawToolCall(7, tool, args))
	payload := body
	if i := strings.Index(body, "data: "); i >= 0 {
		payload = body[i+len("data: "):]
		if j := strings.IndexByte(payload, '\n'); j >= 0 {
			payload = payload[:j]
		}
	}
	var msg struct {
		Result struct {
			IsError           bool           `json:"isError"`
			StructuredContent map[string]any `json:"structuredContent"`
		} `json:"result"`
	}
	if err := json.Unmarshal([]byte(payload), &msg); err != nil || status != 200 || msg.Result.IsError {
		t.Fatalf("%s: %d %.400s", tool, status, body)
	}
	return msg.Result.StructuredContent
}
