package drive

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/drivemcp/drivemcp/internal/googleemu"
)

// A request that cannot be built the same way twice (a header value with a
// line break, which net/http refuses before sending) fails at once: before,
// the transport's refusal looked like a network failure and was retried
// eight times over some 25 s while the upload held its slot.
func TestUpload_UnsendableMediaTypeFailsWithoutRetrying(t *testing.T) {
	e := newEmulated(t)
	before := e.emu.Stats().Requests
	u := &Uploader{
		Client: e.client, Endpoint: e.url,
		Sleep: func(context.Context, time.Duration) error {
			t.Error("the uploader waited to retry a request that can never be sent")
			return errors.New("test: no retries")
		},
	}
	for _, mt := range []string{"text/plain\r\nX-Injected: 1", "text/plain\n", "text/\x00plain"} {
		// The type of the bytes comes from the file's MIME type or, when
		// Drive converts them, from the source: both become the header.
		for _, c := range []struct {
			meta FileMeta
			src  Source
		}{
			{FileMeta{Name: "a.txt", MimeType: mt}, Source{ReaderAt: bytes.NewReader([]byte("hello")), Size: 5}},
			{FileMeta{Name: "a", MimeType: "application/vnd.google-apps.document"}, Source{ReaderAt: bytes.NewReader([]byte("hello")), Size: 5, MediaType: mt}},
		} {
			c.meta.Parents = []string{"root"}
			if _, err := u.Upload(t.Context(), c.meta, c.src, nil); !errors.Is(err, ErrInvalidArgument) {
				t.Errorf("Upload(%q) = %v, want ErrInvalidArgument", mt, err)
			}
		}
	}
	if n := e.emu.Stats().Requests - before; n != 0 {
		t.Fatalf("the emulator got %d requests", n)
	}
}

// A 400 is the request's own fault: the same request gets the same answer,
// so it is not retried.
func TestUpload_BadRequestFromGoogleIsNotRetried(t *testing.T) {
	e := newEmulated(t)
	e.emu.InjectFault(googleemu.Fault{Method: http.MethodPost, PathPrefix: uploadPath, Status: http.StatusBadRequest, Times: 8})
	before := e.emu.Stats().Requests
	u := &Uploader{Client: e.client, Endpoint: e.url, Sleep: func(context.Context, time.Duration) error {
		t.Error("the uploader waited to retry a 400")
		return errors.New("test: no retries")
	}}
	_, err := u.Upload(t.Context(), FileMeta{Name: "a.txt", Parents: []string{"root"}}, Source{ReaderAt: bytes.NewReader([]byte("x")), Size: 1}, nil)
	var api *APIError
	if !errors.As(err, &api) || api.Status != http.StatusBadRequest {
		t.Fatalf("Upload = %v, want the 400", err)
	}
	if n := e.emu.Stats().Requests - before; n != 1 {
		t.Fatalf("the emulator got %d requests, want 1", n)
	}
}
