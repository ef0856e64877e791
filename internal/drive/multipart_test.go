package drive

import (
	"bytes"
	"net/http"
	"testing"

	"github.com/drivemcp/drivemcp/internal/googleemu"
)

const smallSize = 100 << 10

// A file below the cutoff costs one round trip to Google, not the two of a
// resumable session, and is still md5-checked; a stream of known size
// below it too.
func TestUpload_SmallFileIsOneMultipartRequestMD5Checked(t *testing.T) {
	data := randomBytes(smallSize, 7)
	for _, tc := range []struct {
		name string
		src  Source
	}{
		{"ReaderAt", Source{ReaderAt: bytes.NewReader(data), Size: smallSize}},
		{"Reader", Source{Reader: bytes.NewReader(data), Size: smallSize}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEmulated(t)
			u, _ := e.uploader()
			u.Cutoff = 0 // the default, 5 MiB
			before := e.emu.Stats().Requests
			f, err := u.Upload(t.Context(), FileMeta{Name: "small.bin", MimeType: "application/octet-stream"}, tc.src, nil)
			if err != nil {
				t.Fatal(err)
			}
			if n := e.emu.Stats().Requests - before; n != 1 {
				t.Fatalf("the upload took %d requests to Google, want 1", n)
			}
			e.wantOneFile(t, f, data)
			e.wantContentSentOnce(t, smallSize)
		})
	}
}

// Drive has no idempotency key: a multipart upload whose answer was lost
// (the connection dropped after Drive took the whole body, or the answer
// was cut off) may have made the file. The upload finds it by its tag
// instead of sending a second one; a 503 made nothing, and the lookup says
// so before the one resend.
func TestUpload_MultipartAmbiguousFailureLeavesExactlyOneFile(t *testing.T) {
	data := randomBytes(smallSize, 8)
	for _, tc := range []struct {
		name      string
		fault     googleemu.Fault
		wantCalls int64
	}{
		{"AnswerCutOff", googleemu.Fault{Method: "POST", PathPrefix: "/upload/drive/v3/files", DropResponseAfterBytes: 1}, 2},
		{"DroppedAfterBody", googleemu.Fault{Method: "POST", PathPrefix: "/upload/drive/v3/files", DropAfterBytes: smallSize + 4096}, 2},
		{"ServiceUnavailable", googleemu.Fault{Method: "POST", PathPrefix: "/upload/drive/v3/files", Status: http.StatusServiceUnavailable}, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEmulated(t)
			u, _ := e.uploader()
			u.Cutoff = 0
			e.emu.InjectFault(tc.fault)
			before := e.emu.Stats().Requests
			f, err := u.Upload(t.Context(), FileMeta{Name: "once.bin"}, Source{ReaderAt: bytes.NewReader(data), Size: smallSize}, nil)
			if err != nil {
				t.Fatal(err)
			}
			e.wantOneFile(t, f, data)
			if n := e.emu.Stats().Requests - before; n != tc.wantCalls {
				t.Fatalf("%d requests to Google, want %d", n, tc.wantCalls)
			}
			if f.Retries != 1 {
				t.Fatalf("Retries = %d, want 1", f.Retries)
			}
		})
	}
}

// A rate limit is Google refusing before it acts: the upload waits and
// sends again, without spending a request on looking for the file.
func TestUpload_MultipartRateLimitIsResentWithoutLookup(t *testing.T) {
	data := randomBytes(smallSize, 9)
	e := newEmulated(t)
	u, sl := e.uploader()
	u.Cutoff = 0
	e.emu.InjectFault(googleemu.Fault{Method: "POST", PathPrefix: "/upload/drive/v3/files", Status: http.StatusTooManyRequests})
	before := e.emu.Stats().Requests
	f, err := u.Upload(t.Context(), FileMeta{Name: "limited.bin"}, Source{ReaderAt: bytes.NewReader(data), Size: smallSize}, nil)
	if err != nil {
		t.Fatal(err)
	}
	e.wantOneFile(t, f, data)
	if n := e.emu.Stats().Requests - before; n != 2 {
		t.Fatalf("%d requests to Google, want 2", n)
	}
	if len(sl.all()) != 1 {
		t.Fatalf("waits %v, want one", sl.all())
	}
}

// An empty file is one request too, with Drive's md5 of nothing.
func TestUpload_EmptyFileIsOneMultipartRequest(t *testing.T) {
	e := newEmulated(t)
	u, _ := e.uploader()
	u.Cutoff = 0
	before := e.emu.Stats().Requests
	f, err := u.Upload(t.Context(), FileMeta{Name: "empty.txt", MimeType: "text/plain"}, Source{ReaderAt: bytes.NewReader(nil), Size: 0}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if n := e.emu.Stats().Requests - before; n != 1 {
		t.Fatalf("%d requests, want 1", n)
	}
	e.wantOneFile(t, f, nil)
}
