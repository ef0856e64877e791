package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/drivemcp/drivemcp/internal/e2etest"
)

// A remote client built on the official TypeScript MCP SDK logs in through
// drivemcp's authorization server, uses the tools, refreshes (twice with
// the same token, as racing clients do) and revokes. The script in
// tsclient/ plays client and user; this test starts the servers and checks
// from the outside that the file landed in the right Drive.
func TestOAuth_TypeScriptSDKClient(t *testing.T) {
	dir, err := filepath.Abs("tsclient")
	if err != nil {
		t.Fatal(err)
	}
	node := requireNode(t)
	installNodeModules(t, dir)

	const email = "tess@example.com"
	g := e2etest.StartGoogle(t)
	srv := e2etest.StartHTTP(t, e2etest.Config{Binary: binary, DB: filepath.Join(t.TempDir(), "db"), Google: g})

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "oauth_flow.mjs")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "DRIVEMCP_URL="+srv.BaseURL, "LOGIN_EMAIL="+email, "GOOGLE_URL="+g.URL)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("the TypeScript client failed (%v):\n%s", err, stderr.String())
	}
	t.Logf("TypeScript client:\n%s", stderr.String())

	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	var summary struct {
		OK       bool     `json:"ok"`
		ClientID string   `json:"client_id"`
		FileID   string   `json:"file_id"`
		Steps    []string `json:"steps"`
	}
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &summary); err != nil {
		t.Fatalf("the script's last line is not its JSON summary (%v):\n%s", err, stdout.String())
	}
	if !summary.OK || !strings.HasPrefix(summary.ClientID, "mcp_") || summary.FileID == "" {
		t.Fatalf("summary = %+v", summary)
	}
	for _, step := range []string{"unauthorized_then_login", "check_drive_auth", "create_drive_file", "refresh", "duplicate_refresh_in_grace_window", "revoke"} {
		if !slices.Contains(summary.Steps, step) {
			t.Fatalf("the script did not report step %s: %v", step, summary.Steps)
		}
	}
	files := e2etest.FilesNamed(g, "from-typescript.txt")
	if len(files) != 1 || files[0].Owner != email || files[0].ID != summary.FileID {
		t.Fatalf("files named from-typescript.txt = %+v, want one owned by %s with id %s", files, email, summary.FileID)
	}
}

// requireNode finds Node.js 20 or newer; the test fails, not skips, without
// it, so a machine missing it cannot pass the suite by accident.
func requireNode(t *testing.T) string {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatal("node is not installed: the TypeScript SDK test needs Node.js 20 or newer on PATH")
	}
	out, err := exec.Command(node, "--version").Output()
	if err != nil {
		t.Fatalf("node --version: %v", err)
	}
	version := strings.TrimPrefix(strings.TrimSpace(string(out)), "v")
	major, err := strconv.Atoi(strings.SplitN(version, ".", 2)[0])
	if err != nil || major < 20 {
		t.Fatalf("node %s is too old: the TypeScript SDK test needs Node.js 20 or newer", version)
	}
	return node
}

// installNodeModules runs `npm ci` when tsclient has no node_modules yet:
// the lockfile pins the SDK and everything under it.
func installNodeModules(t *testing.T, dir string) {
	t.Helper()
	_, err := os.Stat(filepath.Join(dir, "node_modules"))
	if err == nil {
		return
	}
	if !errors.Is(err, fs.ErrNotExist) {
		t.Fatal(err)
	}
	npm, err := exec.LookPath("npm")
	if err != nil {
		t.Fatal("npm is not installed: the TypeScript SDK test installs its client with `npm ci`")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, npm, "ci", "--no-audit", "--no-fund")
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		// A half-written node_modules would make the next run skip the install.
		os.RemoveAll(filepath.Join(dir, "node_modules"))
		t.Fatalf("npm ci in %s failed (%v):\n%s", dir, err, out)
	}
}
