package drive

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"io"
	"math/rand/v2"
	"net/http"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"golang.org/x/oauth2"
)

func TestParseRange(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    int64
		wantErr bool
	}{
		{"", 0, false},
		{"bytes=0-0", 1, false},
		{"bytes=0-262143", 262144, false},
		{" bytes=0-5242879 ", 5 << 20, false},
		{"bytes=1-5", 0, true},
		{"bytes=0-", 0, true},
		{"0-5", 0, true},
		{"bytes=0-x", 0, true},
		{"bytes=0--3", 0, true},
		{"bytes=0-9223372036854775807", 0, true},
	} {
		got, err := parseRange(tc.in)
		if (err != nil) != tc.wantErr || got != tc.want {
			t.Errorf("parseRange(%q) = %d, %v; want %d, err=%v", tc.in, got, err, tc.want, tc.wantErr)
		}
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, tc := range []struct {
		in     string
		want   time.Duration
		wantOK bool
	}{
		{"", 0, false},
		{"0", 0, true},
		{"7", 7 * time.Second, true},
		{" 12 ", 12 * time.Second, true},
		{"-1", 0, false},
		{"soon", 0, false},
		{"99999999999", maxRetryAfter, true},
		{now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second, true},
		{now.Add(-time.Hour).Format(http.TimeFormat), 0, true},
		{now.Add(24 * time.Hour).Format(http.TimeFormat), maxRetryAfter, true},
	} {
		got, ok := parseRetryAfter(tc.in, now)
		if ok != tc.wantOK || got != tc.want {
			t.Errorf("parseRetryAfter(%q) = %v, %v; want %v, %v", tc.in, got, ok, tc.want, tc.wantOK)
		}
	}
}

func TestFullJitterBounds(t *testing.T) {
	highest := func(n int64) int64 { return n - 1 }
	lowest := func(int64) int64 { return 0 }
	for _, tc := range []struct {
		attempt int
		ceiling time.Duration
	}{
		// Google's schedule: 1, 2, 4, 8, 16, 32 s, then 32 s on.
		{0, time.Second},
		{1, time.Second},
		{2, 2 * time.Second},
		{3, 4 * time.Second},
		{6, 32 * time.Second},
		{7, 32 * time.Second},
		{63, 32 * time.Second},
		{1 << 30, 32 * time.Second},
	} {
		if got := fullJitter(tc.attempt, backoffBase, backoffCap, highest); got != tc.ceiling {
			t.Errorf("attempt %d: longest wait %v, want %v", tc.attempt, got, tc.ceiling)
		}
		if got := fullJitter(tc.attempt, backoffBase, backoffCap, lowest); got != 0 {
			t.Errorf("attempt %d: shortest wait %v, want 0", tc.attempt, got)
		}
	}
	for attempt := 1; attempt < 12; attempt++ {
		if d := fullJitterBackoff(attempt); d < 0 || d > backoffCap {
			t.Fatalf("attempt %d: wait %v out of [0, %v]", attempt, d, backoffCap)
		}
	}
}

func TestSleepContextStopsOnCancel(t *testing.T) {
	if err := sleepContext(t.Context(), time.Millisecond); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := contextWithCancel(t)
	cancel()
	start := time.Now()
	if err := sleepContext(ctx, time.Hour); err == nil || time.Since(start) > time.Second {
		t.Fatalf("sleep on a cancelled context: err=%v after %v", err, time.Since(start))
	}
}

// TestSourceDigestHashesEachByteOnce replays the reads of an upload that is
// resumed again and again from earlier offsets: the digest must still be
// the md5 of the source.
func TestSourceDigestHashesEachByteOnce(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	src := make([]byte, 1<<20)
	for i := range src {
		src[i] = byte(rng.Uint32())
	}
	d := newSourceDigest()
	var committed int64
	for committed < int64(len(src)) {
		off := committed
		// Send a random stretch in random-sized reads, then "lose" some of it.
		end := min(int64(len(src)), off+rng.Int64N(300<<10)+1)
		for off < end {
			n := min(end-off, rng.Int64N(40<<10)+1)
			if err := d.add(off, src[off:off+n]); err != nil {
				t.Fatal(err)
			}
			off += n
		}
		committed = committed + rng.Int64N(end-committed+1)
	}
	want := md5.Sum(src)
	if got := d.sum(); got != hex.EncodeToString(want[:]) {
		t.Fatalf("digest %s, want %x", got, want)
	}
	if d.sent() != int64(len(src)) {
		t.Fatalf("sent %d, want %d", d.sent(), len(src))
	}
	if err := d.add(int64(len(src))+1, []byte{1}); err == nil {
		t.Fatal("a read that skips bytes was accepted")
	}
}

func TestAPIErrorFromBody(t *testing.T) {
	for _, tc := range []struct {
		name                string
		status              int
		body                string
		wantReason, wantMsg string
	}{
		{"google envelope", 403,
			`{"error":{"code":403,"message":"The user's Drive storage quota has been exceeded.","errors":[{"domain":"usageLimits","reason":"storageQuotaExceeded","message":"The user's Drive storage quota has been exceeded."}]}}`,
			"storageQuotaExceeded", "The user's Drive storage quota has been exceeded."},
		{"status only", 401, `{"error":{"code":401,"message":"Request had invalid authentication credentials.","status":"UNAUTHENTICATED"}}`,
			"UNAUTHENTICATED", "Request had invalid authentication credentials."},
		{"oauth style", 401, `{"error":"invalid_token","error_description":"Token expired"}`, "invalid_token", "Token expired"},
		{"html", 502, "<html><body>Bad Gateway</body></html>", "", "<html><body>Bad Gateway</body></html>"},
		{"empty", 503, "", "", "Service Unavailable"},
		{"long text", 500, strings.Repeat("x", 1000), "", strings.Repeat("x", 200) + "…"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := apiErrorFromBody(tc.status, []byte(tc.body))
			if e.Status != tc.status || e.Reason != tc.wantReason || e.Message != tc.wantMsg {
				t.Fatalf("got %+v", e)
			}
			if !strings.Contains(e.Error(), tc.wantMsg) {
				t.Fatalf("Error() = %q lacks the message", e.Error())
			}
		})
	}
}

func TestRetryable(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{&APIError{Status: 500}, true},
		{&APIError{Status: 503}, true},
		{&APIError{Status: 429}, true},
		{&APIError{Status: 408}, true},
		{&retryAfterError{err: &APIError{Status: 429}, after: time.Second}, true},
		{&APIError{Status: 400}, false},
		{&APIError{Status: 401}, false},
		{&APIError{Status: 403}, false},
		{&APIError{Status: 403, Reason: "userRateLimitExceeded"}, true},
		{&APIError{Status: 403, Reason: "rateLimitExceeded"}, true},
		{&APIError{Status: 403, Reason: "sharingRateLimitExceeded"}, false},
		{&APIError{Status: 403, Reason: "storageQuotaExceeded"}, false},
		{&transportError{err: &oauth2.RetrieveError{Response: &http.Response{StatusCode: 503}}}, true},
		{&transportError{err: &oauth2.RetrieveError{Response: &http.Response{StatusCode: 400}, ErrorCode: "invalid_grant"}}, false},
		{&transportError{err: io.ErrUnexpectedEOF}, true},
		{io.ErrUnexpectedEOF, false},
		{ErrSourceChanged, false},
	} {
		if got := retryable(tc.err); got != tc.want {
			t.Errorf("retryable(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}

func TestProgressReporterThrottles(t *testing.T) {
	var calls [][2]int64
	p := newProgressReporter(func(sent, total int64) { calls = append(calls, [2]int64{sent, total}) })
	now := time.Unix(0, 0)
	p.now = func() time.Time { return now }
	p.update(10, 100) // first call goes through
	p.update(20, 100) // too soon
	now = now.Add(progressInterval)
	p.update(5, 100) // backwards: never
	p.update(30, 100)
	now = now.Add(time.Millisecond)
	p.update(40, 100) // too soon
	p.done(100)
	want := [][2]int64{{10, 100}, {30, 100}, {100, 100}}
	if len(calls) != len(want) {
		t.Fatalf("calls %v, want %v", calls, want)
	}
	for i := range want {
		if calls[i] != want[i] {
			t.Fatalf("calls %v, want %v", calls, want)
		}
	}
	newProgressReporter(nil).update(1, 1) // nil Progress is fine
}

// chunks drives a streamSource as the uploader does when Drive takes every
// byte, and returns the windows it produced.
func chunks(t *testing.T, r io.Reader, size int64, chunkSize int) ([]window, error) {
	t.Helper()
	s := &streamSource{r: r, size: size, chunkSize: chunkSize}
	defer s.release()
	var out []window
	var committed int64
	for range 1000 {
		w, err := s.window(committed)
		if err != nil {
			return out, err
		}
		out = append(out, window{start: w.start, end: w.end, total: w.total})
		if w.total >= 0 && w.end == w.total {
			return out, nil
		}
		committed = w.end
	}
	t.Fatal("stream never ended")
	return nil, nil
}

func TestStreamSourceChunks(t *testing.T) {
	const c = ChunkAlign
	for _, tc := range []struct {
		name     string
		n        int   // bytes in the stream
		declared int64 // Size
		want     []window
		wantErr  error
	}{
		{"empty unknown", 0, -1, []window{{nil, 0, 0, 0}}, nil},
		{"empty known", 0, 0, []window{{nil, 0, 0, 0}}, nil},
		{"less than a chunk", 10, -1, []window{{nil, 0, 10, 10}}, nil},
		{"exactly a chunk, unknown", c, -1, []window{{nil, 0, c, c}}, nil},
		{"exactly a chunk, known", c, c, []window{{nil, 0, c, c}}, nil},
		{"two chunks and a bit, unknown", 2*c + 1, -1, []window{{nil, 0, c, -1}, {nil, c, 2 * c, -1}, {nil, 2 * c, 2*c + 1, 2*c + 1}}, nil},
		{"two chunks and a bit, known", 2*c + 1, 2*c + 1, []window{{nil, 0, c, 2*c + 1}, {nil, c, 2 * c, 2*c + 1}, {nil, 2 * c, 2*c + 1, 2*c + 1}}, nil},
		{"shorter than declared", c + 5, c + 6, nil, ErrSourceChanged},
		{"longer than declared", c + 5, c + 4, nil, ErrSourceChanged},
		{"longer than declared, exact chunk", 2 * c, c, nil, ErrSourceChanged},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data := bytes.Repeat([]byte{7}, tc.n)
			// OneByteReader-style short reads must not change the chunking.
			got, err := chunks(t, iotest.HalfReader(bytes.NewReader(data)), tc.declared, c)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("err %v, want %v", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("windows %v, want %v", got, tc.want)
			}
			for i := range got {
				if got[i].start != tc.want[i].start || got[i].end != tc.want[i].end || got[i].total != tc.want[i].total {
					t.Fatalf("windows %v, want %v", got, tc.want)
				}
			}
		})
	}
}

func TestStreamSourceResumesInsideTheChunkOnly(t *testing.T) {
	const c = ChunkAlign
	s := &streamSource{r: bytes.NewReader(make([]byte, 3*c)), size: -1, chunkSize: c}
	defer s.release()
	if _, err := s.window(0); err != nil {
		t.Fatal(err)
	}
	if w, err := s.window(c / 2); err != nil || w.start != c/2 || w.end != c {
		t.Fatalf("resume inside the chunk: %+v, %v", w, err)
	}
	if w, err := s.window(c); err != nil || w.start != c || w.end != 2*c {
		t.Fatalf("next chunk: %+v, %v", w, err)
	}
	if s.restart() {
		t.Fatal("a stream past its first chunk claims it can restart")
	}
	if _, err := s.window(c - 1); !errors.Is(err, ErrCannotResume) {
		t.Fatalf("resume before the chunk: %v, want ErrCannotResume", err)
	}
	if _, err := s.window(3 * c); err == nil {
		t.Fatal("Drive claiming bytes never sent was accepted")
	}
}

func TestStreamSourceReadError(t *testing.T) {
	boom := errors.New("disk on fire")
	_, err := chunks(t, io.MultiReader(bytes.NewReader(make([]byte, 100)), iotest.ErrReader(boom)), -1, ChunkAlign)
	if !errors.Is(err, boom) {
		t.Fatalf("err %v, want %v", err, boom)
	}
}

func TestMediaType(t *testing.T) {
	for _, tc := range []struct {
		meta, media, want string
	}{
		{"", "", ""},
		{"image/png", "", "image/png"},
		{"application/vnd.google-apps.document", "", ""},
		{"application/vnd.google-apps.document", "text/plain", "text/plain"},
		{"application/pdf", "application/octet-stream", "application/octet-stream"},
	} {
		if got := mediaType(FileMeta{MimeType: tc.meta}, Source{MediaType: tc.media}); got != tc.want {
			t.Errorf("mediaType(%q, %q) = %q, want %q", tc.meta, tc.media, got, tc.want)
		}
	}
}
