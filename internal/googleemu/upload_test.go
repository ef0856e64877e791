package googleemu

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/api/drive/v3"
	"google.golang.org/api/googleapi"
)

const kib256 = 256 * 1024

// rawUpload speaks the resumable protocol by hand.
type rawUpload struct {
	t      *testing.T
	srv    *httptest.Server
	token  string
	client *http.Client
}

func newRawUpload(t *testing.T, srv *httptest.Server) *rawUpload {
	tok := login(t, oauthConfig(srv.URL), "alice@example.com")
	// A fresh transport per test: dropped connections must not poison others.
	return &rawUpload{t: t, srv: srv, token: tok.AccessToken, client: &http.Client{Transport: &http.Transport{}}}
}

func (u *rawUpload) do(method, url string, header map[string]string, body []byte) (*http.Response, []byte, error) {
	u.t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		u.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+u.token)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := u.client.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b, nil
}

// must is do that fails the test on a transport error.
func (u *rawUpload) must(method, url string, header map[string]string, body []byte) (*http.Response, []byte) {
	u.t.Helper()
	resp, b, err := u.do(method, url, header, body)
	if err != nil {
		u.t.Fatal(err)
	}
	return resp, b
}

// start initiates a session and returns its URI.
func (u *rawUpload) start(name string, total int64) string {
	u.t.Helper()
	h := map[string]string{"Content-Type": "application/json; charset=UTF-8", "X-Upload-Content-Type": "application/octet-stream"}
	if total >= 0 {
		h["X-Upload-Content-Length"] = fmt.Sprint(total)
	}
	resp, body := u.must("POST", u.srv.URL+"/upload/drive/v3/files?uploadType=resumable&fields=id,name,size,md5Checksum",
		h, []byte(`{"name":"`+name+`"}`))
	loc := resp.Header.Get("Location")
	if resp.StatusCode != 200 || !strings.HasPrefix(loc, u.srv.URL+"/upload/drive/v3/files?uploadType=resumable&upload_id=") {
		u.t.Fatalf("initiate: %d %q %s", resp.StatusCode, loc, body)
	}
	return loc
}

func (u *rawUpload) chunk(session string, data []byte, first int64, total string) (*http.Response, []byte) {
	u.t.Helper()
	return u.must("PUT", session, map[string]string{
		"Content-Range": fmt.Sprintf("bytes %d-%d/%s", first, first+int64(len(data))-1, total)}, data)
}

func (u *rawUpload) status(session string, total string) (*http.Response, []byte) {
	u.t.Helper()
	return u.must("PUT", session, map[string]string{"Content-Range": "bytes */" + total}, nil)
}

func wantIncomplete(t *testing.T, resp *http.Response, body []byte, wantRange string) {
	t.Helper()
	if resp.StatusCode != http.StatusPermanentRedirect || resp.Header.Get("Range") != wantRange {
		t.Fatalf("got %d Range=%q (%s), want 308 Range=%q", resp.StatusCode, resp.Header.Get("Range"), body, wantRange)
	}
}

func wantFile(t *testing.T, resp *http.Response, body []byte, content []byte) string {
	t.Helper()
	var f struct{ ID, Size, Md5Checksum string }
	if err := json.Unmarshal(body, &f); err != nil || resp.StatusCode != 200 {
		t.Fatalf("got %d %s, want 200 with the file", resp.StatusCode, body)
	}
	if f.Size != fmt.Sprint(len(content)) || f.Md5Checksum != md5hex(content) {
		t.Fatalf("file %s: size %s md5 %s, want %d %s", f.ID, f.Size, f.Md5Checksum, len(content), md5hex(content))
	}
	return f.ID
}

func TestResumable_ProtocolByHand(t *testing.T) {
	_, srv := start(t, Options{})
	u := newRawUpload(t, srv)
	content := payload(2*kib256 + 1000)
	total := fmt.Sprint(len(content))
	s := u.start("by-hand.bin", -1)

	resp, body := u.status(s, "*")
	wantIncomplete(t, resp, body, "") // nothing committed: no Range header

	resp, body = u.chunk(s, content[:kib256], 0, "*")
	wantIncomplete(t, resp, body, "bytes=0-262143")

	// The Go client's variant: 200 plus an override header.
	resp, body = u.must("PUT", s, map[string]string{"Content-Range": "bytes */*", "X-GUploader-No-308": "yes"}, nil)
	if resp.StatusCode != 200 || resp.Header.Get("X-Http-Status-Code-Override") != "308" || resp.Header.Get("Range") != "bytes=0-262143" {
		t.Fatalf("No-308: %d %v %s", resp.StatusCode, resp.Header, body)
	}

	// A non-final chunk that is not a multiple of 256 KiB.
	resp, _ = u.chunk(s, content[kib256:kib256+1000], kib256, "*")
	if resp.StatusCode != 400 {
		t.Fatalf("odd-sized chunk: %d, want 400", resp.StatusCode)
	}
	// A chunk that would leave a gap.
	resp, _ = u.chunk(s, content[2*kib256:], 2*kib256, total)
	if resp.StatusCode != 400 {
		t.Fatalf("gap: %d, want 400", resp.StatusCode)
	}
	// A retried chunk overlapping what is committed: the overlap is skipped.
	resp, body = u.chunk(s, content[0:2*kib256], 0, "*")
	wantIncomplete(t, resp, body, "bytes=0-524287")

	resp, body = u.status(s, total)
	wantIncomplete(t, resp, body, "bytes=0-524287")

	resp, body = u.chunk(s, content[2*kib256:], 2*kib256, total)
	id := wantFile(t, resp, body, content)

	// A completed session keeps answering with the file.
	resp, body = u.status(s, total)
	if wantFile(t, resp, body, content) != id {
		t.Fatal("status query on the completed session named another file")
	}
}

func TestResumable_TotalUnknownFinishedByStatusQuery(t *testing.T) {
	_, srv := start(t, Options{})
	u := newRawUpload(t, srv)
	content := payload(kib256)
	s := u.start("exact.bin", -1)
	resp, body := u.chunk(s, content, 0, "*")
	wantIncomplete(t, resp, body, "bytes=0-262143")
	resp, body = u.status(s, fmt.Sprint(len(content)))
	wantFile(t, resp, body, content)
}

func TestResumable_SinglePutWithoutContentRange(t *testing.T) {
	_, srv := start(t, Options{})
	u := newRawUpload(t, srv)
	content := payload(kib256 + 3)
	for _, declared := range []int64{-1, int64(len(content))} {
		s := u.start("one-shot.bin", declared)
		resp, body := u.must("PUT", s, nil, content)
		wantFile(t, resp, body, content)
	}
}

func TestResumable_DeclaredLengthIsEnforced(t *testing.T) {
	_, srv := start(t, Options{})
	u := newRawUpload(t, srv)
	s := u.start("declared.bin", 1000)
	resp, _ := u.chunk(s, payload(500), 0, "500")
	if resp.StatusCode != 400 {
		t.Fatalf("total differing from X-Upload-Content-Length: %d, want 400", resp.StatusCode)
	}
}

func TestResumable_UnknownAndExpiredSessions(t *testing.T) {
	// A week on, the access token is long dead too; this test is about the
	// session, so dead tokens are let through.
	e, srv := start(t, Options{UploadSessionsIgnoreAuthorization: true})
	u := newRawUpload(t, srv)
	resp, body := u.status(srv.URL+"/upload/drive/v3/files?uploadType=resumable&upload_id=nope", "*")
	if resp.StatusCode != 404 || !strings.Contains(string(body), `"code":404`) {
		t.Fatalf("unknown session: %d %s", resp.StatusCode, body)
	}
	s := u.start("old.bin", -1)
	e.mu.Lock()
	e.now = func() time.Time { return time.Now().Add(uploadSessionTTL + time.Minute) }
	e.mu.Unlock()
	if resp, _ := u.status(s, "*"); resp.StatusCode != 404 {
		t.Fatalf("expired session: %d, want 404", resp.StatusCode)
	}
}

func TestResumable_DroppedConnectionKeepsWhole256KiBUnits(t *testing.T) {
	for name, opts := range map[string]Options{"memory": {}, "disk": {Dir: t.TempDir()}} {
		t.Run(name, func(t *testing.T) {
			e, srv := start(t, opts)
			u := newRawUpload(t, srv)
			content := payload(4 * kib256)
			total := fmt.Sprint(len(content))
			s := u.start("dropped.bin", -1)
			before := e.Stats().UploadBytesReceived

			e.InjectFault(Fault{Method: "PUT", PathPrefix: "/upload/drive/v3/files", DropAfterBytes: 2*kib256 + 1000})
			if resp, _, err := u.do("PUT", s, map[string]string{"Content-Range": "bytes 0-1048575/" + total}, content); err == nil {
				t.Fatalf("dropped request got a response: %d", resp.StatusCode)
			}
			if got := e.Stats().UploadBytesReceived - before; got != 2*kib256+1000 {
				t.Errorf("UploadBytesReceived grew by %d, want %d", got, 2*kib256+1000)
			}
			resp, body := u.status(s, total)
			wantIncomplete(t, resp, body, "bytes=0-524287")

			// A body longer than its Content-Range is refused and changes nothing.
			resp, _ = u.must("PUT", s, map[string]string{"Content-Range": fmt.Sprintf("bytes %d-%d/*", 2*kib256, 3*kib256-1)},
				content[2*kib256:])
			if resp.StatusCode != 400 {
				t.Fatalf("overlong body: %d, want 400", resp.StatusCode)
			}
			resp, body = u.status(s, total)
			wantIncomplete(t, resp, body, "bytes=0-524287")

			resp, body = u.chunk(s, content[2*kib256:], 2*kib256, total)
			wantFile(t, resp, body, content)
		})
	}
}

func TestUpload_MediaCreateAndUpdate(t *testing.T) {
	e, srv := start(t, Options{})
	u := newRawUpload(t, srv)
	resp, body := u.must("POST", srv.URL+"/upload/drive/v3/files?uploadType=media&fields=id,name,mimeType,size",
		map[string]string{"Content-Type": "text/csv"}, []byte("a,b\n"))
	var f struct{ ID, Name, MimeType, Size string }
	if err := json.Unmarshal(body, &f); err != nil || resp.StatusCode != 200 || f.Name != "Untitled" || f.MimeType != "text/csv" || f.Size != "4" {
		t.Fatalf("media create: %d %s", resp.StatusCode, body)
	}
	resp, body = u.must("PATCH", srv.URL+"/upload/drive/v3/files/"+f.ID+"?uploadType=media&fields=size,md5Checksum",
		map[string]string{"Content-Type": "text/csv"}, []byte("a,b\n1,2\n"))
	if resp.StatusCode != 200 || !strings.Contains(string(body), md5hex([]byte("a,b\n1,2\n"))) {
		t.Fatalf("media update: %d %s", resp.StatusCode, body)
	}
	if got, _ := e.File(f.ID); got.Size != 8 {
		t.Fatalf("size after update %d", got.Size)
	}
	resp, _ = u.must("POST", srv.URL+"/upload/drive/v3/files", nil, []byte("x"))
	if resp.StatusCode != 400 {
		t.Fatalf("missing uploadType: %d", resp.StatusCode)
	}
	resp, _ = u.must("POST", srv.URL+"/upload/drive/v3/files?uploadType=multipart", map[string]string{"Content-Type": "text/plain"}, []byte("x"))
	if resp.StatusCode != 400 {
		t.Fatalf("multipart without multipart body: %d", resp.StatusCode)
	}
}

func TestResumable_GoClientRetriesAfterDrop(t *testing.T) {
	e, srv := start(t, Options{})
	svc := driveFor(t, srv, "alice@example.com")
	content := payload(3*kib256 + 77)
	// Let the initiating POST through (a latency-only fault is used up by
	// it), then break the first 512 KiB chunk after 300 KiB: 256 KiB are kept,
	// and the client's retry of the whole chunk overlaps them.
	e.InjectFault(Fault{Method: "POST", PathPrefix: "/upload/drive/v3/files", Latency: time.Nanosecond})
	e.InjectFault(Fault{Method: "POST", PathPrefix: "/upload/drive/v3/files", DropAfterBytes: 300 * 1024})

	f, err := svc.Files.Create(&drive.File{Name: "retry.bin"}).
		Media(bytes.NewReader(content), googleapi.ChunkSize(2*kib256)).Fields("id,md5Checksum,size").Do()
	if err != nil {
		t.Fatal(err)
	}
	if f.Md5Checksum != md5hex(content) || f.Size != int64(len(content)) {
		t.Fatalf("after retry: %+v", f)
	}
	if got := e.Stats().UploadBytesReceived; got < int64(len(content))+300*1024 {
		t.Errorf("UploadBytesReceived = %d: the dropped chunk was not retried", got)
	}
}

func TestUpload_DroppedMultipartCreatesNothing(t *testing.T) {
	e, srv := start(t, Options{})
	svc := driveFor(t, srv, "alice@example.com")
	e.InjectFault(Fault{PathPrefix: "/upload/", DropAfterBytes: 1000, Times: 5})
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	_, err := svc.Files.Create(&drive.File{Name: "lost.bin"}).Media(bytes.NewReader(payload(64 * 1024))).Context(ctx).Do()
	if err == nil {
		t.Fatal("upload through a dropping connection succeeded")
	}
	if n := len(e.Files()); n != 0 {
		t.Fatalf("%d files exist after dropped multipart uploads", n)
	}
}

func TestFault_StatusWithRetryAfter(t *testing.T) {
	e, srv := start(t, Options{})
	u := newRawUpload(t, srv)
	s := u.start("f.bin", -1)
	e.InjectFault(Fault{Method: "PUT", PathPrefix: "/upload/drive/v3/files", Status: 503, RetryAfter: 1500 * time.Millisecond})
	resp, body := u.chunk(s, payload(kib256), 0, "*")
	if resp.StatusCode != 503 || resp.Header.Get("Retry-After") != "2" {
		t.Fatalf("fault: %d Retry-After=%q", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	var env struct {
		Error struct {
			Code   int
			Errors []struct{ Reason string }
		}
	}
	if err := json.Unmarshal(body, &env); err != nil || env.Error.Code != 503 || env.Error.Errors[0].Reason != "backendError" {
		t.Fatalf("fault body %s", body)
	}
	// The fault was used up and did not touch the session.
	resp, body = u.status(s, "*")
	wantIncomplete(t, resp, body, "")
	resp, body = u.chunk(s, payload(kib256), 0, "*")
	wantIncomplete(t, resp, body, "bytes=0-262143")
}

func TestFault_LatencyAndOrdering(t *testing.T) {
	e, srv := start(t, Options{})
	e.InjectFault(Fault{PathPrefix: "/token", Latency: 30 * time.Millisecond, Times: 1})
	e.InjectFault(Fault{PathPrefix: "/token", Status: 500, Times: 2})
	cfg := oauthConfig(srv.URL)
	startAt := time.Now()
	tok := login(t, cfg, "lat@example.com") // takes the latency fault
	if time.Since(startAt) < 30*time.Millisecond {
		t.Error("latency not applied")
	}
	for range 2 {
		stale := *tok
		stale.Expiry = time.Now().Add(-time.Minute)
		_, err := cfg.TokenSource(context.Background(), &stale).Token()
		if code := retrieveErrorCode(t, err); code != "server_error" {
			t.Fatalf("injected 500: %q", code)
		}
	}
	e.ClearFaults()
}

func TestFault_DroppedTokenResponseStillConsumesCode(t *testing.T) {
	e, srv := start(t, Options{})
	cfg := oauthConfig(srv.URL)
	q := authorize(t, cfg, "drop@example.com", "s")
	e.InjectFault(Fault{PathPrefix: "/token", DropAfterBytes: 1 << 20})
	if _, err := cfg.Exchange(context.Background(), q.Get("code")); err == nil {
		t.Fatal("exchange through a dropped connection succeeded")
	}
	_, err := cfg.Exchange(context.Background(), q.Get("code"))
	if code := retrieveErrorCode(t, err); code != "invalid_grant" {
		t.Fatalf("retry after a lost response: %q, want invalid_grant (Google processed the first)", code)
	}
}

func TestDirMode_StoresOnDiskAndCloseCleansUp(t *testing.T) {
	dir := t.TempDir()
	e, err := New(Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(e)
	defer srv.Close()
	svc := driveFor(t, srv, "alice@example.com")
	content := payload(kib256 + 5)
	f, err := svc.Files.Create(&drive.File{Name: "disk.bin"}).Media(bytes.NewReader(content), googleapi.ChunkSize(kib256)).Do()
	if err != nil {
		t.Fatal(err)
	}
	blobs, _ := filepath.Glob(filepath.Join(dir, "googleemu-*", "blob-*"))
	var found bool
	for _, p := range blobs {
		if b, _ := os.ReadFile(p); bytes.Equal(b, content) {
			found = true
		}
	}
	if !found {
		t.Fatalf("no blob under %s holds the upload (%v)", dir, blobs)
	}
	rc, err := e.OpenContent(f.Id)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(rc)
	rc.Close()
	if !bytes.Equal(got, content) {
		t.Fatal("OpenContent differs")
	}
	srv.Close()
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, "googleemu-*")); len(left) != 0 {
		t.Fatalf("Close left %v", left)
	}
	if _, err := os.Stat(dir); err != nil {
		t.Fatalf("Close removed the caller's Dir: %v", err)
	}
}
