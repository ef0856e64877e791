package googleemu

import (
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"mime"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Uploads: POST /upload/drive/v3/files (files.create) and PATCH
// /upload/drive/v3/files/{id} (files.update) with uploadType=media,
// multipart or resumable, and the resumable session protocol.
//
// Bodies are streamed into storage as they arrive, never buffered whole.
// Google recommends media/multipart only up to 5 MB but accepts more, and so
// does the emulator.
//
// Resumable sessions follow Google's protocol, with these choices where the
// documentation is silent:
//   - A chunk may start before the committed offset (a client retrying a chunk
//     after a dropped connection does exactly this): the overlap is skipped and
//     the rest appended, as Google's upload servers do. A chunk starting after
//     the committed offset would leave a gap and is refused with 400.
//   - Non-final chunks must be multiples of 256 KiB (400 otherwise).
//   - When a request breaks off mid-body, the bytes received are kept rounded
//     down to a multiple of 256 KiB; a status query then reports them.
//   - `bytes */N` with N equal to the committed bytes completes the upload
//     (the Go client finishes an upload of unknown length this way).
//   - The session URI is the credential (as at Google): chunk requests need
//     no Authorization header. Sessions expire after a week (404 after that).
//   - A chunk request that does carry an Authorization header with a dead
//     access token is refused with 401 before anything is read, as Google's
//     front end refuses invalid credentials on every request (Drive API
//     "Resolve errors": /drive/api/guides/handle-errors); the session keeps
//     its bytes, so a client that refreshes resumes with a status query.

type uploadSession struct {
	id      string
	created time.Time
	caller  caller // who initiated; the file is theirs even if the token dies meanwhile
	fields  string // the initiating request's fields, applied to the final response

	meta          fileMetadata
	mediaType     string
	targetID      string // files.update: the file whose content is replaced; "" for files.create
	addParents    string
	removeParents string

	// mu is held while a request streams into the session, and guards the rest.
	mu        sync.Mutex
	total     int64 // -1 until known
	committed int64
	writer    blobWriter
	hash      *md5Checkpoint
	done      bool
	fileID    string
}

func (e *Emulator) handleUploadCreate(w http.ResponseWriter, r *http.Request) {
	if r.URL.Query().Has("upload_id") {
		e.handleUploadSession(w, r)
		return
	}
	e.handleUpload(w, r, "")
}

func (e *Emulator) handleUploadUpdate(w http.ResponseWriter, r *http.Request) {
	if r.URL.Query().Has("upload_id") {
		e.handleUploadSession(w, r)
		return
	}
	e.handleUpload(w, r, r.PathValue("fileId"))
}

// handleUpload starts an upload of any type; targetID is set for files.update.
func (e *Emulator) handleUpload(w http.ResponseWriter, r *http.Request, targetID string) {
	c, derr := e.authenticate(r, true)
	if derr != nil {
		writeDriveError(w, *derr)
		return
	}
	if !e.admit(w, c.user.email, true) {
		return
	}
	q := r.URL.Query()
	mask, derr := maskFor(q.Get("fields"), defaultFileFields)
	if derr != nil {
		writeDriveError(w, *derr)
		return
	}
	up := pendingUpload{caller: c, targetID: targetID, addParents: q.Get("addParents"), removeParents: q.Get("removeParents")}
	switch t := q.Get("uploadType"); t {
	case "media":
		up.mediaType = r.Header.Get("Content-Type")
		e.uploadSimple(w, up, r.Body, mask)
	case "multipart":
		e.uploadMultipart(w, r, up, mask)
	case "resumable":
		e.startResumable(w, r, up)
	case "":
		writeDriveError(w, driveErr{code: 400, reason: "required", message: "Required parameter: uploadType", location: "uploadType"})
	default:
		writeDriveError(w, errInvalid("uploadType", "Invalid upload type: "+t))
	}
}

// pendingUpload is what an upload will create or update once its bytes are in.
type pendingUpload struct {
	caller        caller
	meta          fileMetadata
	mediaType     string
	targetID      string
	addParents    string
	removeParents string
}

// precheck refuses early what commit would refuse late, so a doomed upload
// does not stream its whole body first.
func (e *Emulator) precheck(up pendingUpload) *driveErr {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.precheckLocked(up)
}

func (e *Emulator) precheckLocked(up pendingUpload) *driveErr {
	if up.caller.user.gone {
		// The account that started the upload was deleted (RecycleEmail):
		// its sessions die with it and nothing lands in anyone's Drive.
		return &driveErr{code: 404, reason: "notFound", message: "The upload session belongs to a deleted account."}
	}
	if up.meta.MimeType != nil {
		if derr := e.checkImport(*up.meta.MimeType, up.mediaType); derr != nil {
			return derr
		}
	}
	if up.targetID == "" {
		_, derr := e.parentsLocked(up.meta.Parents, up.caller)
		return derr
	}
	f, role, derr := e.fileLocked(up.targetID, up.caller)
	if derr != nil {
		return derr
	}
	if role < roleWriter {
		return ptr(errInsufficientFilePermissions())
	}
	if f.isFolder() {
		return &driveErr{code: 400, reason: "badContent", message: "A folder cannot have content."}
	}
	return nil
}

// commitLocked creates or updates the file with content b.
func (e *Emulator) commitLocked(up pendingUpload, b blob, sum string) (*driveFile, *driveErr) {
	if up.targetID == "" {
		if derr := e.quotaLocked(up.caller.user.email, b.size()); derr != nil {
			return nil, derr
		}
		return e.createFileLocked(up.meta, up.caller, mediaTypeOrDefault(up.mediaType), b, sum)
	}
	if derr := e.precheckLocked(up); derr != nil {
		return nil, derr
	}
	f, derr := e.updateFileLocked(up.targetID, up.meta, up.addParents, up.removeParents, up.caller)
	if derr != nil {
		return nil, derr
	}
	if f.content != nil {
		f.content.remove()
	}
	f.content, f.md5 = b, sum
	return f, nil
}

func mediaTypeOrDefault(t string) string {
	if t == "" {
		return "application/octet-stream"
	}
	if mt, _, err := mime.ParseMediaType(t); err == nil {
		return mt
	}
	return t
}

// uploadSimple stores body as the content of a media or multipart upload.
func (e *Emulator) uploadSimple(w http.ResponseWriter, up pendingUpload, body io.Reader, mask fieldMask) {
	if derr := e.precheck(up); derr != nil {
		writeDriveError(w, *derr)
		return
	}
	b, sum, err := e.receive(body)
	if err != nil {
		// A body that broke off creates nothing, as at Google.
		writeDriveError(w, driveErr{code: 400, reason: "badContent", message: "The upload body could not be read: " + err.Error()})
		return
	}
	e.mu.Lock()
	f, derr := e.commitLocked(up, b, sum)
	var res map[string]any
	if derr == nil {
		res = e.resourceLocked(f, up.caller)
	}
	e.mu.Unlock()
	if derr != nil {
		b.remove()
		writeDriveError(w, *derr)
		return
	}
	writeJSON(w, http.StatusOK, mask.apply(res))
}

// receive streams r into a new blob and returns it with its md5.
func (e *Emulator) receive(r io.Reader) (blob, string, error) {
	bw, err := e.blobs.create()
	if err != nil {
		return nil, "", err
	}
	h := md5.New()
	if _, err := io.Copy(io.MultiWriter(bw, h), r); err != nil {
		bw.discard()
		return nil, "", err
	}
	b, err := bw.seal()
	if err != nil {
		bw.discard()
		return nil, "", err
	}
	return b, hex.EncodeToString(h.Sum(nil)), nil
}

// uploadMultipart handles multipart/related: a JSON metadata part, then the media.
func (e *Emulator) uploadMultipart(w http.ResponseWriter, r *http.Request, up pendingUpload, mask fieldMask) {
	badContent := func(msg string) {
		writeDriveError(w, driveErr{code: 400, reason: "badContent", message: msg})
	}
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/related" || params["boundary"] == "" {
		badContent("Bad content type. Please use multipart/related with a boundary.")
		return
	}
	mr := multipart.NewReader(r.Body, params["boundary"])
	metaPart, err := mr.NextPart()
	if err != nil {
		badContent("Missing metadata part in multipart upload.")
		return
	}
	meta, derr := decodeMetadata(metaPart)
	if derr != nil {
		writeDriveError(w, *derr)
		return
	}
	mediaPart, err := mr.NextPart()
	if err != nil {
		badContent("Missing media part in multipart upload.")
		return
	}
	up.meta = meta
	up.mediaType = mediaPart.Header.Get("Content-Type")
	e.uploadSimple(w, up, mediaPart, mask)
}

// startResumable answers the initiating request with the session URI.
func (e *Emulator) startResumable(w http.ResponseWriter, r *http.Request, up pendingUpload) {
	meta, derr := decodeMetadata(r.Body)
	if derr != nil {
		writeDriveError(w, *derr)
		return
	}
	up.meta = meta
	up.mediaType = r.Header.Get("X-Upload-Content-Type")
	total := int64(-1)
	if s := r.Header.Get("X-Upload-Content-Length"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 0 {
			writeDriveError(w, driveErr{code: 400, reason: "invalid", message: "Invalid X-Upload-Content-Length: " + s,
				location: "X-Upload-Content-Length", locationType: "header"})
			return
		}
		total = n
	}
	if derr := e.precheck(up); derr != nil {
		writeDriveError(w, *derr)
		return
	}
	// A declared length past the quota is refused before any byte is sent.
	if total > 0 && up.targetID == "" {
		e.mu.Lock()
		derr := e.quotaLocked(up.caller.user.email, total)
		e.mu.Unlock()
		if derr != nil {
			writeDriveError(w, *derr)
			return
		}
	}
	bw, err := e.blobs.create()
	if err != nil {
		writeDriveError(w, driveErr{code: 500, reason: "internalError", message: err.Error()})
		return
	}
	s := &uploadSession{
		id: "AJRbA" + randomString(60), caller: up.caller, fields: r.URL.Query().Get("fields"),
		meta: up.meta, mediaType: up.mediaType, targetID: up.targetID,
		addParents: up.addParents, removeParents: up.removeParents,
		total: total, writer: bw, hash: newMD5Checkpoint(),
	}
	e.mu.Lock()
	s.created = e.now()
	e.pruneSessionsLocked()
	e.sessions[s.id] = s
	e.mu.Unlock()

	w.Header().Set("Location", requestBase(r)+r.URL.Path+"?uploadType=resumable&upload_id="+s.id)
	w.Header().Set("X-GUploader-UploadID", s.id)
	w.Header().Set("Content-Length", "0")
	w.WriteHeader(http.StatusOK)
}

// requestBase is the scheme and host the client used, so session URIs work
// behind whatever address the emulator is reached at.
func requestBase(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	if p := r.Header.Get("X-Forwarded-Proto"); p == "http" || p == "https" {
		scheme = p
	}
	return scheme + "://" + r.Host
}

func (e *Emulator) pruneSessionsLocked() {
	now := e.now()
	for id, s := range e.sessions {
		if now.Sub(s.created) >= uploadSessionTTL {
			delete(e.sessions, id)
			// The session may be mid-request; its handler owns the writer then.
			if s.mu.TryLock() {
				if !s.done {
					s.writer.discard()
				}
				s.mu.Unlock()
			}
		}
	}
}

func (e *Emulator) session(id string) *uploadSession {
	e.mu.Lock()
	defer e.mu.Unlock()
	s, ok := e.sessions[id]
	if !ok {
		return nil
	}
	if e.now().Sub(s.created) >= uploadSessionTTL {
		e.pruneSessionsLocked()
		return nil
	}
	return s
}

// contentRange is a parsed Content-Range request header.
type contentRange struct {
	query       bool  // "bytes */N": no data, a status query
	first, last int64 // inclusive byte positions of the data
	total       int64 // -1 for "*"
}

func parseContentRange(h string) (contentRange, error) {
	cr := contentRange{total: -1}
	spec, ok := strings.CutPrefix(strings.TrimSpace(h), "bytes ")
	if !ok {
		return cr, errors.New("Content-Range must start with 'bytes '")
	}
	rng, total, ok := strings.Cut(strings.TrimSpace(spec), "/")
	if !ok {
		return cr, errors.New("Content-Range needs a total, '/N' or '/*'")
	}
	if total != "*" {
		n, err := strconv.ParseInt(total, 10, 64)
		if err != nil || n < 0 {
			return cr, fmt.Errorf("bad total %q in Content-Range", total)
		}
		cr.total = n
	}
	if rng == "*" {
		cr.query = true
		return cr, nil
	}
	a, b, ok := strings.Cut(rng, "-")
	first, err1 := strconv.ParseInt(a, 10, 64)
	last, err2 := strconv.ParseInt(b, 10, 64)
	if !ok || err1 != nil || err2 != nil || first < 0 || last < first || last == math.MaxInt64 {
		// last+1 (the chunk length) must not overflow.
		return cr, fmt.Errorf("bad range %q in Content-Range", rng)
	}
	if cr.total >= 0 && last >= cr.total {
		return cr, fmt.Errorf("range %q ends beyond the total %d", rng, cr.total)
	}
	cr.first, cr.last = first, last
	return cr, nil
}

// handleUploadSession serves PUT (and the Go client's POST) on a session URI.
func (e *Emulator) handleUploadSession(w http.ResponseWriter, r *http.Request) {
	if !e.sessionAuthLax && bearerToken(r) != "" {
		if _, derr := e.authenticate(r, true); derr != nil && derr.code == http.StatusUnauthorized {
			writeDriveError(w, *derr)
			return
		}
	}
	s := e.session(r.URL.Query().Get("upload_id"))
	if s == nil {
		writeDriveError(w, driveErr{code: 404, reason: "notFound", message: "Upload session not found or expired. Start a new upload.", location: "upload_id"})
		return
	}
	// Every chunk is a write against the user's quota; a refused chunk
	// leaves the session as it was.
	if !e.admit(w, s.caller.user.email, true) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.done {
		e.writeSessionResult(w, s)
		return
	}
	badRequest := func(msg string) {
		writeDriveError(w, driveErr{code: 400, reason: "badRequest", message: msg})
	}

	var cr contentRange
	if h := r.Header.Get("Content-Range"); h != "" {
		var err error
		if cr, err = parseContentRange(h); err != nil {
			badRequest("Invalid request: " + err.Error())
			return
		}
	} else if s.total >= 0 {
		// No Content-Range but a declared length: the body is the rest of it.
		cr = contentRange{first: s.committed, last: s.total - 1, total: s.total, query: s.total == s.committed}
	} else {
		// No Content-Range and no declared length: the body is the rest of
		// the file, however long, in one request.
		cr = contentRange{first: s.committed, last: -1, total: -1}
	}
	if cr.total >= 0 && s.total >= 0 && cr.total != s.total {
		badRequest(fmt.Sprintf("Invalid request. The total size %d differs from the %d bytes declared earlier.", cr.total, s.total))
		return
	}
	if cr.query {
		if cr.total >= 0 {
			if s.committed > cr.total {
				badRequest(fmt.Sprintf("Invalid request. %d bytes were already received, more than the total %d.", s.committed, cr.total))
				return
			}
			if s.committed == cr.total {
				s.total = cr.total
				e.finishSession(w, s)
				return
			}
		}
		writeIncomplete(w, r, s)
		return
	}
	if cr.first > s.committed {
		badRequest(fmt.Sprintf("Invalid request. According to the Content-Range header, the upload offset is %d byte(s), "+
			"which exceeds already uploaded size of %d byte(s).", cr.first, s.committed))
		return
	}
	whole := cr.last < 0 // no Content-Range: read to EOF
	final := whole || (cr.total >= 0 && cr.last+1 == cr.total)
	length := cr.last - cr.first + 1
	if !whole && !final && length%uploadChunkQuanta != 0 {
		badRequest(fmt.Sprintf("Invalid request. The number of bytes uploaded is required to be a multiple of %d, "+
			"except for the final request. The received request contained %d bytes.", uploadChunkQuanta, length))
		return
	}
	if !whole && s.total >= 0 && cr.last >= s.total {
		badRequest(fmt.Sprintf("Invalid request. The range ends beyond the declared total of %d bytes.", s.total))
		return
	}

	// Skip what was already committed (a retried chunk), then append the rest.
	skip := s.committed - cr.first
	if !whole {
		skip = min(skip, length)
	}
	if _, err := io.CopyN(io.Discard, r.Body, skip); err != nil {
		badRequest("The request body ended early.")
		return
	}
	before := s.hash.snapshot()
	start := s.committed
	dst := io.MultiWriter(s.writer, s.hash)
	var err error
	if whole {
		_, err = io.Copy(dst, r.Body)
	} else if n := length - skip; n > 0 {
		_, err = io.CopyN(dst, r.Body, n)
	}
	if err != nil {
		// The connection broke (or the body was shorter than its range):
		// keep what was received, rounded down to 256 KiB, like Google.
		keep := s.hash.rollback()
		if terr := s.writer.truncate(keep); terr != nil {
			e.log.Error("googleemu: truncating upload", "err", terr)
		}
		s.committed = keep
		badRequest("The request body ended before the end of its Content-Range.")
		return
	}
	if !whole && bodyHasMore(r.Body) {
		s.hash.restore(before)
		_ = s.writer.truncate(start)
		badRequest("Invalid request. The request body is longer than its Content-Range.")
		return
	}
	s.committed = s.writer.size()
	if cr.total >= 0 {
		s.total = cr.total
	}
	if final {
		s.total = s.committed
		e.finishSession(w, s)
		return
	}
	writeIncomplete(w, r, s)
}

func bodyHasMore(r io.Reader) bool {
	var one [1]byte
	n, _ := io.ReadFull(r, one[:])
	return n > 0
}

// writeIncomplete is Google's "308 Resume Incomplete", or 200 with an
// override header when the client asked for that with X-GUploader-No-308
// (the Go client does, since net/http treats 308 as a redirect).
func writeIncomplete(w http.ResponseWriter, r *http.Request, s *uploadSession) {
	h := w.Header()
	if s.committed > 0 {
		h.Set("Range", fmt.Sprintf("bytes=0-%d", s.committed-1))
	}
	h.Set("X-GUploader-UploadID", s.id)
	h.Set("Content-Length", "0")
	if strings.EqualFold(r.Header.Get("X-GUploader-No-308"), "yes") {
		h.Set("X-Http-Status-Code-Override", "308")
		w.WriteHeader(http.StatusOK)
		return
	}
	w.WriteHeader(http.StatusPermanentRedirect)
}

// finishSession turns the session's bytes into a file. s.mu is held.
func (e *Emulator) finishSession(w http.ResponseWriter, s *uploadSession) {
	b, err := s.writer.seal()
	if err != nil {
		writeDriveError(w, driveErr{code: 500, reason: "internalError", message: err.Error()})
		return
	}
	up := pendingUpload{caller: s.caller, meta: s.meta, mediaType: s.mediaType, targetID: s.targetID,
		addParents: s.addParents, removeParents: s.removeParents}
	e.mu.Lock()
	f, derr := e.commitLocked(up, b, s.hash.sum())
	if derr != nil {
		delete(e.sessions, s.id) // the session cannot succeed any more
	}
	e.mu.Unlock()
	s.done = true
	if derr != nil {
		b.remove()
		writeDriveError(w, *derr)
		return
	}
	s.fileID = f.id
	e.writeSessionResult(w, s)
}

// writeSessionResult answers for a completed session with the file resource.
func (e *Emulator) writeSessionResult(w http.ResponseWriter, s *uploadSession) {
	mask, derr := maskFor(s.fields, defaultFileFields)
	if derr != nil {
		writeDriveError(w, *derr)
		return
	}
	e.mu.Lock()
	f, ok := e.files[s.fileID]
	var res map[string]any
	if ok {
		res = e.resourceLocked(f, s.caller)
	}
	e.mu.Unlock()
	if !ok {
		writeDriveError(w, errFileNotFound(s.fileID))
		return
	}
	w.Header().Set("X-GUploader-UploadID", s.id)
	writeJSON(w, http.StatusOK, mask.apply(res))
}

// handleUploadCancel ends an unfinished resumable session without a file:
// DELETE on the session URI, answered 499 ("Client Closed Request"), after
// which the session is unknown (404). Google documents this for its
// resumable protocol in Cloud Storage's "Perform resumable uploads" (Cancel
// an upload, /storage/docs/performing-resumable-uploads); Drive's upload
// servers speak the same protocol. A finished session has a file to keep,
// so it is left as it is.
func (e *Emulator) handleUploadCancel(w http.ResponseWriter, r *http.Request) {
	id := r.URL.Query().Get("upload_id")
	s := e.session(id)
	if s == nil {
		writeDriveError(w, driveErr{code: 404, reason: "notFound", message: "Upload session not found or expired. Start a new upload.", location: "upload_id"})
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.done {
		e.writeSessionResult(w, s)
		return
	}
	e.mu.Lock()
	delete(e.sessions, id)
	e.mu.Unlock()
	s.writer.discard()
	s.done = true
	w.Header().Set("Content-Length", "0")
	w.WriteHeader(499)
}
