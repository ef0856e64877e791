package drive

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

const (
	// DefaultEndpoint is Google's API host; uploads go to its /upload/drive/v3/files.
	DefaultEndpoint = "https://www.googleapis.com"
	// ChunkAlign is the granularity Drive requires of every chunk but the last.
	ChunkAlign          = 256 << 10
	defaultChunkSize    = 8 << 20
	defaultMaxAttempts  = 8
	defaultStallTimeout = 2 * time.Minute
)

// Uploader creates files on Drive with resumable uploads. The zero value
// (with Client set) is ready to use; an Uploader keeps no state between
// uploads and may be used by several goroutines at once.
type Uploader struct {
	// Client is already authorized (an oauth2 transport); the uploader adds
	// no credentials of its own. Leave its Timeout zero: a single request
	// carries a whole file. Nil means http.DefaultClient.
	Client *http.Client
	// Endpoint is the API base URL, e.g. "https://www.googleapis.com" or an
	// emulator's "http://127.0.0.1:9090". Empty means DefaultEndpoint.
	Endpoint string
	// ChunkSize is how many bytes of a Reader source are buffered and sent
	// per request: a multiple of ChunkAlign, default 8 MiB. ReaderAt sources
	// are sent in one request and need no buffer.
	ChunkSize int64
	// MaxAttempts is how many attempts in a row may fail without Drive
	// receiving a byte more before the upload gives up. Default 8.
	MaxAttempts int
	// Backoff is the wait before attempt number attempt (counting from 1)
	// after a failure. Default: Retry's, Google's schedule (full jitter
	// below 1, 2, 4 … 32 s). A Retry-After from Drive is the least wait.
	Backoff func(attempt int) time.Duration
	// Sleep waits for d unless ctx ends first. Default: a timer.
	// Backoff and Sleep are the hooks of the retry policy (Retry) every
	// request of the upload is under.
	Sleep func(ctx context.Context, d time.Duration) error
	// Waiting, if set, is told when the upload waits before trying again
	// (Google rate-limits or failed), and every few seconds of a long
	// wait, with the time left: progress stands still meanwhile, and a
	// client should still hear from us.
	Waiting func(left time.Duration)
	// StallTimeout is how long one request to Drive may go without sending
	// a byte of the file or hearing an answer before it is abandoned, as a
	// network failure: the upload then asks Drive what it has and resumes.
	// A request carries a whole file, so there is no overall timeout; this
	// catches the connection that stopped moving. Default 2 min.
	StallTimeout time.Duration
	// Cutoff is the largest source of known size that Upload sends as one
	// multipart request instead of a resumable session: 0 means
	// DefaultUploadCutoff, negative sends every upload resumable.
	Cutoff int64
	// DriveBase is the Drive API base (".../drive/v3/") where a multipart
	// upload whose answer was lost looks for its file. Empty means
	// Endpoint + "/drive/v3/", as at Google.
	DriveBase string
}

// Upload creates one file on Drive from src and returns it as Drive
// describes it: a source of known size up to Cutoff in one multipart
// request, anything else through a resumable session.
//
// Transient failures (the network, 5xx, 429, 408, 403 rate limits: see
// Retry) are retried: Upload asks
// the session how much it has and continues from there, and never creates
// a second file. A session that Drive forgot is replaced by a new one when
// the source can be sent again from its start. The md5 of the bytes read is
// checked against the one Drive reports; on ErrChecksumMismatch the returned
// File is the file that Drive did create.
//
// progress may be nil.
func (u *Uploader) Upload(ctx context.Context, meta FileMeta, src Source, progress Progress) (File, error) {
	if u.multipartFits(src) {
		return u.uploadMultipart(ctx, meta, src, progress)
	}
	return u.UploadResumable(ctx, meta, src, progress)
}

// UploadResumable is Upload through a resumable session whatever the
// source's size.
func (u *Uploader) UploadResumable(ctx context.Context, meta FileMeta, src Source, progress Progress) (File, error) {
	up, err := u.newUpload(meta, src, progress)
	if err != nil {
		return File{}, err
	}
	defer up.src.release()
	return up.run(ctx)
}

// Update replaces the content of the existing file fileID with src, as a
// new version of the same file: its id, links, sharing and history stay.
// It is Upload's resumable, md5-checked protocol at files.update; meta may
// rename the file (Name) or change its type (MimeType), and its Parents
// must be empty (moving is Files.Move's job).
func (u *Uploader) Update(ctx context.Context, fileID string, meta FileMeta, src Source, progress Progress) (File, error) {
	if err := CheckID(fileID); err != nil {
		return File{}, err
	}
	if len(meta.Parents) > 0 {
		return File{}, fmt.Errorf("%w: an update cannot move the file (parents given)", ErrInvalidArgument)
	}
	up, err := u.newUpload(meta, src, progress)
	if err != nil {
		return File{}, err
	}
	up.targetID = fileID
	defer up.src.release()
	return up.run(ctx)
}

// upload is the state of one Upload call.
type upload struct {
	client      *http.Client
	endpoint    string
	maxAttempts int
	retry       Retry
	stall       time.Duration

	meta      FileMeta
	targetID  string // files.update: the file whose content is replaced; "" creates one
	mediaType string
	src       uploadSource
	digest    *sourceDigest
	progress  *progressReporter

	session   string // session URL; empty until initiated, or after it was lost
	committed int64  // bytes Drive has confirmed
	failures  int    // attempts failed in a row without committed advancing
	restarts  int    // sessions replaced after Drive lost them
	retries   int    // failed attempts over the whole upload, for File.Retries
	// reauthorized is set when a 401 from the session was answered by
	// querying it with a refreshed token; progress clears it.
	reauthorized bool
}

func (u *Uploader) newUpload(meta FileMeta, src Source, progress Progress) (*upload, error) {
	chunk := u.ChunkSize
	if chunk == 0 {
		chunk = defaultChunkSize
	}
	if chunk < 0 || chunk%ChunkAlign != 0 || chunk > 1<<30 {
		return nil, fmt.Errorf("drive: chunk size %d is not a positive multiple of 256 KiB (at most 1 GiB)", chunk)
	}
	// The media type becomes a header: one net/http refuses to send would
	// fail every attempt the same way, yet look like a network error.
	for _, mt := range []string{meta.MimeType, src.MediaType} {
		if mt != "" {
			if err := CheckMediaType(mt); err != nil {
				return nil, err
			}
		}
	}
	up := &upload{
		client:      noRedirects(u.Client),
		endpoint:    strings.TrimRight(u.Endpoint, "/"),
		maxAttempts: u.MaxAttempts,
		retry:       Retry{Backoff: u.Backoff, Sleep: u.Sleep, OnWait: u.Waiting}.withDefaults(),
		stall:       u.StallTimeout,
		meta:        meta,
		mediaType:   mediaType(meta, src),
		digest:      newSourceDigest(),
		progress:    newProgressReporter(progress),
	}
	if up.endpoint == "" {
		up.endpoint = DefaultEndpoint
	}
	if up.maxAttempts <= 0 {
		up.maxAttempts = defaultMaxAttempts
	}
	if up.stall <= 0 {
		up.stall = defaultStallTimeout
	}
	switch {
	case src.ReaderAt != nil:
		if src.Size < 0 {
			return nil, errors.New("drive: a ReaderAt source needs its Size")
		}
		up.src = &fileSource{ra: src.ReaderAt, size: src.Size}
	case src.Reader != nil:
		size := src.Size
		if size < 0 {
			size = -1
		}
		up.src = &streamSource{r: src.Reader, size: size, chunkSize: int(chunk)}
	default:
		return nil, errors.New("drive: the source has neither a Reader nor a ReaderAt")
	}
	return up, nil
}

// noRedirects copies c so that a 308 from the upload endpoint (which means
// "resume incomplete", not "go elsewhere") reaches us instead of being followed.
func noRedirects(c *http.Client) *http.Client {
	if c == nil {
		c = http.DefaultClient
	}
	cc := *c
	cc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &cc
}

// errNoProgress is an attempt that Drive answered but took nothing from.
var errNoProgress = errors.New("drive: Drive accepted none of the bytes sent")

func (up *upload) run(ctx context.Context) (File, error) {
	for {
		if err := ctx.Err(); err != nil {
			return File{}, canceled(err)
		}
		if up.session == "" {
			session, err := up.initiate(ctx)
			if err != nil {
				if retryable(err) {
					if err := up.pause(ctx, err); err != nil {
						return File{}, err
					}
					continue
				}
				return File{}, err
			}
			up.session = session
		}
		w, err := up.src.window(up.committed)
		if err != nil {
			return File{}, err
		}
		st, err := up.put(ctx, w)
		// After a failure the session itself says where we are: it may
		// have kept part of what was sent, or even finished.
		recovered := false
	recover:
		for err != nil {
			switch sessionErrorAction(err) {
			case sessionRetry:
				limited := rateLimited(err)
				if err = up.pause(ctx, err); err != nil {
					return File{}, err
				}
				if limited {
					// A rate limit is answered before Drive takes any of the
					// body: the session is where it was, so send again rather
					// than spend another request of the quota asking.
					if w, err = up.src.window(up.committed); err != nil {
						return File{}, err
					}
					st, err = up.put(ctx, w)
					continue
				}
			case sessionReauthorize:
				// The account's transport saw the 401 and marked the token
				// stale, so the query goes out with a refreshed one. Once
				// per stretch without progress: a second 401 means the
				// refresh did not help, and that is the grant's trouble.
				if up.reauthorized {
					break recover
				}
				up.reauthorized = true
				up.retries++
			default:
				break recover
			}
			st, err = up.query(ctx)
			recovered = true
		}
		var lost *sessionLostError
		switch {
		case errors.As(err, &lost):
			if err := up.restart(lost); err != nil {
				return File{}, err
			}
			continue
		case err != nil:
			return File{}, err
		case st.done:
			return up.finish(st.file)
		}
		before := up.committed
		if err := up.advance(st.committed); err != nil {
			return File{}, err
		}
		// A PUT that Drive answered without taking anything would repeat
		// forever; count it as a failure. (After a recovery the failure
		// that caused it was counted already.)
		if up.committed <= before && !recovered {
			if err := up.pause(ctx, errNoProgress); err != nil {
				return File{}, err
			}
		}
	}
}

// sessionAction is what to do about an error from a session exchange.
type sessionAction int

const (
	sessionFail        sessionAction = iota // the request's own fault, or the grant's: say why and stop
	sessionRetry                            // transient: wait, then ask the session what it has
	sessionReauthorize                      // 401: the access token died; ask again with a refreshed one
	sessionRestart                          // 404/410: the session is gone; start a new one
)

// sessionErrorAction decides how an upload answers an error from its
// session. It is the one place that decision is made, so a shared
// classification of Google's errors can take it over whole. Any other 4xx
// (400 badRequest, 403 storageQuotaExceeded, …) would come back the same
// on every attempt, so it ends the upload with its reason.
func sessionErrorAction(err error) sessionAction {
	var lost *sessionLostError
	var api *APIError
	switch {
	case errors.As(err, &lost):
		return sessionRestart
	case retryable(err):
		return sessionRetry
	case errors.As(err, &api) && api.Status == http.StatusUnauthorized:
		return sessionReauthorize
	}
	return sessionFail
}

// pause counts a failed attempt and waits before the next, unless it was
// one too many.
func (up *upload) pause(ctx context.Context, cause error) error {
	up.failures++
	up.retries++
	if up.failures >= up.maxAttempts {
		return fmt.Errorf("drive: upload gave up after %d attempts in a row without progress: %w", up.failures, cause)
	}
	if err := up.retry.wait(ctx, up.failures, cause); err != nil {
		if err == cause {
			return fmt.Errorf("drive: upload gave up: the wait Google asked for outlasts the call: %w", cause)
		}
		return canceled(err)
	}
	if err := ctx.Err(); err != nil {
		return canceled(err)
	}
	return nil
}

// advance moves to what Drive has confirmed.
func (up *upload) advance(committed int64) error {
	if committed > up.digest.sent() {
		return fmt.Errorf("drive: Drive reports %d bytes received, more than the %d sent", committed, up.digest.sent())
	}
	if committed > up.committed {
		up.failures = 0
		up.reauthorized = false
	}
	up.committed = committed
	return nil
}

// restart replaces a session Drive no longer knows. Its bytes are gone, and
// an unfinished session leaves no file behind, so a new session that starts
// from byte 0 still makes exactly one file.
func (up *upload) restart(lost *sessionLostError) error {
	if !up.src.restart() {
		return fmt.Errorf("%w: %w", ErrCannotResume, lost)
	}
	up.restarts++
	if up.restarts > up.maxAttempts {
		return fmt.Errorf("drive: upload gave up after %d lost sessions: %w", up.restarts, lost)
	}
	up.session = ""
	up.committed = 0
	return nil
}

// finish checks the file Drive made against what was read from the source.
func (up *upload) finish(f File) (File, error) {
	sum := up.digest.sum()
	if f.MD5 != "" && !strings.EqualFold(f.MD5, sum) {
		return f, fmt.Errorf("%w: Drive has md5 %s, the source read %s", ErrChecksumMismatch, f.MD5, sum)
	}
	total := up.src.total()
	if total < 0 {
		total = up.digest.sent()
	}
	up.progress.done(total)
	f.Retries = up.retries
	return f, nil
}
