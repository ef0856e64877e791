package googleemu

import (
	"archive/zip"
	"bytes"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"google.golang.org/api/drive/v3"
	"google.golang.org/api/googleapi"
)

// Drive exports Docs, Sheets and Slides to the formats its export table
// lists for each (PDF and Office Open XML among them), each with its own
// magic bytes, and refuses a format the table does not list for that type.
func TestExport_DocsSheetsSlidesToPdfOfficeAndText(t *testing.T) {
	// Lenient imports: Drive makes Slides only from PowerPoint files, and
	// this test wants Slides with known text in them.
	_, srv := start(t, Options{LenientImports: true})
	svc := driveFor(t, srv, "alice@example.com")
	create := func(name, mime, media, content string) string {
		t.Helper()
		f, err := svc.Files.Create(&drive.File{Name: name, MimeType: mime}).
			Media(strings.NewReader(content), googleapi.ContentType(media)).Do()
		if err != nil {
			t.Fatal(err)
		}
		return f.Id
	}
	doc := create("Plan", mimeDocument, "text/markdown", "# Plan\n\nShip it.")
	sheet := create("Budget", mimeSpreadsheet, "text/csv", "item,cost\ntea,3\n")
	slides := create("Deck", mimePresentation, "text/plain", "Slide one")
	const (
		docx = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
		xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
		pptx = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
	)
	export := func(id, mime string) ([]byte, error) {
		resp, err := svc.Files.Export(id, mime).Download()
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		return io.ReadAll(resp.Body)
	}
	for _, c := range []struct{ id, mime, holds string }{
		{doc, "application/pdf", "Ship it."},
		{doc, docx, "Ship it."},
		{doc, "text/markdown", "# Plan"},
		{doc, "text/plain", "Ship it."},
		{sheet, xlsx, "tea"},
		{sheet, "application/pdf", "tea"},
		{sheet, "text/csv", "tea,3"},
		{slides, pptx, "Slide one"},
		{slides, "application/pdf", "Slide one"},
		{slides, "text/plain", "Slide one"},
	} {
		b, err := export(c.id, c.mime)
		if err != nil {
			t.Errorf("export %s to %s: %v", c.id, c.mime, err)
			continue
		}
		var text string
		switch c.mime {
		case "application/pdf":
			if !bytes.HasPrefix(b, []byte("%PDF-")) {
				t.Errorf("%s: not a PDF: %q", c.mime, b[:min(len(b), 16)])
			}
			text = string(b)
		case docx, xlsx, pptx:
			zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
			if err != nil {
				t.Errorf("%s: not a zip package: %v", c.mime, err)
				continue
			}
			for _, zf := range zr.File {
				rc, _ := zf.Open()
				part, _ := io.ReadAll(rc)
				rc.Close()
				text += string(part)
			}
			if !strings.Contains(text, "[Content_Types].xml") && zr.File[0].Name != "[Content_Types].xml" {
				t.Errorf("%s: first part %q, want [Content_Types].xml", c.mime, zr.File[0].Name)
			}
		default:
			text = string(b)
		}
		if !strings.Contains(text, c.holds) {
			t.Errorf("export to %s holds %q, want %q in it", c.mime, text, c.holds)
		}
	}
	// A Sheet has no Word export, a Doc no spreadsheet one.
	for _, c := range []struct{ id, mime string }{{sheet, docx}, {doc, xlsx}, {slides, "text/csv"}} {
		_, err := export(c.id, c.mime)
		var ge *googleapi.Error
		if !errors.As(err, &ge) || ge.Code != http.StatusBadRequest {
			t.Errorf("export %s to %s: %v, want 400", c.id, c.mime, err)
		}
	}
}

// DropResponseAfterBytes cuts a download off mid-body like a broken
// connection; a Range request for the rest then gets exactly the rest.
func TestDownload_DroppedMidBodyThenRangeGetsTheRest(t *testing.T) {
	e, srv := start(t, Options{})
	svc := driveFor(t, srv, "alice@example.com")
	content := bytes.Repeat([]byte("0123456789"), 10_000)
	f, err := svc.Files.Create(&drive.File{Name: "big.bin"}).Media(bytes.NewReader(content)).Do()
	if err != nil {
		t.Fatal(err)
	}
	e.InjectFault(Fault{Method: "GET", PathPrefix: "/drive/v3/files/" + f.Id, DropResponseAfterBytes: 30_000})
	resp, err := svc.Files.Get(f.Id).Download()
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err == nil || len(got) >= len(content) {
		t.Fatalf("read %d bytes, err %v: want the body cut off before its end", len(got), err)
	}
	call := svc.Files.Get(f.Id)
	call.Header().Set("Range", "bytes="+itoa(len(got))+"-")
	resp, err = call.Download()
	if err != nil {
		t.Fatal(err)
	}
	rest, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusPartialContent || !bytes.Equal(append(got, rest...), content) {
		t.Fatalf("range: status %d, %d+%d bytes; want 206 and the whole file", resp.StatusCode, len(got), len(rest))
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
