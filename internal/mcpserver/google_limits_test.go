package mcpserver

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/drivemcp/drivemcp/internal/drive"
	"github.com/drivemcp/drivemcp/internal/e2etest"
	"github.com/drivemcp/drivemcp/internal/googleemu"
)

// Drive's usage limits, storage quota and error reasons, met through the
// real MCP server with the emulator as strict as Google.

// testClock is one clock for the emulator's quotas and drivemcp's retry
// waits: a wait moves it on, so quotas refill exactly as if time passed,
// and nobody waits.
type testClock struct {
	mu    sync.Mutex
	now   time.Time
	waits atomic.Int64
}

func newTestClock() *testClock { return &testClock{now: time.Unix(1_800_000_000, 0)} }

func (c *testClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

func (c *testClock) Sleep(ctx context.Context, d time.Duration) error {
	c.waits.Add(1)
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
	return ctx.Err()
}

// fastClock runs time a hundred times faster for both the emulator's
// quotas and drivemcp's waits: a 32 s backoff takes 320 ms. Unlike
// testClock, a wait lets the others run meanwhile, as real time does, so a
// burst contends for Google's quota as it would in production.
type fastClock struct {
	start time.Time
	waits atomic.Int64
}

const fastClockSpeed = 100

func (c *fastClock) Now() time.Time {
	return c.start.Add(time.Since(c.start) * fastClockSpeed)
}

func (c *fastClock) Sleep(ctx context.Context, d time.Duration) error {
	c.waits.Add(1)
	timer := time.NewTimer(d / fastClockSpeed)
	defer timer.Stop()
	select {
	case <-timer.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// retryOn is a retry policy on clock: Google's schedule without jitter
// (each wait its ceiling), so the test is the same every run.
func retryOn(c *testClock) drive.Retry {
	return drive.Retry{Sleep: c.Sleep, Now: c.Now, Backoff: func(attempt int) time.Duration {
		return min(time.Second<<min(attempt-1, 6), 32*time.Second)
	}}
}

// Drive's "Usage limits" guide: a burst of writes past the per-user quota
// is answered 403 userRateLimitExceeded (or 429), to be retried with
// exponential backoff. A burst of uploads finishes with every file exactly
// once and its md5 right.
func TestUpload_GoogleRateLimitBurstFinishesEveryFileOnce(t *testing.T) {
	for _, status := range []int{http.StatusForbidden, http.StatusTooManyRequests} {
		t.Run(http.StatusText(status), func(t *testing.T) {
			clock := &fastClock{start: time.Now()}
			// Google's schedule, its jitter included.
			f := newFixture(t, Deps{Retry: drive.Retry{Sleep: clock.Sleep, Now: clock.Now}})
			f.google.SetClock(clock.Now)
			// One write a second per user, at most two at once: twelve
			// uploads of two writes each (the session's start, its one
			// chunk) need about 24 s of Google's time.
			f.google.SetUsageLimits(googleemu.UsageLimits{UserWrites: 2, UserWindow: 2 * time.Second, UserStatus: status, RetryAfter: status == 429})

			const n = 12
			want := map[string]string{}
			var wg sync.WaitGroup
			errs := make(chan error, n)
			for i := range n {
				name := fmt.Sprintf("burst-%02d.txt", i)
				content := strings.Repeat(name, 1000+i)
				sum := md5.Sum([]byte(content))
				want[name] = hex.EncodeToString(sum[:])
				wg.Go(func() {
					res, err := f.session.CallTool(t.Context(), &mcp.CallToolParams{Name: "create_drive_file",
						Arguments: map[string]any{"file_name": name, "content": content}})
					switch {
					case err != nil:
						errs <- err
					case res.IsError:
						errs <- fmt.Errorf("%s at %v: %s", name, clock.Now().Sub(clock.start), e2etest.ResultText(res))
					}
				})
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Error(err)
			}
			got := map[string]int{}
			for _, file := range f.google.Files() {
				got[file.Name]++
				if file.MD5 != want[file.Name] {
					t.Errorf("%s: md5 %s, want %s", file.Name, file.MD5, want[file.Name])
				}
			}
			for name := range want {
				if got[name] != 1 {
					t.Errorf("%s is on Drive %d times", name, got[name])
				}
			}
			if clock.waits.Load() == 0 {
				t.Fatal("Google never refused: the burst did not meet the limit")
			}
		})
	}
}

// Drive's "Resolve errors" guide: storageQuotaExceeded. The person hears
// that their Drive is full and what to do about it, not "check permissions".
func TestUpload_StorageQuotaExceededReadsAsDriveIsFull(t *testing.T) {
	f := newFixture(t, Deps{Retry: retryOn(newTestClock())})
	f.google.SetAccountPolicy(alice, googleemu.AccountPolicy{StorageQuota: 4})
	res := f.call(t, "create_drive_file", map[string]any{"file_name": "big.txt", "content": "more than four bytes"})
	text := e2etest.ResultText(res)
	if !res.IsError || !strings.Contains(text, "Google Drive is full") || !strings.Contains(text, "trash") {
		t.Fatalf("result %q, want a sentence that says Drive is full and how to free space", text)
	}
	if files := f.google.Files(); len(files) != 0 {
		t.Fatalf("files created: %v", files)
	}
}

// When Google keeps rate-limiting past the whole schedule, the person is
// told so, for reads and uploads alike — not to check permissions.
func TestTools_PersistentRateLimitSaysGoogleIsRateLimiting(t *testing.T) {
	const want = "Google is rate-limiting this account; try again in a minute"
	for _, reason := range []string{"userRateLimitExceeded", "rateLimitExceeded"} {
		f := newFixture(t, Deps{Retry: retryOn(newTestClock())})
		f.google.InjectFault(googleemu.Fault{PathPrefix: "/", Status: 403, Reason: reason, Times: 1000})
		for _, c := range []struct {
			tool string
			args map[string]any
		}{
			{"create_drive_file", map[string]any{"file_name": "a.txt", "content": "x"}},
			{"list_drive_items", nil},
			{"create_drive_folder", map[string]any{"folder_name": "d"}},
		} {
			res := f.call(t, c.tool, c.args)
			if text := e2etest.ResultText(res); !res.IsError || !strings.Contains(text, want) {
				t.Errorf("%s after %s: %q", c.tool, reason, text)
			}
		}
	}
}

// Refusals the emulator plays as Google does, each with its own sentence
// through the real server.
func TestTools_GooglePolicyRefusalsSayWhatToDo(t *testing.T) {
	f := newFixture(t, Deps{Retry: retryOn(newTestClock())})
	made := f.mustCall(t, "create_drive_file", map[string]any{"file_name": "a.txt", "content": "hello"})
	id := made["file_id"].(string)

	f.google.SetFilePolicy(id, googleemu.FilePolicy{Abusive: true})
	res := f.call(t, "get_drive_file_content", map[string]any{"file_id": id})
	if text := e2etest.ResultText(res); !res.IsError || !strings.Contains(text, "malware") {
		t.Errorf("abusive file: %q", text)
	}
	f.google.SetAccountPolicy("@example.com", googleemu.AccountPolicy{NoLinkSharing: true})
	res = f.call(t, "make_drive_files_public", map[string]any{"file_ids": []string{id}})
	if text := e2etest.ResultText(res); !res.IsError || !strings.Contains(text, "administrator") || !strings.Contains(text, "share it with named people") {
		t.Errorf("link sharing forbidden: %q", text)
	}
	f.google.SetAccountPolicy("@example.com", googleemu.AccountPolicy{AppsDisabled: true})
	res = f.call(t, "list_drive_items", nil)
	if text := e2etest.ResultText(res); !res.IsError || !strings.Contains(text, "administrator") || !strings.Contains(text, "Drive apps") {
		t.Errorf("apps disabled: %q", text)
	}
}

// Google's token endpoint answering 5xx while drivemcp renews the access
// of a read is retried under the same policy as Drive's own 5xx: the
// listing works, nobody is asked to sign in again.
func TestTools_TokenEndpoint5xxDuringAReadIsRiddenOut(t *testing.T) {
	clock := newTestClock()
	f := newFixture(t, Deps{Retry: retryOn(clock)})
	f.google.ExpireAccessTokens()
	f.google.InjectFault(googleemu.Fault{PathPrefix: "/token", Status: 503, Times: 2})
	f.mustCall(t, "list_drive_items", nil)
	if clock.waits.Load() == 0 {
		t.Fatal("the listing never met the token endpoint's 503")
	}
}
