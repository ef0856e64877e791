package mcpserver

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/drivemcp/drivemcp/internal/typedtool"
)

// awkward strings: what JSON must escape, and what encoding/json escapes
// or replaces besides.
var awkward = []string{
	"", "plain", `"quoted" \back\slash/`, "<b>m&m</b>@example.com", "Ünïcødé ✓ 日本 🙂",
	"line\u2028para\u2029", "\x00\x01\b\f\n\r\t\x1f\x7f", "bad \xff\xfe utf-8 \xe2\x80", "\ufffd", "</script>",
}

// The results the fast path writes itself are the bytes the SDK sends for
// them, its CallToolResult.MarshalJSON (with HTML escaped) and its JSON-RPC
// layer's encoding of that (without): check_drive_auth's answers for a
// range of outputs, its errors, and the shapes typedtool makes. Results of
// other shapes are left to MarshalJSON, with the same bytes.
func TestFastEncode_ResultsAsMarshalJSON(t *testing.T) {
	type tc struct {
		name string
		res  *mcp.CallToolResult
		own  bool // appendToolResult writes it itself
	}
	var cases []tc
	ctx := context.Background()
	call := func(h mcp.ToolHandler, args string) *mcp.CallToolResult {
		t.Helper()
		res, err := h(ctx, &mcp.CallToolRequest{Params: &mcp.CallToolParamsRaw{Name: checkDriveAuthTool.Name, Arguments: json.RawMessage(args)}})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}

	// check_drive_auth's answers, as its handler makes them.
	zone := time.FixedZone("", -(3*3600 + 1800))
	for i, s := range awkward {
		out := benchAuthOut
		out.Email, out.Message, out.RefreshTokenWarning = s, "Acting as "+s, s
		out.Scopes = []string{s, "openid"}
		cases = append(cases, tc{"strings " + s, call(fixedAuthHandler(out), `{}`), true})
		out.Scopes = [][]string{nil, {}, {""}}[i%3]
		out.TokenExpiry = []time.Time{{}, time.Date(2026, 1, 2, 3, 4, 5, 6789, zone), time.Unix(1<<33, 1).UTC()}[i%3]
		out.RefreshTokenAgeDays = []float64{0, 6.9, 1e21, 1e-7, 123456789.5}[i%5]
		out.NeedsReconsent, out.Authenticated = i%2 == 0, i%2 == 1
		cases = append(cases, tc{"values " + s, call(fixedAuthHandler(out), `{}`), true})
	}
	cases = append(cases,
		tc{"not authenticated", call(fixedAuthHandler(checkAuthOut{Message: "not signed in"}), `{}`), true},
		tc{"argument of the wrong type", call(fixedAuthHandler(benchAuthOut), `{"user_google_email":5}`), true},
		tc{"unknown argument", call(fixedAuthHandler(benchAuthOut), `{"<bogus>":1}`), true},
	)
	_, failing := typedtool.Handler(checkDriveAuthTool, func(context.Context, *mcp.CallToolRequest, checkAuthIn) (*mcp.CallToolResult, checkAuthOut, error) {
		return nil, checkAuthOut{}, userErrorf(errors.New("x"), "no <access> & \u2028 \xff")
	}, addToolOptions(slog.New(slog.DiscardHandler)))
	cases = append(cases, tc{"tool error", call(failing, `{}`), true})
	// Without content of its own, the output's JSON is also the text.
	for _, s := range awkward {
		_, noContent := typedtool.Handler(checkDriveAuthTool, func(context.Context, *mcp.CallToolRequest, checkAuthIn) (*mcp.CallToolResult, checkAuthOut, error) {
			return nil, checkAuthOut{Email: s, Message: s}, nil
		}, addToolOptions(slog.New(slog.DiscardHandler)))
		cases = append(cases, tc{"output as text " + s, call(noContent, `{}`), true})
	}

	// Shapes at the edges.
	texts := func(s ...string) []mcp.Content {
		var c []mcp.Content
		for _, s := range s {
			c = append(c, &mcp.TextContent{Text: s})
		}
		return c
	}
	output := call(fixedAuthHandler(benchAuthOut), `{}`).StructuredContent
	var typed mcp.CallToolResult
	if err := json.Unmarshal([]byte(`{"content":[],"resultType":"complete"}`), &typed); err != nil {
		t.Fatal(err)
	}
	cases = append(cases,
		tc{"no content", &mcp.CallToolResult{}, true},
		tc{"empty content", &mcp.CallToolResult{Content: []mcp.Content{}}, true},
		tc{"several texts", &mcp.CallToolResult{Content: texts(awkward...), IsError: true}, true},
		tc{"structured content only", &mcp.CallToolResult{StructuredContent: output}, true},
		tc{"empty metadata", &mcp.CallToolResult{Meta: mcp.Meta{}, Content: texts("a")}, true},

		tc{"metadata", &mcp.CallToolResult{Meta: mcp.Meta{"k": "<v>"}, Content: texts("a")}, false},
		tc{"annotated text", &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: "a", Annotations: &mcp.Annotations{Priority: 1}}}}, false},
		tc{"text metadata", &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: "a", Meta: mcp.Meta{"k": 1}}}}, false},
		tc{"image", &mcp.CallToolResult{Content: []mcp.Content{&mcp.ImageContent{Data: []byte("<>"), MIMEType: "image/png"}}}, false},
		tc{"raw structured content", &mcp.CallToolResult{Content: texts("a"), StructuredContent: json.RawMessage(`{ "a" : "<b>" }`)}, false},
		tc{"map structured content", &mcp.CallToolResult{Content: texts("a"), StructuredContent: map[string]any{"a": "<b>"}}, false},
		tc{"input requests", &mcp.CallToolResult{InputRequests: mcp.InputRequestMap{}}, false},
		tc{"request state", &mcp.CallToolResult{Content: texts("a"), RequestState: "s"}, false},
		tc{"result type", &typed, false},
		tc{"server named already", &mcp.CallToolResult{Meta: mcp.Meta{mcp.MetaKeyServerInfo: "me", "k": 1}, Content: texts("a")}, false},
	)

	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			want, err := c.res.MarshalJSON()
			if err != nil {
				t.Fatal(err)
			}
			wire, err := marshalNoEscape(c.res) // the SDK's JSON-RPC layer
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(wire, want) {
				t.Fatalf("the SDK's JSON-RPC layer changes MarshalJSON's\n%s\ninto\n%s", want, wire)
			}
			prefix := []byte(`data: {"result":`)
			got, err := marshalResult(slices.Clone(prefix), c.res)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.HasPrefix(got, prefix) || !bytes.Equal(got[len(prefix):], want) {
				t.Fatalf("fast path wrote\n%s\nMarshalJSON\n%s%s", got, prefix, want)
			}
			own, ok := appendToolResult(slices.Clone(prefix), c.res)
			if ok != c.own {
				t.Fatalf("appendToolResult ok %v, want %v", ok, c.own)
			}
			if !ok && !bytes.Equal(own, prefix) {
				t.Fatalf("appendToolResult refused it but left %q", own)
			}

			// At 2026-07-28: the server named in _meta, and the result
			// type when the tool made the result.
			for _, complete := range []bool{false, true} {
				got, err := f2026.appendSessionlessResult(slices.Clone(prefix), c.res, complete)
				if c.res.InputRequests != nil || !resultTypeUnset(c.res) {
					if !errors.Is(err, errUnexpectedResult) {
						t.Errorf("complete %v: an input request or a result type of its own was encoded: %s, %v", complete, got, err)
					}
					continue
				}
				want := sdkSessionlessResult(t, c.res, f2026.impl, complete)
				if err != nil || !bytes.HasPrefix(got, prefix) || !bytes.Equal(got[len(prefix):], want) {
					t.Errorf("complete %v: fast path wrote\n%s (%v)\nthe SDK\n%s%s", complete, got, err, prefix, want)
				}
			}
		})
	}
}

// f2026 is a fast path whose server has an awkward name.
var f2026 = func() *FastPath {
	impl := &mcp.Implementation{Name: "drive<mcp>", Title: "Drive & \u2028 ü \xff", Version: "1.2.3-<rc>"}
	return &FastPath{impl: impl, serverInfo: serverInfoMeta(impl)}
}()

// sdkSessionlessResult is the SDK's encoding of res at 2026-07-28: its
// session names the server in the result's _meta (annotateServerInfo)
// and, if complete, its tools/call handler sets the result type, which
// only the SDK can set; decoding a result that has it is the way in.
func sdkSessionlessResult(t *testing.T, res *mcp.CallToolResult, impl *mcp.Implementation, complete bool) []byte {
	t.Helper()
	var r mcp.CallToolResult
	if complete {
		if err := json.Unmarshal([]byte(`{"content":[],"resultType":"complete"}`), &r); err != nil {
			t.Fatal(err)
		}
	}
	r.Meta, r.Content, r.StructuredContent, r.IsError, r.InputRequests, r.RequestState =
		maps.Clone(res.Meta), res.Content, res.StructuredContent, res.IsError, res.InputRequests, res.RequestState
	if _, ok := r.Meta[mcp.MetaKeyServerInfo]; !ok {
		if r.Meta == nil {
			r.Meta = mcp.Meta{}
		}
		r.Meta[mcp.MetaKeyServerInfo] = impl
	}
	b, err := r.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// appendToolResult writes every field of CallToolResult and TextContent
// that MarshalJSON sends, as this SDK has them: a field added by another
// version must be looked at there before this passes.
func TestFastEncode_KnowsEveryField(t *testing.T) {
	fields := func(typ reflect.Type) []string {
		var names []string
		for f := range typ.Fields() {
			names = append(names, f.Name+" "+f.Type.String()+" `"+string(f.Tag)+"`")
		}
		return names
	}
	want := map[reflect.Type][]string{
		reflect.TypeFor[mcp.CallToolResult](): {
			"Meta mcp.Meta `json:\"_meta,omitempty\"`",
			"Content []mcp.Content `json:\"content\"`",
			"StructuredContent interface {} `json:\"structuredContent,omitempty\"`",
			"IsError bool `json:\"isError,omitempty\"`",
			"InputRequests mcp.InputRequestMap `json:\"inputRequests,omitempty\"`",
			"RequestState string `json:\"requestState,omitempty\"`",
			"resultType mcp.resultType ``",
			"err error ``",
		},
		reflect.TypeFor[mcp.TextContent](): {"Text string ``", "Meta mcp.Meta ``", "Annotations *mcp.Annotations ``"},
	}
	for typ, want := range want {
		if got := fields(typ); !slices.Equal(got, want) {
			t.Errorf("%v has the fields\n%s\nappendToolResult knows\n%s", typ, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	}
	if resultTypeIndex == nil {
		t.Error("appendToolResult finds no resultType field, and so leaves every result to MarshalJSON")
	}
}

// appendJSONString quotes as json.Marshal does.
func TestFastEncode_StringsAsJSONMarshal(t *testing.T) {
	var all strings.Builder
	for b := range 256 {
		all.WriteByte(byte(b))
	}
	for _, s := range append(awkward, all.String(), "\u2027\u2028\u2029\u202a", "\xe2\x80\xa8\xe2\x80", "\xed\xa0\x80", "\xf4\x90\x80\x80") {
		checkJSONString(t, s)
	}
}

func FuzzAppendJSONString(f *testing.F) {
	for _, s := range awkward {
		f.Add(s)
	}
	f.Fuzz(checkJSONString)
}

func checkJSONString(t *testing.T, s string) {
	want, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	if got := appendJSONString([]byte("x"), s); string(got) != "x"+string(want) {
		t.Fatalf("%q: appendJSONString wrote %s, json.Marshal %s", s, got[1:], want)
	}
}

// A pooled answer buffer carries nothing over: an answer whose result
// fails to encode, written after a longer one, is the error alone, with
// no part of either result.
func TestFastPath_AnswerBuffersCarryNothingOver(t *testing.T) {
	long := &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: strings.Repeat("x", 3000)}}}
	bad := &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: "a"}}, StructuredContent: json.RawMessage(`{`)}
	_, encodeErr := bad.MarshalJSON()
	if encodeErr == nil {
		t.Fatal("the bad result encodes")
	}
	rpcErr, err := marshalNoEscape(&jsonrpc.Error{Message: encodeErr.Error()})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		res  *mcp.CallToolResult
		want string
	}{
		{long, `event: message` + "\n" + `data: {"jsonrpc":"2.0","id":7,"result":{"content":[{"type":"text","text":"` + strings.Repeat("x", 3000) + `"}]}}` + "\n\n"},
		{bad, `event: message` + "\n" + `data: {"jsonrpc":"2.0","id":7,"error":` + string(rpcErr) + "}\n\n"},
	} {
		fp := &FastPath{handle: func(context.Context, string, mcp.Request) (mcp.Result, error) { return c.res, nil }}
		rec := httptest.NewRecorder()
		fp.serve(rec, httptest.NewRequest(http.MethodPost, "/mcp", nil), toolCall{id: json.RawMessage(`7`), name: checkDriveAuthTool.Name})
		if got := rec.Body.String(); got != c.want {
			t.Fatalf("answered\n%q\nwant\n%q", got, c.want)
		}
	}
}
