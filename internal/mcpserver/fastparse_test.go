package mcpserver

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// parseToolCallReference is the fast path's first parser, on
// encoding/json's Decoder token by token, kept as the oracle parseToolCall
// must agree with: it accepts exactly {"jsonrpc":"2.0","id":…,"method":"tools/call",
// "params":{"name":…[,"arguments":{…}]}} in any key order, each key once and
// spelled exactly (the SDK matches keys case-sensitively, where
// encoding/json would take "Method" for method and keep the last of two),
// the id a plain integer or a string. Anything else is the SDK's.
func parseToolCallReference(body []byte) (toolCall, bool) {
	return parseReference(body, false)
}

// parseToolCallMetaReference is parseToolCallReference that also takes a
// _meta object among the params, the oracle of parseToolCallMeta.
func parseToolCallMetaReference(body []byte) (toolCall, bool) {
	return parseReference(body, true)
}

func parseReference(body []byte, meta bool) (toolCall, bool) {
	params := []string{"name", "arguments"}
	if meta {
		params = append(params, "_meta")
	}
	var c toolCall
	dec := json.NewDecoder(bytes.NewReader(body))
	var version, method string
	ok := objectReference(dec, func(key string) bool {
		switch key {
		case "jsonrpc":
			return dec.Decode(&version) == nil && version == "2.0"
		case "id":
			return dec.Decode(&c.id) == nil && plainIDReference(c.id)
		case "method":
			return dec.Decode(&method) == nil && method == "tools/call"
		case "params":
			name := false
			return objectReference(dec, func(key string) bool {
				switch key {
				case "name":
					name = true
					return dec.Decode(&c.name) == nil
				case "arguments":
					return dec.Decode(&c.args) == nil && len(c.args) > 0 && c.args[0] == '{' && // null or not an object: the SDK's words
						nestingReference(c.args) <= maxDepth // deeper: the SDK's decoder refuses the message
				case "_meta":
					return dec.Decode(&c.rawMeta) == nil && len(c.rawMeta) > 0 && c.rawMeta[0] == '{' &&
						nestingReference(c.rawMeta) <= maxDepth
				}
				return false
			}, params...) && name
		}
		return false
	}, "jsonrpc", "id", "method", "params")
	if !ok || version == "" || method == "" || c.id == nil || c.name == "" {
		return toolCall{}, false
	}
	if _, err := dec.Token(); err != io.EOF {
		return toolCall{}, false // something after the object
	}
	return c, true
}

// objectReference reads one JSON object from dec, calling value for each key (which
// must decode the value); keys must be among allowed, each at most once.
func objectReference(dec *json.Decoder, value func(key string) bool, allowed ...string) bool {
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return false
	}
	var seen [4]bool
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return false
		}
		key, _ := t.(string)
		k := slices.Index(allowed, key)
		if k < 0 || seen[k] || !value(key) {
			return false
		}
		seen[k] = true
	}
	t, err := dec.Token()
	return err == nil && t == json.Delim('}')
}

// plainIDReference is an id the answer can echo as written: a string, or an
// integer without sign tricks, fraction or exponent.
func plainIDReference(id json.RawMessage) bool {
	if len(id) == 0 {
		return false
	}
	if id[0] == '"' {
		var s string
		return json.Unmarshal(id, &s) == nil && !bytes.ContainsRune(id, '\\') // escapes: re-encoded by the SDK
	}
	_, err := strconv.ParseInt(string(id), 10, 64)
	return err == nil && (len(id) == 1 || id[0] != '0') && id[0] != '+'
}

// toolCallBody is a tools/call for name with the given id and, unless
// empty, arguments.
func toolCallBody(id, name, args string) string {
	if args != "" {
		args = `,"arguments":` + args
	}
	return `{"jsonrpc":"2.0","id":` + id + `,"method":"tools/call","params":{"name":` + name + args + `}}`
}

// nestingReference is how deep a valid JSON value nests (1 for an empty
// object), counted plainly: brackets outside strings.
func nestingReference(v []byte) int {
	depth, deepest, inString, escaped := 0, 0, false, false
	for _, c := range v {
		switch {
		case inString && escaped:
			escaped = false
		case inString && c == '\\':
			escaped = true
		case c == '"':
			inString = !inString
		case inString:
		case c == '{' || c == '[':
			depth++
			deepest = max(deepest, depth)
		case c == '}' || c == ']':
			depth--
		}
	}
	return deepest
}

// nestedArgs is an arguments object nested depth levels deep, itself
// included: arrays inside it, or objects.
func nestedArgs(depth int, arrays bool) string {
	if arrays {
		return `{"a":` + strings.Repeat("[", depth-1) + strings.Repeat("]", depth-1) + "}"
	}
	return strings.Repeat(`{"a":`, depth) + "1" + strings.Repeat("}", depth)
}

// bigArgs is about 1 KiB of arguments of every kind.
func bigArgs() string {
	var b strings.Builder
	b.WriteString(`{"user_google_email":"alice@example.com","query":"name contains 'report' and mimeType != 'application/vnd.google-apps.folder'"`)
	b.WriteString(`,"fields":["id","name","mimeType","size","modifiedTime","parents"],"page_size":100,"ratio":-0.25e-3,"flag":true,"none":null`)
	b.WriteString(`,"note":"a \"quoted\" word, a tab\t, a \\ and \u00e9t\u00e9 \ud83d\ude00 — and a } inside"`)
	b.WriteString(`,"items":[`)
	for i := range 12 {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `{"id":"1aB2cD3eF4gH5iJ6kL7mN8oP9qR0s%02d","n":%d,"ok":%t}`, i, i*37, i%2 == 0)
	}
	b.WriteString(`]}`)
	return b.String()
}

// parseToolCallCorpus is the differential tests' and the fuzzer's seed
// corpus: TestFastPath_AnswersAsTheSDK's bodies and the edges of what
// the parser accepts.
func parseToolCallCorpus() []string {
	const name = `"check_drive_auth"`
	call := func(id, args string) string { return toolCallBody(id, name, args) }
	named := func(n string) string { return toolCallBody("1", n, `{}`) }
	withArgs := func(args string) string { return toolCallBody("1", name, args) }
	corpus := []string{
		// TestFastPath_AnswersAsTheSDK.
		call("1", `{}`),
		call("7", ""),
		call(`"req-<&>"`, `{}`),
		call("0", `{}`),
		call("-42", `{}`),
		call("2", `{"user_google_email":"alice@example.com"}`),
		call("31", `{"user_google_email":"<b>m&m</b>@example.com"}`),
		call("4", `{"bogus":1}`),
		call("5", `{"user_google_email":5}`),
		`{"params":{"arguments":{},"name":"check_drive_auth"},"method":"tools/call","id":9,"jsonrpc":"2.0"}`,
		" {\n\"jsonrpc\" : \"2.0\", \"id\":10 , \"method\":\"tools/call\",\"params\":{\"name\":\"check_drive_auth\"}}\n",
		call("13", `null`),
		call("14", `[1]`),
		`{"jsonrpc":"2.0","id":15,"method":"tools/call","params":{"_meta":{"progressToken":1},"name":"check_drive_auth"}}`,
		`{"jsonrpc":"2.0","id":16,"method":"tools/call","params":{"name":"no_such_tool"}}`,
		`{"jsonrpc":"2.0","id":19,"method":"tools/list","params":{}}`,
		"[" + call("20", `{}`) + "]",
		`{"jsonrpc":"2.0","method":"tools/call","params":{"name":"check_drive_auth"}}`,
		`{"jsonrpc":"2.0","id":21,"Method":"tools/call","params":{"name":"check_drive_auth"}}`,
		`{"jsonrpc":"2.0","id":22,"method":"tools/list","method":"tools/call","params":{"name":"check_drive_auth"}}`,
		`{"jsonrpc":"2.0","id":23,"method":"tools/call","params":{"name":"check_drive_auth"},"x":1}`,
		call("1.5", `{}`),
		call(`"a\u0041"`, `{}`),
		`{"jsonrpc":"1.0","id":24,"method":"tools/call","params":{"name":"check_drive_auth"}}`,
		call("25", `{}`) + `{}`,
		`{"jsonrpc":`,

		// The envelope.
		``, ` `, `{}`, `[]`, `null`, `"x"`, `{"jsonrpc":"2.0"}`,
		"\ufeff" + call("1", `{}`),
		" \t\r\n{ \t\r\n\"jsonrpc\" \t\r\n: \t\r\n\"2.0\" \t\r\n, \t\r\n\"id\" \t\r\n: \t\r\n1 \t\r\n, \t\r\n\"method\" \t\r\n: \t\r\n\"tools/call\" \t\r\n, \t\r\n\"params\" \t\r\n: \t\r\n{ \t\r\n\"name\" \t\r\n: \t\r\n\"check_drive_auth\" \t\r\n, \t\r\n\"arguments\" \t\r\n: \t\r\n{ \t\r\n\"a\" \t\r\n: \t\r\n[ \t\r\n1 \t\r\n, \t\r\n{ \t\r\n} \t\r\n] \t\r\n} \t\r\n} \t\r\n} \t\r\n",
		"\f" + call("1", `{}`),
		call("1", `{}`) + "\v",
		call("1", `{}`) + "\u00a0",
		call("1", `{}`) + "\x00",
		call("1", `{}`) + "x",
		call("1", `{}`) + `"`,
		call("1", `{}`) + "}",
		`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"check_drive_auth"},}`,
		`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"check_drive_auth",}}`,
		`{,"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"check_drive_auth"}}`,
		`{"jsonrpc":"2.0" "id":1,"method":"tools/call","params":{"name":"check_drive_auth"}}`,
		`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"check_drive_auth"}]`,
		`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"check_drive_auth"]}`,
		`{"jsonrpc""2.0","id":1,"method":"tools/call","params":{"name":"check_drive_auth"}}`,
		`{"jsonrpc"::"2.0","id":1,"method":"tools/call","params":{"name":"check_drive_auth"}}`,
		`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name""check_drive_auth"}}`,
		`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"check_drive_auth""arguments":{}}}`,
		`{"jsonrpc":"2.0","id":1,"id":2,"method":"tools/call","params":{"name":"check_drive_auth"}}`,
		`{"jsonrpc":"2.0","jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"check_drive_auth"}}`,
		`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"check_drive_auth"},"params":{"name":"check_drive_auth"}}`,
		`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":null}`,
		`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":[]}`,
		`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":"x"}`,
		`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{}}`,
		`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"arguments":{}}}`,
		`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"check_drive_auth","name":"check_drive_auth"}}`,
		`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"check_drive_auth","arguments":{},"arguments":{}}}`,
		`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"check_drive_auth","Arguments":{}}}`,
		`{"jsonrpc":2,"id":1,"method":"tools/call","params":{"name":"check_drive_auth"}}`,
		`{"jsonrpc":null,"id":1,"method":"tools/call","params":{"name":"check_drive_auth"}}`,
		`{"jsonrpc":"2.0","id":1,"method":null,"params":{"name":"check_drive_auth"}}`,
		`{"jsonrpc":"2.0","id":1,"method":"tools/call"}`,
		`{"jsonrpc":"2.0","id":1,"params":{"name":"check_drive_auth"}}`,
		`{"id":1,"method":"tools/call","params":{"name":"check_drive_auth"}}`,

		// Escapes in keys and values encoding/json decodes before comparing.
		`{"jsonr\u0070c":"2.0","\u0069\u0064":1,"m\u0065thod":"tools\/call","p\u0061rams":{"n\u0061me":"check_drive_auth","\u0061rguments":{}}}`,
		`{"jsonrpc":"2\u002e0","id":1,"method":"tools\u002Fcall","params":{"name":"check_drive_auth"}}`,
		`{"jsonrpc":"2.0","id":1,"method":"tools/call\u0000","params":{"name":"check_drive_auth"}}`,
		`{"jsonrpc":"2.0","id":1,"method":"tools/call","par\u0061ms\u0000":{"name":"check_drive_auth"}}`,
		"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\xff\":\"tools/call\",\"params\":{\"name\":\"check_drive_auth\"}}",
		`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"\u006e\u0061\u006d\u0065":"check_drive_auth"}}`,
		`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"nam\x":"check_drive_auth"}}`,

		// Names.
		named(`"check\u005fdrive_auth"`),
		named(`"\u00e9t\u00e9"`),
		named(`"été"`),
		named(`"\ud83d\ude00"`),
		named(`"\uD83D\uDE00"`),
		named(`"\ud83d"`),
		named(`"\ud83d\u0041"`),
		named(`"\ude00"`),
		named(`"\ud83d\ud83d\ude00"`),
		named(`"\ude00\ud83d"`),
		named(`"a\ud83dx"`),
		named(`"\ud83d\n"`),
		named(`"\"\\\/\b\f\n\r\t"`),
		named(`"\u0000"`),
		named(`"\uFFFD"`),
		named("\"\xff\""),
		named("\"a\xffb\xfe\""),
		named("\"\xed\xa0\x80\""),
		named("\"\xe2\x82\""),
		named("\"\xe2\x82\xac\""),
		named("\"\x7f\""),
		named("\"\x01\""),
		named("\"a\tb\""),
		named(`"\x"`), named(`"\'"`), named(`"\u12"`), named(`"\u12G4"`), named(`"\u"`), named(`"\`),
		named(`""`), named(`null`), named(`1`), named(`{}`), named(`["check_drive_auth"]`), named(`true`),

		// Ids.
		call("-0", `{}`), call("1e3", `{}`), call("1E3", `{}`), call("1.0", `{}`), call("1.", `{}`), call("01", `{}`),
		call("-01", `{}`), call("00", `{}`), call("-", `{}`), call("+1", `{}`), call("--1", `{}`), call(".5", `{}`),
		call("9223372036854775807", `{}`), call("9223372036854775808", `{}`), call("-9223372036854775808", `{}`),
		call("-9223372036854775809", `{}`), call("99999999999999999999", `{}`), call("10000000000000000000", `{}`),
		call("0000000000000000001", `{}`), call("1000000000000000000", `{}`),
		call(`"abc"`, `{}`), call(`""`, `{}`), call(`"a\"b"`, `{}`), call(`"é"`, `{}`), call("\"\xff\"", `{}`),
		call("\"a\x01\"", `{}`), call("\"a\x7f\"", `{}`), call(`"a\nb"`, `{}`), call(`"a`, `{}`),
		call("null", `{}`), call("true", `{}`), call("[1]", `{}`), call("{}", `{}`), call(" 1 ", `{}`), call("1x", `{}`),

		// Arguments.
		withArgs(`{"a":{"b":[1,2,{"c":"}"}]}}`),
		withArgs(`{"a":"\"}"}`), withArgs(`{"}":"{"}`), withArgs(`{"a":"]"}`),
		withArgs(`{"a":tru}`), withArgs(`{"a":true}`), withArgs(`{"a":truex}`), withArgs(`{"a":false,"b":null}`),
		withArgs(`{"a":nul}`), withArgs(`{"a":nulll}`), withArgs(`{"a":fals}`), withArgs(`{"a":True}`),
		withArgs(`{"a":1,"a":2}`), withArgs(`{"a":"\x"}`), withArgs(`{"a":"\u12"}`), withArgs(`{"a":"\u12G4"}`),
		withArgs("{\"a\":\"\xff\"}"), withArgs("{\"\xff\":1}"), withArgs("{\"a\":\"\x1f\"}"), withArgs("{\"a\":\"\x7f\x80\"}"),
		withArgs(`{"a":"\ud800"}`), withArgs(`{"a":"\/\b\f\n\r\t\\\""}`),
		withArgs(`{"a":01}`), withArgs(`{"a":-}`), withArgs(`{"a":-a}`), withArgs(`{"a":1.}`), withArgs(`{"a":.1}`),
		withArgs(`{"a":1e}`), withArgs(`{"a":1e+}`), withArgs(`{"a":1e+5}`), withArgs(`{"a":-0.5e-10}`), withArgs(`{"a":1E5}`),
		withArgs(`{"a":0.0}`), withArgs(`{"a":-0}`), withArgs(`{"a":+1}`), withArgs(`{"a":1.5.5}`), withArgs(`{"a":1e5e5}`),
		withArgs(`{"a":[]}`), withArgs(`{"a":[,]}`), withArgs(`{"a":[1,]}`), withArgs(`{"a":[,1]}`), withArgs(`{"a":{,}}`),
		withArgs(`{"a":{"b":1,}}`), withArgs(`{,}`), withArgs(`{"a"}`), withArgs(`{"a" 1}`), withArgs(`{"a":}`),
		withArgs(`{1:2}`), withArgs(`{"a":[1 2]}`), withArgs(`{"a":{]}`), withArgs(`{"a":[}`), withArgs(`{"a":[1}`),
		withArgs(`{"a":{"b":1]}`), withArgs(`{"a":[1,2}]}`), withArgs(`{"a":1}}`), withArgs(`{"a":[[[]]]}`), withArgs(`{"a":[{}]}`),
		withArgs(`{"a":{"b":{}}}`), withArgs(`{ "a" : [ 1 , 2 ] , "b" : { } }`), withArgs(`{"a":"x"  }`), withArgs("{\n}"),
		withArgs(`{"":""}`), withArgs(`{"a":1`), withArgs(`{"a":"`), withArgs(`{`),
		withArgs(`[1]`), withArgs(`null`), withArgs(`"x"`), withArgs(`1`), withArgs(`true`), withArgs(`[]`),
		withArgs(bigArgs()),
		withArgs(nestedArgs(997, true)), withArgs(nestedArgs(998, true)), withArgs(nestedArgs(999, true)),
		withArgs(nestedArgs(998, false)), withArgs(nestedArgs(999, false)),
		withArgs(`{"a":` + strings.Repeat("[", 300) + strings.Repeat("]", 299) + `}`),
		withArgs(`{"a":` + strings.Repeat("[", 300) + strings.Repeat("]", 299) + `}]}`),
		withArgs(`{"a":` + strings.Repeat(`[{"b":`, 150) + "1" + strings.Repeat("}]", 150) + `}`),
		withArgs(`{"a":` + strings.Repeat(`[{"b":`, 150) + "1" + strings.Repeat("]}", 150) + `}`),
	}
	return corpus
}

// sameToolCall compares two parses: the same verdict, the same bytes and
// name, and arguments absent in both or present in both.
func sameToolCall(got toolCall, gotOK bool, want toolCall, wantOK bool) bool {
	return gotOK == wantOK && bytes.Equal(got.id, want.id) && (got.id == nil) == (want.id == nil) &&
		got.name == want.name && bytes.Equal(got.args, want.args) && (got.args == nil) == (want.args == nil) &&
		bytes.Equal(got.rawMeta, want.rawMeta) && (got.rawMeta == nil) == (want.rawMeta == nil)
}

func checkParseToolCall(t *testing.T, body []byte) {
	t.Helper()
	got, gotOK := parseToolCall(body)
	want, wantOK := parseToolCallReference(body)
	if !sameToolCall(got, gotOK, want, wantOK) {
		t.Errorf("body %s:\nparseToolCall          %v %q %q %q\nparseToolCallReference %v %q %q %q",
			abbreviate(body), gotOK, got.id, got.name, got.args, wantOK, want.id, want.name, want.args)
	}
}

func abbreviate(b []byte) string {
	if len(b) > 300 {
		return strconv.Quote(string(b[:150])) + "…" + strconv.Quote(string(b[len(b)-150:]))
	}
	return strconv.Quote(string(b))
}

// The hand-written parser is a faster encoding/json, not a looser one:
// on every body of the corpus, every truncation of the bodies the oracle
// accepts, and every one-byte change to them, it takes the same bodies
// and reads the same call out of them.
func TestParseToolCall_MatchesReference(t *testing.T) {
	accepted := 0
	for _, body := range parseToolCallCorpus() {
		checkParseToolCall(t, []byte(body))
		if _, ok := parseToolCallReference([]byte(body)); !ok || len(body) > 2000 {
			continue
		}
		accepted++
		varyBody(body, " \t\n\x00\"\\{}[]:,0-1eE.atnu/\x7f\xff", func(b []byte) { checkParseToolCall(t, b) })
	}
	if accepted < 30 {
		t.Errorf("the oracle accepts only %d bodies of the corpus: it has too few valid calls to vary", accepted)
	}
}

// varyBody calls check with every truncation of body and every body with
// one byte replaced by one of alphabet's; under the race detector, which
// makes this ten times slower, every 16th position only (the same
// `make test` runs it in full without it).
func varyBody(body, alphabet string, check func([]byte)) {
	for n := range len(body) {
		if !raceDetector || n%16 == 0 {
			check([]byte(body[:n]))
		}
	}
	b := []byte(body)
	for i := range b {
		if raceDetector && i%16 != 0 {
			continue
		}
		orig := b[i]
		for _, c := range []byte(alphabet) {
			b[i] = c
			check(b)
		}
		b[i] = orig
	}
}

// The corpus holds what it says it does: the go-sdk's depth limit sits
// between the nested bodies, and the escapes resolve.
func TestParseToolCall_CorpusEdges(t *testing.T) {
	for _, c := range []struct {
		body string
		ok   bool
		name string
	}{
		{toolCallBody("1", `"x"`, nestedArgs(998, true)), true, "x"},
		{toolCallBody("1", `"x"`, nestedArgs(999, true)), false, ""},
		{toolCallBody("1", `"x"`, nestedArgs(998, false)), true, "x"},
		{toolCallBody("1", `"x"`, nestedArgs(999, false)), false, ""},
		{toolCallBody("1", `"\ud83d\ude00"`, `{}`), true, "😀"},
		{toolCallBody("1", `"\ud83d\u0041"`, `{}`), true, "\ufffdA"},
		{toolCallBody("1", "\"a\xffb\"", `{}`), true, "a\ufffdb"},
		{toolCallBody("-0", `"x"`, ``), true, "x"},
	} {
		got, ok := parseToolCall([]byte(c.body))
		if ok != c.ok || got.name != c.name {
			t.Errorf("body %s: got %v %q, want %v %q", abbreviate([]byte(c.body)), ok, got.name, c.ok, c.name)
		}
		checkParseToolCall(t, []byte(c.body))
	}
}

// A check_drive_auth call, the one the fast path serves, parses without
// allocating: the id and arguments are the body's own bytes and the name
// is the fast path's own string.
func TestParseToolCall_DoesNotAllocate(t *testing.T) {
	body := []byte(toolCallBody("17", `"check_drive_auth"`, bigArgs()))
	if allocs := testing.AllocsPerRun(100, func() {
		if _, ok := parseToolCall(body); !ok {
			t.Fatal("refused")
		}
	}); allocs != 0 {
		t.Errorf("%v allocations a call", allocs)
	}
}

func FuzzParseToolCall(f *testing.F) {
	for _, body := range parseToolCallCorpus() {
		if len(body) <= 2000 { // the deeply nested ones slow every mutation down
			f.Add([]byte(body))
		}
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		checkParseToolCall(t, body)
	})
}

func BenchmarkParseToolCall(b *testing.B) {
	bodies := []struct{ name, body string }{
		{"typical", `{"jsonrpc":"2.0","id":17,"method":"tools/call","params":{"name":"check_drive_auth","arguments":{}}}`},
		{"1KiB-args", toolCallBody("17", `"check_drive_auth"`, bigArgs())},
	}
	parsers := []struct {
		name  string
		parse func([]byte) (toolCall, bool)
	}{
		{"hand", parseToolCall},
		{"reference", parseToolCallReference},
	}
	for _, body := range bodies {
		for _, p := range parsers {
			b.Run(body.name+"/"+p.name, func(b *testing.B) {
				in := []byte(body.body)
				b.SetBytes(int64(len(in)))
				b.ReportAllocs()
				for b.Loop() {
					if _, ok := p.parse(in); !ok {
						b.Fatal("refused")
					}
				}
			})
		}
	}
	// The arguments alone: the hand scanner against json.Valid, the
	// simpler way to check them.
	args := []byte(bigArgs())
	b.Run("args/scanValue", func(b *testing.B) {
		b.SetBytes(int64(len(args)))
		b.ReportAllocs()
		for b.Loop() {
			if end, ok := scanValue(args, 0); !ok || end != len(args) {
				b.Fatal("refused")
			}
		}
	})
	b.Run("args/json.Valid", func(b *testing.B) {
		b.SetBytes(int64(len(args)))
		b.ReportAllocs()
		for b.Loop() {
			if !json.Valid(args) {
				b.Fatal("refused")
			}
		}
	})
}
