package e2e

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/drivemcp/drivemcp/internal/e2etest"
)

// uploadSessionBytes is the file the upload-session story sends: a GiB
// (about 15 s on two shared cores, 3 GiB of temporary disk);
// DRIVEMCP_E2E_UPLOAD_BYTES sets another size.
func uploadSessionBytes(t *testing.T) int64 {
	if v := os.Getenv("DRIVEMCP_E2E_UPLOAD_BYTES"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 {
			t.Fatalf("DRIVEMCP_E2E_UPLOAD_BYTES=%q is not a size in bytes", v)
		}
		return n
	}
	return 1 << 30
}

// vmHWM is a process's peak resident memory, from /proc.
func vmHWM(t *testing.T, pid int) int64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10
		}
	}
	t.Fatal("no VmHWM in /proc status")
	return 0
}

// curlPut runs curl as a user would; stdin, when set, is the body (-T -)
// of length n. It returns the status and the Range header of the answer.
func curlPut(t *testing.T, url string, args []string, stdin io.Reader) (status int, rng, body string, err error) {
	t.Helper()
	out := filepath.Join(t.TempDir(), "body")
	cmd := exec.Command("curl", append([]string{"-sS", "-o", out, "-w", "%{http_code} %header{range}", "-X", "PUT"}, append(args, url)...)...)
	cmd.Stdin = stdin
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Run()
	b, _ := os.ReadFile(out)
	code, r, _ := strings.Cut(strings.TrimSpace(stdout.String()), " ")
	status, _ = strconv.Atoi(code)
	if err != nil {
		err = fmt.Errorf("%w: %s", err, stderr.String())
	}
	return status, r, string(b), err
}

// A person whose file is on their own computer uploads it through drivemcp
// over HTTP with curl: first the curl -T one-liner the tool hands out (one
// PUT), then in 8 MiB chunks with Content-Range, where curl is killed in
// the middle of a chunk and the upload resumes from what Drive kept. Both
// files land with the right md5, and drivemcp's memory stays flat: its
// peak RSS stays under 64 MiB however large the file.
func TestUploadSession_CurlSendsALargeFileOnceAndInChunksWithADropAndMemoryStaysFlat(t *testing.T) {
	size := uploadSessionBytes(t)
	g := e2etest.StartGoogle(t)
	srv := e2etest.StartHTTP(t, e2etest.Config{Binary: binary, DB: filepath.Join(t.TempDir(), "db"), Google: g})
	alice := connectOAuth(t, srv.BaseURL, e2etest.NewBrowser("alice@example.com"))
	path, sum := e2etest.WriteRandomFile(t, t.TempDir(), "big.bin", size)

	// One PUT: the command the tool prints, run as printed.
	out := e2etest.Structured(t, e2etest.MustCall(t, alice, "create_upload_session", map[string]any{"file_name": "big.bin", "size": size, "md5": sum}))
	cmdline, _ := out["curl_command"].(string)
	cmd := exec.Command("sh", "-c", cmdline+" -sS")
	cmd.Dir = filepath.Dir(path)
	answer, err := cmd.Output()
	if err != nil || !strings.Contains(string(answer), sum) {
		t.Fatalf("%s: %v %s", cmdline, err, answer)
	}

	// 8 MiB chunks, curl killed in the middle of the third.
	const chunk = 8 << 20
	out = e2etest.Structured(t, e2etest.MustCall(t, alice, "create_upload_session", map[string]any{"file_name": "chunks.bin", "size": size, "md5": sum}))
	url, _ := out["upload_url"].(string)
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	off, dropped, done := int64(0), false, false
	for puts := 0; !done && puts < int(size/chunk)+8; puts++ {
		end := min(off+chunk, size)
		header := []string{"-H", fmt.Sprintf("Content-Range: bytes %d-%d/%d", off, end-1, size), "-H", fmt.Sprintf("Content-Length: %d", end-off), "-T", "-"}
		var status int
		var rng, body string
		if !dropped && off == 2*chunk {
			dropped = true
			status, rng = dropMidChunk(t, url, header, io.NewSectionReader(f, off, chunk/2))
			if status == 200 || status == 308 && rng == fmt.Sprintf("bytes=0-%d", end-1) {
				t.Fatalf("the killed PUT finished: %d %s", status, rng)
			}
			// Ask how much arrived, as Google's clients do after a drop.
			status, rng, body, err = curlPut(t, url, []string{"-H", fmt.Sprintf("Content-Range: bytes */%d", size)}, nil)
		} else {
			status, rng, body, err = curlPut(t, url, header, io.NewSectionReader(f, off, end-off))
		}
		switch {
		case err != nil:
			t.Fatalf("curl: %v", err)
		case status == 200:
			if !strings.Contains(body, sum) {
				t.Fatalf("finished with %s, want md5 %s", body, sum)
			}
			done = true
		case status == 308:
			var last int64 = -1
			if rng != "" {
				fmt.Sscanf(rng, "bytes=0-%d", &last)
			}
			off = last + 1
		default:
			t.Fatalf("PUT at %d: %d %s", off, status, body)
		}
	}
	if !done || !dropped {
		t.Fatalf("chunks: done %v, dropped %v", done, dropped)
	}
	for _, name := range []string{"big.bin", "chunks.bin"} {
		n := 0
		for _, file := range g.Files() {
			if file.Name == name {
				n++
				if file.MD5 != sum || file.Size != size {
					t.Errorf("%s in Drive: %d bytes md5 %s, want %d %s", name, file.Size, file.MD5, size, sum)
				}
			}
		}
		if n != 1 {
			t.Errorf("%d files named %s, want one", n, name)
		}
	}
	if peak := vmHWM(t, srv.PID()); peak > 64<<20 {
		t.Errorf("drivemcp's peak RSS was %d MiB relaying %d MiB, want at most 64 MiB", peak>>20, size>>20)
	} else {
		t.Logf("drivemcp's peak RSS: %d MiB for %d MiB uploaded twice", peak>>20, size>>20)
	}
}

// dropMidChunk starts curl on a chunk, feeds it half the chunk and kills
// it: the connection breaks in the middle of the body, as on a train.
func dropMidChunk(t *testing.T, url string, header []string, half io.Reader) (int, string) {
	t.Helper()
	cmd := exec.Command("curl", append([]string{"-sS", "-o", "/dev/null", "-w", "%{http_code} %header{range}", "-X", "PUT"}, append(header, url)...)...)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stdout bytes.Buffer
	cmd.Stdout = &stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(stdin, half); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	code, rng, _ := strings.Cut(strings.TrimSpace(stdout.String()), " ")
	status, _ := strconv.Atoi(code)
	return status, rng
}

// Someone signed in as another account who got hold of the URL is refused,
// and cannot cancel the owner's session; the owner's upload still works.
func TestUploadSession_AnotherAccountsBearerTokenIsRefusedThroughTheBinary(t *testing.T) {
	g := e2etest.StartGoogle(t)
	srv := e2etest.StartHTTP(t, e2etest.Config{Binary: binary, DB: filepath.Join(t.TempDir(), "db"), Google: g})
	alice := connectOAuth(t, srv.BaseURL, e2etest.NewBrowser("alice@example.com"))
	bob := hostileToken(t, srv.BaseURL, "bob@example.com", "drive.file")
	path, sum := e2etest.WriteRandomFile(t, t.TempDir(), "mine.bin", 1<<20)
	out := e2etest.Structured(t, e2etest.MustCall(t, alice, "create_upload_session", map[string]any{"file_name": "mine.bin", "size": 1 << 20, "md5": sum}))
	url, _ := out["upload_url"].(string)
	for _, method := range []string{"PUT", "DELETE"} {
		args := []string{"-H", "Authorization: Bearer " + bob.access}
		if method == "PUT" {
			args = append(args, "-T", path)
		} else {
			args = append(args, "-X", "DELETE")
		}
		status, _, body, err := curlPut(t, url, args, nil)
		if err != nil || status != 403 || !strings.Contains(body, "another Google account") {
			t.Fatalf("Bob's %s: %d %s %v", method, status, body, err)
		}
	}
	status, _, body, err := curlPut(t, url, []string{"-T", path}, nil)
	if err != nil || status != 200 || !strings.Contains(body, sum) {
		t.Fatalf("alice's PUT after Bob's tries: %d %s %v", status, body, err)
	}
}
