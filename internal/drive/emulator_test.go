package drive

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/drivemcp/drivemcp/internal/googleemu"
)

// These tests upload to the Google emulator through the same OAuth client
// the server uses, so the protocol is checked against an independent
// implementation, not only against fakeDrive.

const uploadPath = "/upload/drive/v3/files"

type emulated struct {
	emu    *googleemu.Emulator
	url    string
	client *http.Client // authorized as alice@example.com
}

func newEmulated(t *testing.T) *emulated {
	t.Helper()
	emu, err := googleemu.New(googleemu.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(emu)
	t.Cleanup(func() {
		srv.Close()
		emu.Close()
	})
	return &emulated{emu: emu, url: srv.URL, client: authorizedClient(t, srv.URL, "alice@example.com")}
}

// authorizedClient signs email in at the emulator (login_hint skips its
// login page) and returns an oauth2 client holding the tokens.
func authorizedClient(t *testing.T, base, email string) *http.Client {
	t.Helper()
	cfg := oauth2.Config{
		ClientID:     googleemu.DemoClientID,
		ClientSecret: googleemu.DemoClientSecret,
		Endpoint:     oauth2.Endpoint{AuthURL: base + "/o/oauth2/v2/auth", TokenURL: base + "/token"},
		RedirectURL:  "http://127.0.0.1/cb",
		Scopes:       []string{"https://www.googleapis.com/auth/drive.file"},
	}
	verifier := oauth2.GenerateVerifier()
	authURL := cfg.AuthCodeURL("state1", oauth2.AccessTypeOffline, oauth2.S256ChallengeOption(verifier),
		oauth2.SetAuthURLParam("login_hint", email))
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noFollow.Get(authURL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || resp.StatusCode != http.StatusFound || loc.Query().Get("code") == "" {
		t.Fatalf("authorize: %s, Location %q", resp.Status, resp.Header.Get("Location"))
	}
	if got := loc.Query().Get("state"); got != "state1" {
		t.Fatalf("state %q came back", got)
	}
	tok, err := cfg.Exchange(t.Context(), loc.Query().Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatal(err)
	}
	return cfg.Client(context.Background(), tok)
}

func (e *emulated) uploader() (*Uploader, *sleeps) {
	u, s := newTestUploader(e.url, e.client)
	u.ChunkSize = 0 // the default, 8 MiB
	return u, s
}

// wantOneFile checks that the emulator holds exactly one file, with data in
// it, and that Upload described it as the emulator does.
func (e *emulated) wantOneFile(t *testing.T, got File, data []byte) {
	t.Helper()
	files := e.emu.Files()
	if len(files) != 1 {
		t.Fatalf("Drive has %d files, want 1: %+v", len(files), files)
	}
	f := files[0]
	rc, err := e.emu.OpenContent(f.ID)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	h := md5.New()
	n, err := io.Copy(h, rc)
	if err != nil {
		t.Fatal(err)
	}
	stored := hex.EncodeToString(h.Sum(nil))
	if n != int64(len(data)) || stored != md5hex(data) {
		t.Fatalf("Drive stored %d bytes (md5 %s), want %d (md5 %s)", n, stored, len(data), md5hex(data))
	}
	if f.MD5 != stored || f.Size != n {
		t.Fatalf("emulator reports size %d md5 %s for %d bytes with md5 %s", f.Size, f.MD5, n, stored)
	}
	if got.ID != f.ID || got.MD5 != stored || got.Size != n || got.Name != f.Name || got.MimeType != f.MimeType {
		t.Fatalf("Upload returned %+v; emulator has %+v", got, f)
	}
	if f.Owner != "alice@example.com" {
		t.Fatalf("owner %q", f.Owner)
	}
}

// received is the upload bytes the emulator read. Its count includes the
// initiating requests' JSON metadata, which wantContentSent allows for.
func (e *emulated) received() int64 { return e.emu.Stats().UploadBytesReceived }

// wantContentSentOnce checks that each content byte crossed the network once.
func (e *emulated) wantContentSentOnce(t *testing.T, size int64) {
	t.Helper()
	if got := e.received(); got < size || got > size+1024 {
		t.Fatalf("sent %d bytes for a %d-byte file", got, size)
	}
}

const emuSize = 20 << 20

var emuData = randomBytes(emuSize, 42)

func TestEmulator_Upload20MiB(t *testing.T) {
	for _, src := range sources {
		t.Run(src.name, func(t *testing.T) {
			e := newEmulated(t)
			u, sl := e.uploader()
			p := &progressLog{t: t}
			meta := FileMeta{Name: "big.bin", MimeType: "application/octet-stream", Description: "twenty"}
			f, err := u.Upload(t.Context(), meta, src.make(emuData), p.fn)
			if err != nil {
				t.Fatal(err)
			}
			e.wantOneFile(t, f, emuData)
			ef := e.emu.Files()[0]
			root := e.emu.RootFolderID("alice@example.com")
			if ef.Description != "twenty" || len(f.Parents) != 1 || f.Parents[0] != root || f.WebViewLink == "" {
				t.Fatalf("file %+v (emulator %+v), want parent %s", f, ef, root)
			}
			e.wantContentSentOnce(t, emuSize)
			if p.last() != [2]int64{emuSize, emuSize} || len(sl.all()) != 0 {
				t.Fatalf("last progress %v, waits %v", p.last(), sl.all())
			}
		})
	}
}

func TestEmulator_IntoFolder(t *testing.T) {
	e := newEmulated(t)
	u, _ := e.uploader()
	// A folder, made with a plain Drive call.
	req, _ := http.NewRequest(http.MethodPost, e.url+"/drive/v3/files",
		bytes.NewReader([]byte(`{"name":"inbox","mimeType":"application/vnd.google-apps.folder"}`)))
	req.Header.Set("Content-Type", "application/json")
	resp, err := e.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	folder, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("creating a folder: %s %s", resp.Status, folder)
	}
	folderFile, err := decodeFile(folder)
	if err != nil {
		t.Fatal(err)
	}
	f, err := u.Upload(t.Context(), FileMeta{Name: "note.txt", MimeType: "text/plain", Parents: []string{folderFile.ID}},
		Source{Reader: bytes.NewReader([]byte("hello")), Size: 5}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Parents) != 1 || f.Parents[0] != folderFile.ID || f.MimeType != "text/plain" {
		t.Fatalf("file %+v, want it in %s", f, folderFile.ID)
	}
}

// Two 503s and a dropped connection: one file, the right bytes, and the
// bytes before the drop are not sent again.
func TestEmulator_ErrorsAndDropMakeOneFile(t *testing.T) {
	for _, src := range sources {
		t.Run(src.name, func(t *testing.T) {
			e := newEmulated(t)
			e.emu.InjectFault(googleemu.Fault{Method: "PUT", PathPrefix: uploadPath, DropAfterBytes: 5 << 20})
			e.emu.InjectFault(googleemu.Fault{Method: "PUT", PathPrefix: uploadPath, Status: 503, RetryAfter: time.Second, Times: 2})
			u, sl := e.uploader()
			f, err := u.Upload(t.Context(), FileMeta{Name: "a.bin"}, src.make(emuData), nil)
			if err != nil {
				t.Fatal(err)
			}
			e.wantOneFile(t, f, emuData)
			if got := e.received(); got > emuSize*3/2 {
				t.Fatalf("sent %d bytes for %d", got, emuSize)
			}
			t.Logf("sent %.2f× the file", float64(e.received())/emuSize)
			if ds := sl.all(); len(ds) != 3 || ds[1] != time.Second || ds[2] != time.Second {
				t.Fatalf("waits %v, want a backoff then the two 1s Retry-Afters", ds)
			}
		})
	}
}

// The 503s come first, on requests that carry data. Drive answers them
// without reading the body; the uploader stops sending when the answer
// arrives, so little is wasted.
func TestEmulator_ErrorsBeforeAnyByteMakeOneFile(t *testing.T) {
	for _, src := range sources {
		t.Run(src.name, func(t *testing.T) {
			e := newEmulated(t)
			e.emu.InjectFault(googleemu.Fault{Method: "PUT", PathPrefix: uploadPath, Status: 503, RetryAfter: time.Second, Times: 2})
			e.emu.InjectFault(googleemu.Fault{Method: "PUT", PathPrefix: uploadPath, DropAfterBytes: 5 << 20})
			u, _ := e.uploader()
			f, err := u.Upload(t.Context(), FileMeta{Name: "a.bin"}, src.make(emuData), nil)
			if err != nil {
				t.Fatal(err)
			}
			e.wantOneFile(t, f, emuData)
			if got := e.received(); got > emuSize*3/2 {
				t.Fatalf("sent %d bytes for %d", got, emuSize)
			}
			t.Logf("sent %.2f× the file", float64(e.received())/emuSize)
		})
	}
}

// Drive forgets the session (404) after a drop: a new session, one file.
func TestEmulator_LostSessionStartsOver(t *testing.T) {
	for _, src := range sources {
		t.Run(src.name, func(t *testing.T) {
			e := newEmulated(t)
			e.emu.InjectFault(googleemu.Fault{Method: "PUT", PathPrefix: uploadPath, DropAfterBytes: 5 << 20})
			e.emu.InjectFault(googleemu.Fault{Method: "PUT", PathPrefix: uploadPath, Status: 404})
			u, _ := e.uploader()
			f, err := u.Upload(t.Context(), FileMeta{Name: "a.bin"}, src.make(emuData), nil)
			if err != nil {
				t.Fatal(err)
			}
			e.wantOneFile(t, f, emuData)
		})
	}
	t.Run("ReaderPastItsBuffer", func(t *testing.T) {
		e := newEmulated(t)
		e.emu.InjectFault(googleemu.Fault{Method: "PUT", PathPrefix: uploadPath, Times: 2}) // two chunks pass (Latency 0, no status: a no-op)
		e.emu.InjectFault(googleemu.Fault{Method: "PUT", PathPrefix: uploadPath, Status: 404})
		u, _ := e.uploader()
		_, err := u.Upload(t.Context(), FileMeta{Name: "a.bin"}, Source{Reader: bytes.NewReader(emuData), Size: -1}, nil)
		if !errors.Is(err, ErrCannotResume) {
			t.Fatalf("err %v, want ErrCannotResume", err)
		}
		if n := len(e.emu.Files()); n != 0 {
			t.Fatalf("%d files were created", n)
		}
	})
}

// The final request reaches Drive, which creates the file, but the answer
// is lost. The status query returns the file; no second file appears.
func TestEmulator_LostFinalResponseMakesOneFile(t *testing.T) {
	for _, tc := range []struct {
		name      string
		src       Source
		lastChunk int64
	}{
		{"ReaderAt", Source{ReaderAt: bytes.NewReader(emuData), Size: emuSize}, emuSize},
		{"Reader", Source{Reader: bytes.NewReader(emuData), Size: emuSize}, 4 << 20},
		{"ReaderUnknownSize", Source{Reader: bytes.NewReader(emuData), Size: -1}, 4 << 20},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEmulated(t)
			if tc.lastChunk != emuSize {
				// Let the 8 MiB chunks through; drop after the whole last one.
				e.emu.InjectFault(googleemu.Fault{Method: "PUT", PathPrefix: uploadPath, Times: 2})
			}
			e.emu.InjectFault(googleemu.Fault{Method: "PUT", PathPrefix: uploadPath, DropAfterBytes: tc.lastChunk})
			u, sl := e.uploader()
			f, err := u.Upload(t.Context(), FileMeta{Name: "a.bin"}, tc.src, nil)
			if err != nil {
				t.Fatal(err)
			}
			e.wantOneFile(t, f, emuData)
			e.wantContentSentOnce(t, emuSize)
			if len(sl.all()) != 1 {
				t.Fatalf("waits %v, want one before the status query", sl.all())
			}
		})
	}
}

// Cancelling stops an upload waiting on a Drive that stopped answering.
func TestEmulator_CancelStopsPromptly(t *testing.T) {
	e := newEmulated(t)
	// The drop makes the uploader ask for the session's status; that query
	// (an empty PUT, so the emulator notices the client leave) hangs.
	e.emu.InjectFault(googleemu.Fault{Method: "PUT", PathPrefix: uploadPath, DropAfterBytes: 5 << 20})
	e.emu.InjectFault(googleemu.Fault{Method: "PUT", PathPrefix: uploadPath, Latency: time.Minute})
	u, _ := e.uploader()
	ctx, cancel := context.WithTimeout(t.Context(), 500*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := u.Upload(ctx, FileMeta{Name: "a.bin"}, Source{ReaderAt: bytes.NewReader(emuData), Size: emuSize}, nil)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err %v, want context.DeadlineExceeded", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("took %v to stop", d)
	}
	if n := len(e.emu.Files()); n != 0 {
		t.Fatalf("%d files were created", n)
	}
}

func TestEmulator_EmptyFile(t *testing.T) {
	for _, src := range sources {
		t.Run(src.name, func(t *testing.T) {
			e := newEmulated(t)
			u, _ := e.uploader()
			f, err := u.Upload(t.Context(), FileMeta{Name: "empty.txt", MimeType: "text/plain"}, src.make(nil), nil)
			if err != nil {
				t.Fatal(err)
			}
			e.wantOneFile(t, f, nil)
		})
	}
}

func TestEmulator_PermanentErrorIsAnAPIError(t *testing.T) {
	e := newEmulated(t)
	e.emu.InjectFault(googleemu.Fault{Method: "POST", PathPrefix: uploadPath, Status: 403, Reason: "storageQuotaExceeded"})
	u, sl := e.uploader()
	_, err := u.Upload(t.Context(), FileMeta{Name: "a"}, Source{Reader: bytes.NewReader([]byte("x")), Size: 1}, nil)
	var api *APIError
	if !errors.As(err, &api) || api.Status != 403 || api.Reason != "storageQuotaExceeded" {
		t.Fatalf("err %v, want a 403 storageQuotaExceeded *APIError", err)
	}
	if len(sl.all()) != 0 {
		t.Fatalf("retried: waits %v", sl.all())
	}
}

// Memory stays flat: a ReaderAt upload buffers nothing, a Reader upload
// one chunk, however large the file.
func TestEmulator_MemoryDoesNotGrowWithFileSize(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("allocation counts are not meaningful under -race")
	}
	for _, tc := range []struct {
		src   source
		limit uint64
	}{
		{sources[0], 4 << 20},
		{sources[2], 8<<20 + 4<<20},
	} {
		t.Run(tc.src.name, func(t *testing.T) {
			e := newEmulated(t)
			u, _ := e.uploader()
			chunkPool = sync.Pool{} // count the chunk buffer, too
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			if _, err := u.Upload(t.Context(), FileMeta{Name: "a"}, tc.src.make(emuData), nil); err != nil {
				t.Fatal(err)
			}
			runtime.ReadMemStats(&after)
			// TotalAlloc includes the emulator, which runs in this process.
			alloc := after.TotalAlloc - before.TotalAlloc
			t.Logf("allocated %d KiB (client and emulator) for a %d MiB upload", alloc>>10, emuSize>>20)
			if alloc > tc.limit {
				t.Fatalf("allocated %d bytes for a %d-byte upload, limit %d", alloc, emuSize, tc.limit)
			}
		})
	}
}
