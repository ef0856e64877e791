package e2e

import (
	"context"
	"encoding/json"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/drivemcp/drivemcp/internal/e2etest"
)

// The MCP Inspector CLI (pinned in e2e/inspector) lists the real binary's
// tools with --strict, which prints every schema-portability finding
// (type arrays, remote $ref, schemas that constrain nothing) on stderr and
// exits 6 on an error-severity one; drivemcp must draw none, not even a
// warning. The server runs with --auth none on loopback: the lint is
// about tools/list, not about logging in.
func TestInspectorCLI_ToolsListHasNoPortabilityFindings(t *testing.T) {
	dir, err := filepath.Abs("inspector")
	if err != nil {
		t.Fatal(err)
	}
	node := installPinnedNodePackages(t, dir, "the MCP Inspector CLI test")
	cli := filepath.Join(dir, "node_modules", "@modelcontextprotocol", "inspector", "clients", "cli", "build", "index.js")

	g := e2etest.StartGoogle(t)
	srv := e2etest.StartHTTP(t, e2etest.Config{Binary: binary, DB: filepath.Join(t.TempDir(), "db"), Google: g,
		ExtraArgs: []string{"--auth", "none"}})

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	home := t.TempDir()
	cmd := exec.CommandContext(ctx, node, cli, srv.BaseURL+"/mcp", "--transport", "http", "--method", "tools/list", "--strict")
	// Its catalog and any state stay in this test's own directory.
	cmd.Env = []string{"HOME=" + home, "MCP_CATALOG_PATH=" + filepath.Join(home, "mcp.json"), "PATH=" + filepath.Dir(node), "NO_COLOR=1"}
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("inspector --method tools/list --strict: %v\nstderr:\n%s", err, stderr.String())
	}
	var list struct {
		Tools []struct {
			Name string `json:"name"`
		} `json:"tools"`
	}
	if err := json.Unmarshal([]byte(stdout.String()), &list); err != nil || len(list.Tools) == 0 {
		t.Fatalf("inspector printed no tool list (%v):\n%s\nstderr:\n%s", err, stdout.String(), stderr.String())
	}
	if strings.Contains(stderr.String(), "Warning:") || strings.Contains(stderr.String(), "Error:") ||
		strings.Contains(stderr.String(), "portability") {
		t.Errorf("the Inspector finds portability problems in drivemcp's %d tools:\n%s", len(list.Tools), stderr.String())
	}
}
