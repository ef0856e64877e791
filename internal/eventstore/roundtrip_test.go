package eventstore

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

type sseEvent struct{ name, id, data string }

// readSSE reads server-sent events until the body ends.
func readSSE(t *testing.T, body io.Reader) []sseEvent {
	t.Helper()
	var events []sseEvent
	var cur sseEvent
	var seen bool
	sc := bufio.NewScanner(body)
	for sc.Scan() {
		line := sc.Text()
		if line == "" {
			if seen {
				events = append(events, cur)
			}
			cur, seen = sseEvent{}, false
			continue
		}
		field, value, ok := strings.Cut(line, ":")
		if !ok || field == "" { // comments start with ':'
			continue
		}
		value = strings.TrimPrefix(value, " ")
		seen = true
		switch field {
		case "event":
			cur.name = value
		case "id":
			cur.id = value
		case "data":
			cur.data = value
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("reading SSE: %v", err)
	}
	return events
}

const protocolVersion = "2025-11-25" // the first version with priming events

type mcpClient struct {
	t       *testing.T
	url     string
	http    *http.Client
	session string
}

func (c *mcpClient) do(method, body string, header map[string]string) *http.Response {
	c.t.Helper()
	req, err := http.NewRequestWithContext(c.t.Context(), method, c.url, strings.NewReader(body))
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Accept", "application/json, text/event-stream")
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.session != "" {
		req.Header.Set("Mcp-Session-Id", c.session)
		req.Header.Set("Mcp-Protocol-Version", protocolVersion)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		c.t.Fatalf("%s: %v", method, err)
	}
	c.t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func (c *mcpClient) wantStatus(resp *http.Response, want int) {
	c.t.Helper()
	if resp.StatusCode != want {
		b, _ := io.ReadAll(resp.Body)
		c.t.Fatalf("%s: status %d (%s), want %d", resp.Request.Method, resp.StatusCode, b, want)
	}
}

// TestEventStore_ResumesAStreamThroughTheSDK drives the go-sdk's stateful
// streamable handler over loopback HTTP and resumes a tools/call stream from
// its priming event, with this store and with the SDK's own for reference.
func TestEventStore_ResumesAStreamThroughTheSDK(t *testing.T) {
	var hookCalls atomic.Int32
	for _, tc := range []struct {
		name  string
		store mcp.EventStore
	}{
		{"go-sdk MemoryEventStore", mcp.NewMemoryEventStore(nil)},
		{"eventstore", New(Options{OnSessionClosed: func(string) { hookCalls.Add(1) }})},
	} {
		t.Run(tc.name, func(t *testing.T) {
			server := mcp.NewServer(&mcp.Implementation{Name: "test", Version: "v0"}, nil)
			type echoIn struct {
				Text string `json:"text"`
			}
			mcp.AddTool(server, &mcp.Tool{Name: "echo"}, func(_ context.Context, _ *mcp.CallToolRequest, in echoIn) (*mcp.CallToolResult, any, error) {
				return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: "echo: " + in.Text}}}, nil, nil
			})
			handler := mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return server },
				&mcp.StreamableHTTPOptions{EventStore: tc.store})
			srv := httptest.NewServer(handler)
			defer srv.Close()
			c := &mcpClient{t: t, url: srv.URL, http: srv.Client()}

			resp := c.do(http.MethodPost, `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"`+
				protocolVersion+`","capabilities":{},"clientInfo":{"name":"t","version":"v0"}}}`, nil)
			c.wantStatus(resp, http.StatusOK)
			c.session = resp.Header.Get("Mcp-Session-Id")
			if c.session == "" {
				t.Fatal("initialize answered without a session ID")
			}
			readSSE(t, resp.Body)
			c.wantStatus(c.do(http.MethodPost, `{"jsonrpc":"2.0","method":"notifications/initialized"}`, nil), http.StatusAccepted)

			resp = c.do(http.MethodPost, `{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"echo","arguments":{"text":"hi"}}}`, nil)
			c.wantStatus(resp, http.StatusOK)
			live := readSSE(t, resp.Body)
			if len(live) != 2 || live[0].name != "prime" || !strings.HasSuffix(live[0].id, "_0") ||
				live[1].name != "message" || !strings.Contains(live[1].data, "echo: hi") {
				t.Fatalf("tools/call answered %q, want a priming event then the result", live)
			}

			resp = c.do(http.MethodGet, "", map[string]string{"Last-Event-ID": live[0].id})
			c.wantStatus(resp, http.StatusOK)
			replayed := readSSE(t, resp.Body)
			if len(replayed) != 1 || replayed[0] != live[1] {
				t.Errorf("resume after %s replayed %q, want %q", live[0].id, replayed, live[1:])
			}

			// A resume of a stream the session does not have is refused
			// with 400, not 404, which would tell the client its session
			// is gone.
			resp = c.do(http.MethodGet, "", map[string]string{"Last-Event-ID": "nosuchstream_0"})
			c.wantStatus(resp, http.StatusBadRequest)

			before := hookCalls.Load()
			c.wantStatus(c.do(http.MethodDelete, "", nil), http.StatusNoContent)
			if s, ok := tc.store.(*Store); ok {
				if hookCalls.Load() != before+1 {
					t.Error("OnSessionClosed did not run before the DELETE was answered")
				}
				if st := s.Stats(); st != (Stats{}) {
					t.Errorf("store holds %+v after the only session was deleted", st)
				}
			}
		})
	}
}
