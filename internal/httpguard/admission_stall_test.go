package httpguard

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// A token holder opens three connections that each declare a 32 MiB body
// and send none of it. The budget was taken from the declared lengths and
// held for the server's whole read timeout (2 minutes), so every other
// client's 100-byte tools/call was refused 503. Small calls must not wait
// behind large bodies at all, and a body that stops arriving gives its
// place back, so a real upload waiting behind it goes through.
func TestBodyBudget_DeclaredBodiesThatNeverArriveDoNotStarveOthers(t *testing.T) {
	s := mcp.NewServer(&mcp.Implementation{Name: "t", Version: "1"}, nil)
	mcp.AddTool(s, &mcp.Tool{Name: "ping"}, func(_ context.Context, _ *mcp.CallToolRequest, in struct {
		Data string `json:"data"`
	}) (*mcp.CallToolResult, any, error) {
		return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: fmt.Sprint("pong ", len(in.Data))}}}, nil, nil
	})
	maxBody := RequestBodyLimit(32 << 20)
	inUse := make(chan int64, 100)
	budget := NewBodyBudget(BodyBudgetOptions{Wait: 20 * time.Second, Stall: 300 * time.Millisecond,
		Observe: func(n int64, _ int) {
			select {
			case inUse <- n:
			default:
			}
		}}, maxBody) // 96 MiB, queue 8
	h := budget.HTTP(mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return s },
		&mcp.StreamableHTTPOptions{Stateless: true, JSONResponse: true, MaxRequestBodyBytes: maxBody}))
	srv := httptest.NewUnstartedServer(h)
	srv.Config.ReadTimeout = 2 * time.Minute // as serve.go
	srv.Start()
	t.Cleanup(srv.Close)

	for range 3 {
		c, err := net.Dial("tcp", srv.Listener.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		fmt.Fprintf(c, "POST / HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nAccept: application/json, text/event-stream\r\nContent-Length: %d\r\n\r\n",
			srv.Listener.Addr(), 32<<20)
	}
	// Wait until the three declared bodies hold the whole budget.
	deadline := time.After(10 * time.Second)
	for full := false; !full; {
		select {
		case n := <-inUse:
			full = n == 3*32<<20
		case <-deadline:
			t.Fatal("the three declared bodies never held the budget")
		}
	}

	post := func(data int) (int, string) {
		t.Helper()
		body := `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"ping","arguments":{"data":"` + strings.Repeat("A", data) + `"}}}`
		req, _ := http.NewRequest(http.MethodPost, srv.URL, strings.NewReader(body))
		req.Header = http.Header{"Content-Type": {"application/json"}, "Accept": {"application/json, text/event-stream"}, "Mcp-Protocol-Version": {"2025-06-18"}}
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if st, b := post(0); st != http.StatusOK || !strings.Contains(b, "pong 0") {
		t.Fatalf("a 100-byte call behind three stalled 32 MiB bodies: %d %s", st, b)
	}
	if st, b := post(8 << 20); st != http.StatusOK || !strings.Contains(b, fmt.Sprint("pong ", 8<<20)) {
		t.Fatalf("an 8 MiB call behind three stalled 32 MiB bodies (it should get their place once they stall): %d %.300s", st, b)
	}
}
