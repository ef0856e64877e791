package drive

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// This file lets a caller drive one resumable session from outside: the
// bytes come from someone else's PUTs (drivemcp's upload sessions) rather
// than from a Source, so each exchange is one call and the retry loop is
// the remote client's. The exchanges are session.go's own (initiate,
// query, exchange): one implementation of Drive's protocol.

// SessionStatus is what Drive said about a resumable session.
type SessionStatus struct {
	Done      bool  // the file exists: File describes it
	File      File  // when Done
	Committed int64 // when not Done: bytes [0, Committed) are safe at Drive
}

// ErrSessionGone is a session URL Drive no longer knows (expired,
// cancelled, or finished and its file removed).
var ErrSessionGone = errors.New("drive: upload session not found")

// RelaySession is one Drive resumable session of a known size whose bytes
// arrive from elsewhere. It holds no bytes and no state but its URL, so
// any process with the URL and an authorized client can serve it.
type RelaySession struct {
	up *upload
}

// relaySource is the size of a relayed upload; its bytes are never read
// through the uploader's windows.
type relaySource struct{ size int64 }

func (s relaySource) window(int64) (window, error) {
	return window{}, errors.New("drive: internal error: a relayed session has no local bytes")
}
func (s relaySource) total() int64   { return s.size }
func (s relaySource) restart() bool  { return false }
func (s relaySource) seekable() bool { return false }
func (s relaySource) release()       {}

func (u *Uploader) relay(meta FileMeta, mediaType string, size int64) (*upload, error) {
	if size < 0 {
		return nil, fmt.Errorf("%w: a relayed upload needs its size", ErrInvalidArgument)
	}
	up, err := u.newUpload(meta, Source{Reader: strings.NewReader(""), Size: size, MediaType: mediaType}, nil)
	if err != nil {
		return nil, err
	}
	up.src = relaySource{size: size}
	return up, nil
}

// StartRelay starts a resumable session for a file of size bytes, as
// Upload would (targetID set: a new version of that file, as Update
// would), and returns its URL. Nothing is sent yet.
func (u *Uploader) StartRelay(ctx context.Context, targetID string, meta FileMeta, mediaType string, size int64) (string, error) {
	if targetID != "" {
		if err := CheckID(targetID); err != nil {
			return "", err
		}
		meta.Parents = nil
	}
	up, err := u.relay(meta, mediaType, size)
	if err != nil {
		return "", err
	}
	up.targetID = targetID
	for {
		session, err := up.initiate(ctx)
		if err == nil {
			return session, nil
		}
		if !retryable(err) {
			return "", err
		}
		if err := up.pause(ctx, err); err != nil {
			return "", err
		}
	}
}

// Relay reopens the session at sessionURL, of a file of size bytes.
func (u *Uploader) Relay(sessionURL string, size int64) (*RelaySession, error) {
	up, err := u.relay(FileMeta{}, "", size)
	if err != nil {
		return nil, err
	}
	up.session = sessionURL
	return &RelaySession{up: up}, nil
}

// Status asks Drive how much of the file it has, or for the file once
// complete. A session Drive forgot is ErrSessionGone.
func (s *RelaySession) Status(ctx context.Context) (SessionStatus, error) {
	st, err := s.up.query(ctx)
	return s.status(st, err)
}

// Send streams bytes [start, end) of the file from r to Drive in one
// request. start must be what Drive has committed, and end-start a
// multiple of ChunkAlign unless end is the file's size (Drive's rule for
// every chunk but the last); the caller aligns. A body that ends early
// fails the request, and Drive keeps what it took (rounded down to
// ChunkAlign): Status says how much.
func (s *RelaySession) Send(ctx context.Context, r io.Reader, start, end int64) (SessionStatus, error) {
	total := s.up.src.total()
	if start < 0 || end <= start || end > total || ((end-start)%ChunkAlign != 0 && end != total) {
		return SessionStatus{}, fmt.Errorf("%w: bytes %d-%d of %d are not a chunk Drive takes", ErrInvalidArgument, start, end, total)
	}
	attempt, wd := s.up.watch(ctx)
	defer wd.stop()
	body := &relayBody{r: io.LimitReader(r, end-start), watch: wd, left: end - start}
	req, err := http.NewRequestWithContext(attempt, http.MethodPut, s.up.session, io.NopCloser(body))
	if err != nil {
		return SessionStatus{}, fmt.Errorf("drive: bad upload session URL: %w", err)
	}
	req.ContentLength = end - start
	req.Header.Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", start, end-1, total))
	req.Header.Set("X-GUploader-No-308", "yes")
	st, err := s.up.exchange(ctx, req)
	if body.err != nil {
		// The sender's body broke first: that, not the network, is why.
		return SessionStatus{}, body.err
	}
	return s.status(st, err)
}

// Cancel ends the session without a file: Drive discards what it has
// (Google's "Cancel an upload": DELETE on the session URI, answered 499).
func (s *RelaySession) Cancel(ctx context.Context) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodDelete, s.up.session, http.NoBody)
	if err != nil {
		return fmt.Errorf("drive: bad upload session URL: %w", err)
	}
	resp, err := s.up.client.Do(req)
	if err != nil {
		return s.up.requestError(ctx, err)
	}
	defer drainClose(resp.Body)
	switch {
	case resp.StatusCode == 499 || resp.StatusCode/100 == 2:
		return nil
	case resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusGone:
		return nil // already gone: nothing of it is left
	}
	return parseAPIError(resp)
}

func (s *RelaySession) status(st sessionStatus, err error) (SessionStatus, error) {
	var lost *sessionLostError
	switch {
	case errors.As(err, &lost):
		return SessionStatus{}, fmt.Errorf("%w: %w", ErrSessionGone, lost)
	case err != nil:
		return SessionStatus{}, err
	}
	return SessionStatus{Done: st.done, File: st.file, Committed: st.committed}, nil
}

// ErrBodyShort is a relayed body that ended before its range did.
var ErrBodyShort = errors.New("drive: the body ended before its Content-Range")

// relayBody counts a relayed body and keeps the stall watchdog fed.
type relayBody struct {
	r     io.Reader
	watch *watchdog
	left  int64
	err   error
}

func (b *relayBody) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	b.left -= int64(n)
	if n > 0 {
		b.watch.progress()
	}
	if err == io.EOF && b.left > 0 {
		b.err = fmt.Errorf("%w: %d bytes missing", ErrBodyShort, b.left)
		return n, b.err
	}
	if err != nil && err != io.EOF {
		b.err = fmt.Errorf("%w: %w", ErrBodyShort, err)
		return n, b.err
	}
	return n, err
}
