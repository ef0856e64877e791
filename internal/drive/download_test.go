package drive

import (
	"archive/zip"
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/drivemcp/drivemcp/internal/googleemu"
)

// A text larger than one page comes back in pages that join up to the
// whole, each ending on a character boundary, each naming where the next
// one starts; the last says there is no more. Docs exports page the same.
func TestContentPage_ThreePagesJoinUpWithoutSplittingACharacter(t *testing.T) {
	d := newDrive(t)
	text := strings.Repeat("héllo wörld ✓ ", 20) // 2- and 3-byte characters
	for _, mime := range []string{"text/plain", "application/vnd.google-apps.document"} {
		f := d.put(t, "long", mime, "", []byte(text))
		var got strings.Builder
		offset, pages := int64(0), 0
		for {
			c, err := d.files.ContentPage(t.Context(), f.ID, offset, int64(len(text)/3+1))
			if err != nil {
				t.Fatalf("%s page %d: %v", mime, pages, err)
			}
			pages++
			if !strings.HasPrefix(text[got.Len():], c.Text) || c.Offset != offset {
				t.Fatalf("%s page %d at %d = %q (offset %d), not where the text goes on", mime, pages, offset, c.Text, c.Offset)
			}
			got.WriteString(c.Text)
			if !c.More {
				break
			}
			if c.NextOffset != offset+int64(len(c.Text)) || pages > 5 {
				t.Fatalf("%s next offset %d after %d bytes from %d", mime, c.NextOffset, len(c.Text), offset)
			}
			offset = c.NextOffset
		}
		if got.String() != text || pages != 3 {
			t.Fatalf("%s: %d pages joined to %d bytes, want 3 pages of the %d", mime, pages, got.Len(), len(text))
		}
	}
	f := d.put(t, "short.txt", "text/plain", "", []byte("abc"))
	if _, err := d.files.ContentPage(t.Context(), f.ID, 3, 100); !errors.Is(err, ErrOffsetPastEnd) {
		t.Fatalf("offset at the end = %v, want ErrOffsetPastEnd", err)
	}
}

// rangeLog records the Range header of every download request.
type rangeLog struct {
	mu     sync.Mutex
	ranges []string
	next   http.RoundTripper
}

func (l *rangeLog) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.URL.Query().Get("alt") == "media" {
		l.mu.Lock()
		l.ranges = append(l.ranges, r.Header.Get("Range"))
		l.mu.Unlock()
	}
	return l.next.RoundTrip(r)
}

// Google's connection drops mid-file: the download asks for the rest with
// Range (not the whole file again), and the file on disk has Drive's md5.
func TestDownloadTo_DropMidFileResumesWithRangeAndMD5Matches(t *testing.T) {
	d := newDrive(t)
	content := bytes.Repeat([]byte("drivemcp-"), 200_000) // 1.8 MB
	f := d.put(t, "big.bin", "application/octet-stream", "", content)
	log := &rangeLog{next: d.client.Transport}
	client := *d.client
	client.Transport = log
	files := filesFor(t, d.emulated, &client)

	plan, err := files.PlanDownload(t.Context(), f.ID, "")
	if err != nil {
		t.Fatal(err)
	}
	d.emu.InjectFault(googleemu.Fault{Method: "GET", PathPrefix: "/drive/v3/files/" + f.ID, DropResponseAfterBytes: 700_000})
	out, err := os.Create(filepath.Join(t.TempDir(), "big.bin"))
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	res, err := files.DownloadTo(t.Context(), plan, out, nil)
	if err != nil {
		t.Fatal(err)
	}
	disk, _ := os.ReadFile(out.Name())
	sum := md5.Sum(content)
	if !bytes.Equal(disk, content) || res.MD5 != hex.EncodeToString(sum[:]) || !res.Verified || res.Bytes != int64(len(content)) {
		t.Fatalf("downloaded %d bytes, md5 %s verified %v; want the %d bytes with md5 %x", len(disk), res.MD5, res.Verified, len(content), sum)
	}
	if len(log.ranges) != 2 || log.ranges[0] != "" || !strings.HasPrefix(log.ranges[1], "bytes=") || log.ranges[1] == "bytes=0-" {
		t.Fatalf("requests' Range headers %q, want the whole file then the rest from where it broke", log.ranges)
	}
}

// Docs, Sheets and Slides download as an export in the format asked for
// (by default their Office format); a format Drive does not offer for that
// type is refused before any download.
func TestDownloadTo_ExportsGoogleFilesInTheFormatAskedFor(t *testing.T) {
	d := newDrive(t)
	doc := d.put(t, "Plan", "application/vnd.google-apps.document", "", []byte("# Plan")).ID
	sheet := d.put(t, "Budget", "application/vnd.google-apps.spreadsheet", "", []byte("a,b\n1,2\n")).ID
	for _, c := range []struct {
		id, format, wantExt string
		magic               []byte
	}{
		{doc, "", ".docx", []byte("PK\x03\x04")},
		{doc, "pdf", ".pdf", []byte("%PDF-")},
		{doc, "md", ".md", []byte("# Plan")},
		{doc, "txt", ".txt", []byte("# Plan")},
		{sheet, "", ".xlsx", []byte("PK\x03\x04")},
		{sheet, "csv", ".csv", []byte("a,b")},
	} {
		plan, err := d.files.PlanDownload(t.Context(), c.id, c.format)
		if err != nil {
			t.Fatalf("%s as %q: %v", c.id, c.format, err)
		}
		out, _ := os.Create(filepath.Join(t.TempDir(), "x"))
		res, err := d.files.DownloadTo(t.Context(), plan, out, nil)
		out.Close()
		b, _ := os.ReadFile(out.Name())
		if err != nil || plan.Ext != c.wantExt || !bytes.HasPrefix(b, c.magic) || res.Verified {
			t.Errorf("%s as %q: ext %q, starts %q, verified %v, err %v", plan.Name, c.format, plan.Ext, b[:min(8, len(b))], res.Verified, err)
		}
		if c.magic[0] == 'P' {
			if _, err := zip.NewReader(bytes.NewReader(b), int64(len(b))); err != nil {
				t.Errorf("%s: %v", plan.Ext, err)
			}
		}
	}
	if _, err := d.files.PlanDownload(t.Context(), sheet, "docx"); !errors.Is(err, ErrExportFormat) {
		t.Fatalf("a Sheet as docx = %v, want ErrExportFormat", err)
	}
	bin := d.put(t, "a.bin", "application/octet-stream", "", []byte("x")).ID
	if _, err := d.files.PlanDownload(t.Context(), bin, "pdf"); !errors.Is(err, ErrExportFormat) {
		t.Fatalf("a binary file as pdf = %v, want ErrExportFormat", err)
	}
}
