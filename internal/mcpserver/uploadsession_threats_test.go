package mcpserver

import (
	"bytes"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
)

// Threat: a corrupted transfer (or anyone holding the URL) sends other
// bytes to an if_exists=update session with a declared md5, and the
// existing file, with all its history, is deleted for good.
func TestUploadSession_WrongBytesToAnUpdateSessionCannotDeleteTheExistingFile(t *testing.T) {
	sf := newSessionFixture(t)
	orig := payload(300 << 10)
	url, _ := sf.create(t, "report.bin", orig, md5Of(orig))
	if resp, body := put(t, url, "", bytes.NewReader(orig), int64(len(orig)), ""); resp == nil || resp.StatusCode != 200 {
		t.Fatalf("first upload: %v %s", resp, body)
	}
	origID, ok := sf.driveFileNamed("report.bin")
	if !ok {
		t.Fatal("no original")
	}
	newContent := payload(200 << 10)
	out := sf.mustCall(t, "create_upload_session", map[string]any{"user_google_email": alice, "file_name": "report.bin",
		"size": len(newContent), "md5": md5Of(newContent), "if_exists": "update"})
	wrong := bytes.Repeat([]byte{'x'}, len(newContent))
	resp, body := put(t, out["upload_url"].(string), "", bytes.NewReader(wrong), int64(len(wrong)), "")
	if resp == nil || resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, origID) {
		t.Fatalf("PUT of the wrong bytes: %v %s (want 422 naming the file %s)", resp, body, origID)
	}
	f, ok := sf.google.File(origID)
	if !ok || f.Trashed {
		t.Fatalf("the existing file %s was deleted or trashed by a wrong-md5 update PUT (present %v, trashed %v)", origID, ok, f.Trashed)
	}
}

// Threat: after a good upload the file gets a new version; anyone holding
// the first URL sends a status query, and the file is deleted because its
// md5 is no longer the first session's.
func TestUploadSession_StatusQueryOnAnOldURLCannotDeleteALaterEditedFile(t *testing.T) {
	sf := newSessionFixture(t)
	content := payload(300 << 10)
	url, _ := sf.create(t, "notes.bin", content, md5Of(content))
	if resp, body := put(t, url, "", bytes.NewReader(content), int64(len(content)), ""); resp == nil || resp.StatusCode != 200 {
		t.Fatalf("upload: %v %s", resp, body)
	}
	id, _ := sf.driveFileNamed("notes.bin")
	edited := payload(100 << 10)
	url2 := sf.mustCall(t, "create_upload_session", map[string]any{"user_google_email": alice, "file_name": "notes.bin",
		"size": len(edited), "if_exists": "update"})["upload_url"].(string)
	if resp, body := put(t, url2, "", bytes.NewReader(edited), int64(len(edited)), ""); resp == nil || resp.StatusCode != 200 {
		t.Fatalf("edit: %v %s", resp, body)
	}
	for _, cr := range []string{"bytes */" + strconv.Itoa(len(content)), "bytes 0-1023/" + strconv.Itoa(len(content))} {
		var body *bytes.Reader
		n := int64(0)
		if !strings.HasPrefix(cr, "bytes */") {
			body, n = bytes.NewReader(content[:1024]), 1024
		}
		var resp *http.Response
		var text string
		if body != nil {
			resp, text = put(t, url, cr, body, n, "")
		} else {
			resp, text = put(t, url, cr, nil, 0, "")
		}
		if resp == nil || resp.StatusCode >= 500 {
			t.Fatalf("%s on the old URL: %v %s", cr, resp, text)
		}
		if f, ok := sf.google.File(id); !ok || f.Trashed || f.MD5 != md5Of(edited) {
			t.Fatalf("%s on the old URL (%d %s) touched the edited file: present %v, trashed %v", cr, resp.StatusCode, text, ok, f.Trashed)
		}
	}
}

// countingBody is an endless request body that counts what was read of it,
// up to limit bytes (then it ends, so a test never hangs).
type countingBody struct {
	read  atomic.Int64 // the client's transport may still be reading when the answer arrives
	limit int64
}

func (b *countingBody) Read(p []byte) (int, error) {
	read := b.read.Load()
	if read >= b.limit {
		return 0, io.EOF
	}
	n := min(int64(len(p)), b.limit-read)
	b.read.Add(n)
	return int(n), nil
}

// Threat: a chunked PUT (no Content-Length) names a range Drive already
// has, and the server reads and throws away whatever follows, without end:
// one URL holder ties up a connection and the server's bandwidth for the
// rest of the hour.
func TestUploadSession_AChunkedBodyLongerThanItsContentRangeIsNotReadOn(t *testing.T) {
	sf := newSessionFixture(t)
	content := payload(600 << 10)
	url, _ := sf.create(t, "endless.bin", content, "")
	total := strconv.Itoa(len(content))
	if resp, body := put(t, url, "bytes 0-262143/"+total, bytes.NewReader(content[:256<<10]), 256<<10, ""); resp == nil || resp.StatusCode != http.StatusPermanentRedirect {
		t.Fatalf("first chunk: %v %s", resp, body)
	}
	endless := &countingBody{limit: 256 << 20}
	resp, text := put(t, url, "bytes 0-262143/"+total, endless, -1, "")
	if resp == nil || resp.StatusCode >= 500 {
		t.Fatalf("chunked PUT: %v %s", resp, text)
	}
	if read := endless.read.Load(); read > 32<<20 {
		t.Fatalf("the server read %d bytes of a body whose Content-Range names 256 KiB", read)
	}
}

// Threat: whoever holds a few of an account's URLs opens PUTs without end
// (slow bodies), holding the server's connections and the account's Drive
// quota; past UploadPutsPerAccount in flight a PUT is answered 429.
func TestUploadSession_ManySlowPutsOfOneAccountAreCappedWith429(t *testing.T) {
	sf := newSessionFixture(t)
	inFlight := make(chan int, 4*UploadPutsPerAccount)
	sf.ups.putsChanged = func(_ string, n int) { inFlight <- n }
	waitFor := func(want int) {
		for n := range inFlight {
			if n == want {
				return
			}
		}
	}
	content := payload(600 << 10)
	total := strconv.Itoa(len(content))
	type answer struct{ status int }
	answers := make(chan answer, UploadPutsPerAccount)
	var pipes []*io.PipeWriter
	for i := range UploadPutsPerAccount {
		url, _ := sf.create(t, "slow"+strconv.Itoa(i)+".bin", content, "")
		pr, pw := io.Pipe()
		pipes = append(pipes, pw)
		t.Cleanup(func() { pw.CloseWithError(io.ErrUnexpectedEOF) }) // before the server closes, even on failure
		go func() {
			resp, _ := put(t, url, "bytes 0-262143/"+total, pr, 256<<10, "")
			a := answer{}
			if resp != nil {
				a.status = resp.StatusCode
			}
			answers <- a
		}()
	}
	waitFor(UploadPutsPerAccount)
	url, _ := sf.create(t, "one-more.bin", content, "")
	resp, text := put(t, url, "bytes */"+total, nil, 0, "")
	if resp == nil || resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("PUT number %d of one account: %v %s (want 429 with Retry-After)", UploadPutsPerAccount+1, resp, text)
	}
	for _, pw := range pipes {
		pw.CloseWithError(io.ErrUnexpectedEOF)
	}
	for range UploadPutsPerAccount {
		<-answers
	}
	waitFor(0)
	if resp, text := put(t, url, "bytes */"+total, nil, 0, ""); resp == nil || resp.StatusCode != http.StatusPermanentRedirect {
		t.Fatalf("a PUT once the others ended: %v %s (want 308)", resp, text)
	}
}
