package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// startLimited serves h as serve does, with short limits.
func startLimited(t *testing.T, h http.Handler, body, write time.Duration) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := (&running{limits: limits{bodyTimeout: body, writeTimeout: write}}).newHTTPServer(h)
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return ln.Addr().String()
}

// A client that sends headers and then trickles (here: stops sending) its
// body loses the connection after bodyTimeout instead of holding a
// goroutine and a connection for ever.
func TestHTTPServer_SlowBodyIsCutOff(t *testing.T) {
	readErr := make(chan error, 1)
	addr := startLimited(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, err := io.ReadAll(r.Body)
		readErr <- err
	}), 200*time.Millisecond, time.Minute)
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /oauth/token HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\ngrant_type=")
	select {
	case err := <-readErr:
		if err == nil {
			t.Fatal("the handler read a whole body that never came")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a stalled body held the handler for 5 s with a 200 ms body timeout")
	}
}

// Once the body is in, its deadline no longer applies: an MCP response (an
// event stream) that lasts longer than the body and write timeouts is not
// cut off, and its request's context stays alive.
func TestHTTPServer_LongMCPResponseIsNotCutOff(t *testing.T) {
	addr := startLimited(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "text/event-stream")
		for i := range 4 {
			select {
			case <-r.Context().Done():
				return
			case <-time.After(150 * time.Millisecond):
			}
			fmt.Fprintf(w, "data: %d %s\n\n", i, body)
			_ = http.NewResponseController(w).Flush()
		}
	}), 100*time.Millisecond, 100*time.Millisecond)
	resp, err := http.Post("http://"+addr+"/mcp", "application/json", strings.NewReader(`{"id":1}`))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	events := 0
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "data: ") {
			events++
		}
	}
	if events != 4 {
		t.Fatalf("got %d of 4 events over 600 ms with 100 ms body and write timeouts (%v)", events, sc.Err())
	}
}

// Other responses than /mcp's must be written within writeTimeout, so a
// client that never reads cannot hold a handler. The handler keeps writing
// until a write fails: the test passes only if the request reached it and
// the server cut it off, never merely because nothing answered.
func TestHTTPServer_WriteTimeoutOutsideMCP(t *testing.T) {
	const writeTimeout = 100 * time.Millisecond
	reached := make(chan struct{})
	cutAfter := make(chan time.Duration, 1)
	addr := startLimited(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(reached)
		start := time.Now()
		rc := http.NewResponseController(w)
		chunk := []byte(strings.Repeat("late ", 1024))
		for time.Since(start) < 10*time.Second {
			if _, err := w.Write(chunk); err != nil {
				cutAfter <- time.Since(start)
				return
			}
			if err := rc.Flush(); err != nil {
				cutAfter <- time.Since(start)
				return
			}
		}
		cutAfter <- -1 // never cut off
	}), time.Minute, writeTimeout)
	resp, err := http.Get("http://" + addr + "/oauth2callback")
	if err == nil {
		_, err = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	select {
	case <-reached:
	default:
		t.Fatalf("the request never reached the handler (%v): nothing was tested", err)
	}
	if err == nil {
		t.Error("the client read a complete response although the server should have cut it off at the write deadline")
	}
	if d := <-cutAfter; d < 0 {
		t.Fatalf("the handler wrote for 10 s without a failed write; the write deadline is %v", writeTimeout)
	}
}
