package main

import (
	"bytes"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
)

// syncBuffer is a log output safe for the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// THREAT: lines that net/http writes itself go around serve's log sink.
// The http.Server has no ErrorLog, so net/http writes "http: panic
// serving …", "http: Accept error …" (a client that exhausts the file
// descriptors causes those) and the like through the standard log package
// straight to os.Stderr: at once, ahead of the request lines the sink
// still holds (up to 20 ms, or while stderr is slow), and outside the
// JSON log altogether. Everything serve writes to stderr should go
// through its logger, and so through the sink, in order.
func TestHTTPServer_NetHTTPsOwnErrorLinesGoThroughServesLogger(t *testing.T) {
	out := &syncBuffer{}
	a := &running{log: slog.New(slog.NewJSONHandler(out, nil)), limits: defaultLimits()}
	srv := a.newHTTPServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		panic("a handler bug")
	}))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	// net/http logs the panic before it closes the connection, so the
	// request has failed only once the line is written.
	if resp, err := http.Get("http://" + ln.Addr().String() + "/x"); err == nil {
		resp.Body.Close()
		t.Fatal("a panicking handler answered")
	}
	if !strings.Contains(out.String(), "a handler bug") {
		t.Errorf("net/http's line about a panicking handler went around serve's logger (and its sink); the logger got %q", out.String())
	}
}
