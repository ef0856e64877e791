package drive

import (
	"errors"
	"fmt"
	"io"
	"sync"
)

// errBodyDetached is what a transport still reading an abandoned request body
// gets: the attempt is over, and the bytes behind the body may already be
// reused for the next one.
var errBodyDetached = errors.New("drive: request body used after its attempt ended")

// body streams source bytes [off, end) into one PUT, feeding the source
// digest and progress on the way.
//
// http.RoundTrip may go on reading a request body after it has returned (for
// example when Drive answers before the body is fully sent). The next attempt
// re-reads the same bytes — from the same chunk buffer, through the same
// digest — so an attempt detaches its body before anything else happens;
// from then on the transport's reads fail instead of racing.
type body struct {
	mu       sync.Mutex
	watch    *watchdog // told of every byte handed over
	src      io.ReaderAt
	off, end int64
	total    int64 // total size sent in Content-Range, or -1
	// probeEnd asks body to check, before handing over the last byte, that
	// src really ends at total: a file that grew would otherwise be cut
	// short on Drive without anyone noticing.
	probeEnd bool
	digest   *sourceDigest
	progress *progressReporter
	detached bool
	// err is the local reason a Read failed (the source, not the network).
	err error
}

func (b *body) Read(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.detached {
		return 0, errBodyDetached
	}
	if b.err != nil {
		return 0, b.err
	}
	if b.off >= b.end {
		return 0, io.EOF
	}
	off := b.off
	if rest := b.end - off; int64(len(p)) > rest {
		p = p[:rest]
	}
	n, err := b.src.ReadAt(p, off)
	var grew error
	if n == len(p) {
		grew = b.checkEnd(off + int64(n))
	}
	switch {
	case n < len(p) && (err == nil || err == io.EOF):
		b.err = fmt.Errorf("%w: it ended at byte %d, expected %d", ErrSourceChanged, off+int64(n), b.total)
	case n < len(p):
		b.err = fmt.Errorf("drive: reading the source at byte %d: %w", off+int64(n), err)
	case grew != nil:
		b.err = grew
	default:
		b.err = b.digest.add(off, p[:n])
	}
	if b.err != nil {
		return 0, b.err
	}
	b.off += int64(n)
	b.watch.progress()
	b.progress.update(b.digest.sent(), b.total)
	return n, nil
}

// checkEnd, about to hand over the source's last byte (at end-1), checks
// that there is no byte after it. It runs before those bytes are returned:
// once Drive has the last byte, the file exists, short or not.
func (b *body) checkEnd(end int64) error {
	if !b.probeEnd || end != b.end || end != b.total {
		return nil
	}
	var one [1]byte
	if m, _ := b.src.ReadAt(one[:], end); m > 0 {
		return fmt.Errorf("%w: it grew past the expected %d bytes", ErrSourceChanged, b.total)
	}
	return nil
}

// Close is called by the transport; detaching is the attempt's business.
func (b *body) Close() error { return nil }

// detach ends the body's life and returns the local error, if any, that
// stopped the transport reading it. It waits for a Read in progress.
func (b *body) detach() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.detached = true
	return b.err
}
