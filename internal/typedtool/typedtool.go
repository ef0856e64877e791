// Package typedtool registers typed MCP tool handlers as the go-sdk's
// mcp.AddTool does, with the same schemas and checks as a client sees
// them, but faster, with schemas portable to every model's function
// calling, and with argument errors that say how to fix the call.
//
// Switching back to mcp.AddTool: set Options.SDK (it registers with
// mcp.AddTool, given the same portable schemas). The differential tests in
// this package (TestAddTool_*) run both on the same tools and show what
// would change: argument errors become the SDK's terse texts, and a call
// with null arguments makes mcp.AddTool panic. docs/architecture.md ("Tool
// schemas") says what the portable schemas are.
package typedtool

import (
	"context"
	"encoding"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/google/jsonschema-go/jsonschema"
	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// Options say how a tool's failures become its answer; the zero Options
// answer with the error's own text.
type Options struct {
	// ArgumentError is the answer to arguments that do not fit: schema is
	// true when the input schema refused them, false when a value did not
	// decode into the input type.
	ArgumentError func(tool string, err error, schema bool) error
	// HandlerError is the answer to a handler's error that is not a
	// *jsonrpc.Error (which fails the request itself).
	HandlerError func(ctx context.Context, req *mcp.CallToolRequest, tool string, err error) error
	// SDK registers with mcp.AddTool instead, given the same portable
	// schemas: the switch back to the go-sdk's adapter.
	SDK bool
}

// Add registers a typed tool handler as mcp.AddTool does, and a client
// sees no difference in the schemas or the checks. It exists for speed: the
// SDK's JSON decoder allocates a 32 KiB buffer on every call, and
// mcp.AddTool decodes three times per tools/call; encoding/json decodes in
// place. Argument errors come back through opts.ArgumentError, since the model
// reading them has to fix the call.
//
// Keys match struct fields case-insensitively in encoding/json but exactly
// in the SDK. The schemas inferred from Go structs forbid unknown
// properties, so validation has already refused a wrongly cased key; a
// hand-written input schema that allows unknown keys would let one through.
//
// Add panics, as mcp.AddTool does, when a schema cannot be inferred from
// In or Out: a programming error found when the server is built.
func Add[In, Out any](s *mcp.Server, t *mcp.Tool, h mcp.ToolHandlerFor[In, Out], opts Options) {
	if opts.SDK {
		mcp.AddTool(s, prepare[In, Out](t, &opts).tool, h)
		return
	}
	tt, handler := Handler(t, h, opts)
	s.AddTool(tt, handler)
}

// prepared is a tool with its schemas inferred and resolved.
type prepared struct {
	tool    *mcp.Tool
	in, out toolSchema
}

func prepare[In, Out any](t *mcp.Tool, opts *Options) prepared {
	if opts.ArgumentError == nil {
		opts.ArgumentError = func(_ string, err error, _ bool) error { return err }
	}
	if opts.HandlerError == nil {
		opts.HandlerError = func(_ context.Context, _ *mcp.CallToolRequest, _ string, err error) error { return err }
	}
	tt := *t
	if reflect.TypeFor[In]() == reflect.TypeFor[any]() && tt.InputSchema == nil {
		tt.InputSchema = &jsonschema.Schema{Type: "object"} // as the SDK: any input is an object
	}
	in, err := newToolSchema[In](&tt.InputSchema)
	if err != nil {
		panic(fmt.Sprintf("typedtool.Add: tool %q: input schema: %v", t.Name, err))
	}
	var out toolSchema // an any output has no schema, as in the SDK
	if tt.OutputSchema != nil || reflect.TypeFor[Out]() != reflect.TypeFor[any]() {
		inferred := tt.OutputSchema == nil
		if out, err = newToolSchema[Out](&tt.OutputSchema); err != nil {
			panic(fmt.Sprintf("typedtool.Add: tool %q: output schema: %v", t.Name, err))
		}
		// Validating an output that cannot fail its schema cost 15 % of a
		// check_drive_auth call (decoding it again, ~100 allocations, and
		// the validator's deep recursion growing the goroutine's stack).
		out.exact = inferred && Exact(reflect.TypeFor[Out]())
	}
	return prepared{tool: &tt, in: in, out: out}
}

// Handler is the tool (its schemas filled in) and the raw handler Add
// registers: the same checks, decoding and encoding around h. A caller
// outside the SDK (mcpserver's stateless fast path) calls it to answer
// exactly as a call through the SDK would.
func Handler[In, Out any](t *mcp.Tool, h mcp.ToolHandlerFor[In, Out], opts Options) (*mcp.Tool, mcp.ToolHandler) {
	p := prepare[In, Out](t, &opts)
	in, out := p.in, p.out
	// No arguments at all is the commonest call of a tool without required
	// ones (check_drive_auth), and its verdict never changes: the schema's
	// defaults and validation of {} are worked out once (a tenth of such a
	// call). The bytes are only read from then on.
	emptyArgs, emptyErr := in.check(nil, true)
	return p.tool, func(ctx context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		var args []byte
		var err error
		if a := req.Params.Arguments; in.resolved != nil && (len(a) == 0 || string(a) == "{}" || string(a) == "null") {
			args, err = emptyArgs, emptyErr
		} else {
			args, err = in.check(a, true)
		}
		if err != nil {
			return toolError(opts.ArgumentError(t.Name, err, true)), nil
		}
		v, err := decodeArgs[In](args)
		if err != nil {
			return toolError(opts.ArgumentError(t.Name, err, false)), nil
		}

		res, o, err := h(ctx, req, v)
		if err != nil {
			// A JSON-RPC error is the tool's way to fail the request itself;
			// any other error is the tool's answer.
			if rpcErr := (*jsonrpc.Error)(nil); errors.As(err, &rpcErr) {
				return nil, rpcErr
			}
			return toolError(opts.HandlerError(ctx, req, t.Name, err)), nil
		}
		if res == nil {
			res = &mcp.CallToolResult{}
		}
		if res.InputRequests != nil {
			return res, nil // on the wire, input requests and content exclude each other
		}
		var outv any = o
		var z Out // out.zero is set only for a pointer Out, which compares
		if out.zero != nil && any(o) == any(z) {
			outv = out.zero // a nil *T would be sent as null; the schema is T's
		}
		if outv == nil {
			return res, nil
		}
		if out.slices {
			outv = fillSlices(outv)
		}
		data, err := json.Marshal(outv)
		if err != nil {
			return nil, fmt.Errorf("marshaling output: %w", err)
		}
		// An output that fits its schema by construction is not checked.
		// Others are validated as JSON, not as the Go value: types such as
		// time.Time marshal themselves into something else.
		if !out.exact {
			if data, err = out.check(data, false); err != nil {
				return nil, fmt.Errorf("validating tool output: %w", err)
			}
		}
		res.StructuredContent = Output{data}
		// Clients that predate structured content read the text instead;
		// one that is not an object is added even beside other content.
		if res.Content == nil {
			res.Content = []mcp.Content{&mcp.TextContent{Text: string(data)}}
		} else if !isJSONObject(data) {
			res.Content = append(res.Content, &mcp.TextContent{Text: string(data)})
		}
		return res, nil
	}
}

// Output is a tool's structured output (a result's StructuredContent) as
// encoding/json encoded it: valid, compact JSON, with <, >, &, U+2028 and
// U+2029 escaped. Those bytes are what encoding/json writes when it
// encodes an Output again, as part of the result, so an encoder of its
// own (the fast path's) can copy them as they are; for a json.RawMessage
// it would have to check and compact them first, as encoding/json does
// each time, which was 40 % of encoding a check_drive_auth result.
// Only this package makes one, from encoding/json's output, and the
// bytes cannot be changed from outside it.
type Output struct{ data []byte }

// MarshalJSON returns the encoded output, which the caller must not
// modify (encoding/json copies it).
func (o Output) MarshalJSON() ([]byte, error) {
	if o.data == nil {
		return []byte("null"), nil
	}
	return o.data, nil
}

// AppendJSON appends what encoding/json writes for o to dst.
func (o Output) AppendJSON(dst []byte) []byte {
	if o.data == nil {
		return append(dst, "null"...)
	}
	return append(dst, o.data...)
}

// decodeArgs decodes checked arguments into In. An integer written as
// 10.0 or 1e1 is an integer to the schema but not to encoding/json; the SDK
// accepts it because it encodes the checked value again (as 10), so when a
// number does not fit, so does this.
func decodeArgs[In any](args []byte) (In, error) {
	var v In
	err := json.Unmarshal(args, &v)
	var typeErr *json.UnmarshalTypeError
	if !errors.As(err, &typeErr) || typeErr.Value != "number" {
		return v, err
	}
	var generic any
	if json.Unmarshal(args, &generic) != nil {
		return v, err
	}
	again, merr := json.Marshal(generic)
	if merr != nil {
		return v, err
	}
	var retry In
	if json.Unmarshal(again, &retry) != nil {
		return v, err // the first error names the argument as the client wrote it
	}
	return retry, nil
}

func toolError(err error) *mcp.CallToolResult {
	res := &mcp.CallToolResult{}
	res.SetError(err)
	return res
}

// toolSchema is a tool's input or output schema, resolved for validation.
// The zero toolSchema checks nothing.
type toolSchema struct {
	resolved *jsonschema.Resolved
	// defaults says the schema has defaults to apply, so checked values must
	// be encoded again; without any, the JSON passes through as it came.
	defaults bool
	// zero is T's zero value when the schema was made for *T (as the SDK
	// does, pointers are looked through), to send in place of a nil *T.
	zero any
	// exact says every value of the Go type fits the schema once encoded
	// (see Exact), so outputs need no check.
	exact bool
	// slices says a value may hold a nil slice that would be sent as
	// null, to send as [] instead (fillSlices).
	slices bool
}

// newToolSchema resolves *field, first inferring it from T if it is nil,
// with the same options as the SDK so that tools/list is unchanged.
func newToolSchema[T any](field *any) (toolSchema, error) {
	var ts toolSchema
	rt := reflect.TypeFor[T]()
	if rt.Kind() == reflect.Pointer {
		rt = rt.Elem()
		ts.zero = reflect.Zero(rt).Interface()
	}
	var check *jsonschema.Schema // what calls are validated against
	if *field == nil {
		s, err := jsonschema.ForType(rt, &jsonschema.ForOptions{})
		if err != nil {
			return ts, err
		}
		singleTypes(s)
		// The enums and ranges are published for the model's sake, and the
		// handlers check them with a sentence that says how to fix the
		// call (and accept the spellings older clients used, such as scope
		// "drive.file"); validation stops at types and required properties.
		check = s.CloneSchemas()
		if err := publishConstraints(s, rt); err != nil {
			return ts, err
		}
		*field = s
	}
	s, ok := (*field).(*jsonschema.Schema)
	if !ok || s == nil {
		return ts, fmt.Errorf("%T is not a *jsonschema.Schema", *field)
	}
	if check == nil {
		check = s
	}
	r, err := check.Resolve(&jsonschema.ResolveOptions{ValidateDefaults: true})
	if err != nil {
		return ts, err
	}
	ts.resolved, ts.defaults = r, hasDefaults(s)
	ts.slices = hasSlices(rt, map[reflect.Type]bool{})
	return ts, nil
}

// singleTypes gives every schema in s one type: jsonschema.ForType writes
// a pointer or a slice as ["null", T], which is legal JSON Schema but not
// portable (Gemini's function declarations take one type, and MCP
// Inspector flags it). An optional property is one that is not required;
// the adapter takes a null argument as absent (check), and outputs send an
// empty array for a nil slice (fillSlices), so T alone is true.
func singleTypes(s *jsonschema.Schema) {
	if s == nil {
		return
	}
	if len(s.Types) == 2 && s.Types[0] == "null" {
		s.Type, s.Types = s.Types[1], nil
	}
	singleTypes(s.Items)
	for _, p := range s.Properties {
		singleTypes(p)
	}
}

// publishConstraints copies the enum, minimum and maximum struct tags of
// t's fields (and of the structs they hold) onto their properties in s:
// `enum:"a,b"` for a fixed set of strings, `minimum:"1" maximum:"1000"`
// for a number's range. jsonschema.ForType reads only the description.
func publishConstraints(s *jsonschema.Schema, t reflect.Type) error {
	for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Array {
		t = t.Elem()
		if s.Items != nil {
			s = s.Items
		}
	}
	if t.Kind() != reflect.Struct || s == nil {
		return nil
	}
	for _, f := range reflect.VisibleFields(t) {
		if f.Anonymous || !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "" {
			name = f.Name
		}
		p := s.Properties[name]
		if p == nil {
			continue
		}
		if e, ok := f.Tag.Lookup("enum"); ok {
			if p.Type != "string" {
				return fmt.Errorf("field %s: an enum tag on a %s; enums are of strings", f.Name, p.Type)
			}
			for _, v := range strings.Split(e, ",") {
				p.Enum = append(p.Enum, v)
			}
		}
		for tag, dst := range map[string]**float64{"minimum": &p.Minimum, "maximum": &p.Maximum} {
			v, ok := f.Tag.Lookup(tag)
			if !ok {
				continue
			}
			n, err := strconv.ParseFloat(v, 64)
			if err != nil || (p.Type != "integer" && p.Type != "number") {
				return fmt.Errorf("field %s: %s tag %q on a %s", f.Name, tag, v, p.Type)
			}
			*dst = &n
		}
		if err := publishConstraints(p, f.Type); err != nil {
			return err
		}
	}
	return nil
}

// hasSlices reports whether a value of t can hold a slice that
// encoding/json would send as null when nil, which the adapter must turn
// into an empty one before sending it. A field with omitempty is left out
// when nil and when empty alike, so only its elements count: copying the
// output to fill nothing cost a check_drive_auth call (Scopes) two
// allocations and a sixth of encoding its output.
func hasSlices(t reflect.Type, seen map[reflect.Type]bool) bool {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if seen[t] {
		return false
	}
	seen[t] = true
	switch t.Kind() {
	case reflect.Slice:
		return true
	case reflect.Array:
		return hasSlices(t.Elem(), seen)
	case reflect.Struct:
		for i := range t.NumField() {
			f := t.Field(i)
			if !f.IsExported() && !f.Anonymous {
				continue
			}
			ft := f.Type
			if ft.Kind() == reflect.Slice && !f.Anonymous && slices.Contains(strings.Split(opts(f), ","), "omitempty") {
				ft = ft.Elem()
			}
			if hasSlices(ft, seen) {
				return true
			}
		}
	}
	return false
}

// fillSlices returns v with every nil slice in it (in structs, slices and
// arrays, through pointers) made empty, so that it is sent as [] and not
// as null, which the schema does not allow. v itself is not changed: the
// structs are copied; the elements of a slice are its own, already the
// handler's answer.
func fillSlices(v any) any {
	rv := reflect.ValueOf(v)
	if !rv.IsValid() {
		return v
	}
	cp := reflect.New(rv.Type()).Elem()
	cp.Set(rv)
	fillValue(cp)
	return cp.Interface()
}

func fillValue(v reflect.Value) {
	switch v.Kind() {
	case reflect.Pointer:
		if !v.IsNil() {
			e := reflect.New(v.Type().Elem())
			e.Elem().Set(v.Elem())
			fillValue(e.Elem())
			v.Set(e)
		}
	case reflect.Slice:
		if v.IsNil() {
			if v.CanSet() && v.Type().Elem().Kind() != reflect.Uint8 {
				v.Set(reflect.MakeSlice(v.Type(), 0, 0))
			}
			return
		}
		for i := range v.Len() {
			fillValue(v.Index(i))
		}
	case reflect.Array:
		for i := range v.Len() {
			fillValue(v.Index(i))
		}
	case reflect.Struct:
		for i := range v.NumField() {
			// The exported fields of an unexported embedded struct are
			// settable, and encoding/json sends them.
			if f := v.Field(i); f.CanSet() || (v.Type().Field(i).Anonymous && f.Kind() == reflect.Struct) {
				fillValue(f)
			}
		}
	}
}

// hasDefaults reports whether ApplyDefaults could change a value of s: it
// looks only at s and, recursively, its properties, as ApplyDefaults does.
func hasDefaults(s *jsonschema.Schema) bool {
	if s == nil {
		return false
	}
	if s.Default != nil {
		return true
	}
	for _, p := range s.Properties {
		if hasDefaults(p) {
			return true
		}
	}
	return false
}

// check applies the schema's defaults to data and validates it, returning
// the JSON to use from then on. Absent or null arguments are the empty
// object, as in the SDK, so that a schema's required properties still
// apply to them.
func (ts toolSchema) check(data []byte, input bool) ([]byte, error) {
	if ts.resolved == nil {
		return data, nil
	}
	var v any
	changed := false
	if input {
		var m map[string]any
		if len(data) > 0 {
			if err := json.Unmarshal(data, &m); err != nil {
				return nil, fmt.Errorf("unmarshaling arguments: %w", err)
			}
		}
		if m == nil {
			m, data = map[string]any{}, []byte("{}")
		}
		// An argument sent as null is one left out: the schemas give each
		// property one type (see singleTypes), and older clients send null
		// for what they do not set.
		for k, a := range m {
			if a == nil {
				delete(m, k)
				changed = true
			}
		}
		v = m
	} else if err := json.Unmarshal(data, &v); err != nil {
		return nil, fmt.Errorf("unmarshaling output: %w", err)
	}
	if v == nil && !input && ts.resolved.Schema().Type == "object" {
		v, changed = map[string]any{}, true // a nil map is sent as {}, as in the SDK
	}
	if _, ok := v.(map[string]any); ok && ts.defaults {
		if err := ts.resolved.ApplyDefaults(&v); err != nil {
			return nil, fmt.Errorf("applying schema defaults:\n%w", err)
		}
		changed = true
	}
	if err := ts.resolved.Validate(&v); err != nil {
		return nil, err
	}
	if !changed {
		return data, nil
	}
	return json.Marshal(v)
}

// isJSONObject reports whether data, which is valid JSON, is an object.
func isJSONObject(data []byte) bool {
	for _, b := range data {
		switch b {
		case ' ', '\t', '\n', '\r':
			continue
		}
		return b == '{'
	}
	return false
}

// Exact reports whether every value of t, encoded by encoding/json,
// fits the schema jsonschema.ForType infers for t, given one type per
// property by singleTypes. It holds for a struct (or a pointer to one)
// built of booleans, numbers, strings, time.Time, interfaces, pointers
// that are left out when nil, slices (the adapter sends a nil one as []),
// arrays and such structs: there both follow the same rules (names from
// json tags, omitempty and omitzero fields optional, the rest required,
// untagged embedded structs' fields promoted). Anything else may be encoded
// otherwise than the schema says, and is validated: maps (a nil one is
// null, the schema says object), MarshalJSON and MarshalText methods,
// []byte (base64 text; an array of integers to the schema), ",string"
// options, embedded pointers (a nil one drops fields the schema requires),
// tagged or non-struct embedded fields, names that collide, and
// JSONSCHEMAGODEBUG, which changes the inference. t must be a type ForType
// accepts (it refuses recursive types).
func Exact(t reflect.Type) bool {
	if os.Getenv("JSONSCHEMAGODEBUG") != "" {
		return false
	}
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t.Kind() == reflect.Struct && exactType(t)
}

var (
	jsonMarshalerType = reflect.TypeFor[json.Marshaler]()
	textMarshalerType = reflect.TypeFor[encoding.TextMarshaler]()
)

func exactType(t reflect.Type) bool {
	for t.Kind() == reflect.Pointer {
		t = t.Elem() // a pointer's methods are its element's
	}
	switch t {
	case reflect.TypeFor[time.Time]():
		return true // RFC 3339 text; a string to the schema
	case reflect.TypeFor[json.Number]():
		return false // a string to the schema, a bare number on the wire
	}
	for _, m := range []reflect.Type{jsonMarshalerType, textMarshalerType} {
		if t.Implements(m) || reflect.PointerTo(t).Implements(m) {
			return false
		}
	}
	switch t.Kind() {
	case reflect.Bool, reflect.String, reflect.Interface, reflect.Float32, reflect.Float64,
		reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return true
	case reflect.Slice, reflect.Array:
		return t.Elem().Kind() != reflect.Uint8 && exactType(t.Elem())
	case reflect.Struct:
		var fields []reflect.StructField
		if !encodedFields(t, &fields) {
			return false
		}
		// ForType takes the fields reflect.VisibleFields sees; a field that
		// another hides (or two that hide each other) is where encoding/json,
		// which goes by JSON names, may differ.
		visible := 0
		for _, f := range reflect.VisibleFields(t) {
			if !f.Anonymous && f.IsExported() && f.Tag.Get("json") != "-" {
				visible++
			}
		}
		names := map[string]bool{}
		for _, f := range fields {
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name == "" {
				name = f.Name
			}
			if names[name] || !exactType(f.Type) {
				return false
			}
			// A nil pointer is sent as null, which the schema no longer
			// allows (singleTypes), unless the field is then left out.
			if f.Type.Kind() == reflect.Pointer && !slices.ContainsFunc(strings.Split(opts(f), ","), func(o string) bool { return o == "omitempty" || o == "omitzero" }) {
				return false
			}
			names[name] = true
		}
		return len(fields) == visible
	}
	return false // channels, functions, complex numbers: ForType refuses them
}

// opts are the options of f's json tag.
func opts(f reflect.StructField) string {
	_, o, _ := strings.Cut(f.Tag.Get("json"), ",")
	return o
}

// validJSONName is encoding/json's rule for a usable name in a json tag.
func validJSONName(name string) bool {
	for _, c := range name {
		if !strings.ContainsRune("!#$%&()*+-./:;<=>?@[]^_{|}~ ", c) && !unicode.IsLetter(c) && !unicode.IsDigit(c) {
			return false
		}
	}
	return true
}

// encodedFields appends the fields of struct t that encoding/json encodes,
// those of untagged embedded structs included; false if a field is one
// that Exact refuses.
func encodedFields(t reflect.Type, fields *[]reflect.StructField) bool {
	for i := range t.NumField() {
		f := t.Field(i)
		name, opts, tagged := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" && !tagged {
			continue
		}
		if name != "" && !validJSONName(name) {
			return false // encoding/json ignores such a name and uses the Go one
		}
		if f.Anonymous {
			if f.Type.Kind() != reflect.Struct || name != "" || !encodedFields(f.Type, fields) {
				return false
			}
			continue
		}
		if !f.IsExported() {
			continue
		}
		if slices.Contains(strings.Split(opts, ","), "string") {
			return false
		}
		*fields = append(*fields, f)
	}
	return true
}
