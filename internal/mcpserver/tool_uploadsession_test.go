package mcpserver

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/auth"

	"github.com/drivemcp/drivemcp/internal/secrets"
)

// sessionFixture is drivemcp over HTTP with /uploads/ served by srv.
type sessionFixture struct {
	*fixture
	srv   *httptest.Server
	clock atomic.Pointer[time.Time]
}

func newSessionFixture(t *testing.T) *sessionFixture {
	t.Helper()
	deps, g := fixtureDeps(t, Deps{})
	sf := &sessionFixture{}
	now := time.Now()
	sf.clock.Store(&now)
	mux := http.NewServeMux()
	sf.srv = httptest.NewServer(mux)
	t.Cleanup(sf.srv.Close)
	ring, _ := secrets.NewKeyring(make([]byte, 32))
	ups := NewUploadSessions(DownloadLinkOptions{
		BaseURL: sf.srv.URL, Keys: ring, Grants: deps.Grants,
		Now: func() time.Time { return *sf.clock.Load() },
		// Stands for authserver's verifier: "bob-token" is bob's.
		Verify: func(_ context.Context, token string, _ *http.Request) (*auth.TokenInfo, error) {
			if token == "bob-token" {
				return &auth.TokenInfo{UserID: "bob@example.com", Expiration: time.Now().Add(time.Hour)}, nil
			}
			return nil, auth.ErrInvalidToken
		},
	})
	mux.Handle("/uploads/", ups)
	deps.UploadSessions = ups
	sf.fixture = connectFixture(t, g, New(deps), nil)
	return sf
}

func (sf *sessionFixture) create(t *testing.T, name string, content []byte, withMD5 string) (url, sessionID string) {
	t.Helper()
	args := map[string]any{"user_google_email": alice, "file_name": name, "size": len(content)}
	if withMD5 != "" {
		args["md5"] = withMD5
	}
	out := sf.mustCall(t, "create_upload_session", args)
	url, _ = out["upload_url"].(string)
	sessionID, _ = out["session_id"].(string)
	if !strings.HasPrefix(url, sf.srv.URL+"/uploads/") || sessionID == "" || !strings.Contains(fmt.Sprint(out["curl_command"]), "curl --fail -T") {
		t.Fatalf("create_upload_session: %v", out)
	}
	return url, sessionID
}

// put sends one PUT; contentRange "" sends the body as the whole file.
func put(t *testing.T, url, contentRange string, body io.Reader, length int64, bearer string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPut, url, body)
	req.ContentLength = length
	if length == 0 {
		req.Body = http.NoBody
	}
	if contentRange != "" {
		req.Header.Set("Content-Range", contentRange)
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := http.DefaultTransport.RoundTrip(req) // a 308 is an answer, not a redirect
	if err != nil {
		return nil, err.Error()
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, string(b)
}

func md5Of(b []byte) string { s := md5.Sum(b); return hex.EncodeToString(s[:]) }

func payload(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + i/251)
	}
	return b
}

func (sf *sessionFixture) driveFileNamed(name string) (string, bool) {
	for _, f := range sf.google.Files() {
		if f.Name == name {
			return f.ID, true
		}
	}
	return "", false
}

// The curl -T path: one PUT of the whole file makes the file, md5 as declared.
func TestUploadSession_OnePutOfTheWholeFileLandsInDriveWithItsMD5(t *testing.T) {
	sf := newSessionFixture(t)
	content := payload(1<<20 + 12345)
	url, sid := sf.create(t, "big.bin", content, md5Of(content))
	if st := sf.mustCall(t, "get_upload_status", map[string]any{"user_google_email": alice, "session_id": sid}); st["state"] != "waiting" {
		t.Fatalf("before any byte: %v", st)
	}
	resp, body := put(t, url, "", bytes.NewReader(content), int64(len(content)), "")
	if resp == nil || resp.StatusCode != 200 || !strings.Contains(body, md5Of(content)) {
		t.Fatalf("PUT: %v %s", resp, body)
	}
	st := sf.mustCall(t, "get_upload_status", map[string]any{"user_google_email": alice, "session_id": sid})
	if st["state"] != "done" || st["md5"] != md5Of(content) || st["file_id"] == nil {
		t.Fatalf("status after: %v", st)
	}
}

// dropAfter is a request body whose connection breaks after n bytes.
type dropAfter struct {
	r io.Reader
	n int
}

func (d *dropAfter) Read(p []byte) (int, error) {
	if d.n <= 0 {
		return 0, errors.New("client dropped the connection")
	}
	p = p[:min(len(p), d.n)]
	n, err := d.r.Read(p)
	d.n -= n
	return n, err
}

// Chunks with Content-Range, a dropped connection in the middle of one,
// a "bytes */N" query answered 308 + Range, and the rest sent from there:
// Google's resumable protocol, through drivemcp to Drive, one file, md5 right.
func TestUploadSession_ChunksResumeAfterADroppedConnectionFromWhatDriveKept(t *testing.T) {
	sf := newSessionFixture(t)
	content := payload(3<<20 + 777)
	size := int64(len(content))
	url, sid := sf.create(t, "chunks.bin", content, md5Of(content))
	const chunk = 1 << 20
	off := int64(0)
	dropped := false
	for off < size {
		end := min(off+chunk, size)
		var body io.Reader = bytes.NewReader(content[off:end])
		if !dropped && off == chunk {
			dropped = true
			body = &dropAfter{r: body, n: 700 << 10}
		}
		resp, text := put(t, url, fmt.Sprintf("bytes %d-%d/%d", off, end-1, size), body, end-off, "")
		if resp != nil && resp.StatusCode == 200 {
			off = end
			break
		}
		if resp == nil || resp.StatusCode != http.StatusPermanentRedirect {
			// The drop: ask how much arrived, as Google's clients do.
			q, _ := put(t, url, fmt.Sprintf("bytes */%d", size), nil, 0, "")
			if q == nil || q.StatusCode != http.StatusPermanentRedirect {
				t.Fatalf("status query after %v %s: %v", resp, text, q)
			}
			resp = q
			st := sf.mustCall(t, "get_upload_status", map[string]any{"user_google_email": alice, "session_id": sid})
			if st["state"] != "receiving" {
				t.Fatalf("status mid-way: %v", st)
			}
		}
		var last int64 = -1
		if r := resp.Header.Get("Range"); r != "" {
			fmt.Sscanf(r, "bytes=0-%d", &last)
		}
		off = last + 1
	}
	if !dropped {
		t.Fatal("no chunk was dropped")
	}
	id, ok := sf.driveFileNamed("chunks.bin")
	if !ok {
		t.Fatal("no file in Drive")
	}
	f, _ := sf.google.File(id)
	if f.MD5 != md5Of(content) || len(sf.google.Files()) == 0 {
		t.Fatalf("Drive has md5 %s, want %s", f.MD5, md5Of(content))
	}
	if n := countNamed(sf, "chunks.bin"); n != 1 {
		t.Fatalf("%d files named chunks.bin, want exactly one", n)
	}
}

func countNamed(sf *sessionFixture, name string) int {
	n := 0
	for _, f := range sf.google.Files() {
		if f.Name == name {
			n++
		}
	}
	return n
}

// Chunks off Drive's 256 KiB grid are sent up to their last boundary and
// the 308's Range asks for the rest again: no buffering on the server, and
// a client that follows Range (as Google's require) finishes.
func TestUploadSession_ChunksOffTheGridAreBridgedByRange(t *testing.T) {
	sf := newSessionFixture(t)
	content := payload(2<<20 + 5)
	size := int64(len(content))
	url, _ := sf.create(t, "odd.bin", content, md5Of(content))
	const chunk = 300 << 10
	off, puts := int64(0), 0
	for off < size && puts < 100 {
		puts++
		end := min(off+chunk, size)
		resp, text := put(t, url, fmt.Sprintf("bytes %d-%d/%d", off, end-1, size), bytes.NewReader(content[off:end]), end-off, "")
		if resp == nil {
			t.Fatal(text)
		}
		if resp.StatusCode == 200 {
			break
		}
		if resp.StatusCode != http.StatusPermanentRedirect {
			t.Fatalf("PUT %d-%d: %s %s", off, end-1, resp.Status, text)
		}
		var last int64
		fmt.Sscanf(resp.Header.Get("Range"), "bytes=0-%d", &last)
		if (last+1)%(256<<10) != 0 {
			t.Fatalf("Range %q is off the grid", resp.Header.Get("Range"))
		}
		off = last + 1
	}
	id, ok := sf.driveFileNamed("odd.bin")
	if f, _ := sf.google.File(id); !ok || f.MD5 != md5Of(content) {
		t.Fatalf("after %d PUTs: file %v %v", puts, ok, f.MD5)
	}
	// A chunk under 256 KiB that is not the last could never move on.
	url2, _ := sf.create(t, "tiny.bin", content, "")
	resp, text := put(t, url2, fmt.Sprintf("bytes 0-999/%d", size), bytes.NewReader(content[:1000]), 1000, "")
	if resp == nil || resp.StatusCode != 400 || !strings.Contains(text, "256 KiB") {
		t.Fatalf("tiny chunk: %v %s", resp, text)
	}
}

// Bytes of another total than announced are not the file: the Drive
// session is cancelled and nothing is left in Drive.
func TestUploadSession_WrongSizeIsRefusedAndLeavesNoFile(t *testing.T) {
	sf := newSessionFixture(t)
	content := payload(600 << 10)
	url, sid := sf.create(t, "short.bin", content, "")
	resp, text := put(t, url, "", bytes.NewReader(content[:500<<10]), 500<<10, "")
	if resp == nil || resp.StatusCode != 400 || !strings.Contains(text, "created for a file of") || !strings.Contains(text, "create_upload_session") {
		t.Fatalf("short PUT: %v %s", resp, text)
	}
	if _, ok := sf.driveFileNamed("short.bin"); ok {
		t.Fatal("a file was left in Drive")
	}
	if n := sf.google.Stats().OpenUploadSessions; n != 0 {
		t.Fatalf("%d Drive sessions left open, want the session cancelled", n)
	}
	if st := sf.mustCall(t, "get_upload_status", map[string]any{"user_google_email": alice, "session_id": sid}); st["state"] != "gone" {
		t.Fatalf("status: %v", st)
	}
	// A chunk naming another total is the same mistake.
	url2, _ := sf.create(t, "long.bin", content, "")
	resp, text = put(t, url2, fmt.Sprintf("bytes 0-%d/%d", 256<<10-1, 10<<20), bytes.NewReader(content[:256<<10]), 256<<10, "")
	if resp == nil || resp.StatusCode != 400 || !strings.Contains(text, "created for") {
		t.Fatalf("other total: %v %s", resp, text)
	}
}

// A file whose bytes are not the md5 the client declared is removed.
func TestUploadSession_WrongMD5RemovesTheFileFromDrive(t *testing.T) {
	sf := newSessionFixture(t)
	content := payload(400 << 10)
	url, sid := sf.create(t, "corrupt.bin", content, md5Of([]byte("something else")))
	resp, text := put(t, url, "", bytes.NewReader(content), int64(len(content)), "")
	if resp == nil || resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(text, "removed") {
		t.Fatalf("PUT: %v %s", resp, text)
	}
	if _, ok := sf.driveFileNamed("corrupt.bin"); ok {
		t.Fatal("the mismatching file is still in Drive")
	}
	if st := sf.mustCall(t, "get_upload_status", map[string]any{"user_google_email": alice, "session_id": sid}); st["state"] != "gone" {
		t.Fatalf("status: %v", st)
	}
}

// After its hour the URL takes nothing, and Drive's session is cancelled.
func TestUploadSession_APutAfterExpiryIsRefusedAndTheDriveSessionCancelled(t *testing.T) {
	sf := newSessionFixture(t)
	content := payload(300 << 10)
	url, _ := sf.create(t, "late.bin", content, "")
	later := time.Now().Add(UploadSessionTTL + time.Second)
	sf.clock.Store(&later)
	resp, text := put(t, url, "", bytes.NewReader(content), int64(len(content)), "")
	if resp == nil || resp.StatusCode != http.StatusGone || !strings.Contains(text, "expired") || !strings.Contains(text, "create_upload_session") {
		t.Fatalf("late PUT: %v %s", resp, text)
	}
	if _, ok := sf.driveFileNamed("late.bin"); ok || sf.google.Stats().OpenUploadSessions != 0 {
		t.Fatalf("after expiry: file %v, open sessions %d", ok, sf.google.Stats().OpenUploadSessions)
	}
}

// The threat: someone else, signed in as another account, holds the URL.
// Their bearer token is refused and the session goes on unharmed; a forged
// or altered URL is no session at all.
func TestUploadSession_AnotherAccountsTokenOrAForgedURLIsRefused(t *testing.T) {
	sf := newSessionFixture(t)
	content := payload(300 << 10)
	url, _ := sf.create(t, "mine.bin", content, "")
	resp, text := put(t, url, "", bytes.NewReader(content), int64(len(content)), "bob-token")
	if resp == nil || resp.StatusCode != http.StatusForbidden || !strings.Contains(text, "another Google account") {
		t.Fatalf("bob's PUT: %v %s", resp, text)
	}
	forged := url[:len(url)-3] + "AAA"
	if resp, _ := put(t, forged, "", bytes.NewReader(content), int64(len(content)), ""); resp == nil || resp.StatusCode != 404 {
		t.Fatalf("forged URL: %v", resp)
	}
	if _, ok := sf.driveFileNamed("mine.bin"); ok {
		t.Fatal("a refused PUT made a file")
	}
	if resp, text := put(t, url, "", bytes.NewReader(content), int64(len(content)), ""); resp == nil || resp.StatusCode != 200 {
		t.Fatalf("the owner's PUT after the refusals: %v %s", resp, text)
	}
}
