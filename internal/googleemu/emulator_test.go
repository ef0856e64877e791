package googleemu

import (
	"bytes"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"google.golang.org/api/drive/v3"
	"google.golang.org/api/googleapi"
)

// lockedBuffer is a log sink safe for concurrent handlers.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestLogs_NeverContainIssuedSecrets(t *testing.T) {
	var logs lockedBuffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	e, srv := start(t, Options{Logger: logger})
	svc := driveFor(t, srv, "alice@example.com")
	if _, err := svc.Files.Create(&drive.File{Name: "x"}).Media(bytes.NewReader(payload(300*1024)), googleapi.ChunkSize(256*1024)).Do(); err != nil {
		t.Fatal(err)
	}
	// The access token in a query parameter must not be logged either.
	tok := e.IssuedSecrets()[len(e.IssuedSecrets())-1]
	resp, err := http.Get(srv.URL + "/drive/v3/files?access_token=" + tok)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	out := logs.String()
	if !strings.Contains(out, "googleemu request") || !strings.Contains(out, "/upload/drive/v3/files") {
		t.Fatalf("requests were not logged at Debug:\n%s", out)
	}
	for _, s := range e.IssuedSecrets() {
		if strings.Contains(out, s) {
			t.Fatalf("log contains an issued secret %.10s…", s)
		}
	}
	if strings.Contains(out, "upload_id=") {
		t.Fatal("log contains an upload session id")
	}
}

func TestConcurrentClients(t *testing.T) {
	e, srv := start(t, Options{})
	const users, filesEach = 4, 3
	var wg sync.WaitGroup
	errs := make(chan error, users*filesEach)
	for u := range users {
		svc := driveFor(t, srv, fmt.Sprintf("user%d@example.com", u))
		wg.Go(func() {
			for i := range filesEach {
				content := payload(100*1024 + i*300*1024)
				f, err := svc.Files.Create(&drive.File{Name: fmt.Sprint(i)}).
					Media(bytes.NewReader(content), googleapi.ChunkSize(256*1024)).Fields("md5Checksum").Do()
				if err != nil {
					errs <- err
					return
				}
				if f.Md5Checksum != md5hex(content) {
					errs <- fmt.Errorf("md5 mismatch")
				}
				if _, err := svc.Files.List().Q("trashed = false").Do(); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := len(e.Files()); n != users*filesEach {
		t.Fatalf("%d files, want %d", n, users*filesEach)
	}
}

func TestNew_DefaultsAndClose(t *testing.T) {
	e, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	if e.clients[DemoClientID] != DemoClientSecret {
		t.Fatal("zero Options does not register the demo client")
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, httptest.NewRequest("GET", "/drive/v3/files", nil))
	if rec.Code != http.StatusServiceUnavailable {
		t.Fatalf("after Close: %d", rec.Code)
	}
	if _, err := New(Options{Clients: map[string]string{"": "x"}}); err == nil {
		t.Fatal("empty client id accepted")
	}
}

func TestUnknownPathIsGoogleStyle404(t *testing.T) {
	_, srv := start(t, Options{})
	resp, err := http.Get(srv.URL + "/drive/v2/files")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 404 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		t.Fatalf("%d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
}
