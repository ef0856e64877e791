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
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/drivemcp/drivemcp/internal/e2etest"
	"github.com/drivemcp/drivemcp/internal/secrets"
)

// sessionFixture is drivemcp over HTTP with /uploads/ served by srv.
type sessionFixture struct {
	*fixture
	server *mcp.Server
	srv    *httptest.Server
	ups    *UploadSessions
	clock  atomic.Pointer[time.Time]
}

func newSessionFixture(t *testing.T) *sessionFixture {
	t.Helper()
	return newSessionFixtureWith(t, nil)
}

// newSessionFixtureWith is newSessionFixture whose MCP client has opts (a
// progress handler, say); sf.server takes more clients.
func newSessionFixtureWith(t *testing.T, opts *mcp.ClientOptions) *sessionFixture {
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
	sf.ups = ups
	deps.UploadSessions = ups
	sf.server = New(deps)
	sf.fixture = &fixture{google: g, session: sf.connect(t, opts)}
	return sf
}

// connect is another MCP client of the fixture's server.
func (sf *sessionFixture) connect(t *testing.T, opts *mcp.ClientOptions) *mcp.ClientSession {
	t.Helper()
	ct, st := mcp.NewInMemoryTransports()
	if _, err := sf.server.Connect(t.Context(), st, nil); err != nil {
		t.Fatal(err)
	}
	session, err := mcp.NewClient(&mcp.Implementation{Name: "test", Version: "1"}, opts).Connect(t.Context(), ct, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { session.Close() })
	return session
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

// A new file whose bytes are not the md5 the client declared goes to the
// trash, where the user can still restore it: never deleted for good.
func TestUploadSession_WrongMD5MovesTheNewFileToTheTrash(t *testing.T) {
	sf := newSessionFixture(t)
	content := payload(400 << 10)
	url, sid := sf.create(t, "corrupt.bin", content, md5Of([]byte("something else")))
	resp, text := put(t, url, "", bytes.NewReader(content), int64(len(content)), "")
	if resp == nil || resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(text, "trash") {
		t.Fatalf("PUT: %v %s", resp, text)
	}
	id, ok := sf.driveFileNamed("corrupt.bin")
	if f, _ := sf.google.File(id); !ok || !f.Trashed {
		t.Fatalf("the mismatching file is not in the trash (present %v, trashed %v)", ok, f.Trashed)
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

// progressHeard is a client's progress handler that passes on what it hears.
func progressHeard(ch chan<- *mcp.ProgressNotificationParams) *mcp.ClientOptions {
	return &mcp.ClientOptions{ProgressNotificationHandler: func(_ context.Context, req *mcp.ProgressNotificationClientRequest) {
		select {
		case ch <- req.Params:
		default: // a test that stopped listening
		}
	}}
}

// The session that created an upload session hears how far a PUT has got
// while its bytes are still arriving (curl -T of a large file is one PUT,
// which would otherwise be silent until the end), then that it is done;
// another MCP session of the same server hears nothing of it.
func TestUploadSession_ProgressReachesTheCreatingSessionWhileAPutStreams(t *testing.T) {
	heard := make(chan *mcp.ProgressNotificationParams, 256)
	sf := newSessionFixtureWith(t, progressHeard(heard))
	overheard := make(chan *mcp.ProgressNotificationParams, 256)
	sf.connect(t, progressHeard(overheard))

	content := payload(3<<20 + 4321)
	params := &mcp.CallToolParams{Name: "create_upload_session", Arguments: map[string]any{"user_google_email": alice, "file_name": "streamed.bin", "size": len(content)}}
	params.SetProgressToken("upload-1")
	res, err := sf.session.CallTool(t.Context(), params)
	if err != nil || res.IsError {
		t.Fatalf("create_upload_session: %v %s", err, e2etest.ResultText(res))
	}
	out := e2etest.Structured(t, res)
	url, _ := out["upload_url"].(string)

	// The client sends the first half and waits to hear of it before it
	// sends the rest: the PUT is still streaming when progress arrives.
	half := len(content) / 2
	pr, pw := io.Pipe()
	proceed := make(chan struct{})
	go func() {
		if _, err := pw.Write(content[:half]); err != nil {
			return
		}
		<-proceed
		_, _ = pw.Write(content[half:])
		_ = pw.Close()
	}()
	type answer struct {
		resp *http.Response
		body string
	}
	answered := make(chan answer, 1)
	go func() {
		resp, body := put(t, url, "", pr, int64(len(content)), "")
		answered <- answer{resp, body}
	}()
	defer pw.Close()

	wait := func(what string, ok func(*mcp.ProgressNotificationParams) bool) *mcp.ProgressNotificationParams {
		t.Helper()
		timeout := time.NewTimer(10 * time.Second)
		defer timeout.Stop()
		for {
			select {
			case p := <-heard:
				if p.ProgressToken != "upload-1" || p.Total != float64(len(content)) {
					t.Fatalf("progress %+v, want token upload-1 and total %d", p, len(content))
				}
				if ok(p) {
					return p
				}
			case <-timeout.C:
				t.Fatalf("no progress notification %s", what)
			}
		}
	}
	mid := wait("while the PUT streamed", func(p *mcp.ProgressNotificationParams) bool {
		return p.Progress > 0 && p.Progress < float64(len(content))
	})
	if mid.Progress > float64(half) || !strings.Contains(mid.Message, "received") {
		t.Fatalf("mid-PUT progress %+v: more than was sent (%d), or no sentence", mid, half)
	}
	close(proceed)
	a := <-answered
	if a.resp == nil || a.resp.StatusCode != 200 {
		t.Fatalf("PUT: %v %s", a.resp, a.body)
	}
	wait("at the end", func(p *mcp.ProgressNotificationParams) bool { return p.Progress == float64(len(content)) })
	select {
	case p := <-overheard:
		t.Fatalf("another session heard %+v", p)
	default:
	}
}
