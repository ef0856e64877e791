package mcpserver

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"maps"
	"net/http"
	"sync"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// The fast path at revision 2026-07-28 (SEP-2575), the go-sdk client's
// default: requests without sessions, each carrying its revision in the
// MCP-Protocol-Version header and in params._meta, with the client's
// capabilities and maybe its name beside it, and its method and tool name
// in the Mcp-Method and Mcp-Name headers. The SDK serves them only on its
// stateless handler, through the same per-request session as the older
// revisions, and answers them as those with three differences: the
// result's _meta names the server, a result the tool itself made says its
// type ("complete"), and an error the revision maps to an HTTP status
// (unknown method 404; invalid params, unsupported revision, missing
// capabilities 400) is sent as a bare JSON body with that status instead
// of an event. TestFastPath2026_AnswersAsTheSDK compares the answers.
//
// What the SDK refuses before any tool runs — a missing or mismatched
// header, _meta without the revision or the capabilities, client info or
// capabilities it cannot decode — and what it treats specially — a log
// level (it would send the call's log messages to the client), a progress
// token, any other _meta key, a tool whose arguments are bound to headers
// (x-mcp-header) — goes to the SDK, which says what it says.

// sessionlessHeaders is true for a 2026-07-28 request whose headers the
// fast path may answer (eligibleHeaders, and the method header the SDK
// wants on every such request); the tool name header is checked against
// the body later.
func (f *FastPath) sessionlessHeaders(r *http.Request, o FastPathOptions) bool {
	return r.Header.Get("Mcp-Method") == "tools/call" && f.eligibleHeaders(r, o)
}

// sessionlessCall is true when the parsed call c of the 2026-07-28 request
// r is one the SDK would run as the fast path does: the tool name header
// is the body's, the tool binds no argument to a header, and _meta is what
// checkSessionlessMeta accepts, which it decodes into c.meta.
func (f *FastPath) sessionlessCall(r *http.Request, c *toolCall) bool {
	if c.rawMeta == nil || r.Header.Get("Mcp-Name") != c.name || f.headerBound[c.name] {
		return false
	}
	meta, ok := checkSessionlessMeta(c.rawMeta, &f.goodMeta)
	c.meta = meta
	return ok
}

// knownMeta remembers _meta objects the SDK decodes without complaint,
// decoded, so that a client's next calls, which carry the same bytes, skip
// that check and the decoding: the check decodes the capabilities and the
// client info again through the SDK's JSON decoder, which allocates 32
// KiB each time (four fifths of what a 2026-07-28 call allocated on the
// fast path), and decoding _meta itself was a tenth of a call's CPU, where
// copying the decoded map is a tenth of that. Verdict and map depend on
// the bytes alone. It holds small objects only, and few of them: it starts
// over when full, so a client sending ever different ones costs the check,
// not memory.
type knownMeta struct {
	mu   sync.RWMutex
	good map[string]mcp.Meta // never handed out: each call gets a copy
}

const (
	knownMetaSize  = 64   // objects
	knownMetaBytes = 1024 // the largest object remembered
)

// get returns a copy of the decoded raw, if raw is known to pass.
func (k *knownMeta) get(raw []byte) (mcp.Meta, bool) {
	if k == nil || len(raw) > knownMetaBytes {
		return nil, false
	}
	k.mu.RLock()
	meta, ok := k.good[string(raw)]
	k.mu.RUnlock()
	if !ok {
		return nil, false
	}
	return mcp.Meta(copyJSON(map[string]any(meta)).(map[string]any)), true
}

// add remembers that raw, decoded as meta, passes.
func (k *knownMeta) add(raw []byte, meta mcp.Meta) {
	if k == nil || len(raw) > knownMetaBytes {
		return
	}
	meta = mcp.Meta(copyJSON(map[string]any(meta)).(map[string]any)) // the caller's goes to a tool
	k.mu.Lock()
	if k.good == nil || len(k.good) >= knownMetaSize {
		k.good = make(map[string]mcp.Meta, knownMetaSize)
	}
	k.good[string(raw)] = meta
	k.mu.Unlock()
}

// copyJSON is a deep copy of a value encoding/json decoded into an any:
// its objects and arrays are new, its strings, numbers, booleans and nulls
// the same values.
func copyJSON(v any) any {
	switch v := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(v))
		for k, e := range v {
			m[k] = copyJSON(e)
		}
		return m
	case []any:
		s := make([]any, len(v))
		for i, e := range v {
			s[i] = copyJSON(e)
		}
		return s
	}
	return v
}

// checkSessionlessMeta judges a call's params._meta as the go-sdk does for
// revision 2026-07-28 and decodes it as the SDK would hand it to the tool:
// it accepts only an object holding the protocol version (the revision
// itself, as the header says: the only one served), the client's
// capabilities (an object the SDK decodes as its capabilities) and perhaps
// the client's info (an object the SDK decodes as an Implementation), each
// key once and written without escapes. Anything else is the SDK's.
// known, if not nil, holds objects accepted before, and is told of those
// accepted now.
//
// raw is an object parseToolCallMeta accepted: its syntax is checked.
func checkSessionlessMeta(raw []byte, known *knownMeta) (mcp.Meta, bool) {
	const (
		hasVersion = 1 << iota
		hasCapabilities
		hasInfo
	)
	if meta, ok := known.get(raw); ok {
		return meta, true // it passed all that follows
	}
	var seen int
	i := skipSpace(raw, 1)
	for i < len(raw) && raw[i] != '}' {
		keyEnd, escaped, _ := scanString(raw, i)
		key := raw[i+1 : keyEnd-1]
		v, _ := colon(raw, keyEnd)
		end, _ := scanValue(raw, v)
		value := raw[v:end]
		var k int
		switch {
		case escaped:
		case string(key) == mcp.MetaKeyProtocolVersion && string(value) == `"`+sessionlessRevision+`"`:
			k = hasVersion
		case string(key) == mcp.MetaKeyClientCapabilities && value[0] == '{':
			k = hasCapabilities
		case string(key) == mcp.MetaKeyClientInfo && value[0] == '{':
			k = hasInfo
		}
		if k == 0 || seen&k != 0 {
			return nil, false
		}
		seen |= k
		if i = skipSpace(raw, end); raw[i] == ',' {
			i = skipSpace(raw, i+1)
		}
	}
	// _meta sits at the body's third level, as the arguments do.
	if seen&(hasVersion|hasCapabilities) != hasVersion|hasCapabilities {
		return nil, false
	}
	// The SDK decodes _meta into a map (its decoder and encoding/json agree
	// on a map: the last of two keys, U+FFFD for bad UTF-8, no number past
	// float64), then the capabilities and client info out of the map; the
	// request's own accessors run that second step.
	var meta mcp.Meta
	if json.Unmarshal(raw, &meta) != nil {
		return nil, false
	}
	req := &mcp.CallToolRequest{Params: &mcp.CallToolParamsRaw{Meta: meta}}
	if req.ClientCapabilities() == nil || seen&hasInfo != 0 && req.ClientInfo() == nil {
		return nil, false
	}
	known.add(raw, meta)
	return meta, true
}

// serverInfoMeta is the _meta object naming the server the SDK puts into
// a 2026-07-28 result (annotateServerInfo), as MarshalJSON encodes it.
func serverInfoMeta(impl *mcp.Implementation) []byte {
	b, err := json.Marshal(mcp.Meta{mcp.MetaKeyServerInfo: impl})
	if err != nil {
		panic(err) // an Implementation is strings and icons: always encodes
	}
	return b
}

// sessionlessKey holds, in a 2026-07-28 call's context, the result the
// tool itself returned, as the bottom of the fast path's middleware chain
// saw it.
type sessionlessKey struct{}

// serveSessionless answers a 2026-07-28 call as the SDK's stateless
// handler does.
func (f *FastPath) serveSessionless(w http.ResponseWriter, r *http.Request, c toolCall) {
	bp := answerBuffers.Get().(*[]byte)
	const prefix = "event: message\ndata: "
	b, code, err := f.respond(append((*bp)[:0], prefix...), r, c, nil)
	if err != nil {
		http.Error(w, "encoding the answer: "+err.Error(), http.StatusInternalServerError)
		return // the buffer is not put back: a rare case
	}
	if status := sessionlessErrorStatus(code); status != 0 {
		// As the SDK: its event-stream headers were set before the call
		// ran; the error then turns the answer into plain JSON.
		h := w.Header()
		h.Set("Cache-Control", "no-cache, no-transform")
		h.Set("Content-Type", "application/json")
		h.Set("Connection", "keep-alive")
		w.WriteHeader(status)
		_, _ = w.Write(b[len(prefix):])
	} else {
		writeStream(w, append(b, "\n\n"...))
	}
	if cap(b) <= maxPooledAnswer {
		*bp = b
		answerBuffers.Put(bp)
	}
}

// sessionlessErrorStatus is the HTTP status SEP-2575 gives a JSON-RPC
// error's code (as the SDK's extractErrorStatus), or 0 when the error is
// answered as any other message.
func sessionlessErrorStatus(code int64) int {
	switch code {
	case jsonrpc.CodeMethodNotFound:
		return http.StatusNotFound
	case jsonrpc.CodeInvalidParams, mcp.CodeUnsupportedProtocolVersion, mcp.CodeMissingRequiredClientCapabilities:
		return http.StatusBadRequest
	}
	return 0
}

// errUnexpectedResult is a result the fast path cannot write as the SDK
// would at 2026-07-28: one asking the client for input, which its tools
// never do (fastTools).
var errUnexpectedResult = errors.New("a tool result the fast path does not encode at revision 2026-07-28")

// appendSessionlessResult appends res as the SDK writes a 2026-07-28
// result: with its server named in _meta (unless the result names one
// already) and, when the tool itself made it (complete), the result type.
// Results from a middleware (a refusal while draining, say) have no
// result type: the SDK sets it in its own tools/call handler, inside the
// middleware.
func (f *FastPath) appendSessionlessResult(dst []byte, res mcp.Result, complete bool) ([]byte, error) {
	r, ok := res.(*mcp.CallToolResult)
	if !ok || r == nil || r.InputRequests != nil || !resultTypeUnset(r) {
		return dst, errUnexpectedResult
	}
	if b, ok := appendToolResultAs(dst, r, f.serverInfo, complete); ok {
		return b, nil
	}
	r2 := *r
	if _, ok := r.Meta[mcp.MetaKeyServerInfo]; !ok {
		r2.Meta = maps.Clone(r.Meta)
		if r2.Meta == nil {
			r2.Meta = mcp.Meta{}
		}
		r2.Meta[mcp.MetaKeyServerInfo] = f.impl
	}
	data, err := r2.MarshalJSON()
	if err != nil {
		return dst, err
	}
	if complete {
		// Without input requests the result type is the last key.
		data = append(bytes.TrimSuffix(data, []byte("}")), `,"resultType":"complete"}`...)
	}
	return append(dst, data...), nil
}

// toolReturned records, for a 2026-07-28 call, the result the tool itself
// returned: the SDK gives that one a result type.
func toolReturned(ctx context.Context, res *mcp.CallToolResult) {
	if p, ok := ctx.Value(sessionlessKey{}).(**mcp.CallToolResult); ok {
		*p = res
	}
}
