package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/drivemcp/drivemcp/internal/e2etest"
	"github.com/drivemcp/drivemcp/internal/googleemu"
)

// readmeSnippets returns the code block after each `<!-- snippet: NAME -->`
// of the README, by name.
func readmeSnippets(t *testing.T) map[string]string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile("(?s)<!-- snippet: ([a-z-]+) -->\\s*```[a-z]*\\n(.*?)```")
	out := map[string]string{}
	for _, m := range re.FindAllStringSubmatch(string(raw), -1) {
		out[m[1]] = m[2]
	}
	return out
}

// snippetCommand is the command line a snippet makes its client run: the
// "command" and "args" of an mcpServers/servers entry, or what follows
// `--` (claude mcp add) or the Inspector's package name.
func snippetCommand(t *testing.T, name, snippet string) []string {
	t.Helper()
	switch {
	case strings.HasPrefix(strings.TrimSpace(snippet), "{"):
		var cfg map[string]map[string]struct {
			Command string   `json:"command"`
			Args    []string `json:"args"`
		}
		if err := json.Unmarshal([]byte(snippet), &cfg); err != nil {
			t.Fatalf("snippet %s is not JSON: %v", name, err)
		}
		key := "mcpServers"
		if name == "vscode" {
			key = "servers" // VS Code's mcp.json
		}
		entry, ok := cfg[key]["drivemcp"]
		if !ok || len(cfg) != 1 {
			t.Fatalf("snippet %s has no %q.drivemcp entry", name, key)
		}
		return append([]string{entry.Command}, entry.Args...)
	case strings.HasPrefix(snippet, "claude mcp add drivemcp -- "):
		return strings.Fields(strings.TrimPrefix(snippet, "claude mcp add drivemcp -- "))
	case strings.HasPrefix(snippet, "npx @modelcontextprotocol/inspector "):
		return strings.Fields(strings.TrimPrefix(snippet, "npx @modelcontextprotocol/inspector "))
	default:
		return strings.Fields(snippet)
	}
}

// Every "connect your assistant" snippet of the README, started exactly as
// its client would start it (only the placeholder paths filled in, and
// Google pointed at the emulator through the environment), signs in.
func TestREADME_ConnectSnippetsStartAndSignIn(t *testing.T) {
	snippets := readmeSnippets(t)
	for _, name := range []string{"claude-desktop", "claude-code", "vscode", "inspector-stdio", "inspector-http"} {
		if snippets[name] == "" {
			t.Fatalf("README has no snippet %q", name)
		}
	}
	addr := e2etest.FreeAddr(t)
	const desktop, web = "desktop-readme.apps.googleusercontent.com", "web-readme.apps.googleusercontent.com"
	g := e2etest.StartGoogleWith(t, googleemu.Options{Registrations: map[string]googleemu.Registration{
		desktop: {Secret: "d", Type: googleemu.ClientInstalled},
		web:     {Secret: "w", Type: googleemu.ClientWeb, RedirectURIs: []string{"http://" + addr + "/oauth2callback"}},
	}})
	user := newUserDirs(t)
	writeJSON := func(name string, v any) string {
		p := filepath.Join(user.home, name)
		raw, _ := json.Marshal(v)
		if err := os.WriteFile(p, raw, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	fill := strings.NewReplacer(
		"/path/to/drivemcp", binary,
		"/path/to/client_secret.json", writeJSON("client_secret.json", map[string]any{"installed": map[string]any{"client_id": desktop, "client_secret": "d"}}),
		"/path/to/web_client_secret.json", writeJSON("web_client_secret.json", map[string]any{"web": map[string]any{"client_id": web, "client_secret": "w",
			"redirect_uris": []string{"http://" + addr + "/oauth2callback"}}}),
	)
	env := user.env("DRIVEMCP_GOOGLE_ENDPOINT=" + g.URL)

	for _, name := range []string{"claude-desktop", "claude-code", "vscode", "inspector-stdio"} {
		t.Run(name, func(t *testing.T) {
			argv := snippetCommand(t, name, snippets[name])
			for i := range argv {
				argv[i] = fill.Replace(argv[i])
			}
			// A machine of its own: on one machine the assistants share the
			// account, and the next would already be connected.
			s, _ := startStdioAs(t, newUserDirs(t).env("DRIVEMCP_GOOGLE_ENDPOINT="+g.URL), argv[0], argv[1:]...)
			email := name + "@example.com" // one emulated Google: a new user per machine
			link, _ := startAuth(t, s, email)
			signIn(t, link, email)
			if got := actingAs(t, s); got != email {
				t.Fatalf("acts as %q after signing in", got)
			}
		})
	}

	t.Run("inspector-http", func(t *testing.T) {
		argv := strings.Fields(fill.Replace(snippets["inspector-http"]))
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
		// The README's URL is the default address; here a free one, since
		// other tests run on this machine at once.
		cmd.Env = append(env, "DRIVEMCP_ADDR="+addr)
		stderr := &syncBuffer{}
		cmd.Stderr = stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			_ = cmd.Process.Signal(os.Interrupt)
			_ = cmd.Wait()
			if t.Failed() {
				t.Logf("stderr:\n%s", stderr)
			}
		})
		e2etest.WaitListening(t, addr)
		resp, err := http.Get("http://" + addr + "/mcp")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(resp.Header.Get("WWW-Authenticate"), "resource_metadata") {
			t.Fatalf("GET /mcp = %s, WWW-Authenticate %q; want 401 pointing at the resource metadata", resp.Status, resp.Header.Get("WWW-Authenticate"))
		}
		s := connectOAuth(t, "http://"+addr, e2etest.NewBrowser("alice@example.com"))
		if got := actingAs(t, s); got != "alice@example.com" {
			t.Fatalf("acts as %q after the OAuth login", got)
		}
	})
}
