package drive

import (
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
)

// sourceDigest is the md5 of the source, fed by every request body as it is
// read. A resume re-reads bytes that were already sent; only bytes past the
// high-water mark are new, so each source byte is hashed exactly once and in
// order, however many times it travels.
type sourceDigest struct {
	h   hash.Hash
	hwm int64 // bytes [0, hwm) have been hashed
}

func newSourceDigest() *sourceDigest { return &sourceDigest{h: md5.New()} }

// add records that p holds the source bytes starting at off.
func (d *sourceDigest) add(off int64, p []byte) error {
	end := off + int64(len(p))
	if end <= d.hwm {
		return nil
	}
	if off > d.hwm {
		// A body never starts past what was already read: resumes start at
		// the committed offset, which never exceeds what was sent.
		return fmt.Errorf("drive: internal error: read at offset %d skips past %d", off, d.hwm)
	}
	d.h.Write(p[d.hwm-off:])
	d.hwm = end
	return nil
}

// sent is how many source bytes have been handed to the network so far.
func (d *sourceDigest) sent() int64 { return d.hwm }

func (d *sourceDigest) sum() string { return hex.EncodeToString(d.h.Sum(nil)) }

// MD5Of is the hex md5 of everything r holds, Drive's md5Checksum form:
// what if_exists skip_unchanged compares with a file already in Drive.
func MD5Of(r io.Reader) (string, error) {
	h := md5.New()
	if _, err := io.Copy(h, r); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
