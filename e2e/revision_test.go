package e2e

import (
	"encoding/json"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/drivemcp/drivemcp/internal/e2etest"
)

// The newest MCP revision (2026-07-28) has no initialize and no session:
// every request carries its protocol version in a header and in _meta. A
// client that speaks it must be served over HTTP in both modes, and
// discovery, negotiation and errors must agree on what is supported.

const newestRevision = "2026-07-28"

// newestMeta is the per-request _meta a 2026-07-28 client sends.
const newestMeta = `"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28",` +
	`"io.modelcontextprotocol/clientInfo":{"name":"raw e2e","version":"1"},` +
	`"io.modelcontextprotocol/clientCapabilities":{}}`

func newestHeaders(token, method string) map[string]string {
	return map[string]string{"Authorization": "Bearer " + token, "MCP-Protocol-Version": newestRevision, "Mcp-Method": method}
}

// rpcAnswer decodes a JSON-RPC answer that came as JSON or as one SSE event.
func rpcAnswer(t *testing.T, body string) (result json.RawMessage, rpcErr json.RawMessage) {
	t.Helper()
	if i := strings.Index(body, "data: "); i >= 0 && !strings.HasPrefix(strings.TrimSpace(body), "{") {
		body = body[i+len("data: "):]
		if j := strings.IndexByte(body, '\n'); j >= 0 {
			body = body[:j]
		}
	}
	var msg struct {
		Result json.RawMessage `json:"result"`
		Error  json.RawMessage `json:"error"`
	}
	if err := json.Unmarshal([]byte(body), &msg); err != nil {
		t.Fatalf("not a JSON-RPC answer: %v\n%s", err, body)
	}
	return msg.Result, msg.Error
}

func TestMCP_Revision20260728OverHTTPAnswersToolsList(t *testing.T) {
	g := e2etest.StartGoogle(t)
	for _, mode := range []struct {
		name string
		args []string
	}{{"stateful", nil}, {"stateless", []string{"--stateless"}}} {
		t.Run(mode.name, func(t *testing.T) {
			srv := e2etest.StartHTTP(t, e2etest.Config{Binary: binary, DB: filepath.Join(t.TempDir(), "db"), Google: g, ExtraArgs: mode.args})
			c := hostileToken(t, srv.BaseURL, "newest@example.com", "drive.file")

			status, _, body := c.post(t, newestHeaders(c.access, "server/discover"),
				`{"jsonrpc":"2.0","id":1,"method":"server/discover","params":{`+newestMeta+`}}`)
			if status != 200 {
				t.Fatalf("server/discover at %s: %d %s", newestRevision, status, body)
			}
			res, rpcErr := rpcAnswer(t, body)
			var discovered struct {
				SupportedVersions []string `json:"supportedVersions"`
			}
			if err := json.Unmarshal(res, &discovered); err != nil || rpcErr != nil {
				t.Fatalf("server/discover: %s", body)
			}
			if !slices.Contains(discovered.SupportedVersions, newestRevision) {
				t.Errorf("server/discover lists %v, without %s", discovered.SupportedVersions, newestRevision)
			}

			status, _, body = c.post(t, newestHeaders(c.access, "tools/list"),
				`{"jsonrpc":"2.0","id":2,"method":"tools/list","params":{`+newestMeta+`}}`)
			if status != 200 {
				t.Fatalf("tools/list at %s: %d %s", newestRevision, status, body)
			}
			res, rpcErr = rpcAnswer(t, body)
			var listed struct {
				Tools []struct{ Name string } `json:"tools"`
			}
			if err := json.Unmarshal(res, &listed); err != nil || rpcErr != nil || len(listed.Tools) == 0 {
				t.Fatalf("tools/list at %s: %s", newestRevision, body)
			}

			// A tool call works on the same wire, with the token's account.
			h := newestHeaders(c.access, "tools/call")
			h["Mcp-Name"] = "check_drive_auth"
			status, _, body = c.post(t, h,
				`{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"check_drive_auth","arguments":{},`+newestMeta+`}}`)
			if status != 200 || !strings.Contains(body, "newest@example.com") {
				t.Fatalf("check_drive_auth at %s: %d %s", newestRevision, status, body)
			}

			// An unknown revision is refused with the list the server
			// really serves, which includes the newest one.
			status, _, body = c.post(t, map[string]string{"Authorization": "Bearer " + c.access, "MCP-Protocol-Version": "1999-01-01"},
				`{"jsonrpc":"2.0","id":4,"method":"tools/list","params":{}}`)
			if status != 400 || !strings.Contains(body, newestRevision) {
				t.Errorf("an unknown revision: %d %s", status, body)
			}

			// The older revisions keep working on the same server.
			status, _, body = c.post(t, map[string]string{"Authorization": "Bearer " + c.access},
				`{"jsonrpc":"2.0","id":5,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"old","version":"1"}}}`)
			if status != 200 || !strings.Contains(body, `"2025-06-18"`) {
				t.Errorf("initialize at 2025-06-18: %d %s", status, body)
			}
		})
	}
}

// A client at 2025-11-25 whose POST stream breaks must be able to resume it
// (SEP-1699): the stream opens with a priming event (an id, no data) and
// tells the client how long to wait before reconnecting (the SSE retry
// field), as the conformance suite's server-sse-polling scenario asks.
func TestMCP_SSEStreamOpensWithPrimingEventAndRetry(t *testing.T) {
	g := e2etest.StartGoogle(t)
	srv := e2etest.StartHTTP(t, e2etest.Config{Binary: binary, DB: filepath.Join(t.TempDir(), "db"), Google: g})
	c := hostileToken(t, srv.BaseURL, "priming@example.com", "drive.file")
	session := c.openSession(t, map[string]string{"Authorization": "Bearer " + c.access}, "2025-11-25")
	status, header, body := c.post(t, session, rawToolCall(2, "check_drive_auth", map[string]any{}))
	if status != 200 || !strings.HasPrefix(header.Get("Content-Type"), "text/event-stream") {
		t.Fatalf("tools/call: %d %s %s", status, header.Get("Content-Type"), body)
	}
	first, _, _ := strings.Cut(body, "\n\n")
	var id, data, retry bool
	for line := range strings.SplitSeq(first, "\n") {
		switch {
		case strings.HasPrefix(line, "id: "):
			id = true
		case strings.HasPrefix(line, "data:"):
			data = strings.TrimSpace(strings.TrimPrefix(line, "data:")) != ""
		case strings.HasPrefix(line, "retry: "):
			retry = true
		}
	}
	if !id || data || !retry {
		t.Errorf("the first event is not a priming event with a retry field (id %v, data %v, retry %v):\n%s", id, data, retry, body)
	}
}

// server/discover comes before a client has picked a revision, yet
// SEP-2575 has every request of 2026-07-28 carry MCP-Protocol-Version, and
// the go-sdk holds to it on both of its handlers: a discover carrying _meta
// but no header is told the header is required (-32020), one without either
// is a legacy request, for which server/discover does not exist. So /mcp
// dispatches on the header alone (mcpserver.ByRevision) and never reads the
// body: sending a header-less discover to the stateless handler would change
// nothing. What matters is that both modes give the same client error, not a
// 5xx, and that the initialize the go-sdk client falls back to still opens a
// session.
func TestMCP_DiscoverWithoutVersionHeaderIsToldTheHeaderIsRequiredInBothModes(t *testing.T) {
	g := e2etest.StartGoogle(t)
	for _, mode := range []struct {
		name string
		args []string
	}{{"stateful", nil}, {"stateless", []string{"--stateless"}}} {
		t.Run(mode.name, func(t *testing.T) {
			srv := e2etest.StartHTTP(t, e2etest.Config{Binary: binary, DB: filepath.Join(t.TempDir(), "db"), Google: g, ExtraArgs: mode.args})
			c := hostileToken(t, srv.BaseURL, "discover@example.com", "drive.file")
			bearer := map[string]string{"Authorization": "Bearer " + c.access}

			status, _, body := c.post(t, bearer, `{"jsonrpc":"2.0","id":1,"method":"server/discover","params":{`+newestMeta+`}}`)
			_, rpcErr := rpcAnswer(t, body)
			var e struct {
				Code    int    `json:"code"`
				Message string `json:"message"`
			}
			if err := json.Unmarshal(rpcErr, &e); err != nil || status != 400 || e.Code != -32020 || !strings.Contains(e.Message, "Mcp-Protocol-Version") {
				t.Errorf("server/discover without MCP-Protocol-Version: %d %s (want 400, -32020 naming the header)", status, body)
			}

			status, header, body := c.post(t, bearer, `{"jsonrpc":"2.0","id":2,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"raw e2e","version":"1"}}}`)
			if status != 200 || (mode.args == nil && header.Get("Mcp-Session-Id") == "") {
				t.Errorf("initialize without MCP-Protocol-Version: %d, session %q: %s", status, header.Get("Mcp-Session-Id"), body)
			}
		})
	}
}
