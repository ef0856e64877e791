package drive

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"unicode/utf8"
)

// Content is a file's content as text or, for a file that has no text form,
// only its metadata (Binary).
type Content struct {
	Item
	// Text is the content, exported to text for Google Docs, Sheets and
	// Slides. Empty when Binary.
	Text string
	// Format is the MIME type Text is in: the file's own, or what it was
	// exported to (text/markdown, text/plain, text/csv).
	Format string
	// Exported: Text is an export of a Google Docs Editors file.
	Exported bool
	// Binary: the file has no text form (an image, a PDF, an archive, a
	// Google Form…); only Item is set.
	Binary bool
	// Offset is where Text starts in the whole text, in bytes; More says
	// there is more after it, from NextOffset (ContentPage only).
	Offset, NextOffset int64
	More               bool
	// Total is the whole text's length in bytes (ContentPage only).
	Total int64
}

var (
	// ErrContentTooLarge means the content is larger than the caller's cap
	// (or than Drive exports). Content returns the file's metadata with it.
	ErrContentTooLarge = errors.New("drive: the content is larger than allowed")
	// ErrIsFolder means the file is a folder, which has items, not content.
	ErrIsFolder = errors.New("drive: a folder has no content")
)

const googleAppsPrefix = "application/vnd.google-apps."

// exportFormats are the text formats Docs Editors files are exported to,
// best first: Markdown keeps a document's headings, lists and links, and
// Drive has not offered it for as long as plain text. A Sheets export is the
// first sheet only; that is what Drive's CSV export does.
var exportFormats = map[string][]string{
	"application/vnd.google-apps.document":     {"text/markdown", "text/plain"},
	"application/vnd.google-apps.spreadsheet":  {"text/csv"},
	"application/vnd.google-apps.presentation": {"text/plain"},
}

// contentFields are what the content calls read of a file and show.
const contentFields = "id,name,mimeType,size,modifiedTime,webViewLink"

// Content returns a file's content as text, reading at most maxBytes. A
// file whose text would be larger fails with ErrContentTooLarge (alongside
// its metadata); a binary file comes back as metadata only.
func (f *Files) Content(ctx context.Context, fileID string, maxBytes int64) (Content, error) {
	it, err := f.getFields(ctx, fileID, contentFields)
	if err != nil {
		return Content{}, err
	}
	c := Content{Item: it}
	switch {
	case it.IsFolder():
		return c, fmt.Errorf("%w: %s", ErrIsFolder, it.Name)
	case exportFormats[it.MimeType] != nil:
		return f.export(ctx, c, maxBytes)
	case strings.HasPrefix(it.MimeType, googleAppsPrefix), surelyBinary(it.MimeType):
		c.Binary = true
		return c, nil
	case it.Size > maxBytes:
		return c, tooLarge(it.Size, maxBytes)
	}
	var resp *http.Response
	err = f.read(ctx, func() (err error) {
		resp, err = f.svc.Files.Get(fileID).SupportsAllDrives(true).Context(ctx).Download()
		return err
	})
	if err != nil {
		return c, err
	}
	defer resp.Body.Close()
	b, err := readCapped(resp.Body, maxBytes)
	if err != nil {
		return c, err
	}
	if !looksLikeText(b) {
		c.Binary = true
		return c, nil
	}
	c.Text = strings.TrimPrefix(string(b), "\ufeff")
	c.Format = it.MimeType
	if !isTextType(c.Format) {
		c.Format = "text/plain"
	}
	return c, nil
}

// export converts a Docs Editors file to the first text format Drive
// offers for it.
func (f *Files) export(ctx context.Context, c Content, maxBytes int64) (Content, error) {
	formats := exportFormats[c.MimeType]
	var resp *http.Response
	for i, format := range formats {
		err := f.read(ctx, func() (err error) {
			resp, err = f.svc.Files.Export(c.ID, format).Context(ctx).Download()
			return err
		})
		if errors.Is(err, ErrInvalidArgument) && i < len(formats)-1 {
			continue // Drive does not offer this conversion (here); try the next
		}
		if err != nil {
			return c, err
		}
		c.Format = format
		break
	}
	defer resp.Body.Close()
	b, err := readCapped(resp.Body, maxBytes)
	if err != nil {
		return c, err
	}
	c.Text = strings.TrimPrefix(string(b), "\ufeff")
	c.Exported = true
	return c, nil
}

// readCapped reads r whole, failing with ErrContentTooLarge past maxBytes.
func readCapped(r io.Reader, maxBytes int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, maxBytes+1))
	if err != nil {
		return nil, fmt.Errorf("drive: reading the content: %w", err)
	}
	if int64(len(b)) > maxBytes {
		return nil, fmt.Errorf("%w: more than %d bytes", ErrContentTooLarge, maxBytes)
	}
	return b, nil
}

func tooLarge(size, maxBytes int64) error {
	return fmt.Errorf("%w: %d bytes, more than %d", ErrContentTooLarge, size, maxBytes)
}

// looksLikeText: valid UTF-8 without NUL bytes (which no text file holds
// and nearly every binary format does).
func looksLikeText(b []byte) bool {
	return utf8.Valid(b) && !bytes.ContainsRune(b, 0)
}

// isTextType reports whether a MIME type names text.
func isTextType(mimeType string) bool {
	t, _, _ := strings.Cut(mimeType, ";")
	t = strings.ToLower(strings.TrimSpace(t))
	switch {
	case strings.HasPrefix(t, "text/"),
		strings.HasSuffix(t, "+json"), strings.HasSuffix(t, "+xml"):
		return true
	}
	switch t {
	case "application/json", "application/xml", "application/javascript", "application/x-javascript",
		"application/yaml", "application/x-yaml", "application/toml", "application/sql",
		"application/x-sh", "application/x-python", "application/x-httpd-php", "application/csv",
		"application/x-ndjson", "application/graphql", "application/x-tex":
		return true
	}
	return false
}

// surelyBinary names the types not worth downloading to look at: media,
// PDFs, archives and office documents, none of which reads as text.
func surelyBinary(mimeType string) bool {
	t, _, _ := strings.Cut(mimeType, ";")
	t = strings.ToLower(strings.TrimSpace(t))
	for _, prefix := range []string{"image/", "audio/", "video/", "font/", "model/",
		"application/vnd.openxmlformats-officedocument.", "application/vnd.ms-", "application/vnd.oasis.opendocument."} {
		if strings.HasPrefix(t, prefix) && t != "image/svg+xml" {
			return true
		}
	}
	switch t {
	case "application/pdf", "application/zip", "application/gzip", "application/x-gzip", "application/x-tar",
		"application/x-7z-compressed", "application/x-rar-compressed", "application/vnd.rar", "application/x-bzip2",
		"application/msword", "application/wasm", "application/x-executable", "application/java-archive",
		"application/x-sqlite3", "application/vnd.android.package-archive":
		return true
	}
	return false
}

// maxExportBytes is the most Drive exports (files.export "is limited to
// 10MB", /drive/api/reference/rest/v3/files/export), so the most a Google
// file's text can be paged through.
const maxExportBytes = 10 << 20

// ContentPage returns up to maxBytes of a file's text from offset (bytes),
// never splitting a character: a page ends early rather than cut one, and
// an offset inside a character moves on to the next. A file's own bytes
// are fetched with Range, only the page; a Google file is exported whole
// (Drive cannot export a range) and sliced.
func (f *Files) ContentPage(ctx context.Context, fileID string, offset, maxBytes int64) (Content, error) {
	it, err := f.getFields(ctx, fileID, contentFields)
	if err != nil {
		return Content{}, err
	}
	c := Content{Item: it, Offset: offset}
	switch {
	case it.IsFolder():
		return c, fmt.Errorf("%w: %s", ErrIsFolder, it.Name)
	case exportFormats[it.MimeType] != nil:
		c, err = f.export(ctx, c, maxExportBytes)
		if err != nil {
			return c, err
		}
		whole := c.Text
		c.Total = int64(len(whole))
		if offset > 0 && offset >= c.Total {
			return c, fmt.Errorf("%w: offset %d, %d bytes in all", ErrOffsetPastEnd, offset, c.Total)
		}
		// +3: room to finish a character the page would otherwise cut.
		end := min(c.Total, offset+maxBytes+3)
		c.Text = ""
		return pageOf(c, []byte(whole[offset:end]), end < c.Total, maxBytes), nil
	case strings.HasPrefix(it.MimeType, googleAppsPrefix), surelyBinary(it.MimeType):
		c.Binary = true
		return c, nil
	}
	c.Total = it.Size
	if offset > 0 && offset >= it.Size {
		return c, fmt.Errorf("%w: offset %d, %d bytes in all", ErrOffsetPastEnd, offset, it.Size)
	}
	if it.Size == 0 {
		c.Format = textFormat(it.MimeType)
		return c, nil
	}
	want := min(it.Size-offset, maxBytes+3)
	var resp *http.Response
	err = f.read(ctx, func() (err error) {
		call := f.svc.Files.Get(fileID).SupportsAllDrives(true).Context(ctx)
		call.Header().Set("Range", fmt.Sprintf("bytes=%d-%d", offset, offset+want-1))
		resp, err = call.Download()
		return err
	})
	if err != nil {
		return c, err
	}
	defer resp.Body.Close()
	body := io.Reader(resp.Body)
	if resp.StatusCode != http.StatusPartialContent && offset > 0 {
		// The whole file came back: skip to the page.
		if _, err := io.CopyN(io.Discard, body, offset); err != nil {
			return c, fmt.Errorf("drive: reading the content: %w", err)
		}
	}
	b, err := io.ReadAll(io.LimitReader(body, want))
	if err != nil {
		return c, fmt.Errorf("drive: reading the content: %w", err)
	}
	if bom := []byte("\ufeff"); offset == 0 && bytes.HasPrefix(b, bom) {
		b, c.Offset = b[len(bom):], int64(len(bom)) // the text starts after it
	}
	c.Format = textFormat(it.MimeType)
	c = pageOf(c, b, offset+want < it.Size, maxBytes)
	if c.Binary {
		c.Format = ""
	}
	return c, nil
}

func textFormat(mimeType string) string {
	if isTextType(mimeType) {
		return mimeType
	}
	return "text/plain"
}

// pageOf makes c's page from b, the bytes from c.Offset on (up to three
// more than maxBytes; moreAfter: the text goes on after b). The page starts
// at the first character boundary and ends at the last one within maxBytes.
func pageOf(c Content, b []byte, moreAfter bool, maxBytes int64) Content {
	skip := 0
	for skip < len(b) && skip < 3 && !utf8.RuneStart(b[skip]) {
		skip++
	}
	b = b[skip:]
	c.Offset += int64(skip)
	end := len(b)
	if int64(end) > maxBytes {
		end = int(maxBytes)
		for end > 0 && !utf8.RuneStart(b[end]) {
			end--
		}
		if end == 0 { // maxBytes is smaller than one character: take it whole
			_, size := utf8.DecodeRune(b)
			end = size
		}
	}
	page := b[:end]
	if !looksLikeText(page) {
		c.Binary = true
		return c
	}
	c.Text = string(page)
	c.NextOffset = c.Offset + int64(end)
	c.More = end < len(b) || moreAfter
	if !c.More {
		c.NextOffset = 0
	}
	return c
}
