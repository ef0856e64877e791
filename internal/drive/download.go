package drive

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Downloads: a file's own bytes (alt=media, resumable with Range) or, for
// Docs, Sheets and Slides, an export in one of the formats of Drive's
// export table ("Export MIME types for Google Workspace documents",
// /drive/api/guides/ref-export-formats).

var (
	// ErrExportFormat: the file cannot be had in the format asked for
	// (a binary file is never converted; each Google type has its own set).
	ErrExportFormat = errors.New("drive: the file cannot be downloaded in this format")
	// ErrNotDownloadable: a folder, a Google Form, a shortcut…: Drive has
	// no bytes and no export for it.
	ErrNotDownloadable = errors.New("drive: the file has no content to download")
	// ErrDownloadChecksum: the bytes received do not have the md5 Drive
	// reports for the file (it changed during the download, or they were
	// damaged on the way).
	ErrDownloadChecksum = errors.New("drive: the downloaded bytes do not match Drive's checksum")
	// ErrOffsetPastEnd: a content page was asked for at or beyond the end.
	ErrOffsetPastEnd = errors.New("drive: the offset is past the end of the content")
)

// ExportFormats are the export_format names download_drive_file accepts.
var ExportFormats = []string{"pdf", "docx", "xlsx", "pptx", "csv", "md", "txt"}

var exportMIME = map[string]string{
	"pdf":  "application/pdf",
	"docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
	"xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
	"pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
	"csv":  "text/csv",
	"md":   "text/markdown",
	"txt":  "text/plain",
}

// downloadExports are the formats each Google type offers, its default
// first: the Office format, which keeps what a PDF or text would lose.
var downloadExports = map[string][]string{
	"application/vnd.google-apps.document":     {"docx", "pdf", "md", "txt"},
	"application/vnd.google-apps.spreadsheet":  {"xlsx", "pdf", "csv"},
	"application/vnd.google-apps.presentation": {"pptx", "pdf", "txt"},
	"application/vnd.google-apps.drawing":      {"pdf"},
}

// ExportFormatsFor lists the export formats of a Google type (nil for a
// file with bytes of its own, or one with no export).
func ExportFormatsFor(mimeType string) []string { return downloadExports[mimeType] }

// Download is what a download will fetch: the file and, for a Google
// file, the export format.
type Download struct {
	Item
	// Format is the export format name ("" for the file's own bytes),
	// ExportMIME its MIME type.
	Format, ExportMIME string
	// Ext is the file name extension the bytes call for (".docx"); ""
	// for the file's own bytes.
	Ext string
}

// ContentType is the MIME type of the bytes the download delivers.
func (d Download) ContentType() string {
	if d.ExportMIME != "" {
		return d.ExportMIME
	}
	return d.MimeType
}

// PlanDownload looks the file up and decides how to fetch it. format is an
// export format name; "" means the file's own bytes, or a Google file's
// default export.
func (f *Files) PlanDownload(ctx context.Context, fileID, format string) (Download, error) {
	it, err := f.Get(ctx, fileID)
	if err != nil {
		return Download{}, err
	}
	d := Download{Item: it}
	formats := downloadExports[it.MimeType]
	switch {
	case it.IsFolder(), formats == nil && strings.HasPrefix(it.MimeType, googleAppsPrefix):
		return d, fmt.Errorf("%w: %s is a %s", ErrNotDownloadable, it.Name, it.MimeType)
	case formats == nil && format != "":
		return d, fmt.Errorf("%w: %s is not a Google Docs, Sheets or Slides file, so it downloads as it is", ErrExportFormat, it.Name)
	case formats == nil:
		return d, nil
	case format == "":
		format = formats[0]
	case !containsString(formats, format):
		return d, fmt.Errorf("%w: %s offers %s", ErrExportFormat, it.MimeType, strings.Join(formats, ", "))
	}
	d.Format, d.ExportMIME, d.Ext = format, exportMIME[format], "."+format
	return d, nil
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// Open starts the download's response: the file's bytes from rangeHeader
// ("" for all of them; an export ignores it, as Drive does), or Drive's
// refusal as an error. The caller closes the body; a body that stops
// coming for a minute fails instead of hanging.
func (f *Files) Open(ctx context.Context, d Download, rangeHeader string) (*http.Response, error) {
	var resp *http.Response
	ctx, cancel := context.WithCancel(ctx)
	err := f.read(ctx, func() (err error) {
		if d.ExportMIME != "" {
			resp, err = f.media.Files.Export(d.ID, d.ExportMIME).Context(ctx).Download()
			return err
		}
		call := f.media.Files.Get(d.ID).SupportsAllDrives(true).Context(ctx)
		if rangeHeader != "" {
			call.Header().Set("Range", rangeHeader)
		}
		resp, err = call.Download()
		return err
	})
	if err != nil {
		cancel()
		return nil, err
	}
	resp.Body = newIdleBody(resp.Body, cancel, downloadIdleTimeout)
	return resp, nil
}

// downloadIdleTimeout is how long a download body may send nothing before
// it counts as a dropped connection (and is resumed).
const downloadIdleTimeout = time.Minute

// DownloadResult is what DownloadTo wrote.
type DownloadResult struct {
	Bytes int64
	MD5   string // of the bytes written
	// Verified: MD5 equals the checksum Drive keeps for the file. Exports
	// have no checksum at Drive, so they are never verified.
	Verified bool
	// Resumed counts the times the download went on with Range after a
	// dropped connection.
	Resumed int
}

// Sink is where DownloadTo writes: a file it can rewind when a download
// has to start over (an export, or a server that ignored Range).
type Sink interface {
	io.Writer
	io.Seeker
	Truncate(size int64) error
}

// DownloadTo writes the download into w, which must be empty. A connection
// that drops is resumed with Range from the last byte written (an export,
// which Drive cannot serve in ranges, starts over), under the retry policy,
// which starts afresh whenever a try made progress. The file's own bytes
// are checked against Drive's md5 at the end.
func (f *Files) DownloadTo(ctx context.Context, d Download, w Sink, progress Progress) (DownloadResult, error) {
	var res DownloadResult
	h := md5.New()
	rep := newProgressReporter(progress)
	total := d.Size
	if d.ExportMIME != "" {
		total = -1
	}
	restart := func() error {
		if _, err := w.Seek(0, io.SeekStart); err != nil {
			return err
		}
		if err := w.Truncate(0); err != nil {
			return err
		}
		h.Reset()
		res.Bytes = 0
		return nil
	}
	attempt := func() error {
		if res.Bytes > 0 && d.ExportMIME != "" {
			if err := restart(); err != nil {
				return err
			}
		}
		rng := ""
		if res.Bytes > 0 {
			rng = "bytes=" + strconv.FormatInt(res.Bytes, 10) + "-"
			res.Resumed++
		}
		resp, err := f.Open(ctx, d, rng)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		if rng != "" && resp.StatusCode != http.StatusPartialContent {
			if err := restart(); err != nil { // the whole file came back
				return err
			}
		}
		buf := make([]byte, 256<<10)
		for {
			n, rerr := resp.Body.Read(buf)
			if n > 0 {
				if _, err := w.Write(buf[:n]); err != nil {
					return fmt.Errorf("drive: writing the download: %w", err)
				}
				h.Write(buf[:n])
				res.Bytes += int64(n)
				rep.update(res.Bytes, total)
			}
			if rerr == io.EOF {
				return nil
			}
			if rerr != nil {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				return &transportError{err: rerr}
			}
		}
	}
	for {
		before := res.Bytes
		err := f.read(ctx, attempt)
		if err == nil {
			break
		}
		if res.Bytes == before || !transient(err, true) {
			return res, err
		}
	}
	res.MD5 = hex.EncodeToString(h.Sum(nil))
	if d.ExportMIME == "" && d.MD5 != "" {
		if res.MD5 != d.MD5 {
			return res, fmt.Errorf("%w: received md5 %s, Drive has %s", ErrDownloadChecksum, res.MD5, d.MD5)
		}
		res.Verified = true
	}
	rep.done(res.Bytes)
	return res, nil
}

// idleBody fails a body that sends nothing for idle by cancelling its
// request's context.
type idleBody struct {
	io.ReadCloser
	timer  *time.Timer
	idle   time.Duration
	cancel context.CancelFunc
}

func newIdleBody(rc io.ReadCloser, cancel context.CancelFunc, idle time.Duration) *idleBody {
	return &idleBody{ReadCloser: rc, timer: time.AfterFunc(idle, cancel), idle: idle, cancel: cancel}
}

func (b *idleBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if n > 0 {
		b.timer.Reset(b.idle)
	}
	return n, err
}

func (b *idleBody) Close() error {
	b.timer.Stop()
	err := b.ReadCloser.Close()
	b.cancel()
	return err
}

// WithOnWait returns a copy of f whose retries tell onWait before each
// wait, so a long download keeps its caller informed while Google is slow.
func (f *Files) WithOnWait(onWait func(left time.Duration)) *Files {
	c := *f
	c.retry.OnWait = onWait
	return &c
}
