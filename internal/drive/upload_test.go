package drive

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

func randomBytes(n int, seed uint64) []byte {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	b := make([]byte, n)
	for i := 0; i+8 <= n; i += 8 {
		v := rng.Uint64()
		for j := range 8 {
			b[i+j] = byte(v >> (8 * j))
		}
	}
	for i := n &^ 7; i < n; i++ {
		b[i] = byte(rng.Uint32())
	}
	return b
}

func md5hex(b []byte) string {
	s := md5.Sum(b)
	return hex.EncodeToString(s[:])
}

// sleeps records the waits an upload asked for, without waiting.
type sleeps struct {
	mu sync.Mutex
	ds []time.Duration
}

func (s *sleeps) sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	s.ds = append(s.ds, d)
	s.mu.Unlock()
	return ctx.Err()
}

func (s *sleeps) all() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.ds)
}

// progressLog checks the Progress contract as calls arrive.
type progressLog struct {
	t     *testing.T
	mu    sync.Mutex
	calls [][2]int64
}

func (p *progressLog) fn(sent, total int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if n := len(p.calls); n > 0 && sent < p.calls[n-1][0] {
		p.t.Errorf("progress went backwards: %d after %d", sent, p.calls[n-1][0])
	}
	p.calls = append(p.calls, [2]int64{sent, total})
}

func (p *progressLog) last() [2]int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.calls) == 0 {
		return [2]int64{-1, -1}
	}
	return p.calls[len(p.calls)-1]
}

func newTestUploader(endpoint string, client *http.Client) (*Uploader, *sleeps) {
	s := &sleeps{}
	return &Uploader{
		Client:    client,
		Endpoint:  endpoint,
		ChunkSize: ChunkAlign,
		Backoff:   func(attempt int) time.Duration { return time.Duration(attempt) * time.Millisecond },
		Sleep:     s.sleep,
		// These tests are about the resumable protocol; multipart.go's
		// tests cover the one-request path.
		Cutoff: -1,
	}, s
}

// source is the two ways to hand the same bytes to Upload.
type source struct {
	name string
	make func(data []byte) Source
}

var sources = []source{
	{"ReaderAt", func(b []byte) Source { return Source{ReaderAt: bytes.NewReader(b), Size: int64(len(b))} }},
	{"Reader", func(b []byte) Source { return Source{Reader: bytes.NewReader(b), Size: int64(len(b))} }},
	{"ReaderUnknownSize", func(b []byte) Source { return Source{Reader: bytes.NewReader(b), Size: -1} }},
}

// wantOneFile checks that the fake holds exactly one file with data in it,
// and that Upload described it.
func wantOneFile(t *testing.T, fd *fakeDrive, got File, data []byte) {
	t.Helper()
	files := fd.Files()
	if len(files) != 1 {
		t.Fatalf("Drive has %d files, want 1", len(files))
	}
	if !bytes.Equal(files[0].Data, data) {
		t.Fatalf("Drive's file has %d bytes (md5 %s), want %d (md5 %s)",
			len(files[0].Data), md5hex(files[0].Data), len(data), md5hex(data))
	}
	if got.ID != files[0].ID || got.MD5 != md5hex(data) || got.Size != int64(len(data)) {
		t.Fatalf("Upload returned %+v, want id %s, md5 %s, size %d", got, files[0].ID, md5hex(data), len(data))
	}
}

func TestUpload_SendsMetadataAndContent(t *testing.T) {
	data := randomBytes(3<<20+123, 1)
	for _, src := range sources {
		t.Run(src.name, func(t *testing.T) {
			fd := newFakeDrive(t)
			u, sl := newTestUploader(fd.srv.URL, fd.srv.Client())
			p := &progressLog{t: t}
			meta := FileMeta{Name: "report.bin", MimeType: "application/octet-stream", Description: "d", Parents: []string{"folder1"}}
			f, err := u.Upload(t.Context(), meta, src.make(data), p.fn)
			if err != nil {
				t.Fatal(err)
			}
			wantOneFile(t, fd, f, data)
			if f.Name != "report.bin" || !slices.Equal(f.Parents, []string{"folder1"}) || f.WebViewLink == "" {
				t.Fatalf("file %+v", f)
			}
			if got := fd.Files()[0].Meta; got.Description != "d" || got.MimeType != "application/octet-stream" {
				t.Fatalf("metadata sent %+v", got)
			}
			create := fd.creates[0]
			q := create.URL.Query()
			if q.Get("supportsAllDrives") != "true" || q.Get("fields") != fileFields {
				t.Fatalf("initiation query %v", q)
			}
			if create.Header.Get("X-Upload-Content-Type") != "application/octet-stream" {
				t.Fatalf("X-Upload-Content-Type %q", create.Header.Get("X-Upload-Content-Type"))
			}
			wantLen := fmt.Sprint(len(data))
			if src.name == "ReaderUnknownSize" {
				wantLen = ""
			}
			if got := create.Header.Get("X-Upload-Content-Length"); got != wantLen {
				t.Fatalf("X-Upload-Content-Length %q, want %q", got, wantLen)
			}
			if fd.Received() != int64(len(data)) {
				t.Fatalf("sent %d bytes for a %d-byte file", fd.Received(), len(data))
			}
			if last := p.last(); last != [2]int64{int64(len(data)), int64(len(data))} {
				t.Fatalf("last progress %v", last)
			}
			if len(sl.all()) != 0 {
				t.Fatalf("slept %v on a clean network", sl.all())
			}
		})
	}
}

func TestUpload_ReaderAtIsOneRequest(t *testing.T) {
	fd := newFakeDrive(t)
	u, _ := newTestUploader(fd.srv.URL, fd.srv.Client())
	data := randomBytes(2<<20, 2)
	if _, err := u.Upload(t.Context(), FileMeta{Name: "a"}, Source{ReaderAt: bytes.NewReader(data), Size: int64(len(data))}, nil); err != nil {
		t.Fatal(err)
	}
	if got, want := fd.Puts(), []string{"bytes 0-2097151/2097152"}; !slices.Equal(got, want) {
		t.Fatalf("PUTs %q, want %q", got, want)
	}
}

func TestUpload_ReaderIsChunked(t *testing.T) {
	data := randomBytes(2*ChunkAlign+10, 3)
	for _, tc := range []struct {
		size int64
		want []string
	}{
		{-1, []string{"bytes 0-262143/*", "bytes 262144-524287/*", "bytes 524288-524297/524298"}},
		{int64(len(data)), []string{"bytes 0-262143/524298", "bytes 262144-524287/524298", "bytes 524288-524297/524298"}},
	} {
		t.Run(fmt.Sprint("size=", tc.size), func(t *testing.T) {
			fd := newFakeDrive(t)
			u, _ := newTestUploader(fd.srv.URL, fd.srv.Client())
			f, err := u.Upload(t.Context(), FileMeta{Name: "a"}, Source{Reader: bytes.NewReader(data), Size: tc.size}, nil)
			if err != nil {
				t.Fatal(err)
			}
			wantOneFile(t, fd, f, data)
			if got := fd.Puts(); !slices.Equal(got, tc.want) {
				t.Fatalf("PUTs %q, want %q", got, tc.want)
			}
		})
	}
}

func TestUpload_EmptyFile(t *testing.T) {
	for _, src := range sources {
		t.Run(src.name, func(t *testing.T) {
			fd := newFakeDrive(t)
			u, _ := newTestUploader(fd.srv.URL, fd.srv.Client())
			p := &progressLog{t: t}
			f, err := u.Upload(t.Context(), FileMeta{Name: "empty"}, src.make(nil), p.fn)
			if err != nil {
				t.Fatal(err)
			}
			wantOneFile(t, fd, f, nil)
			if got := fd.Puts(); !slices.Equal(got, []string{"bytes */0"}) {
				t.Fatalf("PUTs %q, want one bytes */0", got)
			}
			if p.last() != [2]int64{0, 0} {
				t.Fatalf("last progress %v", p.last())
			}
		})
	}
}

// The network fails three ways in one upload; Drive still ends up with one
// file holding the right bytes, and little is sent twice.
func TestUpload_ResumesAfterErrorsAndDroppedConnection(t *testing.T) {
	data := randomBytes(3<<20, 4)
	for _, src := range sources {
		t.Run(src.name, func(t *testing.T) {
			fd := newFakeDrive(t)
			fd.inject(fakeFault{match: isPut, status: 503, retryAfter: "3"})
			fd.inject(fakeFault{match: isPut, status: 503})
			fd.inject(fakeFault{match: isPut, dropAfter: 600 << 10})
			u, sl := newTestUploader(fd.srv.URL, fd.srv.Client())
			p := &progressLog{t: t}
			f, err := u.Upload(t.Context(), FileMeta{Name: "a"}, src.make(data), p.fn)
			if err != nil {
				t.Fatal(err)
			}
			wantOneFile(t, fd, f, data)
			if fd.Initiated() != 1 {
				t.Fatalf("%d sessions, want 1", fd.Initiated())
			}
			if got := fd.Received(); got > int64(len(data))*3/2 {
				t.Fatalf("Drive read %d bytes for a %d-byte file", got, len(data))
			}
			if ds := sl.all(); len(ds) != 3 || ds[0] != 3*time.Second {
				t.Fatalf("waits %v, want 3 starting with the 3s Retry-After", ds)
			}
			if p.last() != [2]int64{int64(len(data)), int64(len(data))} {
				t.Fatalf("last progress %v", p.last())
			}
			// After the drop the uploader asked where to resume.
			if !slices.Contains(fd.Puts(), "bytes */"+totalFor(src, data)) {
				t.Fatalf("no status query among %q", fd.Puts())
			}
		})
	}
}

func totalFor(src source, data []byte) string {
	if src.name == "ReaderUnknownSize" {
		return "*"
	}
	return fmt.Sprint(len(data))
}

// The last PUT reaches Drive, which creates the file, but its answer is
// lost. The status query finds the file; there must not be a second one.
func TestUpload_LostFinalResponseMakesOneFile(t *testing.T) {
	data := randomBytes(700<<10, 5)
	for _, src := range sources {
		t.Run(src.name, func(t *testing.T) {
			fd := newFakeDrive(t)
			fd.inject(fakeFault{match: finalPut, loseReply: true})
			u, sl := newTestUploader(fd.srv.URL, fd.srv.Client())
			f, err := u.Upload(t.Context(), FileMeta{Name: "a"}, src.make(data), nil)
			if err != nil {
				t.Fatal(err)
			}
			wantOneFile(t, fd, f, data)
			if fd.Initiated() != 1 || len(sl.all()) != 1 {
				t.Fatalf("%d sessions, %d waits; want 1 and 1", fd.Initiated(), len(sl.all()))
			}
		})
	}
}

// Drive forgets the session mid-upload (404). A source that can replay its
// bytes starts a new session; Drive still ends up with one file.
func TestUpload_ExpiredSessionStartsOver(t *testing.T) {
	data := randomBytes(700<<10, 6)
	t.Run("ReaderAt", func(t *testing.T) {
		fd := newFakeDrive(t)
		fd.inject(fakeFault{match: isPut, dropAfter: 300 << 10})
		fd.inject(fakeFault{match: isQuery, expire: true})
		u, _ := newTestUploader(fd.srv.URL, fd.srv.Client())
		f, err := u.Upload(t.Context(), FileMeta{Name: "a"}, Source{ReaderAt: bytes.NewReader(data), Size: int64(len(data))}, nil)
		if err != nil {
			t.Fatal(err)
		}
		wantOneFile(t, fd, f, data)
		if fd.Initiated() != 2 {
			t.Fatalf("%d sessions, want 2", fd.Initiated())
		}
	})
	t.Run("ReaderStillInFirstChunk", func(t *testing.T) {
		fd := newFakeDrive(t)
		fd.inject(fakeFault{match: isPut, expire: true})
		u, _ := newTestUploader(fd.srv.URL, fd.srv.Client())
		u.ChunkSize = 1 << 20
		f, err := u.Upload(t.Context(), FileMeta{Name: "a"}, Source{Reader: bytes.NewReader(data), Size: -1}, nil)
		if err != nil {
			t.Fatal(err)
		}
		wantOneFile(t, fd, f, data)
	})
	t.Run("ReaderPastFirstChunk", func(t *testing.T) {
		fd := newFakeDrive(t)
		fd.inject(fakeFault{match: func(r *http.Request) bool {
			return isPut(r) && strings.HasPrefix(r.Header.Get("Content-Range"), "bytes 524288-")
		}, expire: true})
		u, _ := newTestUploader(fd.srv.URL, fd.srv.Client())
		_, err := u.Upload(t.Context(), FileMeta{Name: "a"}, Source{Reader: bytes.NewReader(data), Size: -1}, nil)
		if !errors.Is(err, ErrCannotResume) {
			t.Fatalf("err %v, want ErrCannotResume", err)
		}
		var api *APIError
		if !errors.As(err, &api) || api.Status != 404 {
			t.Fatalf("err %v does not carry Drive's 404", err)
		}
		if len(fd.Files()) != 0 {
			t.Fatal("a file was created")
		}
	})
}

// Without X-GUploader-No-308 support a server answers a real 308, with a
// Location even; it means "incomplete", not "go there".
func TestUpload_Real308IsNotARedirect(t *testing.T) {
	fd := newFakeDrive(t)
	fd.real308 = true
	u, _ := newTestUploader(fd.srv.URL, fd.srv.Client())
	data := randomBytes(600<<10, 7)
	f, err := u.Upload(t.Context(), FileMeta{Name: "a"}, Source{Reader: bytes.NewReader(data), Size: -1}, nil)
	if err != nil {
		t.Fatal(err)
	}
	wantOneFile(t, fd, f, data)
}

func TestUpload_ChecksumMismatch(t *testing.T) {
	fd := newFakeDrive(t)
	fd.md5Override = "00000000000000000000000000000000"
	u, _ := newTestUploader(fd.srv.URL, fd.srv.Client())
	data := randomBytes(1000, 8)
	f, err := u.Upload(t.Context(), FileMeta{Name: "a"}, Source{ReaderAt: bytes.NewReader(data), Size: int64(len(data))}, nil)
	if !errors.Is(err, ErrChecksumMismatch) {
		t.Fatalf("err %v, want ErrChecksumMismatch", err)
	}
	if !strings.Contains(err.Error(), md5hex(data)) || !strings.Contains(err.Error(), fd.md5Override) {
		t.Fatalf("error %q does not name both sums", err)
	}
	if f.ID == "" {
		t.Fatal("the file Drive created was not returned")
	}
}

func TestUpload_PermanentErrorsAreNotRetried(t *testing.T) {
	for _, tc := range []struct {
		name  string
		fault fakeFault
	}{
		{"initiation 403", fakeFault{match: isPost, status: 403, body: `{"error":{"code":403,"message":"The user's Drive storage quota has been exceeded.","errors":[{"reason":"storageQuotaExceeded"}]}}`}},
		{"chunk 400", fakeFault{match: isPut, status: 400, body: `{"error":{"code":400,"message":"Bad Request","errors":[{"reason":"badRequest"}]}}`}},
		// One 401 is answered by a refresh (see below); a second in a row
		// means the refreshed token is refused too.
		{"query 401 twice", fakeFault{match: isQuery, status: 401, body: `{"error":{"code":401,"message":"Invalid Credentials","errors":[{"reason":"authError"}]}}`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fd := newFakeDrive(t)
			if tc.name == "query 401 twice" {
				fd.inject(fakeFault{match: isPut, status: 500})
				fd.inject(tc.fault)
			}
			fd.inject(tc.fault)
			u, sl := newTestUploader(fd.srv.URL, fd.srv.Client())
			data := randomBytes(1000, 9)
			_, err := u.Upload(t.Context(), FileMeta{Name: "a"}, Source{ReaderAt: bytes.NewReader(data), Size: int64(len(data))}, nil)
			var api *APIError
			if !errors.As(err, &api) || api.Status != tc.fault.status || api.Reason == "" || api.Message == "" {
				t.Fatalf("err %v (%#v), want an *APIError %d with reason and message", err, api, tc.fault.status)
			}
			if tc.name != "query 401 twice" && len(sl.all()) != 0 {
				t.Fatalf("retried a permanent error: waits %v", sl.all())
			}
			if len(fd.Files()) != 0 {
				t.Fatal("a file was created")
			}
		})
	}
}

func TestUpload_GivesUpAfterMaxAttemptsWithoutProgress(t *testing.T) {
	fd := newFakeDrive(t)
	for range 10 {
		fd.inject(fakeFault{status: 503})
	}
	u, sl := newTestUploader(fd.srv.URL, fd.srv.Client())
	u.MaxAttempts = 4
	_, err := u.Upload(t.Context(), FileMeta{Name: "a"}, Source{Reader: strings.NewReader("hello"), Size: 5}, nil)
	var api *APIError
	if !errors.As(err, &api) || api.Status != 503 {
		t.Fatalf("err %v, want the last 503", err)
	}
	if got := len(sl.all()); got != 3 {
		t.Fatalf("waited %d times, want 3 (4 attempts)", got)
	}
	// Backoff is asked with the count of failures so far.
	if ds := sl.all(); !slices.Equal(ds, []time.Duration{time.Millisecond, 2 * time.Millisecond, 3 * time.Millisecond}) {
		t.Fatalf("waits %v", ds)
	}
}

// Failures interleaved with progress never exhaust the attempts: the
// count starts over whenever Drive confirms more bytes.
func TestUpload_ProgressResetsTheAttemptCount(t *testing.T) {
	fd := newFakeDrive(t)
	for range 6 {
		fd.inject(fakeFault{match: isPut, dropAfter: 300 << 10})
	}
	u, _ := newTestUploader(fd.srv.URL, fd.srv.Client())
	u.MaxAttempts = 2
	data := randomBytes(2<<20, 10)
	f, err := u.Upload(t.Context(), FileMeta{Name: "a"}, Source{ReaderAt: bytes.NewReader(data), Size: int64(len(data))}, nil)
	if err != nil {
		t.Fatal(err)
	}
	wantOneFile(t, fd, f, data)
}

func TestUpload_RetryAfterDateOnQuery(t *testing.T) {
	fd := newFakeDrive(t)
	fd.inject(fakeFault{match: isPut, status: 500})
	fd.inject(fakeFault{match: isQuery, status: 429, retryAfter: time.Now().Add(time.Minute).UTC().Format(http.TimeFormat)})
	u, sl := newTestUploader(fd.srv.URL, fd.srv.Client())
	data := randomBytes(1000, 11)
	f, err := u.Upload(t.Context(), FileMeta{Name: "a"}, Source{ReaderAt: bytes.NewReader(data), Size: int64(len(data))}, nil)
	if err != nil {
		t.Fatal(err)
	}
	wantOneFile(t, fd, f, data)
	ds := sl.all()
	if len(ds) != 2 || ds[1] < 55*time.Second || ds[1] > time.Minute {
		t.Fatalf("waits %v, want the second near one minute", ds)
	}
}

// A file that shrinks or grows mid-upload must fail before Drive has the
// last byte: a file already created cannot be taken back.
func TestUpload_SourceChangedSize(t *testing.T) {
	data := randomBytes(600<<10, 12)
	for _, tc := range []struct {
		name string
		src  Source
	}{
		{"ReaderAt shrank", Source{ReaderAt: bytes.NewReader(data[:len(data)-100]), Size: int64(len(data))}},
		{"ReaderAt grew", Source{ReaderAt: bytes.NewReader(data), Size: int64(len(data)) - 100}},
		{"Reader shorter", Source{Reader: bytes.NewReader(data[:len(data)-100]), Size: int64(len(data))}},
		{"Reader longer", Source{Reader: bytes.NewReader(data), Size: int64(len(data)) - 100}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fd := newFakeDrive(t)
			u, sl := newTestUploader(fd.srv.URL, fd.srv.Client())
			_, err := u.Upload(t.Context(), FileMeta{Name: "a"}, tc.src, nil)
			if !errors.Is(err, ErrSourceChanged) {
				t.Fatalf("err %v, want ErrSourceChanged", err)
			}
			if len(fd.Files()) != 0 {
				t.Fatal("a file was created")
			}
			if len(sl.all()) != 0 {
				t.Fatalf("retried: waits %v", sl.all())
			}
		})
	}
}

// Cancelling stops an upload stuck on a network that stopped moving, and
// one waiting out a long Retry-After.
func TestUpload_CancelStopsPromptly(t *testing.T) {
	t.Run("stalled transfer", func(t *testing.T) {
		fd := newFakeDrive(t)
		stalled := make(chan struct{})
		fd.inject(fakeFault{match: isPut, stallAfter: 300 << 10, stalled: stalled})
		u, _ := newTestUploader(fd.srv.URL, fd.srv.Client())
		data := randomBytes(16<<20, 13)
		ctx, cancel := contextWithCancel(t)
		go func() { <-stalled; cancel() }()
		start := time.Now()
		_, err := u.Upload(ctx, FileMeta{Name: "a"}, Source{ReaderAt: bytes.NewReader(data), Size: int64(len(data))}, nil)
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("err %v, want context.Canceled", err)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Fatalf("took %v to stop", d)
		}
	})
	t.Run("during backoff", func(t *testing.T) {
		fd := newFakeDrive(t)
		fd.inject(fakeFault{match: isPut, status: 503, retryAfter: "2"})
		u, _ := newTestUploader(fd.srv.URL, fd.srv.Client())
		u.Sleep = nil // the real one
		ctx, cancel := contextWithCancel(t)
		u.Waiting = func(time.Duration) { cancel() }
		start := time.Now()
		_, err := u.Upload(ctx, FileMeta{Name: "a"}, Source{Reader: strings.NewReader("x"), Size: 1}, nil)
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("err %v, want context.Canceled", err)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Fatalf("took %v to stop", d)
		}
	})
}

func TestUpload_RejectsBadInput(t *testing.T) {
	u := &Uploader{Endpoint: "http://127.0.0.1:1"}
	for name, tc := range map[string]struct {
		u   *Uploader
		src Source
	}{
		"no reader":             {u, Source{Size: 3}},
		"ReaderAt without size": {u, Source{ReaderAt: strings.NewReader("abc"), Size: -1}},
		"unaligned chunk":       {&Uploader{ChunkSize: 1000}, Source{Reader: strings.NewReader("abc"), Size: 3}},
	} {
		if _, err := tc.u.Upload(t.Context(), FileMeta{Name: "a"}, tc.src, nil); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// A connection that stops moving in the middle of the file (Drive stopped
// reading, a middlebox dropped the flow silently) is abandoned after
// StallTimeout and the upload resumes: there is no overall timeout to
// catch it, as one request carries the whole file.
func TestUpload_StalledConnectionIsAbandonedAndResumed(t *testing.T) {
	fd := newFakeDrive(t)
	stalled := make(chan struct{})
	fd.inject(fakeFault{match: isPut, stallAfter: 300 << 10, stalled: stalled})
	u, _ := newTestUploader(fd.srv.URL, fd.srv.Client())
	u.StallTimeout = 400 * time.Millisecond
	data := randomBytes(4<<20, 14)
	start := time.Now()
	f, err := u.Upload(t.Context(), FileMeta{Name: "a"}, Source{ReaderAt: bytes.NewReader(data), Size: int64(len(data))}, nil)
	if err != nil {
		t.Fatal(err)
	}
	wantOneFile(t, fd, f, data)
	select {
	case <-stalled:
	default:
		t.Fatal("the stalling fault was never hit")
	}
	if f.Retries < 1 {
		t.Fatalf("retries %d: the stalled attempt was not counted", f.Retries)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Fatalf("took %v with a 400 ms stall timeout", d)
	}
}

// A slow but moving transfer is not a stall: each byte handed over pushes
// the deadline back.
func TestUpload_SlowTransferIsNotAStall(t *testing.T) {
	fd := newFakeDrive(t)
	u, sl := newTestUploader(fd.srv.URL, fd.srv.Client())
	u.StallTimeout = 600 * time.Millisecond
	data := randomBytes(1<<20, 15)
	// 16 reads 80 ms apart: twice the stall timeout in all.
	src := &slowReaderAt{r: bytes.NewReader(data), pause: 80 * time.Millisecond, chunk: 64 << 10}
	f, err := u.Upload(t.Context(), FileMeta{Name: "a"}, Source{ReaderAt: src, Size: int64(len(data))}, nil)
	if err != nil {
		t.Fatal(err)
	}
	wantOneFile(t, fd, f, data)
	if len(sl.all()) != 0 {
		t.Fatalf("a transfer of 16 reads 80 ms apart was abandoned: waits %v", sl.all())
	}
}

// slowReaderAt hands out at most chunk bytes per read, after a pause.
type slowReaderAt struct {
	r     io.ReaderAt
	pause time.Duration
	chunk int
}

func (s *slowReaderAt) ReadAt(p []byte, off int64) (int, error) {
	time.Sleep(s.pause)
	if len(p) > s.chunk {
		p = p[:s.chunk]
	}
	return s.r.ReadAt(p, off)
}

// permanentErr is an error a transport says will not heal.
type permanentErr struct{}

func (permanentErr) Error() string   { return "the grant needs consent again" }
func (permanentErr) Permanent() bool { return true }

// An error the client's transport marks permanent (the Google account
// transport does for a grant that needs consent again) fails the upload at
// once; other transport errors are still retried.
func TestUpload_PermanentTransportErrorIsNotRetried(t *testing.T) {
	for _, tc := range []struct {
		name    string
		err     error
		retried bool
	}{
		{"permanent", permanentErr{}, false},
		{"network", errors.New("connection reset by peer"), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fd := newFakeDrive(t)
			calls := 0
			client := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
				calls++
				if calls == 1 {
					return nil, tc.err
				}
				return http.DefaultTransport.RoundTrip(r)
			})}
			u, sl := newTestUploader(fd.srv.URL, client)
			_, err := u.Upload(t.Context(), FileMeta{Name: "a"}, Source{Reader: strings.NewReader("x"), Size: 1}, nil)
			if retried := len(sl.all()) > 0; retried != tc.retried {
				t.Fatalf("retried = %v (err %v), want %v", retried, err, tc.retried)
			}
			if !tc.retried && !errors.Is(err, tc.err) {
				t.Fatalf("err %v, want the transport's", err)
			}
			if tc.retried && err != nil {
				t.Fatalf("err %v after a retry", err)
			}
		})
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// Google answers 401 on a session request whose access token died during
// the upload. The account's transport then refreshes; the uploader asks the
// session what it kept, once, and finishes the same upload.
func TestUpload_Google401OnSessionChunkIsQueriedOnceWithFreshTokenAndResumed(t *testing.T) {
	fd := newFakeDrive(t)
	laterChunk := func(r *http.Request) bool {
		return isPut(r) && !strings.HasPrefix(r.Header.Get("Content-Range"), "bytes 0-")
	}
	fd.inject(fakeFault{match: laterChunk, status: 401, body: `{"error":{"code":401,"message":"Invalid Credentials","errors":[{"reason":"authError"}]}}`})
	u, _ := newTestUploader(fd.srv.URL, fd.srv.Client())
	u.ChunkSize = ChunkAlign
	data := randomBytes(3*ChunkAlign+100, 10)
	f, err := u.Upload(t.Context(), FileMeta{Name: "a"}, Source{Reader: bytes.NewReader(data), Size: int64(len(data))}, nil)
	if err != nil {
		t.Fatalf("upload after one 401: %v", err)
	}
	wantOneFile(t, fd, f, data)
}
