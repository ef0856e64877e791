package e2e

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/url"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/drivemcp/drivemcp/internal/e2etest"
)

// The seed's own use case, "MCP Inspector Quick OAuth", in the Inspector's
// web UI (the 1.x line pinned in e2e/inspector-web, the last with a Direct
// connection) in real Chromium: the page on http://127.0.0.1:<ui port>
// itself calls drivemcp's /mcp, so it needs CORS on /mcp, on the
// protected-resource and authorization-server metadata, on registration and
// on the token endpoint. The person picks Streamable HTTP and Direct, then
// either presses Connect (which starts OAuth on drivemcp's 401) or runs the
// Quick OAuth Flow of the Inspector's auth settings and then connects;
// either way they allow at drivemcp's consent page, sign in at "Google"
// with the Drive box left ticked, and are back in the Inspector, where
// tools/list and check_drive_auth ("Acting as …") work.
func TestInspectorWebUI_DirectConnectionSignsInThroughConsentAndCallsTools(t *testing.T) {
	dir, err := filepath.Abs("inspector-web")
	if err != nil {
		t.Fatal(err)
	}
	node := installPinnedNodePackages(t, dir, "the MCP Inspector web UI test")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	_, srv := startOAuthServer(t)
	ui := startInspectorWeb(ctx, t, dir, node)
	q := url.Values{"transport": {"streamable-http"}, "serverUrl": {srv.BaseURL + "/mcp"}}

	t.Run("Connect", func(t *testing.T) {
		b := openInspectorDirect(t, ui.url+"/?"+q.Encode(), "connect")
		b.Must(chromedp.Click(chromedp.Search(`//button[normalize-space(.)="Connect"]`)), chromedp.WaitVisible(chromedp.ID("consent")))
		allowAndSignIn(t, b, "connect", "ines@example.com")
		// Back in the Inspector, which exchanged the code and reconnected.
		b.Must(chromedp.WaitVisible(chromedp.Search(`//button[normalize-space(.)="Disconnect"]`)))
		checkDriveAuthInInspector(t, b, "connect", "ines@example.com")
	})

	t.Run("Quick OAuth Flow", func(t *testing.T) {
		b := openInspectorDirect(t, ui.url+"/?"+q.Encode(), "quick-oauth")
		b.Must(
			chromedp.Click(chromedp.Search(`//button[normalize-space(.)="Open Auth Settings"]`)),
			chromedp.WaitVisible(chromedp.Search(`//button[normalize-space(.)="Quick OAuth Flow"]`)),
		)
		b.Screenshot("quick-oauth-2-auth-settings")
		b.Must(chromedp.Click(chromedp.Search(`//button[normalize-space(.)="Quick OAuth Flow"]`)), chromedp.WaitVisible(chromedp.ID("consent")))
		allowAndSignIn(t, b, "quick-oauth", "olga@example.com")
		// Back in the auth settings, which hold the token now; the person
		// goes back and connects with it, without another sign-in.
		b.Must(chromedp.WaitVisible(chromedp.Search(`//p[normalize-space(.)="Access Token:"]`)))
		b.Screenshot("quick-oauth-5-token")
		b.Must(
			chromedp.Click(chromedp.Search(`//button[normalize-space(.)="Back to Connect"]`)),
			chromedp.Click(chromedp.Search(`//button[normalize-space(.)="Connect"]`)),
			chromedp.WaitVisible(chromedp.Search(`//button[normalize-space(.)="Disconnect"]`)),
		)
		checkDriveAuthInInspector(t, b, "quick-oauth", "olga@example.com")
	})
}

// openInspectorDirect opens the Inspector at page in a new browser and
// chooses Connection Type: Direct, so the browser, not the Inspector's Node
// proxy, talks to drivemcp. Screenshots are named after story.
func openInspectorDirect(t *testing.T, page, story string) *e2etest.Chromium {
	t.Helper()
	b := e2etest.NewChromium(t, t.TempDir())
	b.Artifacts = filepath.Join("artifacts", "inspector-web")
	direct := chromedp.Search(`//*[@role="option"][normalize-space(.)="Direct"]`)
	b.Must(
		chromedp.Navigate(page),
		chromedp.WaitVisible(chromedp.ID("connection-type-select")),
		chromedp.Click(chromedp.ID("connection-type-select")),
		chromedp.WaitVisible(direct),
		chromedp.Click(direct),
		chromedp.WaitVisible(chromedp.Search(`//*[@id="connection-type-select"][contains(., "Direct")]`)),
		// The open list blocks pointer events on the page until it is gone.
		chromedp.WaitNotPresent(chromedp.CSS(`[role="listbox"]`)),
	)
	b.Screenshot(story + "-1-inspector-direct-streamable-http")
	return b
}

// allowAndSignIn plays the person on drivemcp's consent page (which must
// name the Inspector) and the emulator's sign-in page.
func allowAndSignIn(t *testing.T, b *e2etest.Chromium, story, email string) {
	t.Helper()
	b.Screenshot(story + "-3-drivemcp-consent")
	if name := b.MustText("#client-name"); !strings.Contains(name, "Inspector") {
		t.Errorf("the consent page names the client %q, not the MCP Inspector", name)
	}
	b.Must(chromedp.Click(chromedp.ID("allow")), chromedp.WaitVisible(chromedp.ID("email")))
	b.Screenshot(story + "-4-google-sign-in")
	if err := signInAtGoogle(b, email); err != nil {
		t.Fatalf("signing in at the emulator: %v", err)
	}
}

// checkDriveAuthInInspector lists the tools in the connected Inspector and
// runs check_drive_auth, whose answer must name email.
func checkDriveAuthInInspector(t *testing.T, b *e2etest.Chromium, story, email string) {
	t.Helper()
	b.Screenshot(story + "-6-inspector-connected")
	// Each listed tool shows its title, check_drive_auth's being "Which
	// Google account is used". The Tools tab may list the tools as it opens
	// (List Tools is then disabled); otherwise the person presses List Tools.
	const title = `//span[normalize-space(text())="Which Google account is used"]`
	const listTools = `//button[normalize-space(.)="List Tools"][not(@disabled)]`
	b.Must(
		chromedp.Click(chromedp.Search(`//*[@role="tab"][normalize-space(.)="Tools"]`)),
		chromedp.WaitVisible(chromedp.Search(title+" | "+listTools)),
	)
	if !b.HasXPath(title) {
		b.Must(chromedp.Click(chromedp.Search(listTools)), chromedp.WaitVisible(chromedp.Search(title)))
	}
	b.Must(chromedp.WaitVisible(chromedp.Search(`//*[text()[contains(., "tools/list")]]`)))
	b.Screenshot(story + "-7-inspector-tools-list")
	acting := chromedp.Search(`//*[text()[contains(., "Acting as ` + email + `")]]`)
	b.Must(
		chromedp.Click(chromedp.Search(title)),
		chromedp.WaitVisible(chromedp.Search(`//button[normalize-space(.)="Run Tool"]`)),
		chromedp.Click(chromedp.Search(`//button[normalize-space(.)="Run Tool"]`)),
		chromedp.WaitVisible(acting),
		// The result is below the fold of the tool's pane.
		chromedp.ScrollIntoView(acting),
	)
	b.Screenshot(story + "-8-inspector-check-drive-auth")
}

// inspectorWeb is the Inspector's web UI server, serving the page.
type inspectorWeb struct {
	url string // http://127.0.0.1:PORT
	out *lockedLines
}

// startInspectorWeb starts the Inspector's web UI server (client/bin/client.js,
// what `mcp-inspector` starts next to its proxy) on a free loopback port:
// HOST keeps it on 127.0.0.1 and MCP_AUTO_OPEN_ENABLED=false keeps it from
// opening a browser of the machine. Its proxy is not started: a Direct
// connection never uses it, so nothing but the browser can reach drivemcp.
// (The page still asks http://127.0.0.1:6277/config, the proxy's default
// address, for defaults; nothing of this test listens there, and with a
// proxy on another port 1.0.3 refuses to reconnect after the OAuth
// callback: "Connection settings changed during authorization".) Its
// environment is only what it needs, so nothing of the developer's shell
// leaks in.
func startInspectorWeb(ctx context.Context, t *testing.T, dir, node string) *inspectorWeb {
	t.Helper()
	_, port, _ := net.SplitHostPort(e2etest.FreeAddr(t))
	ui := &inspectorWeb{url: "http://127.0.0.1:" + port, out: &lockedLines{}}

	server := filepath.Join(dir, "node_modules", "@modelcontextprotocol", "inspector", "client", "bin", "client.js")
	cmd := exec.Command(node, server)
	cmd.Dir = t.TempDir()
	cmd.Env = []string{"HOME=" + cmd.Dir, "PATH=" + filepath.Dir(node), "NO_COLOR=1",
		"HOST=127.0.0.1", "CLIENT_PORT=" + port, "MCP_AUTO_OPEN_ENABLED=false"}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = ui.out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
		if t.Failed() {
			t.Logf("MCP Inspector output:\n%s", ui.out)
		}
	})

	ready := make(chan struct{})
	go func() {
		var once sync.Once
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			_, _ = io.WriteString(ui.out, sc.Text()+"\n")
			// It prints its URL once it listens.
			if strings.Contains(sc.Text(), ui.url) {
				once.Do(func() { close(ready) })
			}
		}
		_ = cmd.Wait()
		close(exited)
	}()
	select {
	case <-ready:
	case <-exited:
		t.Fatalf("the MCP Inspector exited before it listened:\n%s", ui.out)
	case <-ctx.Done():
		t.Fatalf("the MCP Inspector did not listen on %s in time:\n%s", ui.url, ui.out)
	}
	return ui
}
