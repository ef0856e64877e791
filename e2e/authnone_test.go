package e2e

import (
	"context"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/drivemcp/drivemcp/internal/e2etest"
	"github.com/drivemcp/drivemcp/internal/googleemu"
)

// Trusted local mode behind a reverse proxy would serve the internet as the
// local user: the binary refuses to start with --auth none and a public
// --base-url, and says what to do instead.
func TestAuthNone_PublicBaseURLRefusedAtStart(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, "serve", "--auth", "none", "--addr", e2etest.FreeAddr(t),
		"--base-url", "https://drive.example.com", "--db", filepath.Join(t.TempDir(), "db"),
		"--google-endpoint", "http://127.0.0.1:9", "--google-client-id", googleemu.DemoClientID,
		"--google-client-secret", googleemu.DemoClientSecret)
	cmd.Env = append(os.Environ(), "HOME="+t.TempDir())
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || ctx.Err() != nil {
		t.Fatalf("drivemcp started (or failed oddly: %v) with --auth none and a public --base-url:\n%s", err, out)
	}
	if !strings.Contains(string(out), "--base-url") || !strings.Contains(string(out), "--auth oauth") {
		t.Fatalf("the refusal should name --base-url and say to use --auth oauth:\n%s", out)
	}
}

// A same-host reverse proxy that forwards to a --auth none server is
// refused request by request too (say the server was started with its
// loopback base URL and a proxy put in front afterwards).
func TestAuthNone_ForwardedRequestRefused(t *testing.T) {
	g := e2etest.StartGoogle(t)
	srv := e2etest.StartHTTP(t, e2etest.Config{Binary: binary, DB: filepath.Join(t.TempDir(), "db"), Google: g,
		ExtraArgs: []string{"--auth", "none"}})
	for _, forwarded := range []bool{false, true} {
		req, _ := http.NewRequest(http.MethodPost, srv.BaseURL+"/mcp", strings.NewReader(initializeRequest))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json, text/event-stream")
		if forwarded {
			req.Header.Set("X-Forwarded-For", "203.0.113.7")
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if want := map[bool]int{false: http.StatusOK, true: http.StatusForbidden}[forwarded]; resp.StatusCode != want {
			t.Errorf("forwarded %v: %s, want %d", forwarded, resp.Status, want)
		}
	}
}
