package drive

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// This file holds the three exchanges of Drive's resumable protocol:
// starting a session, sending bytes to it, and asking it what it has.

// sessionStatus is what Drive said about a session after a PUT or a query.
type sessionStatus struct {
	done      bool
	file      File  // when done
	committed int64 // when not done: bytes [0, committed) are safe at Drive
}

// sessionLostError is a session URL that Drive no longer knows (404/410).
// An unfinished session creates nothing, so a new one can start over.
type sessionLostError struct{ api *APIError }

func (e *sessionLostError) Error() string { return "drive: upload session expired: " + e.api.Error() }
func (e *sessionLostError) Unwrap() error { return e.api }

// maxFileResponse bounds the body of a completed upload (a file resource).
const maxFileResponse = 1 << 20

// initiate starts a resumable session and returns its URL.
func (up *upload) initiate(ctx context.Context) (string, error) {
	meta, err := json.Marshal(fileMetadata{
		Name:        up.meta.Name,
		MimeType:    up.meta.MimeType,
		Description: up.meta.Description,
		Parents:     up.meta.Parents,
	})
	if err != nil {
		return "", fmt.Errorf("drive: encoding file metadata: %w", err)
	}
	method, endpoint := http.MethodPost, up.endpoint+"/upload/drive/v3/files?uploadType=resumable&supportsAllDrives=true&fields="+fileFields
	if up.targetID != "" {
		// files.update's media path: the same resumable protocol, a new
		// version of the file instead of a new file.
		method = http.MethodPatch
		endpoint = up.endpoint + "/upload/drive/v3/files/" + url.PathEscape(up.targetID) + "?uploadType=resumable&supportsAllDrives=true&fields=" + fileFields
	}
	req, err := http.NewRequestWithContext(ctx, method, endpoint, bytes.NewReader(meta))
	if err != nil {
		return "", fmt.Errorf("drive: bad upload endpoint: %w", err)
	}
	req.Header.Set("Content-Type", "application/json; charset=UTF-8")
	if up.mediaType != "" {
		req.Header.Set("X-Upload-Content-Type", up.mediaType)
	}
	if total := up.src.total(); total >= 0 {
		req.Header.Set("X-Upload-Content-Length", strconv.FormatInt(total, 10))
	}
	attempt, w := up.watch(ctx)
	defer w.stop()
	resp, err := up.client.Do(req.WithContext(attempt))
	if err != nil {
		return "", up.requestError(ctx, err)
	}
	defer drainClose(resp.Body)
	if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusCreated {
		return "", withRetryAfter(parseAPIError(resp), resp)
	}
	loc := resp.Header.Get("Location")
	if loc == "" {
		return "", errors.New("drive: Drive started an upload session but sent no session URL")
	}
	session, err := req.URL.Parse(loc)
	if err != nil {
		return "", fmt.Errorf("drive: unusable upload session URL: %w", err)
	}
	return session.String(), nil
}

// put sends the window's bytes [start, end) to the session.
func (up *upload) put(ctx context.Context, w window) (sessionStatus, error) {
	length := w.end - w.start
	var rangeHeader string
	switch {
	case length > 0 && w.total >= 0:
		rangeHeader = fmt.Sprintf("bytes %d-%d/%d", w.start, w.end-1, w.total)
	case length > 0:
		rangeHeader = fmt.Sprintf("bytes %d-%d/*", w.start, w.end-1)
	case w.total >= 0:
		// Nothing left to send but the news that this is all (an empty
		// file, or a session that has every byte but was not told the total).
		rangeHeader = fmt.Sprintf("bytes */%d", w.total)
	default:
		return sessionStatus{}, errors.New("drive: internal error: empty request of unknown total")
	}
	attempt, wd := up.watch(ctx)
	defer wd.stop()
	b := &body{
		watch:    wd,
		src:      w.ra,
		off:      w.start,
		end:      w.end,
		total:    w.total,
		probeEnd: up.src.seekable(),
		digest:   up.digest,
		progress: up.progress,
	}
	var reqBody io.ReadCloser = http.NoBody
	if length > 0 {
		reqBody = b
	}
	req, err := http.NewRequestWithContext(attempt, http.MethodPut, up.session, reqBody)
	if err != nil {
		return sessionStatus{}, fmt.Errorf("drive: bad upload session URL: %w", err)
	}
	req.ContentLength = length
	req.Header.Set("Content-Range", rangeHeader)
	req.Header.Set("X-GUploader-No-308", "yes")
	st, err := up.exchange(ctx, req)
	// Whatever happened, the source's own trouble explains it best: a
	// transport that failed because the file shrank is not a network fault.
	if srcErr := b.detach(); srcErr != nil {
		return sessionStatus{}, srcErr
	}
	return st, err
}

// query asks the session how many bytes it has, or for the file if it
// finished without us hearing about it.
func (up *upload) query(ctx context.Context) (sessionStatus, error) {
	attempt, w := up.watch(ctx)
	defer w.stop()
	req, err := http.NewRequestWithContext(attempt, http.MethodPut, up.session, http.NoBody)
	if err != nil {
		return sessionStatus{}, fmt.Errorf("drive: bad upload session URL: %w", err)
	}
	total := "*"
	if t := up.src.total(); t >= 0 {
		total = strconv.FormatInt(t, 10)
	}
	req.ContentLength = 0
	req.Header.Set("Content-Range", "bytes */"+total)
	req.Header.Set("X-GUploader-No-308", "yes")
	return up.exchange(ctx, req)
}

// exchange sends a PUT to the session and reads the session's answer.
func (up *upload) exchange(ctx context.Context, req *http.Request) (sessionStatus, error) {
	resp, err := up.client.Do(req)
	if err != nil {
		return sessionStatus{}, up.requestError(ctx, err)
	}
	defer drainClose(resp.Body)
	incomplete := resp.StatusCode == http.StatusPermanentRedirect ||
		(resp.StatusCode == http.StatusOK && resp.Header.Get("X-Http-Status-Code-Override") == "308")
	switch {
	case incomplete:
		n, err := parseRange(resp.Header.Get("Range"))
		if err != nil {
			return sessionStatus{}, err
		}
		return sessionStatus{committed: n}, nil
	case resp.StatusCode == http.StatusOK || resp.StatusCode == http.StatusCreated:
		b, err := io.ReadAll(io.LimitReader(resp.Body, maxFileResponse))
		if err != nil {
			// The upload is probably done, but we did not hear the whole
			// answer; a query will tell us the file.
			return sessionStatus{}, up.requestError(ctx, err)
		}
		f, err := decodeFile(b)
		if err != nil {
			return sessionStatus{}, err
		}
		return sessionStatus{done: true, file: f}, nil
	case resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusGone:
		return sessionStatus{}, &sessionLostError{api: parseAPIError(resp)}
	default:
		return sessionStatus{}, withRetryAfter(parseAPIError(resp), resp)
	}
}

// watchdog abandons one request to Drive that makes no progress for a
// while: neither a byte of the body sent (body.Read resets it) nor an answer.
type watchdog struct {
	timer  *time.Timer
	d      time.Duration
	cancel context.CancelCauseFunc
}

// errStalled is the cause of a request the watchdog abandoned.
var errStalled = errors.New("drive: the connection to Drive stopped moving")

// watch starts a watchdog for one request; the request must use the
// returned context, and the watchdog must be stopped when the exchange is
// over (its answer read).
func (up *upload) watch(ctx context.Context) (context.Context, *watchdog) {
	attempt, cancel := context.WithCancelCause(ctx)
	w := &watchdog{d: up.stall, cancel: cancel}
	w.timer = time.AfterFunc(up.stall, func() { cancel(errStalled) })
	return attempt, w
}

// progress pushes the deadline back: bytes are moving.
func (w *watchdog) progress() {
	if w != nil {
		w.timer.Reset(w.d)
	}
}

// stop ends the watch, and the request's context with it.
func (w *watchdog) stop() {
	w.timer.Stop()
	w.cancel(nil)
}

// requestError classifies an error from http.Client.Do or from reading a
// response: the caller's cancellation, or the network's fault (a stalled
// request, which the watchdog cancelled, is the network's fault).
func (up *upload) requestError(ctx context.Context, err error) error {
	if ctxErr := ctx.Err(); ctxErr != nil {
		return canceled(ctxErr)
	}
	return &transportError{err: err}
}

func canceled(err error) error { return fmt.Errorf("drive: upload stopped: %w", err) }

// parseRange reads the Range header of an incomplete session ("bytes=0-N",
// meaning N+1 bytes are safe). No header means Drive has nothing yet.
func parseRange(v string) (int64, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, nil
	}
	spec, ok := strings.CutPrefix(v, "bytes=")
	if !ok {
		return 0, fmt.Errorf("drive: unreadable Range %q from the upload session", v)
	}
	first, last, ok := strings.Cut(spec, "-")
	if !ok || first != "0" {
		return 0, fmt.Errorf("drive: unreadable Range %q from the upload session", v)
	}
	n, err := strconv.ParseInt(last, 10, 64)
	if err != nil || n < 0 || n == 1<<63-1 {
		return 0, fmt.Errorf("drive: unreadable Range %q from the upload session", v)
	}
	return n + 1, nil
}

// drainClose reads a little of what is left so the connection can be
// reused, then closes.
func drainClose(rc io.ReadCloser) {
	_, _ = io.Copy(io.Discard, io.LimitReader(rc, 4<<10))
	_ = rc.Close()
}
