package mcpserver

import (
	"unicode/utf16"
	"unicode/utf8"
)

// parseToolCall accepts exactly {"jsonrpc":"2.0","id":…,"method":"tools/call",
// "params":{"name":…[,"arguments":{…}]}} in any key order, each key once and
// spelled exactly (the SDK matches keys case-sensitively, where
// encoding/json would take "Method" for method and keep the last of two),
// the id a plain integer or a string without escapes. Anything else is the
// SDK's.
//
// It is a hand-written single pass over the bytes because decoding the
// body is most of what the fast path saves: encoding/json's Decoder, token
// by token, was a sixth of a fast-path call. It must accept exactly the
// bodies that Decoder-based parser did (parseToolCallReference in
// fastparse_test.go, the oracle of the differential and fuzz tests) and
// return the same call: the name decoded as encoding/json would (escapes,
// invalid UTF-8 coerced to U+FFFD), the id and arguments as the raw bytes
// of their values, the arguments checked as encoding/json's scanner checks
// a value (syntax and nesting depth, not UTF-8).
//
// The id and arguments are sub-slices of body, not copies: the HTTP
// handler reads the body into a buffer of its own that nothing writes to
// afterwards and that lives as long as anything holding the call. Their
// capacity is cut to their length, so that appending to them cannot write
// into the body.
func parseToolCall(body []byte) (toolCall, bool) {
	return parseCall(body, false)
}

// parseToolCallMeta is parseToolCall for revision 2026-07-28, whose calls
// carry their protocol version and the client's capabilities in
// params._meta: it also takes a _meta object (any content), which it
// returns, as the raw bytes of its value, in the call's rawMeta. What that
// object holds is checkSessionlessMeta's to judge.
func parseToolCallMeta(body []byte) (toolCall, bool) {
	return parseCall(body, true)
}

func parseCall(body []byte, meta bool) (toolCall, bool) {
	var c toolCall
	const (
		keyJSONRPC = 1 << iota
		keyID
		keyMethod
		keyParams
		allKeys = keyJSONRPC | keyID | keyMethod | keyParams
	)
	var seen int
	i := skipSpace(body, 0)
	if i >= len(body) || body[i] != '{' {
		return toolCall{}, false
	}
	i = skipSpace(body, i+1)
	for {
		end, esc, ok := scanString(body, i)
		if !ok {
			return toolCall{}, false
		}
		key := body[i+1 : end-1]
		var k int
		switch {
		case stringIs(key, esc, "jsonrpc"):
			k = keyJSONRPC
		case stringIs(key, esc, "id"):
			k = keyID
		case stringIs(key, esc, "method"):
			k = keyMethod
		case stringIs(key, esc, "params"):
			k = keyParams
		}
		if k == 0 || seen&k != 0 {
			return toolCall{}, false
		}
		seen |= k
		if i, ok = colon(body, end); !ok {
			return toolCall{}, false
		}
		switch k {
		case keyJSONRPC:
			i, ok = stringValueIs(body, i, "2.0")
		case keyID:
			if end, ok = scanPlainID(body, i); ok {
				c.id, i = body[i:end:end], end
			}
		case keyMethod:
			i, ok = stringValueIs(body, i, "tools/call")
		case keyParams:
			i, ok = parseParams(body, i, &c, meta)
		}
		if !ok {
			return toolCall{}, false
		}
		if i = skipSpace(body, i); i >= len(body) {
			return toolCall{}, false
		}
		if body[i] == '}' {
			break
		}
		if body[i] != ',' {
			return toolCall{}, false
		}
		i = skipSpace(body, i+1)
	}
	if seen != allKeys || skipSpace(body, i+1) != len(body) {
		return toolCall{}, false
	}
	return c, true
}

// parseParams reads the params object at body[i] into c: a name (a
// non-empty string), at most an arguments object and, if meta, at most a
// _meta object, nothing else. It returns the index after the object.
func parseParams(body []byte, i int, c *toolCall, meta bool) (int, bool) {
	if i >= len(body) || body[i] != '{' {
		return 0, false
	}
	var name, args, seenMeta bool
	i = skipSpace(body, i+1)
	for {
		end, esc, ok := scanString(body, i)
		if !ok {
			return 0, false
		}
		key := body[i+1 : end-1]
		if i, ok = colon(body, end); !ok {
			return 0, false
		}
		switch {
		case !name && stringIs(key, esc, "name"):
			name = true
			if end, esc, ok = scanString(body, i); !ok || end-i == 2 {
				return 0, false // not a string, or empty: the SDK's to refuse
			}
			c.name = decodeName(body[i+1:end-1], esc)
		case !args && stringIs(key, esc, "arguments"):
			args = true
			if i >= len(body) || body[i] != '{' {
				return 0, false // null or not an object: the SDK's words
			}
			if end, ok = scanValue(body, i); !ok {
				return 0, false
			}
			c.args = body[i:end:end]
		case meta && !seenMeta && stringIs(key, esc, "_meta"):
			seenMeta = true
			if i >= len(body) || body[i] != '{' {
				return 0, false
			}
			if end, ok = scanValue(body, i); !ok {
				return 0, false
			}
			c.rawMeta = body[i:end:end]
		default:
			return 0, false
		}
		if i = skipSpace(body, end); i >= len(body) {
			return 0, false
		}
		if body[i] == '}' {
			return i + 1, name
		}
		if body[i] != ',' {
			return 0, false
		}
		i = skipSpace(body, i+1)
	}
}

// colon skips the colon after an object key and the spaces around it,
// returning the index of the value.
func colon(b []byte, i int) (int, bool) {
	i = skipSpace(b, i)
	if i >= len(b) || b[i] != ':' {
		return 0, false
	}
	return skipSpace(b, i+1), true
}

// skipSpace returns the index of the first byte at or after i that is not
// JSON white space (the four bytes encoding/json skips).
func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\n' || b[i] == '\r' || b[i] == '\t') {
		i++
	}
	return i
}

// stringByte[c] is true for the bytes a JSON string holds as they are:
// neither quote, backslash nor control character. Bytes from 0x80 are
// among them: encoding/json's scanner does not check UTF-8 either.
var stringByte = func() (t [256]bool) {
	for c := 0x20; c < 256; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// scanString checks the string literal at b[i] as encoding/json's scanner
// does (escapes well formed, no control characters) and returns the index
// after its closing quote and whether it holds escapes.
func scanString(b []byte, i int) (end int, escaped, ok bool) {
	if i >= len(b) || b[i] != '"' {
		return 0, false, false
	}
	for i++; i < len(b); {
		if stringByte[b[i]] {
			i++
			continue
		}
		switch b[i] {
		case '"':
			return i + 1, escaped, true
		case '\\':
			escaped = true
			if i+1 >= len(b) {
				return 0, false, false
			}
			switch b[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if hex4(b, i+2) < 0 {
					return 0, false, false
				}
				i += 6
			default:
				return 0, false, false
			}
		default: // a control character
			return 0, false, false
		}
	}
	return 0, false, false
}

// hex4 is the value of the four hex digits at b[i:], or -1.
func hex4(b []byte, i int) rune {
	if i+4 > len(b) {
		return -1
	}
	var r rune
	for _, c := range b[i : i+4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		case 'A' <= c && c <= 'F':
			c -= 'A' - 10
		default:
			return -1
		}
		r = r<<4 | rune(c)
	}
	return r
}

// stringIs reports whether the contents of a string literal checked by
// scanString decode to want. Without escapes the bytes are compared as
// they are: invalid UTF-8, which decoding would replace, cannot equal an
// ASCII constant either way.
func stringIs(s []byte, escaped bool, want string) bool {
	if !escaped {
		return string(s) == want
	}
	// An ASCII want is written in one to six bytes a character (a, \n,
	// \u0061); anything else (U+FFFD for invalid UTF-8) cannot be in it.
	if len(s) < len(want) || len(s) > 6*len(want) {
		return false
	}
	var buf [32]byte
	return string(appendUnquoted(buf[:0], s)) == want
}

// stringValueIs checks that the value at b[i] is a string decoding to
// want and returns the index after it. A null, which encoding/json
// decodes into a string as "", is not want either.
func stringValueIs(b []byte, i int, want string) (int, bool) {
	end, esc, ok := scanString(b, i)
	return end, ok && stringIs(b[i+1:end-1], esc, want)
}

// decodeName is the tool name as encoding/json decodes it. The names the
// fast path serves come back as the same strings, without allocating.
func decodeName(s []byte, escaped bool) string {
	if escaped || !utf8.Valid(s) {
		return string(appendUnquoted(make([]byte, 0, len(s)), s))
	}
	for _, n := range fastTools {
		if string(s) == n {
			return n
		}
	}
	return string(s)
}

// appendUnquoted appends the contents of a string literal checked by
// scanString as encoding/json's unquote decodes them: escapes resolved, a
// surrogate pair joined, a lone surrogate escape and each byte of invalid
// UTF-8 replaced by U+FFFD.
func appendUnquoted(dst, s []byte) []byte {
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '\\':
			switch e := s[i+1]; e {
			case 'b':
				dst, i = append(dst, '\b'), i+2
			case 'f':
				dst, i = append(dst, '\f'), i+2
			case 'n':
				dst, i = append(dst, '\n'), i+2
			case 'r':
				dst, i = append(dst, '\r'), i+2
			case 't':
				dst, i = append(dst, '\t'), i+2
			case 'u':
				r := hex4(s, i+2)
				i += 6
				if utf16.IsSurrogate(r) {
					// The next escape is taken along only if it completes a
					// pair; otherwise it is decoded on its own.
					var r2 rune = -1
					if i+1 < len(s) && s[i] == '\\' && s[i+1] == 'u' {
						r2 = hex4(s, i+2)
					}
					if r = utf16.DecodeRune(r, r2); r != utf8.RuneError {
						i += 6
					}
				}
				dst = utf8.AppendRune(dst, r)
			default: // '"', '\\', '/'
				dst, i = append(dst, e), i+2
			}
		case c < utf8.RuneSelf:
			dst, i = append(dst, c), i+1
		default:
			r, size := utf8.DecodeRune(s[i:])
			dst, i = utf8.AppendRune(dst, r), i+size
		}
	}
	return dst
}

// scanPlainID checks that the value at b[i] is an id the answer can echo
// as written (plainID) and returns the index after it: a string without
// escapes (the SDK would re-encode them), or an integer in int64's range
// written without fraction or exponent. Leading zeros need no check here:
// encoding/json ends the number after the first 0, and the byte after it
// is then not one an object allows.
func scanPlainID(b []byte, i int) (int, bool) {
	if i >= len(b) {
		return 0, false
	}
	if b[i] == '"' {
		for i++; i < len(b) && stringByte[b[i]]; i++ {
		}
		if i >= len(b) || b[i] != '"' {
			return 0, false // an escape, a control character or the end
		}
		return i + 1, true
	}
	neg := b[i] == '-'
	if neg {
		i++
	}
	start := i
	if i < len(b) && b[i] == '0' {
		i++
	} else {
		for i < len(b) && '0' <= b[i] && b[i] <= '9' {
			i++
		}
	}
	digits := b[start:i]
	if len(digits) == 0 || i < len(b) && (b[i] == '.' || b[i] == 'e' || b[i] == 'E') {
		return 0, false
	}
	// Nineteen digits or fewer; at nineteen, same-length strings compare
	// as the numbers do.
	limit := "9223372036854775807"
	if neg {
		limit = "9223372036854775808"
	}
	if len(digits) > len(limit) || len(digits) == len(limit) && string(digits) > limit {
		return 0, false
	}
	return i, true
}

// maxDepth is the deepest arguments object the go-sdk decodes, counted
// from the arguments object itself (depth 1): its decoder refuses a
// message nested more than 1000 deep (400 "exceeded maximum nesting
// depth"), and the arguments sit inside the message and its params.
// encoding/json alone would take 10000.
const maxDepth = 1000 - 2

// scanValue checks the JSON value at b[i] as encoding/json's scanner does —
// syntax and nesting depth, not the UTF-8 in strings — and returns the
// index after it.
func scanValue(b []byte, i int) (int, bool) {
	// kinds has one bit per open container, set for an array. The first
	// 256 levels need no allocation.
	var kindsBuf [4]uint64
	kinds := kindsBuf[:]
	depth := 0
	var ok bool
value: // a value starts at b[i]
	if i >= len(b) {
		return 0, false
	}
	switch c := b[i]; c {
	case '{', '[':
		if depth == maxDepth {
			return 0, false
		}
		w, bit := depth>>6, uint64(1)<<(depth&63)
		if w == len(kinds) {
			kinds = append(kinds, 0)
		}
		kinds[w] &^= bit
		if c == '[' {
			kinds[w] |= bit
		}
		depth++
		i = skipSpace(b, i+1)
		if i < len(b) && b[i] == c+2 { // '}' is '{'+2, ']' is '['+2
			i++
			depth--
			goto next
		}
		if c == '[' {
			goto value
		}
		goto key
	case '"':
		if i, _, ok = scanString(b, i); !ok {
			return 0, false
		}
	case 't':
		if i, ok = literal(b, i, "true"); !ok {
			return 0, false
		}
	case 'f':
		if i, ok = literal(b, i, "false"); !ok {
			return 0, false
		}
	case 'n':
		if i, ok = literal(b, i, "null"); !ok {
			return 0, false
		}
	default:
		if i, ok = scanNumber(b, i); !ok {
			return 0, false
		}
	}
next: // a value ended before b[i]
	if depth == 0 {
		return i, true
	}
	if i = skipSpace(b, i); i >= len(b) {
		return 0, false
	}
	{
		inArray := kinds[(depth-1)>>6]&(1<<((depth-1)&63)) != 0
		switch b[i] {
		case ',':
			i = skipSpace(b, i+1)
			if inArray {
				goto value
			}
			goto key
		case '}', ']':
			if inArray != (b[i] == ']') {
				return 0, false
			}
			i++
			depth--
			goto next
		}
		return 0, false
	}
key: // an object key starts at b[i]
	if i, _, ok = scanString(b, i); !ok {
		return 0, false
	}
	if i, ok = colon(b, i); !ok {
		return 0, false
	}
	goto value
}

// literal checks for the literal want at b[i]. What follows it is the
// caller's to check.
func literal(b []byte, i int, want string) (int, bool) {
	end := i + len(want)
	return end, end <= len(b) && string(b[i:end]) == want
}

// scanNumber checks the number at b[i] against JSON's grammar and returns
// the index after it.
func scanNumber(b []byte, i int) (int, bool) {
	digits := func() bool {
		start := i
		for i < len(b) && '0' <= b[i] && b[i] <= '9' {
			i++
		}
		return i > start
	}
	if i < len(b) && b[i] == '-' {
		i++
	}
	if i < len(b) && b[i] == '0' {
		i++
	} else if !digits() {
		return 0, false
	}
	if i < len(b) && b[i] == '.' {
		i++
		if !digits() {
			return 0, false
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if !digits() {
			return 0, false
		}
	}
	return i, true
}
