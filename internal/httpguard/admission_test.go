package httpguard

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// bearerAs makes the bearer token the account it names, through the
// go-sdk's own bearer middleware, so the session limit sees a token
// subject as it does behind drivemcp's authorization server.
func bearerAs(next http.Handler) http.Handler {
	return auth.RequireBearerToken(func(_ context.Context, token string, _ *http.Request) (*auth.TokenInfo, error) {
		return &auth.TokenInfo{UserID: token, Expiration: time.Now().Add(time.Hour)}, nil
	}, nil)(next)
}

func mcpPost(body, token, session string) *http.Request {
	r := httptest.NewRequest(http.MethodPost, "/mcp", strings.NewReader(body))
	r.Header = http.Header{"Content-Type": {"application/json"}, "Accept": {"application/json, text/event-stream"},
		"Mcp-Protocol-Version": {"2025-06-18"}}
	if token != "" {
		r.Header.Set("Authorization", "Bearer "+token)
	}
	if session != "" {
		r.Header.Set("Mcp-Session-Id", session)
	}
	return r
}

// rpcRefusal checks an answer is a refusal with a JSON-RPC error whose
// message tells the client what to do.
func rpcRefusal(t *testing.T, rec *httptest.ResponseRecorder, status int, says string) {
	t.Helper()
	if rec.Code != status {
		t.Fatalf("status %d, want %d: %s", rec.Code, status, rec.Body)
	}
	if rec.Header().Get("Retry-After") == "" {
		t.Errorf("no Retry-After")
	}
	var a struct {
		JSONRPC string `json:"jsonrpc"`
		Error   *struct {
			Code    int    `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &a); err != nil || a.JSONRPC != "2.0" || a.Error == nil {
		t.Fatalf("not a JSON-RPC error (%v): %s", err, rec.Body)
	}
	if !strings.Contains(a.Error.Message, says) {
		t.Errorf("the message %q should say %q", a.Error.Message, says)
	}
}

// One token opened 3,000 sessions in 2.6 s (+156 MB). An account has at
// most perSubject live sessions; one more is refused 429 with a JSON-RPC
// error that says what to do, other accounts are not affected, and a
// session that ends frees its place.
func TestSessions_OneAccountCannotOpenUnboundedSessions(t *testing.T) {
	s := mcp.NewServer(&mcp.Implementation{Name: "t", Version: "1"}, nil)
	limit := NewSessionLimit(s, 3)
	h := bearerAs(limit.HTTP(mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return s },
		&mcp.StreamableHTTPOptions{JSONResponse: true})))
	open := func(token string) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, mcpPost(initializeBody, token, ""))
		return rec
	}
	var alices []string
	for range 3 {
		rec := open("alice@example.com")
		if rec.Code != http.StatusOK || rec.Header().Get("Mcp-Session-Id") == "" {
			t.Fatalf("alice's session: %d %s", rec.Code, rec.Body)
		}
		alices = append(alices, rec.Header().Get("Mcp-Session-Id"))
	}
	for range 100 {
		rpcRefusal(t, open("alice@example.com"), http.StatusTooManyRequests, "Close sessions")
	}
	if n := countSessions(s); n != 3 {
		t.Fatalf("%d live sessions after 103 initializations, want 3", n)
	}
	if rec := open("bob@example.com"); rec.Code != http.StatusOK {
		t.Fatalf("bob is refused for alice's sessions: %d %s", rec.Code, rec.Body)
	}
	// The requests of an open session are not new sessions.
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, mcpPost(`{"jsonrpc":"2.0","id":2,"method":"ping"}`, "alice@example.com", alices[0]))
	if rec.Code != http.StatusOK {
		t.Fatalf("a request of an open session: %d %s", rec.Code, rec.Body)
	}
	del := httptest.NewRequest(http.MethodDelete, "/mcp", nil)
	del.Header = http.Header{"Authorization": {"Bearer alice@example.com"}, "Mcp-Session-Id": {alices[0]}, "Mcp-Protocol-Version": {"2025-06-18"}}
	h.ServeHTTP(httptest.NewRecorder(), del)
	if rec := open("alice@example.com"); rec.Code != http.StatusOK {
		t.Fatalf("after closing a session alice is still refused: %d %s", rec.Code, rec.Body)
	}
}

const initializeBody = `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}`

func countSessions(s *mcp.Server) int {
	n := 0
	for range s.Sessions() {
		n++
	}
	return n
}

// 8 parallel 31 MiB create_drive_file calls from one account peaked at
// 1 GB. Bodies in flight share a byte budget taken before they are read:
// calls beyond it wait (not yet read, so not in memory), a short queue
// further, and the rest are refused 503 with Retry-After. The budget's
// high-water mark never passes its size.
func TestBodyBudget_ParallelLargeBodiesAreNotAllResident(t *testing.T) {
	const body = 1 << 20 // stands for a 31 MiB upload, scaled down
	s := mcp.NewServer(&mcp.Implementation{Name: "t", Version: "1"}, nil)
	release := make(chan struct{})
	var releaseOnce sync.Once
	t.Cleanup(func() { releaseOnce.Do(func() { close(release) }) })
	mcp.AddTool(s, &mcp.Tool{Name: "hold"}, func(ctx context.Context, _ *mcp.CallToolRequest, in struct {
		Data string `json:"data"`
	}) (*mcp.CallToolResult, any, error) {
		<-release
		return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: fmt.Sprint(len(in.Data))}}}, nil, nil
	})
	type state struct {
		inUse   int64
		waiting int
	}
	states := make(chan state, 100)
	budget := NewBodyBudget(BodyBudgetOptions{Bytes: 3 * body, Queue: 2, Wait: time.Minute,
		Observe: func(inUse int64, waiting int) { states <- state{inUse, waiting} }}, 2*body)
	h := budget.HTTP(mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return s },
		&mcp.StreamableHTTPOptions{Stateless: true, JSONResponse: true}))

	call := `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"hold","arguments":{"data":"` +
		strings.Repeat("A", body-200) + `"}}}`
	answers := make(chan *httptest.ResponseRecorder, 8)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, mcpPost(call, "", ""))
			answers <- rec
		})
	}
	// Three bodies fit, two wait: the other three are refused at once. (The
	// deadline only turns a hang into a failure.)
	deadline := time.After(20 * time.Second)
	for filled := false; !filled; {
		select {
		case st := <-states:
			if st.inUse > 3*body {
				t.Fatalf("%d bytes of bodies in flight, budget %d", st.inUse, 3*body)
			}
			filled = st.waiting == 2 && st.inUse > 2*body
		case <-deadline:
			t.Fatal("the budget never held three bodies with two requests waiting")
		}
	}
	for range 3 {
		rpcRefusal(t, <-answers, http.StatusServiceUnavailable, "again")
	}
	releaseOnce.Do(func() { close(release) })
	wg.Wait()
	close(answers)
	for rec := range answers {
		if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), fmt.Sprint(body-200)) {
			t.Errorf("a call within the budget: %d %.200s", rec.Code, rec.Body)
		}
	}
	if hw := budget.HighWater(); hw > 3*body || hw < 3*(body-200) {
		t.Fatalf("high-water mark %d, want three bodies (at most %d)", hw, 3*body)
	}
}
