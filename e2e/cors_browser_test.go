package e2e

import (
	"html/template"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/drivemcp/drivemcp/internal/e2etest"
)

// A web page on another origin (here another loopback port, as MCP
// Inspector's web UI on http://localhost:6274 is) is a browser-based MCP
// client: real Chromium sends the preflights and enforces the answers. With
// the default --cors-origins it opens a session with its bearer token,
// reads the session id and the OAuth challenge, and calls check_drive_auth;
// with an origin list that leaves the page out, the browser refuses the
// very same calls.
func TestBrowserPage_OnAnotherOriginCallsMCPOnlyWhenCORSAllowsIt(t *testing.T) {
	g := e2etest.StartGoogle(t)
	for _, tc := range []struct {
		name    string
		args    []string
		allowed bool
	}{
		{"loopback pages allowed by default", nil, true},
		{"page not in --cors-origins", []string{"--cors-origins", "https://app.example"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := e2etest.StartHTTP(t, e2etest.Config{Binary: binary, DB: filepath.Join(t.TempDir(), "db"), Google: g, ExtraArgs: tc.args})
			c := hostileToken(t, srv.BaseURL, "page@example.com", "drive.file")
			page := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", "text/html; charset=utf-8")
				_ = mcpPage.Execute(w, map[string]string{"MCP": srv.BaseURL + "/mcp", "Token": c.access})
			}))
			t.Cleanup(page.Close)

			b := e2etest.NewChromium(t, t.TempDir())
			b.Must(chromedp.Navigate(page.URL), chromedp.WaitVisible(`body[data-done]`))
			out := b.MustText("#out")
			if tc.allowed {
				b.Screenshot("cors-page-calls-mcp")
				for _, want := range []string{"challenge: Bearer", "session: yes", "Acting as page@example.com"} {
					if !strings.Contains(out, want) {
						t.Errorf("the page's result lacks %q:\n%s", want, out)
					}
				}
			} else if !strings.Contains(out, "refused:") || strings.Contains(out, "Acting as") {
				t.Errorf("a page outside --cors-origins could call /mcp:\n%s", out)
			}
		})
	}
}

var mcpPage = template.Must(template.New("page").Parse(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>a browser MCP client</title></head>
<body><h1>A browser-based MCP client</h1><pre id="out">working…</pre>
<script>
(async () => {
  const out = document.getElementById("out");
  const mcp = {{.MCP}}, token = {{.Token}};
  const lines = [];
  try {
    let r = await fetch(mcp, {method: "POST", headers: {"Content-Type": "application/json"}, body: "{}"});
    lines.push("status without a token: " + r.status, "challenge: " + r.headers.get("WWW-Authenticate"));
    const h = {"Authorization": "Bearer " + token, "Content-Type": "application/json", "Accept": "application/json, text/event-stream"};
    r = await fetch(mcp, {method: "POST", headers: h, body: JSON.stringify({jsonrpc: "2.0", id: 1, method: "initialize",
      params: {protocolVersion: "2025-06-18", capabilities: {}, clientInfo: {name: "page", version: "1"}}})});
    await r.text();
    const sid = r.headers.get("Mcp-Session-Id");
    lines.push("session: " + (sid ? "yes" : "no"));
    h["Mcp-Session-Id"] = sid;
    h["MCP-Protocol-Version"] = "2025-06-18";
    await fetch(mcp, {method: "POST", headers: h, body: JSON.stringify({jsonrpc: "2.0", method: "notifications/initialized"})});
    r = await fetch(mcp, {method: "POST", headers: h, body: JSON.stringify({jsonrpc: "2.0", id: 2, method: "tools/list"})});
    lines.push("tools/list: " + r.status);
    r = await fetch(mcp, {method: "POST", headers: h, body: JSON.stringify({jsonrpc: "2.0", id: 3, method: "tools/call",
      params: {name: "check_drive_auth", arguments: {}}})});
    const body = await r.text();
    const m = body.match(/"text":"([^"]*)"/);
    lines.push("check_drive_auth: " + (m ? m[1] : body));
  } catch (e) {
    lines.push("refused: " + e);
  }
  out.textContent = lines.join("\n");
  document.body.dataset.done = "1";
})();
</script></body></html>`))
