package googleemu

import (
	"bytes"
	"crypto/md5"
	"encoding"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"os"
)

// Storage for uploaded bytes. An upload writes a blobWriter as the request
// body streams in (never buffering a whole body), and sealing it yields an
// immutable blob that any number of downloads may read. With Options.Dir the
// bytes go to a file, so a 1 GiB upload costs disk, not memory.

type blobStore interface {
	create() (blobWriter, error)
	close() error
}

type blobWriter interface {
	io.Writer
	size() int64
	// truncate drops everything after n bytes: what was not persisted when a
	// connection dropped mid-chunk.
	truncate(n int64) error
	seal() (blob, error)
	discard()
}

type blob interface {
	size() int64
	open() (io.ReadSeekCloser, error)
	remove()
}

// memoryBlobs keeps bytes in memory.
type memoryBlobs struct{}

func (memoryBlobs) create() (blobWriter, error) { return &memoryWriter{}, nil }
func (memoryBlobs) close() error                { return nil }

type memoryWriter struct{ buf []byte }

func (m *memoryWriter) Write(p []byte) (int, error) { m.buf = append(m.buf, p...); return len(p), nil }
func (m *memoryWriter) size() int64                 { return int64(len(m.buf)) }
func (m *memoryWriter) truncate(n int64) error      { m.buf = m.buf[:n]; return nil }
func (m *memoryWriter) seal() (blob, error)         { return memoryBlob(m.buf), nil }
func (m *memoryWriter) discard()                    { m.buf = nil }

type memoryBlob []byte

func (b memoryBlob) size() int64 { return int64(len(b)) }
func (b memoryBlob) open() (io.ReadSeekCloser, error) {
	return nopSeekCloser{bytes.NewReader(b)}, nil
}
func (memoryBlob) remove() {}

type nopSeekCloser struct{ io.ReadSeeker }

func (nopSeekCloser) Close() error { return nil }

// diskBlobs keeps bytes in files under a directory of its own inside
// Options.Dir, which Close removes (Options.Dir itself is the caller's).
type diskBlobs struct {
	dir string
}

func newDiskBlobs(parent string) (*diskBlobs, error) {
	dir, err := os.MkdirTemp(parent, "googleemu-")
	if err != nil {
		return nil, fmt.Errorf("googleemu: creating upload storage in %s: %w", parent, err)
	}
	return &diskBlobs{dir: dir}, nil
}

func (d *diskBlobs) create() (blobWriter, error) {
	f, err := os.CreateTemp(d.dir, "blob-")
	if err != nil {
		return nil, fmt.Errorf("googleemu: creating upload file: %w", err)
	}
	return &diskWriter{f: f}, nil
}

func (d *diskBlobs) close() error { return os.RemoveAll(d.dir) }

type diskWriter struct {
	f *os.File
	n int64
}

func (w *diskWriter) Write(p []byte) (int, error) {
	n, err := w.f.Write(p)
	w.n += int64(n)
	return n, err
}
func (w *diskWriter) size() int64 { return w.n }
func (w *diskWriter) truncate(n int64) error {
	if err := w.f.Truncate(n); err != nil {
		return err
	}
	if _, err := w.f.Seek(n, io.SeekStart); err != nil {
		return err
	}
	w.n = n
	return nil
}
func (w *diskWriter) seal() (blob, error) {
	name := w.f.Name()
	if err := w.f.Close(); err != nil {
		return nil, fmt.Errorf("googleemu: closing upload file: %w", err)
	}
	return diskBlob{path: name, n: w.n}, nil
}
func (w *diskWriter) discard() {
	_ = w.f.Close()
	_ = os.Remove(w.f.Name())
}

type diskBlob struct {
	path string
	n    int64
}

func (b diskBlob) size() int64 { return b.n }

// open works even after remove on Unix-like systems if the file was opened first,
// so a download racing a delete finishes.
func (b diskBlob) open() (io.ReadSeekCloser, error) { return os.Open(b.path) }
func (b diskBlob) remove()                          { _ = os.Remove(b.path) }

// md5Checkpoint hashes a resumable upload incrementally and remembers the
// hash state at every 256 KiB boundary, so after a dropped connection it can
// roll back to exactly the bytes the emulator keeps (received bytes rounded
// down to a multiple of 256 KiB) without re-reading them.
type md5Checkpoint struct {
	h       hash.Hash
	n       int64
	saved   []byte // hash state at savedAt
	savedAt int64
}

func newMD5Checkpoint() *md5Checkpoint {
	c := &md5Checkpoint{h: md5.New()}
	c.save()
	return c
}

func (c *md5Checkpoint) save() {
	state, err := c.h.(encoding.BinaryMarshaler).MarshalBinary()
	if err != nil {
		panic("googleemu: md5 state: " + err.Error()) // crypto/md5 always supports it
	}
	c.saved, c.savedAt = state, c.n
}

func (c *md5Checkpoint) Write(p []byte) (int, error) {
	total := len(p)
	for len(p) > 0 {
		room := uploadChunkQuanta - int(c.n%uploadChunkQuanta)
		k := min(room, len(p))
		c.h.Write(p[:k])
		c.n += int64(k)
		p = p[k:]
		if c.n%uploadChunkQuanta == 0 {
			c.save()
		}
	}
	return total, nil
}

// rollback returns to the last 256 KiB boundary and reports its offset.
func (c *md5Checkpoint) rollback() int64 {
	if err := c.h.(encoding.BinaryUnmarshaler).UnmarshalBinary(c.saved); err != nil {
		panic("googleemu: md5 state: " + err.Error())
	}
	c.n = c.savedAt
	return c.n
}

// snapshot and restore bracket one request, to undo it entirely.
type md5Snapshot struct {
	state   []byte
	n       int64
	saved   []byte
	savedAt int64
}

func (c *md5Checkpoint) snapshot() md5Snapshot {
	state, _ := c.h.(encoding.BinaryMarshaler).MarshalBinary()
	return md5Snapshot{state: state, n: c.n, saved: c.saved, savedAt: c.savedAt}
}

func (c *md5Checkpoint) restore(s md5Snapshot) {
	_ = c.h.(encoding.BinaryUnmarshaler).UnmarshalBinary(s.state)
	c.n, c.saved, c.savedAt = s.n, s.saved, s.savedAt
}

func (c *md5Checkpoint) sum() string { return hex.EncodeToString(c.h.Sum(nil)) }
