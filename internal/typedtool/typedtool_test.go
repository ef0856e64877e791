package typedtool

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	"github.com/google/jsonschema-go/jsonschema"
	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

type echoIn struct {
	Name  string   `json:"name" jsonschema:"who to echo"`
	Count int      `json:"count,omitempty"`
	Tags  []string `json:"tags,omitempty"`
	Color string   `json:"color,omitempty" jsonschema:"defaults to blue"`
}

type echoOut struct {
	Name  string `json:"name"`
	Count int    `json:"count"`
	Color string `json:"color,omitempty"`
}

type noArgsIn struct {
	Color string `json:"color,omitempty"`
}

// echo answers according to its name argument: "rpc" fails the request,
// "fail" fails the tool, "text" brings its own content; otherwise it echoes.
func echo(_ context.Context, _ *mcp.CallToolRequest, in echoIn) (*mcp.CallToolResult, echoOut, error) {
	switch in.Name {
	case "rpc":
		return nil, echoOut{}, &jsonrpc.Error{Code: 4711, Message: "refused"}
	case "fail":
		// A sentence for the client (drivemcp's Options.HandlerError hides
		// other errors, which the SDK does not).
		return nil, echoOut{}, errors.New("it failed")
	case "text":
		return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: "own text"}}}, echoOut{Name: in.Name}, nil
	}
	return nil, echoOut{Name: in.Name, Count: in.Count, Color: in.Color}, nil
}

// registerTestTools adds the same tools with mcp.AddTool (sdk) or Add:
// echo has a default (color) and an output bound (count at most 10)
// written into its inferred schemas; the others cover the output rules for
// non-objects and nil pointers.
func registerTestTools(t *testing.T, s *mcp.Server, sdk bool) {
	in, err := jsonschema.For[echoIn](nil)
	if err != nil {
		t.Fatal(err)
	}
	in.Properties["color"].Default = json.RawMessage(`"blue"`)
	out, err := jsonschema.For[echoOut](nil)
	if err != nil {
		t.Fatal(err)
	}
	out.Properties["count"].Maximum = jsonschema.Ptr(10.0)
	add(s, sdk, &mcp.Tool{Name: "echo", InputSchema: in, OutputSchema: out}, echo)

	noArgs, err := jsonschema.For[noArgsIn](nil)
	if err != nil {
		t.Fatal(err)
	}
	noArgs.Properties["color"].Default = json.RawMessage(`"blue"`)
	add(s, sdk, &mcp.Tool{Name: "noargs", InputSchema: noArgs}, func(_ context.Context, _ *mcp.CallToolRequest, in noArgsIn) (*mcp.CallToolResult, echoOut, error) {
		return nil, echoOut{Color: in.Color}, nil
	})
	add(s, sdk, &mcp.Tool{Name: "list"}, func(_ context.Context, _ *mcp.CallToolRequest, in echoIn) (*mcp.CallToolResult, []string, error) {
		if in.Name == "text" {
			return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: "own text"}}}, in.Tags, nil
		}
		return nil, in.Tags, nil
	})
	add(s, sdk, &mcp.Tool{Name: "pointer"}, func(context.Context, *mcp.CallToolRequest, echoIn) (*mcp.CallToolResult, *echoOut, error) {
		return nil, nil, nil
	})
	add(s, sdk, &mcp.Tool{Name: "anything"}, func(_ context.Context, _ *mcp.CallToolRequest, in any) (*mcp.CallToolResult, any, error) {
		return nil, in, nil
	})
}

func add[In, Out any](s *mcp.Server, sdk bool, tool *mcp.Tool, h mcp.ToolHandlerFor[In, Out]) {
	if sdk {
		mcp.AddTool(s, tool, h)
	} else {
		Add(s, tool, h, sentences)
	}
}

// sentences word argument errors as drivemcp's tools do (mcpserver.addTool).
var sentences = Options{ArgumentError: func(tool string, err error, schema bool) error {
	if schema {
		return fmt.Errorf("The arguments do not fit %s's input schema (%v). Fix the arguments as the schema says and call it again.", tool, err)
	}
	return fmt.Errorf("An argument of %s has the wrong type (%v). Check the input schema and call it again.", tool, err)
}}

// rpcAnswer is a JSON-RPC response as it came over the wire.
type rpcAnswer struct {
	Result *struct {
		Content []struct {
			Type string `json:"type"`
			Text string `json:"text"`
		} `json:"content"`
		StructuredContent any  `json:"structuredContent"`
		IsError           bool `json:"isError"`
	} `json:"result"`
	Error *struct {
		Code    int64  `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

func (a rpcAnswer) text() string {
	var b strings.Builder
	for _, c := range a.Result.Content {
		b.WriteString(c.Text)
	}
	return b.String()
}

// serveStateless serves s as `drivemcp serve --stateless` does, so that a
// test can send requests as raw JSON, a tools/call without arguments
// included (the SDK's client always sends some), and read the raw answer.
func serveStateless(t *testing.T, s *mcp.Server) func(method, params string) []byte {
	h := mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return s },
		&mcp.StreamableHTTPOptions{Stateless: true, JSONResponse: true})
	return func(method, params string) []byte {
		t.Helper()
		req := httptest.NewRequest(http.MethodPost, "/mcp",
			strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"`+method+`","params":`+params+`}`))
		req.Header = http.Header{"Content-Type": {"application/json"}, "Accept": {"application/json, text/event-stream"},
			"Mcp-Protocol-Version": {"2025-06-18"}}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			t.Fatalf("%s %s: status %d: %s", method, params, rec.Code, rec.Body)
		}
		return rec.Body.Bytes()
	}
}

// toolCaller calls tools on s with raw params.
func toolCaller(t *testing.T, s *mcp.Server) func(params string) rpcAnswer {
	serve := serveStateless(t, s)
	return func(params string) rpcAnswer {
		t.Helper()
		body := serve("tools/call", params)
		var a rpcAnswer
		if err := json.Unmarshal(body, &a); err != nil || (a.Result == nil) == (a.Error == nil) {
			t.Fatalf("%s: not one JSON-RPC answer (%v): %s", params, err, body)
		}
		return a
	}
}

// The adapter answers every call as mcp.AddTool does, except that argument
// errors are sentences that say how to fix the call.
func TestAddTool_AnswersAsTheSDKDoes(t *testing.T) {
	sdkServer := mcp.NewServer(&mcp.Implementation{Name: "sdk", Version: "1"}, nil)
	registerTestTools(t, sdkServer, true)
	ourServer := mcp.NewServer(&mcp.Implementation{Name: "ours", Version: "1"}, nil)
	registerTestTools(t, ourServer, false)
	callSDK, callOurs := toolCaller(t, sdkServer), toolCaller(t, ourServer)

	const (
		doNotFit  = "The arguments do not fit echo's input schema ("
		fixIt     = "). Fix the arguments as the schema says and call it again."
		wrongType = "An argument of echo has the wrong type (json: "
	)
	cases := []struct {
		name   string
		params string
		want   string // in our answer's text or error message
	}{
		{"valid arguments", `{"name":"echo","arguments":{"name":"a","count":2,"color":"red"}}`, `"color":"red"`},
		{"a default fills an omitted argument", `{"name":"echo","arguments":{"name":"a"}}`, `"color":"blue"`},
		{"absent arguments are {}", `{"name":"noargs"}`, `"color":"blue"`},
		{"absent arguments still miss what is required", `{"name":"echo"}`, doNotFit + `validating root: required: missing properties: ["name"]` + fixIt},
		// {} is judged once per tool (Handler): the same verdict every time.
		{"empty arguments get defaults", `{"name":"noargs","arguments":{}}`, `"color":"blue"`},
		{"empty arguments get defaults, again", `{"name":"noargs","arguments":{}}`, `"color":"blue"`},
		{"empty arguments miss what is required", `{"name":"echo","arguments":{}}`, doNotFit + `validating root: required: missing properties: ["name"]` + fixIt},
		{"empty arguments miss what is required, again", `{"name":"echo","arguments":{}}`, doNotFit + `validating root: required: missing properties: ["name"]` + fixIt},
		{"a required argument is missing", `{"name":"echo","arguments":{"count":1}}`, `missing properties: ["name"]`},
		{"an argument of the wrong type", `{"name":"echo","arguments":{"name":5}}`, `validating /properties/name: type: 5 has type "integer", want "string"`},
		{"an unknown argument", `{"name":"echo","arguments":{"name":"a","extra":1}}`, `unexpected additional properties ["extra"]`},
		// encoding/json would match "Name" to the field name; the schema
		// refuses it first, so the SDK's case-sensitive decoding holds.
		{"an argument's name in the wrong case", `{"name":"echo","arguments":{"Name":"a"}}`, doNotFit},
		{"arguments that are not an object", `{"name":"echo","arguments":"rm -rf /"}`, doNotFit + "unmarshaling arguments: json: cannot unmarshal string"},
		{"an integer written as a float", `{"name":"echo","arguments":{"name":"a","count":2.0}}`, `"count":2`},
		{"an integer in exponent form", `{"name":"echo","arguments":{"name":"a","count":1e1}}`, `"count":10`},
		{"a number valid for the schema, too big for the Go type", `{"name":"echo","arguments":{"name":"a","count":1e30}}`, wrongType},
		{"a tool error", `{"name":"echo","arguments":{"name":"fail"}}`, "it failed"},
		{"a JSON-RPC error passes through", `{"name":"echo","arguments":{"name":"rpc"}}`, "refused"},
		{"output the output schema refuses", `{"name":"echo","arguments":{"name":"a","count":11}}`, "validating tool output: "},
		{"the tool's own content stays", `{"name":"echo","arguments":{"name":"text"}}`, "own text"},
		{"output that is not an object", `{"name":"list","arguments":{"name":"a","tags":["x","y"]}}`, `["x","y"]`},
		{"output that is not an object, beside the tool's content", `{"name":"list","arguments":{"name":"text","tags":["x"]}}`, `own text["x"]`},
		{"a nil pointer output is its type's zero value", `{"name":"pointer","arguments":{"name":"a"}}`, `{"name":"","count":0}`},
		{"input and output of any", `{"name":"anything","arguments":{"k":[1]}}`, `{"k":[1]}`},
		{"absent input of any", `{"name":"anything"}`, `{}`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			sdk, ours := callSDK(c.params), callOurs(c.params)
			if ours.Error != nil {
				if sdk.Error == nil || *ours.Error != *sdk.Error {
					t.Fatalf("error %+v, the SDK answers %+v", ours.Error, sdk)
				}
				if !strings.Contains(ours.Error.Message, c.want) {
					t.Fatalf("error %q does not say %q", ours.Error.Message, c.want)
				}
				return
			}
			if sdk.Result == nil {
				t.Fatalf("result %+v, the SDK fails with %+v", ours.Result, sdk.Error)
			}
			text, sdkText := ours.text(), sdk.text()
			if !strings.Contains(text, c.want) {
				t.Fatalf("text %q does not say %q", text, c.want)
			}
			if ours.Result.IsError != sdk.Result.IsError || !reflect.DeepEqual(ours.Result.StructuredContent, sdk.Result.StructuredContent) {
				t.Fatalf("isError %v, structured %v; the SDK: isError %v, structured %v",
					ours.Result.IsError, ours.Result.StructuredContent, sdk.Result.IsError, sdk.Result.StructuredContent)
			}
			switch {
			case strings.HasPrefix(sdkText, `validating "arguments": unmarshaling`), strings.HasPrefix(sdkText, "json: "):
				// The SDK's decoder words its errors otherwise than encoding/json.
			case strings.HasPrefix(sdkText, `validating "arguments": `):
				if want := doNotFit + strings.TrimPrefix(sdkText, `validating "arguments": `) + fixIt; text != want {
					t.Fatalf("text %q, want %q", text, want)
				}
			case !sameText(text, sdkText):
				t.Fatalf("text %q, the SDK's %q", text, sdkText)
			}
		})
	}
}

// Null arguments are {}, defaults applied. (mcp.AddTool panics here: its
// decoder makes null a nil map, which ApplyDefaults then writes to.)
func TestAddTool_NullArgumentsGetDefaults(t *testing.T) {
	s := mcp.NewServer(&mcp.Implementation{Name: "ours", Version: "1"}, nil)
	registerTestTools(t, s, false)
	call := toolCaller(t, s)
	a := call(`{"name":"noargs","arguments":null}`)
	if a.Result == nil || a.Result.IsError || !reflect.DeepEqual(a.Result.StructuredContent, map[string]any{"name": "", "count": 0.0, "color": "blue"}) {
		t.Fatalf("got %+v %+v", a.Result, a.Error)
	}
	a = call(`{"name":"echo","arguments":null}`)
	if want := `missing properties: ["name"]`; a.Result == nil || !a.Result.IsError || !strings.Contains(a.text(), want) {
		t.Fatalf("got %+v %+v, want an error saying %s", a.Result, a.Error, want)
	}
}

// sameText compares content texts; JSON may come with its keys in another
// order (the SDK sorts them, encoding a map).
func sameText(a, b string) bool {
	var x, y any
	if json.Unmarshal([]byte(a), &x) == nil && json.Unmarshal([]byte(b), &y) == nil {
		return reflect.DeepEqual(x, y)
	}
	return a == b
}
