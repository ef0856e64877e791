package mcpserver

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/drivemcp/drivemcp/internal/drive"
	"github.com/drivemcp/drivemcp/internal/identity"
	"github.com/drivemcp/drivemcp/internal/progressbar"
)

// UploadSessionTTL is how long an upload session's URL takes bytes.
const UploadSessionTTL = time.Hour

// UploadPutsPerAccount is how many PUTs to /uploads/ one account has in
// flight at once on a replica; more are answered 429 with Retry-After, so
// the holders of a few URLs cannot tie up the server's connections and the
// account's Drive quota.
const UploadPutsPerAccount = 4

// UploadSessions are create_upload_session's URLs over HTTP: PUT
// /uploads/{token} streams a client's bytes into a Drive resumable session,
// with Google's own resumable protocol (Content-Range chunks, "bytes */N"
// status queries answered 308 + Range). The token is the session's whole
// state, sealed with the server's keys like a download link: the account,
// its scopes, the Drive session URI, the size, md5 and expiry. Drive's
// session keeps the bytes and says how many it has, so any replica serves
// any PUT, nothing is stored, and nothing is written to the server's disk.
type UploadSessions struct {
	o DownloadLinkOptions
	// watchers are the MCP sessions to tell of progress, by token hash;
	// only this replica's, best effort.
	mu       sync.Mutex
	watchers map[string]uploadWatcher
	puts     map[string]int // PUTs in flight, by account
	// putsChanged, if set (tests), hears an account's PUTs in flight
	// each time a PUT takes or gives back its slot.
	putsChanged func(account string, inFlight int)
}

type uploadWatcher struct {
	ss      *mcp.ServerSession
	token   any // the create call's progress token
	expires time.Time
}

// NewUploadSessions returns the upload sessions of one server; it takes
// the download links' options (the same keys, grants and verifier).
func NewUploadSessions(o DownloadLinkOptions) *UploadSessions {
	return &UploadSessions{o: NewDownloadLinks(o).o, watchers: map[string]uploadWatcher{}, puts: map[string]int{}}
}

// uploadClaims are what an upload session's token seals.
type uploadClaims struct {
	Account string   `json:"a"`
	Scopes  []string `json:"s,omitempty"` // the OAuth token's scopes; none: the account's grant
	Session string   `json:"u"`           // Drive's resumable session URI (itself a credential: sealed, never shown)
	Size    int64    `json:"n"`
	MD5     string   `json:"m,omitempty"` // declared by the client; checked against Drive's
	Name    string   `json:"f"`
	Target  string   `json:"t,omitempty"` // the existing file the upload gives a new version (if_exists update); none: a new file
	Expires int64    `json:"e"`           // Unix seconds
}

// uploadAD binds sealed tokens to this use: a download link's token does
// not open an upload session, nor the other way round.
var uploadAD = []byte("drivemcp upload session v1")

func (u *UploadSessions) mint(c uploadClaims) (string, error) {
	plain, _ := json.Marshal(c)
	sealed, err := u.o.Keys.Seal(plain, uploadAD)
	if err != nil {
		return "", fmt.Errorf("sealing an upload session: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(sealed), nil
}

func (u *UploadSessions) open(token string) (uploadClaims, bool) {
	var c uploadClaims
	if len(token) > 4096 {
		return c, false
	}
	sealed, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil {
		return c, false
	}
	plain, err := u.o.Keys.Open(sealed, uploadAD)
	if err != nil || json.Unmarshal(plain, &c) != nil || c.Account == "" || c.Session == "" || c.Size < 0 {
		return c, false
	}
	return c, true
}

func (u *UploadSessions) url(token string) string { return u.o.BaseURL + "/uploads/" + token }

// relay reopens the Drive session as the token's account.
func (u *UploadSessions) relay(ctx context.Context, c uploadClaims) (*drive.RelaySession, error) {
	var client *http.Client
	if c.Scopes != nil {
		client = u.o.Grants.LimitedHTTPClient(ctx, c.Account, c.Scopes, u.o.Transport)
	} else {
		client = u.o.Grants.HTTPClient(ctx, c.Account, u.o.Transport)
	}
	client.Timeout = 0
	up := &drive.Uploader{Client: client, Endpoint: u.o.Grants.Upstream().Endpoints().UploadBase, Backoff: u.o.Retry.Schedule(), Sleep: u.o.Retry.Sleep}
	return up.Relay(c.Session, c.Size)
}

// takePut takes one of the account's PUT slots; release gives it back.
func (u *UploadSessions) takePut(account string) (release func(), ok bool) {
	key := strings.ToLower(account)
	u.mu.Lock()
	if u.puts[key] >= UploadPutsPerAccount {
		u.mu.Unlock()
		return nil, false
	}
	u.puts[key]++
	n := u.puts[key]
	u.mu.Unlock()
	u.heardPuts(key, n)
	return func() {
		u.mu.Lock()
		u.puts[key]--
		n := u.puts[key]
		if n <= 0 {
			delete(u.puts, key)
		}
		u.mu.Unlock()
		u.heardPuts(key, n)
	}, true
}

func (u *UploadSessions) heardPuts(account string, n int) {
	if u.putsChanged != nil {
		u.putsChanged(account, n)
	}
}

func tokenKey(token string) string {
	h := sha256.Sum256([]byte(token))
	return hex.EncodeToString(h[:])
}

func (u *UploadSessions) watch(token string, ss *mcp.ServerSession, progressToken any, expires time.Time) {
	if ss == nil || progressToken == nil {
		return
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	now := u.o.Now()
	for k, w := range u.watchers {
		if now.After(w.expires) {
			delete(u.watchers, k) // bounded by the sessions of the last hour
		}
	}
	u.watchers[tokenKey(token)] = uploadWatcher{ss: ss, token: progressToken, expires: expires}
}

// notify tells the MCP session that created the upload how far it is.
func (u *UploadSessions) notify(ctx context.Context, token string, received, size int64, done bool) {
	u.mu.Lock()
	w, ok := u.watchers[tokenKey(token)]
	if done {
		delete(u.watchers, tokenKey(token))
	}
	u.mu.Unlock()
	if !ok {
		return
	}
	msg := fmt.Sprintf("%s of %s received", progressbar.Bytes(received), progressbar.Bytes(size))
	if done {
		msg = "upload complete: " + msg
	}
	// Best effort: the session may have gone; the upload goes on.
	_ = w.ss.NotifyProgress(context.WithoutCancel(ctx), &mcp.ProgressNotificationParams{ProgressToken: w.token, Progress: float64(received), Total: float64(size), Message: msg})
}

// ServeHTTP serves PUT and DELETE on /uploads/{token}.
func (u *UploadSessions) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Cache-Control", "private, no-store")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Content-Type-Options", "nosniff")
	if r.Method != http.MethodPut && r.Method != http.MethodPost && r.Method != http.MethodDelete {
		h.Set("Allow", "PUT, POST, DELETE")
		http.Error(w, "An upload session takes the file's bytes with PUT (curl -T FILE URL), or DELETE to cancel it.", http.StatusMethodNotAllowed)
		return
	}
	token, _, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/uploads/"), "/")
	c, ok := u.open(token)
	if !ok {
		http.Error(w, "This is not a drivemcp upload session URL (or it was cut short). Ask the assistant for a new one with create_upload_session.", http.StatusNotFound)
		return
	}
	if bearer, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok && u.o.Verify != nil {
		info, err := u.o.Verify(r.Context(), strings.TrimSpace(bearer), r)
		switch {
		case err != nil:
			http.Error(w, "The access token sent with this upload is not valid here. Send the bytes without it (the URL is enough), or sign in again.", http.StatusUnauthorized)
			return
		case !strings.EqualFold(info.UserID, c.Account):
			// A session writes into one account's Drive; another account's
			// token says someone else holds the URL. The session is left
			// alone: refusing must not let a stranger cancel it.
			http.Error(w, "This upload session belongs to another Google account than the one signed in. Ask for your own with create_upload_session.", http.StatusForbidden)
			return
		}
	}
	if r.Method != http.MethodDelete {
		release, ok := u.takePut(c.Account)
		if !ok {
			h.Set("Retry-After", "30")
			http.Error(w, fmt.Sprintf("This account already has %d uploads sending bytes to this server. Wait for one to finish, "+
				"then ask how much arrived (PUT with Content-Range: bytes */SIZE) and send the rest.", UploadPutsPerAccount), http.StatusTooManyRequests)
			return
		}
		defer release()
	}
	// A PUT may carry gigabytes: the server's two-minute read and write
	// deadlines become the session's own end.
	rc := http.NewResponseController(w)
	_ = rc.SetReadDeadline(time.Unix(c.Expires, 0))
	_ = rc.SetWriteDeadline(time.Unix(c.Expires, 0))
	ctx := r.Context()
	rs, err := u.relay(ctx, c)
	if err != nil {
		http.Error(w, "drivemcp could not reopen this upload session. Ask for a new one with create_upload_session.", http.StatusInternalServerError)
		return
	}
	if u.o.Now().Unix() >= c.Expires {
		u.cancel(ctx, rs)
		http.Error(w, "This upload session expired at "+time.Unix(c.Expires, 0).UTC().Format(time.RFC3339)+
			" (sessions take bytes for an hour) and was cancelled; nothing was saved to Drive. Ask the assistant for a new one with create_upload_session.", http.StatusGone)
		return
	}
	if r.Method == http.MethodDelete {
		if err := rs.Cancel(ctx); err != nil {
			u.fail(w, err)
			return
		}
		u.notify(ctx, token, 0, c.Size, true)
		w.WriteHeader(http.StatusNoContent)
		return
	}
	cr, err := parseUploadRange(r.Header.Get("Content-Range"), r.ContentLength, c.Size)
	if err != nil {
		var bad *rangeError
		if errors.As(err, &bad) && bad.wrongSize {
			// The bytes are not the file that was announced: nothing of them
			// may become a file.
			u.cancel(ctx, rs)
			http.Error(w, err.Error()+" The session was cancelled and nothing was saved to Drive; ask for a new one with create_upload_session and the right size.", http.StatusBadRequest)
			return
		}
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	// A body longer than its Content-Range says (chunked, so no
	// Content-Length stopped it) is not read on: past the declared bytes
	// the read fails and the connection is closed after the answer.
	declared := int64(0)
	if !cr.query {
		declared = cr.last - cr.first + 1
	}
	r.Body = http.MaxBytesReader(w, r.Body, declared)
	st, err := rs.Status(ctx)
	if err != nil {
		u.fail(w, err)
		return
	}
	// Only the PUT whose bytes complete the session checks the md5: a
	// status query, or any PUT on a finished session, finds whatever the
	// file holds now (perhaps a later version) and must not act on it.
	completedHere := false
	if !st.Done && !cr.query {
		r.Body = &progressBody{ReadCloser: r.Body, at: cr.first, next: cr.first + progressStep(c.Size),
			step: progressStep(c.Size), tell: func(at int64) { u.notify(ctx, token, at, c.Size, false) }}
		st, err = u.forward(ctx, w, r, rs, cr, st.Committed)
		if err != nil {
			if errors.Is(err, errTooSmallChunk) {
				http.Error(w, fmt.Sprintf("Bytes %d-%d are not the last chunk, and Drive takes every chunk but the last in multiples of 256 KiB (%d bytes). "+
					"Send larger chunks (8 MiB is a good size), or the whole file in one PUT.", cr.first, cr.last, drive.ChunkAlign), http.StatusBadRequest)
				return
			}
			u.fail(w, err)
			return
		}
		completedHere = st.Done
	}
	if st.Done {
		u.finish(w, r, token, c, st.File, completedHere)
		return
	}
	u.notify(ctx, token, st.Committed, c.Size, false)
	if st.Committed > 0 {
		h.Set("Range", fmt.Sprintf("bytes=0-%d", st.Committed-1))
	}
	h.Set("Content-Length", "0")
	w.WriteHeader(http.StatusPermanentRedirect) // Google's "Resume Incomplete"
}

var errTooSmallChunk = errors.New("chunk smaller than 256 KiB")

// progressStep is how many bytes a PUT carries between two progress
// notifications: about a hundred for the whole file, at least 1 MiB, so a
// single PUT of a large file (curl -T) is heard while it streams without
// flooding the session.
func progressStep(size int64) int64 {
	return max(size/100, 1<<20)
}

// progressBody counts a PUT's bytes as they are read and tells the
// creating session each time another step of the file has arrived.
type progressBody struct {
	io.ReadCloser
	at, next, step int64 // at: the file offset read up to
	tell           func(at int64)
}

func (b *progressBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.at += int64(n)
	if b.at >= b.next {
		b.next = b.at + b.step
		b.tell(b.at)
	}
	return n, err
}

// forward sends what the request carries beyond what Drive has. Drive
// takes chunks in multiples of 256 KiB except the last: a chunk that ends
// off that grid is sent up to its last boundary, and the 308's Range tells
// the client to send the rest again with the next chunk, as Google's own
// servers may (clients of the protocol resume from Range). So nothing is
// buffered here at all, and a replica needs no state from another.
func (u *UploadSessions) forward(ctx context.Context, w http.ResponseWriter, r *http.Request, rs *drive.RelaySession, cr uploadRange, committed int64) (drive.SessionStatus, error) {
	end := cr.last + 1
	if cr.first > committed || end <= committed {
		// A gap, or bytes Drive has already: none of it is sent; the
		// Range says where to go on from.
		_, _ = io.Copy(io.Discard, r.Body)
		return drive.SessionStatus{Committed: committed}, nil
	}
	if end != cr.total {
		aligned := committed + (end-committed)/drive.ChunkAlign*drive.ChunkAlign
		if aligned == committed {
			if cr.first == committed {
				return drive.SessionStatus{}, errTooSmallChunk
			}
			_, _ = io.Copy(io.Discard, r.Body)
			return drive.SessionStatus{Committed: committed}, nil
		}
		end = aligned
	}
	if _, err := io.CopyN(io.Discard, r.Body, committed-cr.first); err != nil {
		return drive.SessionStatus{}, fmt.Errorf("%w: %w", drive.ErrBodyShort, err)
	}
	// The client may drop mid-chunk; Drive keeps what arrived (on its
	// 256 KiB grid) and the next status query says so.
	rc := http.NewResponseController(w)
	_ = rc.EnableFullDuplex() // HTTP/1.1: answer a refused chunk without reading all of it
	st, err := rs.Send(ctx, r.Body, committed, end)
	if err != nil {
		return st, err
	}
	_, _ = io.Copy(io.Discard, r.Body) // the tail beyond the grid, under 256 KiB
	return st, nil
}

// finish answers with the file Drive made as Google does (200 and the
// file). When this PUT's bytes completed the session and they are not the
// declared md5, a new file is moved to the trash (recoverable for 30 days,
// never deleted for good) and an existing file is left as it is: its
// earlier versions are the user's, and only the user can judge the new one.
func (u *UploadSessions) finish(w http.ResponseWriter, r *http.Request, token string, c uploadClaims, f drive.File, completedHere bool) {
	ctx := r.Context()
	u.notify(ctx, token, c.Size, c.Size, true)
	if c.MD5 != "" && !strings.EqualFold(f.MD5, c.MD5) {
		switch {
		case !completedHere:
			http.Error(w, fmt.Sprintf("This upload session finished earlier; Drive's file %s now has md5 %s, not the %s declared "+
				"(the bytes failed their check when they arrived, or the file was changed in Drive since). Nothing was changed now. "+
				"Ask for a new session with create_upload_session to send the file again.", f.ID, f.MD5, c.MD5), http.StatusConflict)
		case c.Target != "":
			http.Error(w, fmt.Sprintf("The bytes received have md5 %s, not the %s declared. They became the newest version of the existing file %s (%q); "+
				"the file and its earlier versions were kept. To undo, remove the newest version in Drive (the file's Manage versions), "+
				"or send the right bytes with a new session (create_upload_session with if_exists update).", f.MD5, c.MD5, f.ID, c.Name), http.StatusUnprocessableEntity)
		default:
			msg := fmt.Sprintf("The bytes received have md5 %s, not the %s declared, so the new file %s was moved to Drive's trash (restorable there for 30 days). "+
				"Check the file and ask for a new session with create_upload_session.", f.MD5, c.MD5, f.ID)
			if err := u.trashFile(ctx, c, f.ID); err != nil {
				u.o.Logger.Warn("upload session: trashing a file that failed its md5 check", "err", err)
				msg = fmt.Sprintf("The bytes received have md5 %s, not the %s declared, and drivemcp could not move the new file %s to the trash: "+
					"delete it in Drive, check the file and ask for a new session with create_upload_session.", f.MD5, c.MD5, f.ID)
			}
			http.Error(w, msg, http.StatusUnprocessableEntity)
		}
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"id": f.ID, "name": f.Name, "mimeType": f.MimeType, "size": strconv.FormatInt(f.Size, 10), "md5Checksum": f.MD5, "webViewLink": f.WebViewLink})
}

func (u *UploadSessions) trashFile(ctx context.Context, c uploadClaims, fileID string) error {
	client := u.o.Grants.HTTPClient(ctx, c.Account, u.o.Transport)
	if c.Scopes != nil {
		client = u.o.Grants.LimitedHTTPClient(ctx, c.Account, c.Scopes, u.o.Transport)
	}
	files, err := drive.NewFiles(ctx, client, u.o.Grants.Upstream().Endpoints().DriveBase, u.o.Retry)
	if err != nil {
		return err
	}
	_, err = files.SetTrashed(context.WithoutCancel(ctx), fileID, true)
	return err
}

// cancel ends the Drive session, best effort: an unfinished session makes
// no file anyway, and Drive forgets it within a week.
func (u *UploadSessions) cancel(ctx context.Context, rs *drive.RelaySession) {
	if err := rs.Cancel(context.WithoutCancel(ctx)); err != nil {
		u.o.Logger.Warn("upload session: cancelling the Drive session", "err", err)
	}
}

// fail answers a PUT Drive did not take, saying whose problem it is.
func (u *UploadSessions) fail(w http.ResponseWriter, err error) {
	status, msg := http.StatusBadGateway, "Google Drive did not take these bytes. Ask how much arrived (PUT with Content-Range: bytes */SIZE) and send the rest."
	switch {
	case errors.Is(err, drive.ErrBodyShort), errors.Is(err, context.Canceled):
		status, msg = http.StatusBadRequest, "The request body ended before its Content-Range. Ask how much arrived (PUT with Content-Range: bytes */SIZE) and send the rest."
	case errors.Is(err, drive.ErrSessionGone):
		status, msg = http.StatusGone, "Google Drive no longer has this upload session (it was cancelled, or it failed). Ask for a new one with create_upload_session."
	case errors.Is(err, drive.ErrRateLimited):
		status = http.StatusServiceUnavailable
		w.Header().Set("Retry-After", "60")
		msg = "Google Drive asks drivemcp to slow down. Wait a minute, ask how much arrived (PUT with Content-Range: bytes */SIZE) and send the rest."
	case errors.Is(err, drive.ErrPermissionDenied), errors.Is(err, drive.ErrInsufficientScope):
		status, msg = http.StatusForbidden, "Google Drive refused this upload for this account (storage full, or access removed). Fix that, then ask for a new session with create_upload_session."
	default:
		var api *drive.APIError
		if !errors.As(err, &api) {
			var te interface{ Temporary() bool }
			if !errors.As(err, &te) {
				u.o.Logger.Warn("upload session: no Drive for the account", "err", err)
			}
		}
	}
	http.Error(w, msg, status)
}

// uploadRange is a PUT's Content-Range, resolved against the session's size.
type uploadRange struct {
	query       bool
	first, last int64
	total       int64
}

type rangeError struct {
	msg       string
	wrongSize bool // the client's bytes are not the announced file
}

func (e *rangeError) Error() string { return e.msg }

// parseUploadRange reads a PUT's Content-Range as Google's resumable
// protocol does: none (the whole file in one body), "bytes */N" (a status
// query) or "bytes A-B/N" (a chunk); N must be the size announced, or *.
func parseUploadRange(h string, contentLength, size int64) (uploadRange, error) {
	wrong := func(format string, a ...any) error {
		return &rangeError{msg: fmt.Sprintf(format, a...), wrongSize: true}
	}
	if strings.TrimSpace(h) == "" {
		switch {
		case contentLength < 0:
			return uploadRange{}, &rangeError{msg: "Send the file with a Content-Length (curl -T FILE URL does), or in chunks with Content-Range."}
		case contentLength != size:
			return uploadRange{}, wrong("The body has %d bytes, but the session was created for a file of %d bytes.", contentLength, size)
		case size == 0:
			return uploadRange{query: true, total: 0}, nil
		}
		return uploadRange{first: 0, last: size - 1, total: size}, nil
	}
	spec, ok := strings.CutPrefix(strings.TrimSpace(h), "bytes ")
	rng, total, ok2 := strings.Cut(spec, "/")
	if !ok || !ok2 {
		return uploadRange{}, &rangeError{msg: fmt.Sprintf("Content-Range %q is not bytes A-B/SIZE or bytes */SIZE.", h)}
	}
	cr := uploadRange{total: size}
	if total != "*" {
		n, err := strconv.ParseInt(total, 10, 64)
		if err != nil || n < 0 {
			return cr, &rangeError{msg: fmt.Sprintf("Content-Range %q has no readable size.", h)}
		}
		if n != size {
			return cr, wrong("Content-Range says the file has %d bytes, but the session was created for %d.", n, size)
		}
	}
	if rng == "*" {
		cr.query = true
		return cr, nil
	}
	a, b, ok := strings.Cut(rng, "-")
	first, err1 := strconv.ParseInt(a, 10, 64)
	last, err2 := strconv.ParseInt(b, 10, 64)
	if !ok || err1 != nil || err2 != nil || first < 0 || last < first {
		return cr, &rangeError{msg: fmt.Sprintf("Content-Range %q has no readable byte range.", h)}
	}
	if last >= size {
		return cr, wrong("Bytes %d-%d go beyond the %d bytes the session was created for.", first, last, size)
	}
	if contentLength >= 0 && contentLength != last-first+1 {
		return cr, &rangeError{msg: fmt.Sprintf("The body has %d bytes, but Content-Range %q names %d.", contentLength, h, last-first+1)}
	}
	cr.first, cr.last = first, last
	return cr, nil
}

// The tools.

type createUploadSessionIn struct {
	AccountArg
	FileName   string `json:"file_name" jsonschema:"name of the new file in Drive"`
	Size       int64  `json:"size" minimum:"0" jsonschema:"the file's exact size in bytes; bytes of any other total are refused"`
	MD5        string `json:"md5,omitempty" jsonschema:"optional: the file's md5 in hex; when given, a new file whose bytes differ is moved to the trash (an existing file being updated is kept and the mismatch reported); default: Drive's md5 is reported"`
	MimeType   string `json:"mime_type,omitempty" jsonschema:"MIME type (default: guessed from the name)"`
	FolderID   string `json:"folder_id,omitempty" jsonschema:"Drive folder to upload into (default: root, i.e. My Drive)"`
	FolderPath string `json:"folder_path,omitempty" jsonschema:"instead of folder_id: a folder path from My Drive such as Reports/2026; missing folders are created; default: none, the file goes into folder_id"`
	IfExists   string `json:"if_exists,omitempty" enum:"new,update,skip_unchanged,fail" jsonschema:"when the folder already has a file of this name: new makes another (the default), update replaces its content keeping its id, skip_unchanged does nothing if its md5 equals md5 (needs md5) and updates it otherwise, fail stops and names it"`
}

type createUploadSessionOut struct {
	SessionID   string `json:"session_id" jsonschema:"the session, for get_upload_status; absent when nothing is to be sent (skipped_unchanged)"`
	UploadURL   string `json:"upload_url" jsonschema:"PUT the file's bytes here (the URL alone authorizes the upload; keep it private); absent when skipped"`
	CurlCommand string `json:"curl_command" jsonschema:"a command that uploads the file with curl; absent when skipped"`
	ExpiresAt   string `json:"expires_at" jsonschema:"when the URL stops taking bytes (RFC 3339); absent when skipped"`
	Size        int64  `json:"size" jsonschema:"the bytes the session takes"`
	FileName    string `json:"file_name" jsonschema:"the name the file gets in Drive"`
	FolderID    string `json:"folder_id" jsonschema:"the folder it goes into"`
	Account     string `json:"account" jsonschema:"the Google account the upload writes to"`
	Outcome     string `json:"outcome" enum:"session,skipped_unchanged" jsonschema:"session: send the bytes to upload_url; skipped_unchanged: the folder's file already has this md5 and nothing is to be sent"`
	FileID      string `json:"file_id,omitempty" jsonschema:"the existing file, when skipped_unchanged or when the upload replaces its content (if_exists update); absent otherwise"`
}

type getUploadStatusIn struct {
	AccountArg
	SessionID string `json:"session_id" jsonschema:"session_id (or the upload_url) from create_upload_session"`
}

type uploadStatusOut struct {
	State         string `json:"state" enum:"waiting,receiving,done,gone,expired" jsonschema:"waiting: no bytes yet; receiving: some arrived; done: the file is in Drive; gone: cancelled, failed or removed; expired: the hour is over"`
	BytesReceived int64  `json:"bytes_received" jsonschema:"bytes Drive has of the file"`
	Size          int64  `json:"size" jsonschema:"the file's size"`
	ExpiresAt     string `json:"expires_at" jsonschema:"when the session stops taking bytes (RFC 3339)"`
	FileID        string `json:"file_id,omitempty" jsonschema:"the new file's id; absent until done"`
	Name          string `json:"name" jsonschema:"the file's name in Drive"`
	MD5           string `json:"md5,omitempty" jsonschema:"the md5 Drive computed; absent until done"`
	WebViewLink   string `json:"web_view_link,omitempty" jsonschema:"the file's link in Drive; absent until done or when Drive gave none"`
	Account       string `json:"account" jsonschema:"the Google account the upload writes to"`
}

func (t *tools) addUploadSessionTools(s *mcp.Server) {
	addTool(s, t.Logger, createUploadSessionTool, t.createUploadSession)
	addTool(s, t.Logger, getUploadStatusTool, t.getUploadStatus)
}

func (t *tools) createUploadSession(ctx context.Context, req *mcp.CallToolRequest, in createUploadSessionIn) (*mcp.CallToolResult, createUploadSessionOut, error) {
	if t.UploadSessions == nil {
		return nil, createUploadSessionOut{}, userErrorf(nil, "This server takes no upload sessions (it is not serving HTTP). Upload a local file with upload_file_to_drive and its path instead.")
	}
	if strings.TrimSpace(in.FileName) == "" {
		return nil, createUploadSessionOut{}, userErrorf(nil, "file_name is empty: give the name the file should have in Drive.")
	}
	if err := checkUploadArgs("file_name", in.FileName, in.MimeType, in.FolderID, in.FolderPath); err != nil {
		return nil, createUploadSessionOut{}, err
	}
	if in.Size < 0 {
		return nil, createUploadSessionOut{}, userErrorf(nil, "size %d is negative: give the file's size in bytes (ls -l or stat shows it).", in.Size)
	}
	md5 := strings.ToLower(strings.TrimSpace(in.MD5))
	if b, err := hex.DecodeString(md5); md5 != "" && (err != nil || len(b) != 16) {
		return nil, createUploadSessionOut{}, userErrorf(nil, "md5 %q is not an md5 (32 hex digits, as md5sum prints): give the file's, or leave md5 out.", in.MD5)
	}
	mimeType := in.MimeType
	if mimeType == "" {
		mimeType = guessMIME(in.FileName, strings.NewReader(""))
	}
	if isGoogleType(mimeType) {
		return nil, createUploadSessionOut{}, userErrorf(nil, "An upload session keeps the bytes as they are and cannot convert them into %s. "+
			"Leave mime_type out (or give the file's own type), then convert the file in Drive.", mimeType)
	}
	ifExists, err := ifExistsArg(in.IfExists)
	if err != nil {
		return nil, createUploadSessionOut{}, err
	}
	id, err := t.resolve(ctx, req, in.UserGoogleEmail)
	if err != nil {
		return nil, createUploadSessionOut{}, err
	}
	if err := t.requireDriveGrant(ctx, id); err != nil {
		return nil, createUploadSessionOut{}, err
	}
	folderID, err := t.uploadFolder(ctx, id, "", in.FolderID, in.FolderPath)
	if err != nil {
		return nil, createUploadSessionOut{}, err
	}
	if folderID == "" {
		folderID = "root"
	}
	out := createUploadSessionOut{Size: in.Size, FileName: in.FileName, FolderID: folderID, Account: id.Email, Outcome: "session"}
	dest := uploadDest{name: in.FileName, folderID: folderID, ifExists: ifExists, md5: md5}
	if ifExists != drive.IfExistsNew {
		res, skipped, err := t.applyIfExists(ctx, id, &dest, drive.Source{})
		if err != nil {
			return nil, createUploadSessionOut{}, err
		}
		if res != nil {
			out.Outcome, out.FileID = skipped.Outcome, skipped.FileID
			return res, out, nil
		}
	}
	up := &drive.Uploader{Client: t.httpClient(ctx, id), Endpoint: t.Grants.Upstream().Endpoints().UploadBase, Backoff: t.Retry.Schedule(), Sleep: t.Retry.Sleep}
	meta := drive.FileMeta{Name: in.FileName, MimeType: mimeType, Parents: []string{folderID}}
	if dest.targetID != "" {
		meta = drive.FileMeta{}
		out.FileID = dest.targetID
	}
	session, err := up.StartRelay(ctx, dest.targetID, meta, mimeType, in.Size)
	if err != nil {
		return nil, createUploadSessionOut{}, t.explainUpload(id.Email, in.FileName, folderID, err)
	}
	var scopes []string
	if id.Method == identity.MethodOAuth {
		scopes = id.Scopes // the PUTs reach Drive with no more than the token that asked
	}
	expires := t.UploadSessions.o.Now().Add(UploadSessionTTL)
	token, err := t.UploadSessions.mint(uploadClaims{Account: id.Email, Scopes: scopes, Session: session, Size: in.Size, MD5: md5, Name: in.FileName, Target: dest.targetID, Expires: expires.Unix()})
	if err != nil {
		return nil, createUploadSessionOut{}, err
	}
	if req != nil && req.Params != nil {
		t.UploadSessions.watch(token, req.Session, req.Params.GetProgressToken(), expires)
	}
	out.SessionID, out.UploadURL, out.ExpiresAt = token, t.UploadSessions.url(token), rfc3339(expires)
	out.CurlCommand = "curl --fail -T " + shellQuote(in.FileName) + " " + shellQuote(out.UploadURL)
	return text(fmt.Sprintf("Upload session for %q (%s) in %s's Drive, open until %s. Run on the computer that has the file:\n\n    %s\n\n"+
		"or PUT it in chunks with Content-Range (multiples of 256 KiB but the last; after a dropped connection, PUT with "+
		"Content-Range: bytes */%d to hear how much arrived). The URL alone authorizes the upload: do not share it. "+
		"Check it with get_upload_status.",
		in.FileName, progressbar.Bytes(in.Size), id.Email, expires.UTC().Format(time.RFC3339), out.CurlCommand, in.Size)), out, nil
}

// shellQuote quotes s for a POSIX shell.
func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

func (t *tools) getUploadStatus(ctx context.Context, req *mcp.CallToolRequest, in getUploadStatusIn) (*mcp.CallToolResult, uploadStatusOut, error) {
	if t.UploadSessions == nil {
		return nil, uploadStatusOut{}, userErrorf(nil, "This server takes no upload sessions (it is not serving HTTP).")
	}
	token := strings.TrimSpace(in.SessionID)
	if i := strings.LastIndex(token, "/uploads/"); i >= 0 {
		token = token[i+len("/uploads/"):]
	}
	c, ok := t.UploadSessions.open(token)
	if !ok {
		return nil, uploadStatusOut{}, userErrorf(nil, "session_id is not an upload session of this server. Give the session_id create_upload_session returned.")
	}
	id, err := t.resolve(ctx, req, in.UserGoogleEmail)
	if err != nil {
		return nil, uploadStatusOut{}, err
	}
	if !strings.EqualFold(id.Email, c.Account) {
		return nil, uploadStatusOut{}, userErrorf(nil, "This upload session belongs to another Google account than %s, so its status is not shown.", id.Email)
	}
	out := uploadStatusOut{Size: c.Size, Name: c.Name, Account: c.Account, ExpiresAt: rfc3339(time.Unix(c.Expires, 0))}
	rs, err := t.UploadSessions.relay(ctx, c)
	if err != nil {
		return nil, uploadStatusOut{}, err
	}
	st, err := rs.Status(ctx)
	switch {
	case errors.Is(err, drive.ErrSessionGone):
		out.State = "gone"
		return text(fmt.Sprintf("The upload of %q ended without a file (cancelled, refused, or its md5 did not match). Ask for a new session with create_upload_session.", c.Name)), out, nil
	case err != nil:
		return nil, uploadStatusOut{}, t.explainUpload(id.Email, c.Name, "", err)
	case st.Done && c.MD5 != "" && !strings.EqualFold(st.File.MD5, c.MD5):
		out.State = "gone"
		return text(fmt.Sprintf("Drive's file %s (%q) has md5 %s, not the %s declared: the bytes that arrived were not the file "+
			"(a new file was then moved to the trash; an existing file kept them as its newest version, which Manage versions in Drive removes), "+
			"or the file was changed in Drive since. Ask for a new session to send it again.", st.File.ID, c.Name, st.File.MD5, c.MD5)), out, nil
	case st.Done:
		out.State, out.BytesReceived = "done", c.Size
		out.FileID, out.MD5, out.WebViewLink = st.File.ID, st.File.MD5, st.File.WebViewLink
		return text(fmt.Sprintf("%q is in Google Drive: file id %s, md5 %s.", c.Name, st.File.ID, st.File.MD5)), out, nil
	}
	out.BytesReceived = st.Committed
	out.State = "receiving"
	if st.Committed == 0 {
		out.State = "waiting"
	}
	if t.UploadSessions.o.Now().Unix() >= c.Expires {
		out.State = "expired"
		t.UploadSessions.cancel(ctx, rs)
		return text(fmt.Sprintf("The upload session of %q expired and was cancelled; nothing was saved. Ask for a new one with create_upload_session.", c.Name)), out, nil
	}
	return text(fmt.Sprintf("%s of %s of %q have arrived; the session takes bytes until %s.",
		progressbar.Bytes(st.Committed), progressbar.Bytes(c.Size), c.Name, out.ExpiresAt)), out, nil
}
