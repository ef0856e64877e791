package mcpserver

import (
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
)

// uploadWatch is the base transport of a fixture's Google calls: it closes
// Reached once the tool has sent Drive at least At bytes of upload, so a
// test waits for that event instead of polling the emulator's counters.
type uploadWatch struct {
	At      int64
	Reached chan struct{}

	sent atomic.Int64
	once sync.Once
}

func newUploadWatch(at int64) *uploadWatch {
	return &uploadWatch{At: at, Reached: make(chan struct{})}
}

func (u *uploadWatch) RoundTrip(r *http.Request) (*http.Response, error) {
	if strings.HasPrefix(r.URL.Path, "/upload/") && r.Body != nil {
		r = r.Clone(r.Context())
		r.Body = &watchedUpload{ReadCloser: r.Body, w: u}
	}
	return http.DefaultTransport.RoundTrip(r)
}

type watchedUpload struct {
	io.ReadCloser
	w *uploadWatch
}

func (b *watchedUpload) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if b.w.sent.Add(int64(n)) >= b.w.At {
		b.w.once.Do(func() { close(b.w.Reached) })
	}
	return n, err
}
