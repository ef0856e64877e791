package typedtool

import (
	"bytes"
	"context"
	"encoding/json"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// messy encodes itself as JSON that encoding/json must compact and
// escape: spaces, HTML, U+2028 and a byte that is not UTF-8.
type messy struct{}

func (messy) MarshalJSON() ([]byte, error) {
	return []byte("{ \"html\" : \"<b>&amp;</b>\" ,\n \"sep\": \"a\u2028b\u2029c\", \"bad\": \"\xff\",\t\"n\": [ 1 , 2.50 ] }"), nil
}

// texty encodes itself as text with the same.
type texty struct{}

func (texty) MarshalText() ([]byte, error) { return []byte("<&> \u2028 \xff \" \\"), nil }

// outputOf runs v through a Handler as a tool's output, as Add sends it.
func outputOf[Out any](t *testing.T, v Out) Output {
	t.Helper()
	_, h := Handler(&mcp.Tool{Name: "out"}, func(context.Context, *mcp.CallToolRequest, struct{}) (*mcp.CallToolResult, Out, error) {
		return nil, v, nil
	}, Options{})
	res, err := h(context.Background(), &mcp.CallToolRequest{Params: &mcp.CallToolParamsRaw{Name: "out"}})
	if err != nil || res.IsError {
		t.Fatalf("%v %+v", err, res)
	}
	o, ok := res.StructuredContent.(Output)
	if !ok {
		t.Fatalf("structured content is a %T", res.StructuredContent)
	}
	return o
}

// An encoder of its own copies an Output as it is (Output.AppendJSON),
// where encoding/json checks and compacts it: that must make the same
// bytes, with HTML escaped (json.Marshal, as the SDK's CallToolResult
// does) or not (its JSON-RPC layer), for outputs of every kind.
func TestOutput_EncodingJSONWritesItAsItIs(t *testing.T) {
	var outputs []Output
	r := rand.New(rand.NewPCG(3, 4))
	for i := range 300 {
		var v exactAll
		if i > 0 {
			fill(r, reflect.ValueOf(&v).Elem())
		}
		outputs = append(outputs, outputOf(t, v))
	}
	for _, v := range []any{messy{}, texty{}, map[string]any{"<a>": []any{"\u2028", "\xff", nil}}, "<&>", 1.5e300, []messy{{}}, map[texty]texty{{}: {}}} {
		outputs = append(outputs, outputOf(t, v))
	}
	for _, o := range outputs {
		for _, escapeHTML := range []bool{true, false} {
			var b bytes.Buffer
			enc := json.NewEncoder(&b)
			enc.SetEscapeHTML(escapeHTML)
			if err := enc.Encode(map[string]any{"structuredContent": o}); err != nil {
				t.Fatal(err)
			}
			if want := `{"structuredContent":` + string(o.AppendJSON(nil)) + "}\n"; b.String() != want {
				t.Fatalf("escapeHTML %v: encoding/json wrote\n%s\nAppendJSON\n%s", escapeHTML, b.String(), want)
			}
		}
	}
}

// fillSlices is skipped for types whose nil slices all have omitempty
// (check_drive_auth's Scopes): a nil one and an empty one are both left
// out, so filling them would change nothing that is sent. Where one would
// be sent as null (no omitempty, or omitzero, which keeps []), or may be
// inside an element, it is not.
func TestFillSlices_SkippedOnlyWhereItChangesNothing(t *testing.T) {
	type (
		flat struct {
			A []string `json:"a,omitempty"`
			B []int    `json:",omitempty"`
		}
		nested struct {
			Items []flat  `json:"items,omitempty"`
			Ptr   *flat   `json:"ptr"`
			Arr   [2]flat `json:"arr"`
		}
		plain struct {
			A []string `json:"a"`
		}
		zeroOmitted struct {
			A []string `json:"a,omitzero"`
		}
		inElements struct {
			Items []plain `json:"items,omitempty"`
		}
	)
	skipped := map[string]reflect.Type{"flat": reflect.TypeFor[flat](), "nested": reflect.TypeFor[*nested]()}
	for name, typ := range skipped {
		if hasSlices(typ, map[reflect.Type]bool{}) {
			t.Errorf("%s: hasSlices, want no filling", name)
		}
		r := rand.New(rand.NewPCG(5, 6))
		for range 200 {
			v := reflect.New(typ).Elem()
			fill(r, v)
			a, err := json.Marshal(v.Interface())
			if err != nil {
				t.Fatal(err)
			}
			b, err := json.Marshal(fillSlices(v.Interface()))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(a, b) {
				t.Fatalf("%s: filling nil slices changed %s into %s", name, a, b)
			}
		}
	}
	for name, typ := range map[string]reflect.Type{"plain": reflect.TypeFor[plain](), "omitzero": reflect.TypeFor[zeroOmitted](),
		"in elements": reflect.TypeFor[inElements](), "top level": reflect.TypeFor[[]flat]()} {
		if !hasSlices(typ, map[reflect.Type]bool{}) {
			t.Errorf("%s: !hasSlices, but a nil slice in it is sent as null", name)
		}
	}
}
