package drive

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
)

// Source is what to upload.
//
// If ReaderAt is set it is used, and Size must be known: every attempt reads
// straight from it (a resume re-reads from the committed offset), so nothing
// is buffered. Otherwise Reader is read once, sequentially, and at most one
// chunk is buffered so that a resume can resend it.
//
// Size is the total length in bytes, or -1 when unknown (a stream that is
// uploaded until EOF).
//
// MediaType is the type of the bytes themselves (X-Upload-Content-Type). It
// matters when it differs from FileMeta.MimeType, which is the type of the
// file Drive makes: text/plain bytes that become a Google Doc. Empty means
// FileMeta.MimeType, or for Google Workspace types, let Drive detect it.
type Source struct {
	Reader    io.Reader
	ReaderAt  io.ReaderAt
	Size      int64
	MediaType string
}

// mediaType is the X-Upload-Content-Type to send, or "".
func mediaType(meta FileMeta, src Source) string {
	switch {
	case src.MediaType != "":
		return src.MediaType
	case strings.HasPrefix(meta.MimeType, "application/vnd.google-apps."):
		// A conversion target, not what the bytes are.
		return ""
	}
	return meta.MimeType
}

// window is the part of the source an attempt can send: bytes [start, end)
// readable through ra. total is the source's full size, or -1 while it is
// not known yet.
type window struct {
	ra         io.ReaderAt
	start, end int64
	total      int64
}

// uploadSource hands out windows of the source, moving forward as Drive
// commits bytes.
type uploadSource interface {
	// window returns the bytes to send from committed on. committed never
	// decreases except to 0 after restart.
	window(committed int64) (window, error)
	// total is the source's size, or -1 while unknown.
	total() int64
	// restart reports whether the source can be sent again from byte 0.
	restart() bool
	// seekable reports whether the source is the caller's ReaderAt, which
	// may grow while we read it, so its end is probed.
	seekable() bool
	release()
}

// fileSource is a seekable source: everything is always available.
type fileSource struct {
	ra   io.ReaderAt
	size int64
}

func (s *fileSource) window(committed int64) (window, error) {
	return window{ra: s.ra, start: committed, end: s.size, total: s.size}, nil
}
func (s *fileSource) total() int64   { return s.size }
func (s *fileSource) restart() bool  { return true }
func (s *fileSource) seekable() bool { return true }
func (s *fileSource) release()       {}

// streamSource reads a sequential source into one reusable chunk buffer.
// Bytes [start, start+len(buf)) of the stream are in buf.
type streamSource struct {
	r         io.Reader
	size      int64 // declared size, or -1
	chunkSize int
	chunk     []byte // the buffer, nil until the first fill
	buf       []byte // chunk[:bytes held]
	start     int64
	eof       bool // buf holds the stream's last byte
	peeked    bool // peek holds the byte after buf
	peek      [1]byte
	err       error // sticky: the stream failed or broke its promise
}

func (s *streamSource) total() int64 {
	if s.eof {
		return s.start + int64(len(s.buf))
	}
	return s.size
}

// A stream can start over only while every byte it produced is still buffered.
func (s *streamSource) restart() bool  { return s.start == 0 }
func (s *streamSource) seekable() bool { return false }

func (s *streamSource) window(committed int64) (window, error) {
	end := s.start + int64(len(s.buf))
	switch {
	case committed < s.start:
		return window{}, fmt.Errorf("%w: Drive kept %d bytes but the stream has moved on to byte %d", ErrCannotResume, committed, s.start)
	case committed > end:
		return window{}, fmt.Errorf("drive: Drive reports %d bytes received, more than the %d sent", committed, end)
	case s.chunk == nil || (committed == end && !s.eof):
		if err := s.fill(end); err != nil {
			return window{}, err
		}
	}
	return window{ra: bufferAt{s.buf, s.start}, start: committed, end: s.start + int64(len(s.buf)), total: s.total()}, nil
}

// fill reads the chunk that starts at stream offset start, then looks one
// byte ahead (or uses the declared size) to learn whether it is the last.
func (s *streamSource) fill(start int64) error {
	if s.err != nil {
		return s.err
	}
	if s.chunk == nil {
		s.chunk = s.getBuffer()
	}
	s.start = start
	limit := len(s.chunk)
	if s.size >= 0 {
		limit = int(min(int64(limit), s.size-start))
	}
	n := 0
	if s.peeked {
		s.chunk[0] = s.peek[0]
		s.peeked = false
		n = 1
	}
	m, err := io.ReadFull(s.r, s.chunk[n:limit])
	n += m
	s.buf = s.chunk[:n]
	switch {
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		s.eof = true
	case err != nil:
		return s.fail(fmt.Errorf("drive: reading the source at byte %d: %w", start+int64(n), err))
	case s.size >= 0 && start+int64(n) < s.size:
		// A full chunk, with more declared to come.
	default:
		// The chunk is full, or holds the whole declared size: look ahead.
		m, err := readOne(s.r, s.peek[:])
		switch {
		case m > 0 && s.size >= 0:
			return s.fail(fmt.Errorf("%w: the stream holds more than the declared %d bytes", ErrSourceChanged, s.size))
		case m > 0:
			s.peeked = true
		case errors.Is(err, io.EOF):
			s.eof = true
		default:
			return s.fail(fmt.Errorf("drive: reading the source at byte %d: %w", start+int64(n), err))
		}
	}
	if s.eof && s.size >= 0 && s.total() != s.size {
		return s.fail(fmt.Errorf("%w: the stream ended after %d of the declared %d bytes", ErrSourceChanged, s.total(), s.size))
	}
	return nil
}

func (s *streamSource) fail(err error) error {
	s.err = err
	return err
}

// readOne reads one byte, riding out readers that return (0, nil).
func readOne(r io.Reader, p []byte) (int, error) {
	for range 100 {
		n, err := r.Read(p[:1])
		if n > 0 {
			return n, nil
		}
		if err != nil {
			return 0, err
		}
	}
	return 0, io.ErrNoProgress
}

// chunkPool recycles default-sized chunk buffers across uploads: callers
// usually build an Uploader per request, so a pool per Uploader would not.
var chunkPool sync.Pool // of *[]byte, len defaultChunkSize

// getBuffer returns a chunk buffer; a stream known to be small gets one of
// its own size rather than a whole chunk.
func (s *streamSource) getBuffer() []byte {
	if s.size >= 0 && s.size < int64(s.chunkSize) {
		return make([]byte, s.size)
	}
	if s.chunkSize == defaultChunkSize {
		if p, ok := chunkPool.Get().(*[]byte); ok {
			return *p
		}
	}
	return make([]byte, s.chunkSize)
}

func (s *streamSource) release() {
	if len(s.chunk) == defaultChunkSize {
		chunk := s.chunk
		chunkPool.Put(&chunk)
	}
	s.chunk, s.buf = nil, nil
}

// bufferAt reads a buffered chunk by stream offset.
type bufferAt struct {
	b    []byte
	base int64
}

func (c bufferAt) ReadAt(p []byte, off int64) (int, error) {
	i := off - c.base
	if i < 0 || i > int64(len(c.b)) {
		return 0, fmt.Errorf("drive: internal error: offset %d outside the buffered chunk", off)
	}
	n := copy(p, c.b[i:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}
