package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// In stdio mode downloads go to ~/Downloads unless --download-root says
// otherwise; a home without one has no default (the tool then says how to
// give one); over HTTP there is none, since nothing is written there.
func TestDownloadRoot_DefaultsToDownloadsInStdioModeOnly(t *testing.T) {
	home := t.TempDir()
	home, _ = filepath.EvalSymlinks(home)
	stdio := append([]string{"--stdio"}, client...)
	c, err := ParseServe(stdio, env(map[string]string{"HOME": home}))
	if err != nil || len(c.DownloadRoots) != 0 {
		t.Fatalf("no ~/Downloads: roots %v, %v", c.DownloadRoots, err)
	}
	os.Mkdir(filepath.Join(home, "Downloads"), 0o755)
	c, err = ParseServe(stdio, env(map[string]string{"HOME": home}))
	if err != nil || len(c.DownloadRoots) != 1 || c.DownloadRoots[0].Dir != filepath.Join(home, "Downloads") {
		t.Fatalf("stdio default: %v, %v", c.DownloadRoots, err)
	}
	other := t.TempDir()
	c, err = ParseServe(append(stdio, "--download-root", "bob@example.com="+other), env(map[string]string{"HOME": home}))
	if err != nil || len(c.DownloadRoots) != 1 || c.DownloadRoots[0].Accounts[0] != "bob@example.com" {
		t.Fatalf("--download-root: %v, %v", c.DownloadRoots, err)
	}
	c, err = ParseServe(client, env(map[string]string{"HOME": home}))
	if err != nil || len(c.DownloadRoots) != 0 {
		t.Fatalf("HTTP mode: %v, %v", c.DownloadRoots, err)
	}
	_, err = ParseServe(append(stdio, "--download-root", filepath.Join(home, "nope")), env(map[string]string{"HOME": home}))
	if err == nil || !strings.Contains(err.Error(), "--download-root") {
		t.Fatalf("a missing --download-root: %v", err)
	}
}
