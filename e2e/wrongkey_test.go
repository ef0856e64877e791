package e2e

import (
	"context"
	"encoding/base64"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/drivemcp/drivemcp/internal/e2etest"
	"github.com/drivemcp/drivemcp/internal/googleemu"
	"github.com/drivemcp/drivemcp/internal/secrets"
)

// A well-formed but wrong --secret-key used to start the server: accounts
// listed "ok", check_drive_auth said "Acting as…", and every Drive call
// failed after eight retries with "try again in a moment". The server now
// refuses to start and names the key id the database needs; doctor says
// the same.
func TestSecretKey_WrongKeyRefusesToStartNamingTheKeyID(t *testing.T) {
	g := e2etest.StartGoogle(t)
	db := filepath.Join(t.TempDir(), "drivemcp.db")
	right, wrong := e2etest.SecretKey(), e2etest.SecretKey()
	s := e2etest.StartStdio(t, e2etest.Config{Binary: binary, DB: db, Google: g, ExtraArgs: []string{"--secret-key", right}})
	e2etest.Connect(t, s.Session, "kim@example.com")
	s.Close()

	raw, err := base64.StdEncoding.DecodeString(right)
	if err != nil {
		t.Fatal(err)
	}
	wantID := secrets.KeyID(raw)
	common := []string{"--db", db, "--google-endpoint", g.URL,
		"--google-client-id", googleemu.DemoClientID, "--google-client-secret", googleemu.DemoClientSecret, "--secret-key", wrong}

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	serve := exec.CommandContext(ctx, binary, append([]string{"serve", "--stdio", "--callback-addr", e2etest.FreeAddr(t)}, common...)...)
	serve.Env = append(serve.Environ(), "HOME="+t.TempDir())
	out, err := serve.CombinedOutput()
	if err == nil || ctx.Err() != nil {
		t.Fatalf("serve with the wrong key: err %v (context %v)\n%s", err, ctx.Err(), out)
	}
	if !strings.Contains(string(out), wantID) || !strings.Contains(string(out), "kim@example.com") {
		t.Fatalf("serve's refusal names neither key id %s nor the account:\n%s", wantID, out)
	}

	doctor := exec.CommandContext(ctx, binary, append([]string{"doctor"}, common...)...)
	doctor.Env = append(doctor.Environ(), "HOME="+t.TempDir())
	out, _ = doctor.CombinedOutput()
	if !strings.Contains(string(out), wantID) {
		t.Fatalf("doctor does not name key id %s:\n%s", wantID, out)
	}
}
