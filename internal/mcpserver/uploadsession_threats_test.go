package mcpserver

import (
	"bytes"
	"io"
	"net/http"
	"strconv"
	"strings"
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
	read, limit int64
}

func (b *countingBody) Read(p []byte) (int, error) {
	if b.read >= b.limit {
		return 0, io.EOF
	}
	n := min(int64(len(p)), b.limit-b.read)
	b.read += n
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
	if endless.read > 32<<20 {
		t.Fatalf("the server read %d bytes of a body whose Content-Range names 256 KiB", endless.read)
	}
}
