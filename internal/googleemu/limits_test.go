package googleemu

import (
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/api/drive/v3"
	"google.golang.org/api/googleapi"
)

// fakeClock is a clock tests move by hand.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

func wantGoogleError(t *testing.T, err error, code int, reason, domain string) *googleapi.Error {
	t.Helper()
	var ge *googleapi.Error
	if !errors.As(err, &ge) || ge.Code != code || len(ge.Errors) == 0 || ge.Errors[0].Reason != reason {
		t.Fatalf("err = %v, want HTTP %d %s", err, code, reason)
	}
	if !strings.Contains(string(ge.Body), `"domain":"`+domain+`"`) {
		t.Fatalf("error body lacks domain %q: %s", domain, ge.Body)
	}
	if !strings.Contains(string(ge.Body), `"status"`) {
		t.Fatalf("error body has no status: %s", ge.Body)
	}
	return ge
}

// Drive's per-user write quota: a burst past it is refused 403
// userRateLimitExceeded in Google's envelope (domain usageLimits, status
// PERMISSION_DENIED) with Retry-After, and the allowance comes back with time.
func TestUsageLimits_UserWriteBurstIsRefusedWithUserRateLimitExceeded(t *testing.T) {
	e, srv := start(t, Options{})
	clock := &fakeClock{now: time.Unix(1_700_000_000, 0)}
	e.SetClock(clock.Now)
	svc := driveFor(t, srv, "alice@example.com")
	e.SetUsageLimits(UsageLimits{UserWrites: 2, UserWindow: 4 * time.Second, RetryAfter: true})

	create := func() error {
		_, err := svc.Files.Create(&drive.File{Name: "f", MimeType: mimeFolder}).Do()
		return err
	}
	for i := range 2 {
		if err := create(); err != nil {
			t.Fatalf("write %d: %v", i, err)
		}
	}
	ge := wantGoogleError(t, create(), 403, "userRateLimitExceeded", "usageLimits")
	if !strings.Contains(string(ge.Body), "PERMISSION_DENIED") || ge.Header.Get("Retry-After") != "2" {
		t.Fatalf("refusal: Retry-After %q, body %s", ge.Header.Get("Retry-After"), ge.Body)
	}
	if _, err := svc.Files.List().Do(); err != nil {
		t.Fatalf("a read was counted against the write quota: %v", err)
	}
	clock.Advance(2 * time.Second)
	if err := create(); err != nil {
		t.Fatalf("after the wait Google asked for: %v", err)
	}

	e.SetUsageLimits(UsageLimits{UserWrites: 1, UserWindow: time.Minute, UserStatus: 429})
	_ = create()
	wantGoogleError(t, create(), 429, "rateLimitExceeded", "usageLimits")

	e.SetUsageLimits(UsageLimits{ProjectRequests: 1, ProjectWindow: time.Minute})
	_, _ = svc.Files.List().Do()
	_, err := svc.Files.List().Do()
	wantGoogleError(t, err, 403, "rateLimitExceeded", "usageLimits")

	e.SetUsageLimits(UsageLimits{})
	for range 5 {
		if err := create(); err != nil {
			t.Fatalf("limits off: %v", err)
		}
	}
}

// A Drive that is full refuses an upload with 403 storageQuotaExceeded, at
// the session's start when the length is declared.
func TestAccountPolicy_FullDriveRefusesUploadsWithStorageQuotaExceeded(t *testing.T) {
	e, srv := start(t, Options{})
	svc := driveFor(t, srv, "alice@example.com")
	e.SetAccountPolicy("alice@example.com", AccountPolicy{StorageQuota: 10})
	if _, err := svc.Files.Create(&drive.File{Name: "small"}).Media(strings.NewReader("12345")).Do(); err != nil {
		t.Fatal(err)
	}
	_, err := svc.Files.Create(&drive.File{Name: "big"}).Media(strings.NewReader("123456")).Do()
	wantGoogleError(t, err, 403, "storageQuotaExceeded", "usageLimits")

	req, _ := http.NewRequest("POST", srv.URL+"/upload/drive/v3/files?uploadType=resumable", strings.NewReader("{}"))
	req.Header.Set("X-Upload-Content-Length", "100")
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+login(t, oauthConfig(srv.URL), "alice@example.com").AccessToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 403 {
		t.Fatalf("a resumable session past the quota started: %d", resp.StatusCode)
	}
}

// An administrator who forbids link sharing, or Drive apps altogether; a
// file Google flagged; a shared drive at its item limit; a drive.file app
// that was never given a file: each answers with its own reason.
func TestPolicies_EachRefusalHasDrivesReason(t *testing.T) {
	e, srv := start(t, Options{})
	svc := driveFor(t, srv, "alice@example.com")
	f, err := svc.Files.Create(&drive.File{Name: "a.txt"}).Media(strings.NewReader("x")).Do()
	if err != nil {
		t.Fatal(err)
	}
	folder, err := svc.Files.Create(&drive.File{Name: "d", MimeType: mimeFolder}).Do()
	if err != nil {
		t.Fatal(err)
	}

	e.SetAccountPolicy("@example.com", AccountPolicy{NoLinkSharing: true})
	_, err = svc.Permissions.Create(f.Id, &drive.Permission{Type: "anyone", Role: "reader"}).Do()
	wantGoogleError(t, err, 403, "publishOutNotPermitted", "global")
	e.SetAccountPolicy("@example.com", AccountPolicy{AppsDisabled: true})
	_, err = svc.Files.List().Do()
	wantGoogleError(t, err, 403, "domainPolicy", "global")
	e.SetAccountPolicy("@example.com", AccountPolicy{})

	e.SetFilePolicy(f.Id, FilePolicy{Abusive: true})
	_, err = svc.Files.Get(f.Id).Download()
	wantGoogleError(t, err, 403, "cannotDownloadAbusiveFile", "global")

	e.SetFilePolicy(folder.Id, FilePolicy{FolderFull: true})
	_, err = svc.Files.Create(&drive.File{Name: "in", Parents: []string{folder.Id}}).Do()
	wantGoogleError(t, err, 403, "teamDriveFileLimitExceeded", "global")

	seeded := e.SeedFile("alice@example.com", "by-hand.txt", "y")
	e.SetFilePolicy(seeded, FilePolicy{AppNotAuthorized: true})
	_, err = svc.Files.Get(seeded).Do()
	wantGoogleError(t, err, 403, "appNotAuthorizedToFile", "global")

	_, err = svc.Files.Create(&drive.File{Name: "x", Parents: []string{"1nosuchfolder"}}).Do()
	wantGoogleError(t, err, 404, "notFound", "global")
}
