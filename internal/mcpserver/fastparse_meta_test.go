package mcpserver

import (
	"fmt"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// parseToolCallMetaCorpus is parseToolCallCorpus and 2026-07-28 calls:
// _meta in every place, of every kind, well and badly formed.
func parseToolCallMetaCorpus() []string {
	withMeta := func(meta string) string {
		return `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"_meta":` + meta + `,"name":"check_drive_auth","arguments":{}}}`
	}
	corpus := append(parseToolCallCorpus(),
		sessionlessCallBody("1", goClientMeta, `{}`),
		sessionlessCallBody("1", goClientMeta, ""),
		sessionlessCallBody(`"x"`, meta2026(roots), `{"a":[1,{"b":null}]}`),
		`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"check_drive_auth","arguments":{},"_meta":{}}}`,
		`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"check_drive_auth","_meta":{},"arguments":{}}}`,
		`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"_meta":{}}}`,
		`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"_meta":{},"_meta":{},"name":"check_drive_auth"}}`,
		`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"\u005fmeta":{},"name":"check_drive_auth"}}`,
		`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"_Meta":{},"name":"check_drive_auth"}}`,
		`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"meta":{},"name":"check_drive_auth"}}`,
		`{"jsonrpc":"2.0","id":1,"method":"tools/call","_meta":{},"params":{"name":"check_drive_auth"}}`,
		withMeta(`{}`), withMeta(`{ }`), withMeta(`null`), withMeta(`[]`), withMeta(`"x"`), withMeta(`1`), withMeta(`true`),
		withMeta(`{"a":1,"a":2}`), withMeta(`{"a":}`), withMeta(`{"a"}`), withMeta(`{,}`), withMeta(`{"a":1,}`),
		withMeta(`{"a":[1,2,{"b":"}"}]}`), withMeta(`{"a":"\ud800"}`), withMeta("{\"a\":\"\xff\"}"), withMeta(`{"a":"\x"}`),
		withMeta(`{`), withMeta(`{"a":{"b":1}`), withMeta(`{"a":{"b":1}}}`),
		withMeta(`{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}`),
		withMeta(`{"a":`+strings.Repeat("[", 300)+strings.Repeat("]", 300)+`}`),
		withMeta(`{"a":`+strings.Repeat("[", 300)+strings.Repeat("]", 299)+`}`),
		withMeta(nestedArgs(998, true)), withMeta(nestedArgs(999, true)),
	)
	return corpus
}

func checkParseToolCallMeta(t *testing.T, body []byte) {
	t.Helper()
	got, gotOK := parseToolCallMeta(body)
	want, wantOK := parseToolCallMetaReference(body)
	if !sameToolCall(got, gotOK, want, wantOK) {
		t.Errorf("body %s:\nparseToolCallMeta          %v %q %q %q %q\nparseToolCallMetaReference %v %q %q %q %q",
			abbreviate(body), gotOK, got.id, got.name, got.args, got.rawMeta, wantOK, want.id, want.name, want.args, want.rawMeta)
	}
}

// The 2026-07-28 parser is parseToolCall that also takes a _meta object:
// on every body of both corpora, their truncations and one-byte changes,
// it takes the bodies its encoding/json oracle takes and reads the same
// call and the same _meta bytes out of them; parseToolCall still takes
// none with _meta.
func TestParseToolCallMeta_MatchesReference(t *testing.T) {
	accepted := 0
	for _, body := range parseToolCallMetaCorpus() {
		checkParseToolCallMeta(t, []byte(body))
		checkParseToolCall(t, []byte(body))
		c, ok := parseToolCallMetaReference([]byte(body))
		if !ok || len(body) > 2000 {
			continue
		}
		if _, old := parseToolCall([]byte(body)); old && c.rawMeta != nil {
			t.Errorf("parseToolCall took a _meta: %s", abbreviate([]byte(body)))
		}
		accepted++
		varyBody(body, " \t\n\x00\"\\{}[]:,0-1eE.atnu/_\x7f\xff", func(b []byte) { checkParseToolCallMeta(t, b) })
	}
	if accepted < 40 {
		t.Errorf("the oracle accepts only %d bodies of the corpus: it has too few valid calls to vary", accepted)
	}
}

// The go-sdk client's call parses without allocating, as the older
// revisions' calls do.
func TestParseToolCallMeta_DoesNotAllocate(t *testing.T) {
	body := []byte(sessionlessCallBody("17", goClientMeta, `{}`))
	if allocs := testing.AllocsPerRun(100, func() {
		if c, ok := parseToolCallMeta(body); !ok || c.rawMeta == nil {
			t.Fatal("refused")
		}
	}); allocs != 0 {
		t.Errorf("%v allocations a call", allocs)
	}
}

func FuzzParseToolCallMeta(f *testing.F) {
	for _, body := range parseToolCallMetaCorpus() {
		if len(body) <= 2000 {
			f.Add([]byte(body))
		}
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		checkParseToolCallMeta(t, body)
	})
}

// checkSessionlessMeta takes the _meta a 2026-07-28 client sends and
// nothing the SDK would refuse or treat otherwise (the HTTP differential
// test compares the answers; this one names the verdicts).
func TestCheckSessionlessMeta(t *testing.T) {
	known := &knownMeta{}
	for _, c := range []struct {
		meta string
		ok   bool
	}{
		{goClientMeta, true},
		{meta2026(roots), true},
		{`{"io.modelcontextprotocol/protocolVersion" : "2026-07-28" ,` + "\n" + roots + ` }`, true},
		{meta2026(`"io.modelcontextprotocol/clientCapabilities":{}`), true},
		{`{}`, false},
		{meta2026(), false},
		{`{` + roots + `}`, false},
		{`{` + roots + `,"io.modelcontextprotocol/protocolVersion":"2025-11-25"}`, false},
		{`{` + roots + `,"io.modelcontextprotocol/protocolVersion":"2026-07-2\u0038"}`, false},
		{meta2026(roots, roots), false},
		{meta2026(roots, `"io.modelcontextprotocol/logLevel":"info"`), false},
		{meta2026(roots, `"progressToken":"p"`), false},
		{meta2026(`"io.modelcontextprotocol/clientCapabilities":{"roots":[]}`), false},
		{meta2026(`"io.modelcontextprotocol/clientCapabilities":{"Roots":5}`), true}, // the SDK matches keys by case: an unknown key
		{meta2026(roots, `"io.modelcontextprotocol/clientInfo":{"name":"x","icons":5}`), false},
		{meta2026(roots, `"io.modelcontextprotocol/clientInfo":null`), false},
		{meta2026(`"io.modelcontextprotocol/clientCapabilities":{"experimental":{"a":1e400}}`), false},
	} {
		meta, ok := checkSessionlessMeta([]byte(c.meta), nil)
		if ok != c.ok || ok != (meta != nil) {
			t.Errorf("%s: ok %v (meta %v), want %v", c.meta, ok, meta, c.ok)
		}
		// Remembering an object changes no verdict, nor the decoded _meta.
		for range 2 {
			again, ok := checkSessionlessMeta([]byte(c.meta), known)
			if ok != c.ok || fmt.Sprint(again) != fmt.Sprint(meta) {
				t.Errorf("%s, remembered: ok %v (meta %v), want %v (meta %v)", c.meta, ok, again, c.ok, meta)
			}
		}
		if _, ok := known.get([]byte(c.meta)); ok != c.ok {
			t.Errorf("%s: remembered %v, want %v", c.meta, ok, c.ok)
		}
	}
}

// The objects remembered are few and small: a client sending ever other
// ones (or huge ones) makes the fast path check each, not hold them all.
func TestKnownMeta_IsBounded(t *testing.T) {
	var k knownMeta
	known := func(raw string) bool { _, ok := k.get([]byte(raw)); return ok }
	for i := range knownMetaSize {
		k.add(fmt.Appendf(nil, "{%d}", i), mcp.Meta{})
	}
	if !known("{0}") || len(k.good) != knownMetaSize {
		t.Fatalf("%d objects remembered, want %d", len(k.good), knownMetaSize)
	}
	k.add([]byte("{new}"), mcp.Meta{})
	if known("{0}") || !known("{new}") || len(k.good) != 1 {
		t.Errorf("full: %d objects remembered, want only the newest", len(k.good))
	}
	big := `{"a":"` + strings.Repeat("x", knownMetaBytes) + `"}`
	k.add([]byte(big), mcp.Meta{})
	if known(big) {
		t.Error("an object over the size limit was remembered")
	}
}

// Each call gets its own _meta: a tool changing the one it was given
// (SetProgressToken writes into it) changes neither the remembered one
// nor the next call's.
func TestKnownMeta_EachCallGetsItsOwnCopy(t *testing.T) {
	var k knownMeta
	raw := []byte(goClientMeta)
	first, ok := checkSessionlessMeta(raw, &k)
	if !ok {
		t.Fatal("refused")
	}
	want := fmt.Sprint(first)
	first["progressToken"] = 1
	first[mcp.MetaKeyClientCapabilities].(map[string]any)["roots"].(map[string]any)["listChanged"] = false
	for range 2 {
		again, ok := checkSessionlessMeta(raw, &k)
		if !ok || fmt.Sprint(again) != want {
			t.Fatalf("the next call got %v, want %s", again, want)
		}
		again["x"] = 1
		again[mcp.MetaKeyClientInfo].(map[string]any)["name"] = "changed"
	}
}
