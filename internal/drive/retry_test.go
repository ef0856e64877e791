package drive

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/drivemcp/drivemcp/internal/googleemu"
)

// The one retry policy, checked against the emulator's Google-shaped
// refusals through both ways drivemcp calls Drive: the generated client
// (Files) and the resumable uploader.

func filesWithSleeps(t *testing.T, e *emulated) (*Files, *sleeps) {
	t.Helper()
	s := &sleeps{}
	f, err := NewFiles(t.Context(), e.client, e.url+"/drive/v3/", Retry{Sleep: s.sleep})
	if err != nil {
		t.Fatal(err)
	}
	return f, s
}

// Drive's "Resolve errors" guide: a 400 is the request's own fault and
// fails the same way every time, so it is sent once, by reads, writes and
// uploads alike.
func TestRetry_A400IsNeverRetried(t *testing.T) {
	e := newEmulated(t)
	f, s := filesWithSleeps(t, e)
	e.emu.InjectFault(googleemu.Fault{Method: "GET", PathPrefix: "/drive/v3/files", Status: 400, Times: 100})
	e.emu.InjectFault(googleemu.Fault{Method: "POST", PathPrefix: "/drive/v3/files", Status: 400, Times: 100})
	e.emu.InjectFault(googleemu.Fault{Method: "POST", PathPrefix: uploadPath, Status: 400, Times: 100})
	before := e.emu.Stats().Requests
	if _, err := f.List(t.Context(), "root", 10, ""); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("list: %v", err)
	}
	if _, err := f.CreateFolder(t.Context(), "x", ""); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("create folder: %v", err)
	}
	u := &Uploader{Client: e.client, Endpoint: e.url, Sleep: s.sleep}
	if _, err := u.Upload(t.Context(), FileMeta{Name: "a"}, Source{Reader: strings.NewReader("x"), Size: 1}, nil); err == nil {
		t.Fatal("upload succeeded")
	}
	if n := e.emu.Stats().Requests - before; n != 3 {
		t.Fatalf("%d requests for three calls refused 400", n)
	}
	if len(s.all()) != 0 {
		t.Fatalf("waited %v before a 400", s.all())
	}
}

// Drive's "Usage limits" guide: 403 userRateLimitExceeded / rateLimitExceeded
// and 429 mean "slow down"; each kind of call waits and tries again, and
// succeeds once the limit lets it through.
func TestRetry_RateLimit403And429AreRetriedByEveryKindOfCall(t *testing.T) {
	for _, tc := range []struct {
		status int
		reason string
	}{{403, "userRateLimitExceeded"}, {403, "rateLimitExceeded"}, {429, "rateLimitExceeded"}} {
		t.Run(tc.reason+"/"+http.StatusText(tc.status), func(t *testing.T) {
			e := newEmulated(t)
			f, s := filesWithSleeps(t, e)
			limit := func(method, path string) {
				e.emu.InjectFault(googleemu.Fault{Method: method, PathPrefix: path, Status: tc.status, Reason: tc.reason, Times: 2})
			}
			limit("POST", "/drive/v3/files")
			folder, err := f.CreateFolder(t.Context(), "d", "")
			if err != nil {
				t.Fatalf("create folder: %v", err)
			}
			limit("GET", "/drive/v3/files")
			if _, err := f.List(t.Context(), "root", 10, ""); err != nil {
				t.Fatalf("list: %v", err)
			}
			limit("POST", "/drive/v3/files/"+folder.ID+"/permissions")
			if r := f.Share(t.Context(), []string{folder.ID}, []string{"bob@example.com"}, RoleReader, false, ""); r[0].Err != nil {
				t.Fatalf("share: %v", r[0].Err)
			}
			limit("POST", uploadPath) // the session's start
			limit("PUT", uploadPath)  // its first chunk
			u := &Uploader{Client: e.client, Endpoint: e.url, Sleep: s.sleep, ChunkSize: ChunkAlign, Cutoff: -1}
			data := randomBytes(3*ChunkAlign, 3)
			file, err := u.Upload(t.Context(), FileMeta{Name: "u.bin"}, Source{ReaderAt: bytes.NewReader(data), Size: int64(len(data))}, nil)
			if err != nil {
				t.Fatalf("upload: %v", err)
			}
			if n := len(e.emu.Files()); n != 2 {
				t.Fatalf("%d files on Drive, want the folder and one upload", n)
			}
			if got := md5hex(data); file.MD5 != got {
				t.Fatalf("md5 %s, want %s", file.MD5, got)
			}
			if n := len(s.all()); n != 10 {
				t.Fatalf("waited %d times, want 10 (two per refused call)", n)
			}
		})
	}
}

// Retry-After is honoured: the wait is what Google asked for, read through
// the injected sleep so nobody waits.
func TestRetry_RetryAfterIsHonoured(t *testing.T) {
	e := newEmulated(t)
	f, s := filesWithSleeps(t, e)
	e.emu.InjectFault(googleemu.Fault{Method: "GET", PathPrefix: "/drive/v3/files", Status: 429, RetryAfter: 7 * time.Second})
	if _, err := f.List(t.Context(), "root", 10, ""); err != nil {
		t.Fatal(err)
	}
	e.emu.InjectFault(googleemu.Fault{Method: "POST", PathPrefix: uploadPath, Status: 403, Reason: "userRateLimitExceeded", RetryAfter: 11 * time.Second})
	u := &Uploader{Client: e.client, Endpoint: e.url, Sleep: s.sleep}
	if _, err := u.Upload(t.Context(), FileMeta{Name: "a"}, Source{Reader: strings.NewReader("x"), Size: 1}, nil); err != nil {
		t.Fatal(err)
	}
	if got := s.all(); !slices.Equal(got, []time.Duration{7 * time.Second, 11 * time.Second}) {
		t.Fatalf("waited %v, want Google's 7s then 11s", got)
	}
}

// The schedule is Google's (about 1, 2, 4, 8, 16, 32 s), and when Google
// keeps refusing the call gives up with Google's answer, a rate limit that
// errors.Is finds.
func TestRetry_GivesUpAfterGooglesScheduleWithTheRateLimit(t *testing.T) {
	e := newEmulated(t)
	s := &sleeps{}
	ceiling := func(attempt int) time.Duration {
		return fullJitter(attempt, backoffBase, backoffCap, func(n int64) int64 { return n - 1 })
	}
	f, err := NewFiles(t.Context(), e.client, e.url+"/drive/v3/", Retry{Sleep: s.sleep, Backoff: ceiling})
	if err != nil {
		t.Fatal(err)
	}
	e.emu.InjectFault(googleemu.Fault{Method: "GET", PathPrefix: "/drive/v3/files", Status: 403, Reason: "userRateLimitExceeded", Times: 100})
	_, err = f.List(t.Context(), "root", 10, "")
	if !errors.Is(err, ErrRateLimited) {
		t.Fatalf("err %v, want ErrRateLimited", err)
	}
	want := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 16 * time.Second, 32 * time.Second}
	if got := s.all(); !slices.Equal(got, want) {
		t.Fatalf("waited %v, want %v", got, want)
	}
}

// A wait that would outlast the call's deadline is not begun: the call
// fails at once with Google's answer rather than hanging to its end.
func TestRetry_AWaitPastTheDeadlineFailsAtOnceWithGooglesAnswer(t *testing.T) {
	e := newEmulated(t)
	f, s := filesWithSleeps(t, e)
	e.emu.InjectFault(googleemu.Fault{Method: "GET", PathPrefix: "/drive/v3/files", Status: 429, RetryAfter: time.Hour})
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	if _, err := f.List(ctx, "root", 10, ""); !errors.Is(err, ErrRateLimited) {
		t.Fatalf("err %v, want the rate limit", err)
	}
	if len(s.all()) != 0 {
		t.Fatalf("waited %v", s.all())
	}
}

// A long wait keeps telling OnWait (the uploader's Waiting) how long is
// left, so a client's progress display does not go quiet.
func TestRetry_ALongWaitKeepsReportingWhileItWaits(t *testing.T) {
	s := &sleeps{}
	var told []time.Duration
	r := Retry{Sleep: s.sleep, OnWait: func(left time.Duration) { told = append(told, left) }}.withDefaults()
	cause := &retryAfterError{err: &APIError{Status: 429}, after: 12 * time.Second}
	if err := r.wait(t.Context(), 1, cause); err != nil {
		t.Fatal(err)
	}
	if want := []time.Duration{12 * time.Second, 7 * time.Second, 2 * time.Second}; !slices.Equal(told, want) {
		t.Fatalf("OnWait told %v, want %v", told, want)
	}
	if got := s.all(); !slices.Equal(got, []time.Duration{5 * time.Second, 5 * time.Second, 2 * time.Second}) {
		t.Fatalf("slept %v", got)
	}
}
