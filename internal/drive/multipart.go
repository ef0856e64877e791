package drive

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"net/url"
	"strings"
)

// DefaultUploadCutoff is the largest upload sent as one multipart request:
// Drive's "Upload file data" guide advises a single multipart request for
// files of 5 MB or less (/drive/api/guides/manage-uploads), and every
// resumable upload costs one round trip more.
const DefaultUploadCutoff = 5 << 20

// uploadTagKey is the app property every multipart upload carries, with a
// random value of its own. Drive has no idempotency key, so the tag is how
// an upload whose answer was lost finds out whether Drive made the file.
const uploadTagKey = "drivemcpUpload"

// cutoff is the largest source sent in one request; -1 means none is.
func (u *Uploader) cutoff() int64 {
	switch {
	case u.Cutoff < 0:
		return -1
	case u.Cutoff == 0:
		return DefaultUploadCutoff
	}
	return u.Cutoff
}

// multipartFits reports whether src goes in one request: its size is
// known and at most the cutoff.
func (u *Uploader) multipartFits(src Source) bool {
	return src.Size >= 0 && src.Size <= u.cutoff() && (src.ReaderAt != nil || src.Reader != nil)
}

// uploadMultipart creates the file in one uploadType=multipart request: the
// metadata part, then the media streamed from the source. A sequential
// source is read into memory first (it is at most the cutoff) so that a
// retry can send it again.
//
// A request that got no answer, or a 5xx after its body was sent, may
// still have made the file: before sending again, the upload looks for a
// file carrying its tag, and takes that one if Drive has it. A rate limit
// is answered before Drive acts, so it is simply sent again.
func (u *Uploader) uploadMultipart(ctx context.Context, meta FileMeta, src Source, progress Progress) (File, error) {
	if src.ReaderAt == nil {
		buf, err := readAllSized(src.Reader, src.Size)
		if err != nil {
			return File{}, err
		}
		src.Reader, src.ReaderAt = nil, bytes.NewReader(buf)
	}
	up, err := u.newUpload(meta, src, progress)
	if err != nil {
		return File{}, err
	}
	defer up.src.release()
	var raw [16]byte
	_, _ = rand.Read(raw[:]) // crypto/rand.Read never fails
	tag := hex.EncodeToString(raw[:])
	lookup := false
	reauthorized := 0
	for {
		if err := ctx.Err(); err != nil {
			return File{}, canceled(err)
		}
		if lookup {
			f, found, err := up.findTagged(ctx, u.driveBase(), tag)
			switch {
			case err != nil && retryable(err):
				if err := up.pause(ctx, err); err != nil {
					return File{}, err
				}
				continue
			case err != nil:
				return File{}, err
			case found:
				if err := up.hashRest(src.ReaderAt, src.Size); err != nil {
					return File{}, err
				}
				return up.finish(f)
			}
			lookup = false
		}
		f, err := up.postMultipart(ctx, tag, src.ReaderAt, src.Size)
		var api *APIError
		switch {
		case err == nil:
			return up.finish(f)
		case errors.As(err, &api) && api.Status == http.StatusUnauthorized && reauthorized < maxReauthorizations:
			// The account's transport marked the token stale; a 401 made
			// nothing, so send again with a refreshed one. Twice, as the
			// transport replays: the token a refresh finds stored may be
			// one another process saved and Google has ended already.
			reauthorized++
			up.retries++
			continue
		case !retryable(err):
			return File{}, err
		}
		lookup = !rateLimited(err)
		if err := up.pause(ctx, err); err != nil {
			return File{}, err
		}
	}
}

// maxReauthorizations bounds how often a one-request upload is sent again
// after a 401.
const maxReauthorizations = 2

// driveBase is the Drive API base of the tag lookup.
func (u *Uploader) driveBase() string {
	if u.DriveBase != "" {
		return strings.TrimRight(u.DriveBase, "/") + "/"
	}
	e := strings.TrimRight(u.Endpoint, "/")
	if e == "" {
		e = DefaultEndpoint
	}
	return e + "/drive/v3/"
}

// readAllSized reads a stream that promised size bytes, and no more.
func readAllSized(r io.Reader, size int64) ([]byte, error) {
	buf := make([]byte, size)
	n, err := io.ReadFull(r, buf)
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF) || (errors.Is(err, io.EOF) && size > 0):
		return nil, fmt.Errorf("%w: the stream ended after %d of the declared %d bytes", ErrSourceChanged, n, size)
	case err != nil && !errors.Is(err, io.EOF):
		return nil, fmt.Errorf("drive: reading the source at byte %d: %w", n, err)
	}
	var one [1]byte
	if m, _ := readOne(r, one[:]); m > 0 {
		return nil, fmt.Errorf("%w: the stream holds more than the declared %d bytes", ErrSourceChanged, size)
	}
	return buf, nil
}

// postMultipart sends the whole file in one request and reads Drive's
// answer. The body is streamed: the two parts' headers, the source through
// the same digest and progress as a resumable PUT, the closing boundary.
func (up *upload) postMultipart(ctx context.Context, tag string, ra io.ReaderAt, size int64) (File, error) {
	fm := fileMetadata{
		Name:          up.meta.Name,
		MimeType:      up.meta.MimeType,
		Description:   up.meta.Description,
		Parents:       up.meta.Parents,
		AppProperties: map[string]string{uploadTagKey: tag},
	}
	metaJSON, err := json.Marshal(fm)
	if err != nil {
		return File{}, fmt.Errorf("drive: encoding file metadata: %w", err)
	}
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	pw, _ := mw.CreatePart(textproto.MIMEHeader{"Content-Type": {"application/json; charset=UTF-8"}})
	_, _ = pw.Write(metaJSON)
	media := textproto.MIMEHeader{}
	if up.mediaType != "" {
		media.Set("Content-Type", up.mediaType)
	}
	_, _ = mw.CreatePart(media)
	head := bytes.Clone(buf.Bytes())
	buf.Reset()
	_ = mw.Close() // writes only the closing boundary into buf
	tail := buf.Bytes()

	attempt, wd := up.watch(ctx)
	defer wd.stop()
	// Only completion is reported (finish): the body is at most the
	// cutoff, and Drive answers, or refuses, only after all of it, so
	// "every byte sent" before a refusal would tell the client nothing true.
	b := &body{watch: wd, src: ra, off: 0, end: size, total: size, probeEnd: up.src.seekable(), digest: up.digest, progress: newProgressReporter(nil)}
	req, err := http.NewRequestWithContext(attempt, http.MethodPost,
		up.endpoint+"/upload/drive/v3/files?uploadType=multipart&supportsAllDrives=true&fields="+fileFields,
		io.MultiReader(bytes.NewReader(head), b, bytes.NewReader(tail)))
	if err != nil {
		return File{}, fmt.Errorf("drive: bad upload endpoint: %w", err)
	}
	req.ContentLength = int64(len(head)) + size + int64(len(tail))
	req.Header.Set("Content-Type", "multipart/related; boundary="+mw.Boundary())
	f, err := up.readFileAnswer(ctx, req)
	if srcErr := b.detach(); srcErr != nil {
		return File{}, srcErr
	}
	return f, err
}

// readFileAnswer sends req and reads the file resource Drive answers with.
func (up *upload) readFileAnswer(ctx context.Context, req *http.Request) (File, error) {
	resp, err := up.client.Do(req)
	if err != nil {
		return File{}, up.requestError(ctx, err)
	}
	defer drainClose(resp.Body)
	if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusCreated {
		return File{}, withRetryAfter(parseAPIError(resp), resp)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxFileResponse))
	if err != nil {
		// Drive probably made the file, but we did not hear which.
		return File{}, up.requestError(ctx, err)
	}
	return decodeFile(b)
}

// findTagged asks Drive for the file this upload tagged, if it made one.
func (up *upload) findTagged(ctx context.Context, driveBase, tag string) (File, bool, error) {
	q := url.Values{
		"q":                         {"appProperties has { key=" + Quote(uploadTagKey) + " and value=" + Quote(tag) + " } and trashed = false"},
		"fields":                    {"files(" + fileFields + ")"},
		"pageSize":                  {"1"},
		"supportsAllDrives":         {"true"},
		"includeItemsFromAllDrives": {"true"},
		"corpora":                   {"allDrives"},
	}
	attempt, wd := up.watch(ctx)
	defer wd.stop()
	req, err := http.NewRequestWithContext(attempt, http.MethodGet, driveBase+"files?"+q.Encode(), nil)
	if err != nil {
		return File{}, false, fmt.Errorf("drive: bad Drive endpoint: %w", err)
	}
	resp, err := up.client.Do(req)
	if err != nil {
		return File{}, false, up.requestError(ctx, err)
	}
	defer drainClose(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return File{}, false, withRetryAfter(parseAPIError(resp), resp)
	}
	var list struct {
		Files []fileResource `json:"files"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxFileResponse)).Decode(&list); err != nil {
		return File{}, false, up.requestError(ctx, err)
	}
	if len(list.Files) == 0 {
		return File{}, false, nil
	}
	return list.Files[0].file(), true, nil
}

// hashRest feeds the digest the source bytes no attempt handed over, so a
// file found by its tag is checked against the whole source.
func (up *upload) hashRest(ra io.ReaderAt, size int64) error {
	for off := up.digest.sent(); off < size; {
		p := make([]byte, min(size-off, 1<<20))
		n, err := ra.ReadAt(p, off)
		if n < len(p) {
			return fmt.Errorf("%w: it ended at byte %d, expected %d: %v", ErrSourceChanged, off+int64(n), size, err)
		}
		if err := up.digest.add(off, p); err != nil {
			return err
		}
		off += int64(n)
	}
	return nil
}
