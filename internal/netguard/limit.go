package netguard

import (
	"errors"
	"io"
)

// ErrTooLarge is returned by a LimitBody reader once its source has more
// bytes than allowed.
var ErrTooLarge = errors.New("netguard: response body is larger than allowed")

// LimitBody returns a reader that yields r's first max bytes and fails with
// ErrTooLarge if r has more; unlike io.LimitReader, a body cut short is an
// error rather than a silent truncation.
func LimitBody(r io.Reader, max int64) io.Reader {
	return &limitedReader{r: r, left: max}
}

type limitedReader struct {
	r    io.Reader
	left int64 // bytes still allowed; -1 once exceeded
}

func (l *limitedReader) Read(p []byte) (int, error) {
	if l.left < 0 {
		return 0, ErrTooLarge
	}
	// Ask for one byte more than allowed, to find out whether there is more.
	if int64(len(p)) > l.left+1 {
		p = p[:l.left+1]
	}
	n, err := l.r.Read(p)
	if int64(n) > l.left {
		n = int(l.left)
		l.left = -1
		return n, ErrTooLarge
	}
	l.left -= int64(n)
	return n, err
}
