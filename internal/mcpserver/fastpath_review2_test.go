package mcpserver

// Second attack review of the fast path: the one-pass parser (fastparse.go)
// against what the go-sdk itself decodes, and the ids it leaves to the SDK
// (sdkEchoesID) against the SDK's duplicate check. Each test is named after
// a threat and fails while the fast path answers otherwise than the SDK.

import (
	"bytes"
	"net/http"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"

	"github.com/drivemcp/drivemcp/internal/httpguard"
)

// deepArgsCall is a check_drive_auth call whose arguments hold an array
// nested levels deep: with the message and params objects around it the
// body nests levels+3 deep.
func deepArgsCall(levels int) string {
	return toolCallBody("1", `"check_drive_auth"`, `{"a":`+strings.Repeat("[", levels)+strings.Repeat("]", levels)+`}`)
}

// THREAT: the fast path answers a body the SDK refuses. The go-sdk decodes
// JSON-RPC messages with its internal/json, which refuses anything nested
// more than 1000 deep (400 "malformed payload … exceeded maximum nesting
// depth of 1000"); the hand-written parser and its oracle,
// parseToolCallReference, both follow encoding/json's limit of 10000, so
// a tools/call whose arguments nest 998 to 9999 deep is served: 200 with a
// tool result where the SDK answers 400. (The bodies are small: 999 levels
// are 2 KB, under the handler's 4 KiB limit.)
func TestFastPath_ArgumentsNestedPastTheSDKsDepthLimitAreRefusedAsTheSDKRefusesThem(t *testing.T) {
	deps, _ := fixtureDeps(t, Deps{Drain: httpguard.NewDrain()})
	p := newFastPair(t, deps)
	for _, c := range []struct {
		levels int
		fast   bool
	}{
		{997, true},  // 1000 deep in all: the SDK's limit, served by both
		{998, false}, // 1001
		{1500, false},
	} {
		body := deepArgsCall(c.levels)
		before := p.path.Served()
		want := post(t, p.sdk, fastHeader("rw", "2025-06-18"), body)
		got := post(t, p.fast, fastHeader("rw", "2025-06-18"), body)
		if got != want {
			t.Errorf("arguments %d deep: the fast path answered\n%+v\nthe SDK\n%+v", c.levels+1, got, want)
		}
		if served := p.path.Served() - before; (served == 1) != c.fast {
			t.Errorf("arguments %d deep: fast path served %d, want fast=%v", c.levels+1, served, c.fast)
		}
	}
}

// THREAT: parseToolCall takes a body the SDK would not decode as that same
// call. Its oracle is encoding/json, but the go-sdk reads messages with
// jsonrpc.DecodeMessage (segmentio's decoder behind a depth check), so the
// differential and fuzz tests cannot see where the two disagree. Whatever
// the fast path accepts, the SDK's own decoder must accept as a tools/call
// with the same id. The seeds hold the nesting cases the older fuzz target
// leaves out for their size.
func FuzzParseToolCall_AcceptsOnlyWhatTheSDKDecodes(f *testing.F) {
	for _, body := range parseToolCallCorpus() {
		if len(body) <= 2000 {
			f.Add([]byte(body))
		}
	}
	for _, levels := range []int{997, 998, 2000} {
		f.Add([]byte(deepArgsCall(levels)))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		c, ok := parseToolCall(body)
		if !ok {
			return
		}
		msg, err := jsonrpc.DecodeMessage(body)
		if err != nil {
			t.Fatalf("parseToolCall takes %s, the SDK refuses it: %v", abbreviate(body), err)
		}
		req, isReq := msg.(*jsonrpc.Request)
		if !isReq || req.Method != "tools/call" || !req.ID.IsValid() {
			t.Fatalf("parseToolCall takes %s, the SDK reads %#v", abbreviate(body), msg)
		}
		if !sdkEchoesID(c.id) {
			return
		}
		// An id the fast path echoes must be the one the SDK would write.
		data, err := jsonrpc.EncodeMessage(&jsonrpc.Response{ID: req.ID, Result: []byte("0")})
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(data, append([]byte(`"id":`), c.id...)) {
			t.Fatalf("id %s: the SDK writes %s", c.id, data)
		}
	})
}

// THREAT: two calls the SDK holds to have one id both run on a session. The
// fast path leaves -0, integers beyond 2^53 and strings with invalid UTF-8
// to the SDK (sdkEchoesID) but records them in flight as the bytes sent
// (idKey), where the SDK decodes them: -0 is 0, 9007199254740993 is
// 9007199254740992, "bad\xff" is "bad\uFFFD". A check_drive_auth call
// spelled the SDK's way while the other is in flight on the SDK finds no
// such key, and the fast path answers it 200, where the SDK refuses it as
// a duplicate in-flight id (400, -32600): two answers with one id.
func TestFastPathSessions_CallWithAnIDTheSDKHoldsEqualToOneInFlightOnTheSDKIsRefused(t *testing.T) {
	deps, _ := fixtureDeps(t, Deps{})
	for _, c := range []struct{ onSDK, fast string }{
		{`-0`, `0`},
		{`9007199254740993`, `9007199254740992`},
		{"\"bad\xff\"", "\"bad\ufffd\""},
	} {
		answers := map[bool]answer{}
		for _, sdkOnly := range []bool{true, false} {
			started, release := make(chan struct{}), make(chan struct{})
			s := newStoreServer(t, deps, sdkOnly, blockingTool(started, release))
			session := s.open(t)
			first := make(chan answer)
			go func() {
				first <- s.do(http.MethodPost, session, `{"jsonrpc":"2.0","id":`+c.onSDK+`,"method":"tools/call","params":{"name":"block","arguments":{}}}`)
			}()
			<-started
			answers[sdkOnly] = normal(s.do(http.MethodPost, session, checkAuthCall(c.fast)), session)
			close(release)
			<-first
		}
		if got, want := answers[false], answers[true]; got != want {
			t.Errorf("id %s while %s is in flight on the SDK: the fast path answered\n%+v\nthe SDK\n%+v", c.fast, c.onSDK, got, want)
		}
	}
}
