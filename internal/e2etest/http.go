package e2etest

import (
	"net/http"
	"os/exec"
	"syscall"
	"testing"
	"time"
)

// HTTPServer is one `drivemcp serve` process on a loopback address.
type HTTPServer struct {
	BaseURL string
	cmd     *exec.Cmd
	stderr  *lockedBuffer
}

// StartHTTP starts `drivemcp serve` on a free loopback port (OAuth by
// default; cfg.ExtraArgs may say --auth none) and waits until it is ready.
func StartHTTP(t testing.TB, cfg Config) *HTTPServer {
	t.Helper()
	addr := FreeAddr(t)
	cmd := cfg.command(t, "--addr", addr)
	stderr := &lockedBuffer{}
	cmd.Stdout, cmd.Stderr = stderr, stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &HTTPServer{BaseURL: "http://" + addr, cmd: cmd, stderr: stderr}
	t.Cleanup(func() {
		s.Stop()
		if t.Failed() {
			t.Logf("drivemcp (HTTP) output:\n%s", stderr)
		}
	})
	deadline := time.Now().Add(15 * time.Second)
	for {
		resp, err := http.Get(s.BaseURL + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return s
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("drivemcp did not become ready on %s:\n%s", addr, stderr)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// Stop ends the server as a service manager would: SIGTERM, then waits.
func (s *HTTPServer) Stop() {
	if s.cmd.ProcessState != nil {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = s.cmd.Process.Kill()
		<-done
	}
}

// Kill ends the server abruptly (kill -9).
func (s *HTTPServer) Kill() {
	_ = s.cmd.Process.Kill()
	_ = s.cmd.Wait()
}

// Output is what the server printed so far.
func (s *HTTPServer) Output() string { return s.stderr.String() }

// PID is the server process's id (tests read its /proc status).
func (s *HTTPServer) PID() int { return s.cmd.Process.Pid }
