package e2e

import (
	"bufio"
	"context"
	"net"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/drivemcp/drivemcp/internal/e2etest"
)

// The demo banner used to print before the server checked anything, so a
// busy port read like a server that had started. It now prints only once
// the server listens, and with --auth none it does not describe a consent
// step that will never come.
func TestDemo_BannerOnlyOnceListeningAndTrueToTheAuthMode(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	run := func(args ...string) string {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, binary, append([]string{"serve", "--demo", "--db", filepath.Join(t.TempDir(), "d.db")}, args...)...)
		cmd.Env = append(cmd.Environ(), "HOME="+t.TempDir())
		out, _ := cmd.CombinedOutput()
		return string(out)
	}
	out := run("--addr", busy.Addr().String())
	if strings.Contains(out, "DEMO MODE") || !strings.Contains(out, "--addr "+busy.Addr().String()) {
		t.Fatalf("busy port: the banner printed, or the error does not name --addr:\n%s", out)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, "serve", "--demo", "--auth", "none", "--addr", e2etest.FreeAddr(t), "--db", filepath.Join(t.TempDir(), "d.db"))
	cmd.Env = append(cmd.Environ(), "HOME="+t.TempDir())
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cancel(); _ = cmd.Wait() }()
	// Read the banner as it is written, up to its last line.
	var banner strings.Builder
	lines := bufio.NewScanner(stderr)
	for lines.Scan() {
		banner.WriteString(lines.Text() + "\n")
		if strings.HasPrefix(lines.Text(), "Then upload with") {
			break
		}
	}
	got := banner.String()
	if !strings.Contains(got, "Then upload with") || strings.Contains(got, "consent page") ||
		!strings.Contains(got, "--auth none") || !strings.Contains(got, `"servers"`) {
		t.Fatalf("banner with --auth none:\n%s", got)
	}
}
