package drive

import (
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// fakeDrive is a small, strict implementation of Drive's resumable upload
// protocol, with hooks to break it in ways the emulator may not offer.
type fakeDrive struct {
	t    *testing.T
	srv  *httptest.Server
	done chan struct{}

	mu        sync.Mutex
	sessions  map[string]*fakeSession
	files     []fakeFile
	faults    []fakeFault
	received  int64 // upload body bytes read
	initiated int
	puts      []string // Content-Range of every PUT, in order
	creates   []*http.Request
	// real308 answers incomplete with a bare 308 (plus a Location, to prove
	// the client does not follow it) even when X-GUploader-No-308 is set.
	real308 bool
	// md5Override replaces the md5 reported for completed files.
	md5Override string
}

type fakeSession struct {
	id        string
	meta      fileMetadata
	declared  int64 // X-Upload-Content-Length, or -1
	data      []byte
	committed int64
	done      *fakeFile
}

type fakeFile struct {
	ID   string
	Meta fileMetadata
	Data []byte
}

// fakeFault breaks the next request it matches, once.
type fakeFault struct {
	match      func(r *http.Request) bool
	status     int    // answer this status without reading the body
	retryAfter string // with this Retry-After
	body       string // and this body (default: a Google error envelope)
	dropAfter  int64  // read this many body bytes, keep them, then cut the connection (-1: off)
	loseReply  bool   // handle the request normally, then cut the connection instead of answering
	expire     bool   // forget the session, answer 404
	// stallAfter reads this many body bytes, closes stalled, then waits
	// for the test to end (0: off).
	stallAfter int64
	stalled    chan struct{}
}

func isPut(r *http.Request) bool   { return r.Method == http.MethodPut && r.ContentLength > 0 }
func isQuery(r *http.Request) bool { return r.Method == http.MethodPut && r.ContentLength == 0 }
func isPost(r *http.Request) bool  { return r.Method == http.MethodPost }

// finalPut matches the PUT that carries the last byte.
func finalPut(r *http.Request) bool {
	if !isPut(r) {
		return false
	}
	cr := r.Header.Get("Content-Range")
	_, total, _ := strings.Cut(cr, "/")
	var a, b int64
	fmt.Sscanf(cr, "bytes %d-%d/", &a, &b)
	return total != "*" && strconv.FormatInt(b+1, 10) == total
}

func newFakeDrive(t *testing.T) *fakeDrive {
	f := &fakeDrive{t: t, sessions: map[string]*fakeSession{}, done: make(chan struct{})}
	f.srv = httptest.NewServer(f)
	t.Cleanup(f.srv.Close)
	t.Cleanup(func() { close(f.done) }) // runs first: releases stalled handlers
	return f
}

func (f *fakeDrive) inject(ff fakeFault) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if ff.dropAfter == 0 {
		ff.dropAfter = -1
	}
	f.faults = append(f.faults, ff)
}

func (f *fakeDrive) takeFault(r *http.Request) *fakeFault {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, ff := range f.faults {
		if ff.match == nil || ff.match(r) {
			f.faults = append(f.faults[:i:i], f.faults[i+1:]...)
			return &ff
		}
	}
	return nil
}

func (f *fakeDrive) Files() []fakeFile {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]fakeFile(nil), f.files...)
}

func (f *fakeDrive) Puts() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.puts...)
}

func (f *fakeDrive) Initiated() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.initiated
}

func (f *fakeDrive) Received() int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.received
}

func writeGoogleError(w http.ResponseWriter, code int, reason, msg string) {
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{
		"code": code, "message": msg, "errors": []map[string]string{{"reason": reason, "message": msg}},
	}})
}

func cut(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(err)
	}
	conn.Close()
}

func (f *fakeDrive) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/upload/drive/v3/files" || r.URL.Query().Get("uploadType") != "resumable" {
		writeGoogleError(w, 404, "notFound", "no such path")
		return
	}
	ff := f.takeFault(r)
	if ff != nil && ff.status != 0 {
		if ff.retryAfter != "" {
			w.Header().Set("Retry-After", ff.retryAfter)
		}
		if ff.body != "" {
			w.WriteHeader(ff.status)
			io.WriteString(w, ff.body)
			return
		}
		writeGoogleError(w, ff.status, "backendError", "injected")
		return
	}
	switch r.Method {
	case http.MethodPost:
		f.create(w, r)
	case http.MethodPut:
		f.put(w, r, ff)
	default:
		writeGoogleError(w, 405, "methodNotAllowed", r.Method)
	}
}

func (f *fakeDrive) create(w http.ResponseWriter, r *http.Request) {
	var meta fileMetadata
	if err := json.NewDecoder(r.Body).Decode(&meta); err != nil {
		writeGoogleError(w, 400, "parseError", err.Error())
		return
	}
	declared := int64(-1)
	if v := r.Header.Get("X-Upload-Content-Length"); v != "" {
		declared, _ = strconv.ParseInt(v, 10, 64)
	}
	f.mu.Lock()
	f.initiated++
	f.creates = append(f.creates, r.Clone(r.Context()))
	id := fmt.Sprintf("s%d", f.initiated)
	f.sessions[id] = &fakeSession{id: id, meta: meta, declared: declared}
	f.mu.Unlock()
	w.Header().Set("Location", f.srv.URL+"/upload/drive/v3/files?uploadType=resumable&upload_id="+id)
	w.WriteHeader(200)
}

func (f *fakeDrive) put(w http.ResponseWriter, r *http.Request, ff *fakeFault) {
	id := r.URL.Query().Get("upload_id")
	f.mu.Lock()
	s := f.sessions[id]
	cr := r.Header.Get("Content-Range")
	f.puts = append(f.puts, cr)
	if ff != nil && ff.expire {
		delete(f.sessions, id)
		s = nil
	}
	var committed int64 // read under the lock: a stalled request may still hold the session
	if s != nil {
		committed = s.committed
	}
	f.mu.Unlock()
	if s == nil {
		writeGoogleError(w, 404, "notFound", "No such upload session")
		return
	}
	spec, ok := strings.CutPrefix(cr, "bytes ")
	if !ok {
		writeGoogleError(w, 400, "badContentRange", cr)
		return
	}
	rng, totalStr, _ := strings.Cut(spec, "/")
	total := int64(-1)
	if totalStr != "*" {
		total, _ = strconv.ParseInt(totalStr, 10, 64)
	}
	if s.declared >= 0 && total >= 0 && total != s.declared {
		writeGoogleError(w, 400, "badContentRange", "total differs from X-Upload-Content-Length")
		return
	}
	if rng != "*" {
		var a, b int64
		if _, err := fmt.Sscanf(rng, "%d-%d", &a, &b); err != nil || b < a || a > committed {
			writeGoogleError(w, 400, "badContentRange", cr)
			return
		}
		if r.ContentLength != b-a+1 {
			writeGoogleError(w, 400, "badRequest", "Content-Length does not match Content-Range")
			return
		}
		final := total >= 0 && b+1 == total
		if !final && (b+1)%ChunkAlign != 0 {
			writeGoogleError(w, 400, "badContentRange", "chunk not a multiple of 256 KiB: "+cr)
			return
		}
		limit := b - a + 1
		if ff != nil && ff.stallAfter > 0 {
			io.CopyN(io.Discard, r.Body, ff.stallAfter)
			close(ff.stalled)
			<-f.done
			return
		}
		if ff != nil && ff.dropAfter >= 0 {
			limit = min(limit, ff.dropAfter)
		}
		buf, err := io.ReadAll(io.LimitReader(r.Body, limit))
		f.mu.Lock()
		f.received += int64(len(buf))
		// Bytes before the committed offset are a resend; keep the old ones.
		s.data = s.data[:s.committed]
		if skip := s.committed - a; int64(len(buf)) > skip {
			s.data = append(s.data, buf[skip:]...)
		}
		got := int64(len(s.data))
		switch {
		case final && got == total && err == nil:
			s.committed = got
		default:
			s.committed = got / ChunkAlign * ChunkAlign
			s.data = s.data[:s.committed]
		}
		f.mu.Unlock()
		if err != nil || (ff != nil && ff.dropAfter >= 0) {
			cut(w)
			return
		}
	}
	f.mu.Lock()
	if s.done == nil && total >= 0 && s.committed == total {
		file := fakeFile{ID: fmt.Sprintf("file%d", len(f.files)+1), Meta: s.meta, Data: s.data}
		f.files = append(f.files, file)
		s.done = &file
	}
	done, committed := s.done, s.committed
	md5Override, real308 := f.md5Override, f.real308
	f.mu.Unlock()
	if ff != nil && ff.loseReply {
		cut(w)
		return
	}
	if done != nil {
		sum := md5.Sum(done.Data)
		md5hex := hex.EncodeToString(sum[:])
		if md5Override != "" {
			md5hex = md5Override
		}
		w.Header().Set("Content-Type", "application/json; charset=UTF-8")
		json.NewEncoder(w).Encode(map[string]any{
			"id": done.ID, "name": done.Meta.Name, "mimeType": done.Meta.MimeType,
			"parents": done.Meta.Parents, "size": strconv.Itoa(len(done.Data)), "md5Checksum": md5hex,
			"webViewLink": "https://drive.google.com/file/d/" + done.ID + "/view",
		})
		return
	}
	if committed > 0 {
		w.Header().Set("Range", fmt.Sprintf("bytes=0-%d", committed-1))
	}
	if r.Header.Get("X-GUploader-No-308") == "yes" && !real308 {
		w.Header().Set("X-Http-Status-Code-Override", "308")
		w.WriteHeader(200)
		return
	}
	w.Header().Set("Location", "http://127.0.0.1:1/must-not-follow")
	w.WriteHeader(http.StatusPermanentRedirect)
}
