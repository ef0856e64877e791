package mcpserver

import (
	"reflect"
	"sync"
	"unicode/utf8"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/drivemcp/drivemcp/internal/typedtool"
)

// The fast path writes the results its tools answer with itself, as the
// SDK's CallToolResult.MarshalJSON would: that goes through encoding/json
// three times (the result, each text content, the structured content),
// allocating each time and checking and compacting the bytes the inner
// ones return: a tenth of a fast check_drive_auth call's CPU, ten times
// what writing it here costs. A result of any other shape is left to
// MarshalJSON (TestFastEncode_ResultsAsMarshalJSON compares the two).

// appendToolResult appends r encoded as r.MarshalJSON encodes it, for a
// result of text contents, structured content typedtool made and isError;
// ok is false, and dst unchanged, for any other (metadata, other
// contents, annotations, input requests…).
func appendToolResult(dst []byte, r *mcp.CallToolResult) (_ []byte, ok bool) {
	return appendToolResultAs(dst, r, nil, false)
}

// appendToolResultAs is appendToolResult for a result the SDK sends with
// metadata of its own: meta, if not nil, is the encoded object it sets as
// the result's _meta (r's own must be empty), and complete the result type
// "complete" it sets at revision 2026-07-28 (r's own must be unset).
func appendToolResultAs(dst []byte, r *mcp.CallToolResult, meta []byte, complete bool) (_ []byte, ok bool) {
	if r == nil || len(r.Meta) > 0 || r.InputRequests != nil || r.RequestState != "" || !resultTypeUnset(r) {
		return dst, false
	}
	start := len(dst)
	dst = append(dst, '{')
	if meta != nil {
		dst = append(dst, `"_meta":`...)
		dst = append(dst, meta...)
		dst = append(dst, ',')
	}
	dst = append(dst, `"content":`...)
	if r.Content == nil {
		dst = append(dst, "null"...)
	} else {
		dst = append(dst, '[')
		for i, c := range r.Content {
			t, ok := c.(*mcp.TextContent)
			if !ok || t == nil || len(t.Meta) > 0 || t.Annotations != nil {
				return dst[:start], false
			}
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = append(dst, `{"type":"text","text":`...)
			dst = appendJSONString(dst, t.Text)
			dst = append(dst, '}')
		}
		dst = append(dst, ']')
	}
	switch s := r.StructuredContent.(type) {
	case nil:
	case typedtool.Output:
		dst = append(dst, `,"structuredContent":`...)
		dst = s.AppendJSON(dst)
	default:
		return dst[:start], false // a json.RawMessage, say, would need checking and compacting
	}
	if r.IsError {
		dst = append(dst, `,"isError":true`...)
	}
	if complete {
		dst = append(dst, `,"resultType":"complete"`...)
	}
	return append(dst, '}'), true
}

// resultTypeIndex locates CallToolResult's unexported result type, which
// MarshalJSON sends when the SDK has set it (only its own sessions do, for
// newer protocol revisions); nil if this SDK has no such field, and then
// every result goes to MarshalJSON.
var resultTypeIndex = func() []int {
	f, ok := reflect.TypeFor[mcp.CallToolResult]().FieldByName("resultType")
	if !ok || f.Type.Kind() != reflect.String {
		return nil
	}
	return f.Index
}()

func resultTypeUnset(r *mcp.CallToolResult) bool {
	return resultTypeIndex != nil && reflect.ValueOf(r).Elem().FieldByIndex(resultTypeIndex).Len() == 0
}

// appendJSONString appends s as the JSON string json.Marshal makes of it:
// ", \ and control characters escaped (\b, \f, \n, \r, \t by name, the
// others as \u00XX), <, > and & as \u00XX too, U+2028 and U+2029 as
// \u2028 and \u2029, and each byte that is not UTF-8 as \ufffd.
func appendJSONString(dst []byte, s string) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	start := 0 // s[start:i] is yet to be copied as it is
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= ' ' && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hex[r&0xf])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// answerBuffers hold the fast path's answers while they are written: a
// buffer lives from the start of FastPath.serve's envelope to
// ResponseWriter.Write, which does not keep it.
var answerBuffers = sync.Pool{New: func() any { b := make([]byte, 0, 2048); return &b }}

// maxPooledAnswer is the largest buffer put back: a rare huge answer's
// buffer is left to the garbage collector, not kept for every call.
const maxPooledAnswer = 64 << 10
