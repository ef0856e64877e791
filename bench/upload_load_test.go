// Package bench measures drivemcp against references in the same run on the
// same machine: absolute numbers are noisy on shared machines, ratios are
// not. Run with `make load` (bench/README.md).
package bench

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/drivemcp/drivemcp/internal/e2etest"
)

var binary string

// TestMain builds drivemcp for plain `go test ./...` too: TestSmoke starts it.
// Started again as the tool-call ceiling (ceiling_test.go), it serves that
// instead.
func TestMain(m *testing.M) {
	maybeServeCeiling()
	e2etest.MainWithBinary(m, &binary)
}

// TestLoadUpload uploads one file through upload_file_to_drive (the real
// binary over stdio, the emulator keeping files on disk) and, in the same
// run, the same file with curl in one PUT to a resumable session of the same
// emulator: the loopback ceiling. It reports both rates, their ratio and
// drivemcp's peak RSS.
//
// Sizes: BENCH_UPLOAD_SIZES (MiB, comma-separated; default 256,1024);
// BENCH_UPLOAD_ROUNDS uploads (each way) per size (default 1).
func TestLoadUpload(t *testing.T) {
	l := newLoadRunner(t)
	rounds := envInt(t, "BENCH_UPLOAD_ROUNDS", 1)
	if _, err := exec.LookPath("curl"); err != nil {
		t.Fatal("curl is needed as the reference uploader: apt-get install curl")
	}
	sizes := []int64{256, 1024}
	if env := os.Getenv("BENCH_UPLOAD_SIZES"); env != "" {
		sizes = nil
		for _, f := range strings.Split(env, ",") {
			n, err := strconv.ParseInt(strings.TrimSpace(f), 10, 64)
			if err != nil {
				t.Fatalf("BENCH_UPLOAD_SIZES: %v", err)
			}
			sizes = append(sizes, n)
		}
	}
	for _, mib := range sizes {
		l.Sub(fmt.Sprintf("%dMiB", mib), func(b runner) {
			size := mib << 20
			data := b.TempDir()
			path, _ := e2etest.WriteRandomFile(b, data, "payload.bin", size)
			g := e2etest.StartGoogleOnDisk(b, b.TempDir())
			token := e2etest.AccessToken(b, g, "bench@example.com")
			s := e2etest.StartStdio(b, e2etest.Config{Binary: binary, DB: filepath.Join(b.TempDir(), "db"), UploadRoots: []string{data}, Google: g})
			e2etest.Connect(b, s.Session, "bench@example.com")
			var ours, curl time.Duration
			var oursCPU, curlCPU cpuUse // where each arm's CPU went
			for i := range rounds {
				// Each upload starts from a clean page cache: the writeback
				// of the previous gigabyte must not slow the next one.
				settle := func() { deleteAll(b, g, token); syscall.Sync() }
				settle()
				curlArm := func() { m := measureCPU(b, 0); curl += curlUpload(b, g.URL, token, path, size); curlCPU.add(m.stop()) }
				oursArm := func() { m := measureCPU(b, s.PID()); ours += toolUpload(b, s.Session, path); oursCPU.add(m.stop()) }
				if i%2 == 0 {
					curlArm()
					settle()
					oursArm()
				} else {
					oursArm()
					settle()
					curlArm()
				}
			}
			rss := peakRSS(b, s.PID())
			oursRate := float64(size*int64(rounds)) / ours.Seconds() / 1e6
			curlRate := float64(size*int64(rounds)) / curl.Seconds() / 1e6
			b.Figure(oursRate, "MB/s")
			b.Figure(curlRate, "curl-MB/s")
			b.Figure(oursRate/curlRate, "ratio")
			b.Figure(float64(rss)/(1<<20), "peak-RSS-MiB")
			gib := float64(size*int64(rounds)) / (1 << 30)
			b.Figure(oursCPU.client.Seconds()/gib, "cpu-s/GiB")
			b.Figure(oursCPU.emulator.Seconds()/gib, "emu-cpu-s/GiB")
			b.Figure(curlCPU.client.Seconds()/gib, "curl-cpu-s/GiB")
			b.Figure(curlCPU.emulator.Seconds()/gib, "curl-emu-cpu-s/GiB")
		})
	}
}

func toolUpload(b testing.TB, s *mcp.ClientSession, path string) time.Duration {
	start := time.Now()
	e2etest.MustCall(b, s, "upload_file_to_drive", map[string]any{"filepath": path})
	return time.Since(start)
}

// curlUpload opens a resumable session as Google's docs describe and sends
// the whole file with one curl PUT, streamed from disk (-T).
func curlUpload(b testing.TB, base, token, path string, size int64) time.Duration {
	req, _ := http.NewRequest(http.MethodPost, base+"/upload/drive/v3/files?uploadType=resumable",
		strings.NewReader(`{"name":"curl.bin"}`))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json; charset=UTF-8")
	req.Header.Set("X-Upload-Content-Length", strconv.FormatInt(size, 10))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	resp.Body.Close()
	session := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusOK || session == "" {
		b.Fatalf("starting a resumable session: %s", resp.Status)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "curl", "-sS", "-f", "-o", os.DevNull, "-T", path,
		"-H", fmt.Sprintf("Content-Range: bytes 0-%d/%d", size-1, size), "-H", "Expect:", session)
	start := time.Now()
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("curl: %v\n%s", err, out)
	}
	return time.Since(start)
}

// deleteAll removes every file from the emulator, so its disk holds at
// most one upload at a time.
func deleteAll(b testing.TB, g *e2etest.Google, token string) {
	for _, f := range g.Files() {
		req, _ := http.NewRequest(http.MethodDelete, g.URL+"/drive/v3/files/"+f.ID, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		resp.Body.Close()
	}
}

// peakRSS reads the high-water mark of a process's resident memory.
func peakRSS(b testing.TB, pid int) int64 {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		b.Fatalf("reading peak RSS: %v", err)
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			if err != nil {
				b.Fatal(err)
			}
			return kb << 10
		}
	}
	b.Fatal("no VmHWM in /proc status")
	return 0
}
