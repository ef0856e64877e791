package googleemu

import (
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Drive's usage limits and the refusals an account's administrator or
// Google's abuse checks cause. Every one is off by default, so --demo and
// tests that do not ask for them see a friendly Drive; tests switch them on
// with SetUsageLimits, SetAccountPolicy and SetFilePolicy.

// UsageLimits are the Drive API quotas the emulator enforces. The zero value
// enforces none.
type UsageLimits struct {
	// UserWrites writes (any Drive request but a GET, upload chunks
	// included) per UserWindow are allowed to each user; past them Drive
	// answers 403 userRateLimitExceeded, or, with UserStatus 429, 429
	// rateLimitExceeded (Drive's "Usage limits" guide,
	// developers.google.com/drive/api/guides/limits: per-user quotas, and
	// "Resolve errors", .../drive/api/guides/handle-errors: both answers
	// occur and both call for exponential backoff). The allowance refills
	// continuously, as a token bucket.
	UserWrites int
	UserWindow time.Duration
	UserStatus int // 403 (default) or 429
	// ProjectRequests requests of any kind per ProjectWindow are allowed to
	// the whole OAuth client (all users together); past them Drive answers
	// 403 rateLimitExceeded ("Resolve errors": the project's rate limit).
	ProjectRequests int
	ProjectWindow   time.Duration
	// RetryAfter makes refusals carry Retry-After, the whole seconds until
	// the allowance has room again, as Google's front end sends with 429s.
	RetryAfter bool
}

// AccountPolicy is what an account's storage plan or Workspace
// administrator allows. The zero value allows everything.
type AccountPolicy struct {
	// StorageQuota, if positive, is the bytes the account may store; an
	// upload that would pass it is refused 403 storageQuotaExceeded
	// ("Resolve errors": the user's Drive storage quota has been exceeded),
	// at the session's start when its length is declared, else at its end.
	StorageQuota int64
	// NoLinkSharing: the administrator forbids sharing files by link, so
	// an "anyone" permission is refused 403 publishOutNotPermitted (Drive's
	// "Share files, folders and drives" guide,
	// developers.google.com/drive/api/guides/manage-sharing, and "Resolve
	// errors").
	NoLinkSharing bool
	// AppsDisabled: the administrator disabled Drive apps for the domain,
	// so every Drive call is refused 403 domainPolicy ("Resolve errors").
	AppsDisabled bool
}

// FilePolicy is what Google decided about one file. The zero value is an
// ordinary file.
type FilePolicy struct {
	// Abusive: Google flagged the file as malware or abuse, so downloading
	// it is refused 403 cannotDownloadAbusiveFile ("Resolve errors").
	Abusive bool
	// AppNotAuthorized: a drive.file token is refused 403
	// appNotAuthorizedToFile on the file instead of not finding it, as
	// Drive answers when the user can see a file the app was never given
	// ("Resolve errors").
	AppNotAuthorized bool
	// FolderFull: the folder stands for a shared drive at its item limit,
	// so creating anything in it is refused 403 teamDriveFileLimitExceeded
	// ("Resolve errors"; "Shared drive limits" in Drive's help).
	FolderFull bool
}

// SetUsageLimits replaces the quotas enforced from now on; the zero value
// turns them off. Allowances start full.
func (e *Emulator) SetUsageLimits(l UsageLimits) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.limits = l
	e.buckets = map[string]*bucket{}
}

// SetAccountPolicy sets what the account (or, for an email "@domain", every
// account of the domain) is allowed; the zero policy clears it.
func (e *Emulator) SetAccountPolicy(emailOrDomain string, p AccountPolicy) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.policies == nil {
		e.policies = map[string]AccountPolicy{}
	}
	e.policies[strings.ToLower(emailOrDomain)] = p
}

// SetFilePolicy sets what Google decided about file id; the zero policy
// clears it.
func (e *Emulator) SetFilePolicy(id string, p FilePolicy) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.filePolicies == nil {
		e.filePolicies = map[string]FilePolicy{}
	}
	e.filePolicies[id] = p
}

// SetClock replaces the emulator's clock (its default is time.Now), so a
// test can make quotas refill, codes and sessions expire without waiting.
func (e *Emulator) SetClock(now func() time.Time) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.now = now
}

// policyLocked is the account's policy, its own or its domain's.
func (e *Emulator) policyLocked(email string) AccountPolicy {
	email = strings.ToLower(email)
	if p, ok := e.policies[email]; ok {
		return p
	}
	if _, domain, ok := strings.Cut(email, "@"); ok {
		return e.policies["@"+domain]
	}
	return AccountPolicy{}
}

// bucket is a token bucket: capacity n, refilled at n per window.
type bucket struct {
	tokens float64
	at     time.Time
}

// takeLocked spends one token of the bucket key, reporting how long until
// one is available when none is.
func (e *Emulator) takeLocked(key string, n int, window time.Duration) (ok bool, wait time.Duration) {
	if n <= 0 || window <= 0 {
		return true, 0
	}
	now := e.now()
	b := e.buckets[key]
	if b == nil {
		b = &bucket{tokens: float64(n), at: now}
		e.buckets[key] = b
	}
	rate := float64(n) / float64(window) // tokens per nanosecond
	if elapsed := now.Sub(b.at); elapsed > 0 {
		b.tokens = math.Min(float64(n), b.tokens+float64(elapsed)*rate)
		b.at = now
	}
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	return false, time.Duration((1 - b.tokens) / rate)
}

// admit applies the quotas and the account's administrator to one Drive
// request by email, answering the refusal itself and reporting false when
// the request may not go on.
func (e *Emulator) admit(w http.ResponseWriter, email string, write bool) bool {
	e.mu.Lock()
	pol := e.policyLocked(email)
	l := e.limits
	var refusal *driveErr
	var wait time.Duration
	switch {
	case pol.AppsDisabled:
		refusal = &driveErr{code: 403, reason: "domainPolicy",
			message: "The domain administrators have disabled Drive apps."}
	default:
		if ok, d := e.takeLocked("project", l.ProjectRequests, l.ProjectWindow); !ok {
			refusal, wait = &driveErr{code: 403, reason: "rateLimitExceeded", domain: "usageLimits",
				message: "Rate Limit Exceeded"}, d
		} else if write {
			if ok, d := e.takeLocked("user:"+email, l.UserWrites, l.UserWindow); !ok {
				refusal, wait = &driveErr{code: 403, reason: "userRateLimitExceeded", domain: "usageLimits",
					message: "User Rate Limit Exceeded"}, d
				if l.UserStatus == http.StatusTooManyRequests {
					refusal.code, refusal.reason, refusal.message = 429, "rateLimitExceeded", "Rate Limit Exceeded"
				}
			}
		}
	}
	e.mu.Unlock()
	if refusal == nil {
		return true
	}
	if refusal.domain == "usageLimits" {
		e.throttled.Add(1)
	}
	if wait > 0 && l.RetryAfter && refusal.domain == "usageLimits" {
		w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(wait.Seconds()))))
	}
	writeDriveError(w, *refusal)
	return false
}

// usedLocked is the bytes the account's files take (Google's own document
// types count nothing, as on Drive).
func (e *Emulator) usedLocked(email string) int64 {
	var n int64
	for _, f := range e.files {
		if f.owner == email && f.hasBinaryContent() {
			n += f.size()
		}
	}
	return n
}

// quotaLocked refuses adding n bytes to the account's storage when that
// would pass its quota.
func (e *Emulator) quotaLocked(email string, n int64) *driveErr {
	q := e.policyLocked(email).StorageQuota
	if q <= 0 || e.usedLocked(email)+n <= q {
		return nil
	}
	return &driveErr{code: 403, reason: "storageQuotaExceeded", domain: "usageLimits",
		message: "The user's Drive storage quota has been exceeded."}
}
