package bench

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/drivemcp/drivemcp/internal/e2etest"
)

// TestLoadUploadSession sends one file through create_upload_session (the
// real binary over HTTP, curl -T to its /uploads/ URL, relayed into the
// emulator's resumable session) and, in the same run, the same file with
// curl in one PUT straight to a resumable session of the same emulator:
// the reference. It reports both rates, their ratio and drivemcp's peak RSS.
//
// Size: BENCH_UPLOAD_SESSION_MIB (default 1024); BENCH_UPLOAD_ROUNDS
// uploads each way (default 1).
func TestLoadUploadSession(t *testing.T) {
	l := newLoadRunner(t)
	if _, err := exec.LookPath("curl"); err != nil {
		t.Fatal("curl is needed: apt-get install curl")
	}
	mib := int64(envInt(t, "BENCH_UPLOAD_SESSION_MIB", 1024))
	rounds := envInt(t, "BENCH_UPLOAD_ROUNDS", 1)
	l.Sub(fmt.Sprintf("%dMiB", mib), func(b runner) { uploadSessionRun(b, mib<<20, rounds) })
}

func uploadSessionRun(b runner, size int64, rounds int) {
	data := b.TempDir()
	path, sum := e2etest.WriteRandomFile(b, data, "payload.bin", size)
	g := e2etest.StartGoogleOnDisk(b, b.TempDir())
	token := e2etest.AccessToken(b, g, "bench@example.com")
	srv := e2etest.StartHTTP(b, e2etest.Config{Binary: binary, DB: filepath.Join(b.TempDir(), "db"), Google: g, ExtraArgs: []string{"--auth", "none"}})
	ctx := context.Background()
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "bench", Version: "1"}, nil).Connect(ctx, &mcp.StreamableClientTransport{Endpoint: srv.BaseURL + "/mcp"}, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer cs.Close()
	e2etest.Connect(b, cs, "bench@example.com")
	var ours, curl time.Duration
	for i := range rounds {
		settle := func() { deleteAll(b, g, token); syscall.Sync() }
		settle()
		curlArm := func() { curl += curlUpload(b, g.URL, token, path, size) }
		oursArm := func() { ours += sessionUpload(b, cs, path, size, sum) }
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
	oursRate := float64(size*int64(rounds)) / ours.Seconds() / 1e6
	curlRate := float64(size*int64(rounds)) / curl.Seconds() / 1e6
	b.Figure(oursRate, "MB/s")
	b.Figure(curlRate, "curl-MB/s")
	b.Figure(oursRate/curlRate, "ratio")
	b.Figure(float64(peakRSS(b, srv.PID()))/(1<<20), "peak-RSS-MiB")
}

// sessionUpload times what a remote user does: curl -T to the session URL.
func sessionUpload(b testing.TB, cs *mcp.ClientSession, path string, size int64, sum string) time.Duration {
	out := e2etest.Structured(b, e2etest.MustCall(b, cs, "create_upload_session", map[string]any{"user_google_email": "bench@example.com", "file_name": "session.bin", "size": size, "md5": sum}))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "curl", "-sS", "-f", "-o", os.DevNull, "-T", path, "-H", "Expect:", out["upload_url"].(string))
	start := time.Now()
	if o, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("curl: %v\n%s", err, o)
	}
	return time.Since(start)
}
