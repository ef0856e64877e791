package mcpserver

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/drivemcp/drivemcp/internal/loopback"
	"github.com/drivemcp/drivemcp/internal/typedtool"
)

// FastPath answers the plainest stateless tools/call requests without the
// go-sdk's per-request session: one decode of the body, then the same
// receiving middleware (drain, scope enforcement) and the same typed
// handler the SDK would call, and the answer the SDK would write, byte for
// byte (TestFastPath_AnswersAsTheSDK). A stateless call through the SDK
// builds and tears down a session, runs the call on a goroutine of its
// JSON-RPC connection and decodes the body about nine times, allocating a
// fresh 32 KiB buffer each time: five sixths of a check_drive_auth call's
// CPU (bench/README.md). Every request it is not sure about — any other
// method, a batch, `_meta` (but for revision 2026-07-28's own,
// fastsessionless.go), an unknown key, a session id, an unlisted protocol
// revision or tool, an oversized body — goes to the SDK unchanged.
//
// It sits inside every HTTP guard /mcp has (origin, drain, bearer token,
// body budget, the 403 step-up): it replaces the SDK's handler, not them.
type FastPath struct {
	tools  map[string]mcp.ToolHandler
	handle mcp.MethodHandler
	// impl is the server's Implementation, serverInfo the _meta object
	// naming it that the SDK puts in every 2026-07-28 result.
	impl       *mcp.Implementation
	serverInfo []byte
	// headerBound are the tools binding an argument to a header
	// (x-mcp-header), which the SDK checks at 2026-07-28: not served then.
	headerBound map[string]bool
	// goodMeta are 2026-07-28 _meta objects known to pass the SDK's checks.
	goodMeta knownMeta
	served   atomic.Int64
	log      *slog.Logger
	now      func() time.Time // tests move the clock
	// readyHook, if set, is told of each session taken (tests wait on it).
	readyHook func(id string)

	// Sessions (fastsession.go): those it may answer for, and the event
	// store the SDK's stateful handler uses.
	mu       sync.RWMutex
	sessions map[string]*fastSession
	pending  map[string]string // sessions opened, not yet initialized: their user
	events   mcp.EventStore
}

// fastTools are the tools the fast path may serve: handlers that never use
// the request's session (no progress, no elicitation, no session binding
// of their own), whose answers therefore do not depend on having one.
var fastTools = []string{"check_drive_auth"}

// fastVersions are the protocol revisions (MCP-Protocol-Version) with
// sessions whose answers the differential test compares; requests with
// any other or none go to the SDK, but for the sessionless revision
// 2026-07-28 (fastsessionless.go).
var fastVersions = []string{"2025-03-26", "2025-06-18", "2025-11-25"}

func newFastPath(t *tools, impl *mcp.Implementation, middleware []mcp.Middleware) *FastPath {
	f := &FastPath{tools: map[string]mcp.ToolHandler{}, impl: impl, headerBound: map[string]bool{}, log: t.Logger, now: time.Now, sessions: map[string]*fastSession{}, pending: map[string]string{}}
	f.serverInfo = serverInfoMeta(impl)
	hidden := t.hiddenTools()
	for _, def := range toolDefinitions {
		if !slices.Contains(fastTools, def.Name) || slices.Contains(hidden, def.Name) {
			continue
		}
		var tool *mcp.Tool
		switch def.Name {
		case "check_drive_auth":
			tool, f.tools[def.Name] = typedtool.Handler(def, t.checkDriveAuth, addToolOptions(t.Logger))
		}
		schema, err := json.Marshal(tool.InputSchema)
		f.headerBound[def.Name] = err != nil || bytes.Contains(schema, []byte("x-mcp-header"))
	}
	// The bottom of the chain is the SDK's callTool for a tool it knows:
	// an unknown name never gets here (HTTP falls back first).
	var h mcp.MethodHandler = func(ctx context.Context, _ string, req mcp.Request) (mcp.Result, error) {
		call := req.(*mcp.CallToolRequest)
		res, err := f.tools[call.Params.Name](ctx, call)
		if err == nil && res != nil && res.Content == nil {
			res2 := *res
			res2.Content = []mcp.Content{} // as the SDK: never "content":null
			res = &res2
		}
		if err == nil && res != nil && call.Params.Meta != nil {
			toolReturned(ctx, res) // a 2026-07-28 call's
		}
		return res, err
	}
	// AddReceivingMiddleware wraps what is there: the last added is the
	// outermost, so wrap in the order New added them.
	for _, m := range middleware {
		h = m(h)
	}
	f.handle = h
	return f
}

// Served is how many calls the fast path answered (tests and metrics).
func (f *FastPath) Served() int64 { return f.served.Load() }

// FastPathOptions are the SDK handler's options the fast path must honour
// to answer as it would.
type FastPathOptions struct {
	// MaxBodyBytes is StreamableHTTPOptions.MaxRequestBodyBytes.
	MaxBodyBytes int64
	// LocalhostProtection is !StreamableHTTPOptions.DisableLocalhostProtection:
	// the SDK refuses a request to a loopback listener whose Host is not
	// loopback; the fast path leaves every such request to it.
	LocalhostProtection bool
	// SessionTimeout is StreamableHTTPOptions.SessionTimeout (SessionsHTTP).
	SessionTimeout time.Duration
}

// HTTP serves what it can and hands the rest to sdk, a stateless
// StreamableHTTPHandler with the same options.
func (f *FastPath) HTTP(sdk http.Handler, o FastPathOptions) http.Handler {
	if f == nil || len(f.tools) == 0 {
		return sdk
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Mcp-Session-Id") != "" {
			sdk.ServeHTTP(w, r)
			return
		}
		fallback := func(*toolCall) { sdk.ServeHTTP(w, r) }
		switch v := r.Header.Get("Mcp-Protocol-Version"); {
		case v == sessionlessRevision && f.sessionlessHeaders(r, o):
			f.takeAs(r, o, true, fallback, func(c toolCall) {
				f.served.Add(1)
				f.serveSessionless(w, r, c)
			})
		case slices.Contains(fastVersions, v) && f.eligibleHeaders(r, o):
			f.take(w, r, o, fallback, func(c toolCall) {
				f.served.Add(1)
				f.serve(w, r, c)
			})
		default:
			sdk.ServeHTTP(w, r)
		}
	})
}

// take reads and parses a request's body and calls serve with the call,
// or, when the fast path is not sure about it, fallback with the body put
// back as it came (and the call, if the body was one).
func (f *FastPath) take(_ http.ResponseWriter, r *http.Request, o FastPathOptions, fallback func(*toolCall), serve func(toolCall)) {
	f.takeAs(r, o, false, fallback, serve)
}

// takeAs is take for a request at revision 2026-07-28 if sessionless (its
// _meta parsed, then checked by sessionlessCall), at an older one if not.
func (f *FastPath) takeAs(r *http.Request, o FastPathOptions, sessionless bool, fallback func(*toolCall), serve func(toolCall)) {
	body, err := readUpTo(r.Body, o.MaxBodyBytes)
	if err != nil {
		// Too long or broken: the SDK reads the rest and answers (413 or 400).
		r.Body = struct {
			io.Reader
			io.Closer
		}{io.MultiReader(bytes.NewReader(body), r.Body), r.Body}
		fallback(nil)
		return
	}
	var call toolCall
	var ok bool
	if sessionless {
		call, ok = parseToolCallMeta(body)
	} else {
		call, ok = parseToolCall(body)
	}
	if !ok { // (arguments or _meta nested deeper than the SDK decodes: not ok, maxDepth)
		r.Body = io.NopCloser(bytes.NewReader(body))
		fallback(nil)
		return
	}
	if f.tools[call.name] == nil || !sdkEchoesID(call.id) || sessionless && !f.sessionlessCall(r, &call) {
		r.Body = io.NopCloser(bytes.NewReader(body))
		fallback(&call)
		return
	}
	serve(call)
}

// eligibleRequest is true for the plainest POST, by its headers: JSON,
// accepting JSON and an event stream, a listed protocol revision, a Host
// the SDK's rebinding check would pass, no Last-Event-ID (the SDK refuses
// it on a POST).
func (f *FastPath) eligibleRequest(r *http.Request, o FastPathOptions) bool {
	return slices.Contains(fastVersions, r.Header.Get("Mcp-Protocol-Version")) && f.eligibleHeaders(r, o)
}

// eligibleHeaders is eligibleRequest but for the protocol revision, which
// the caller checks.
func (f *FastPath) eligibleHeaders(r *http.Request, o FastPathOptions) bool {
	if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" || len(r.Header.Values("Last-Event-ID")) > 0 {
		return false
	}
	if accept := r.Header.Values("Accept"); len(accept) != 1 || !acceptsBoth(accept[0]) {
		return false
	}
	if o.LocalhostProtection {
		host := r.Host
		if h, _, err := net.SplitHostPort(host); err == nil {
			host = h
		}
		if !loopback.IsHost(host) {
			return false // the SDK decides, depending on the listener
		}
	}
	return true
}

// acceptsBoth is true for an Accept header listing exactly
// application/json and text/event-stream, without parameters: what MCP
// clients send. Anything fancier is the SDK's to judge.
func acceptsBoth(v string) bool {
	a, b, ok := strings.Cut(v, ",")
	if !ok {
		return false
	}
	a, b = strings.TrimSpace(a), strings.TrimSpace(b)
	return (a == "application/json" && b == "text/event-stream") || (a == "text/event-stream" && b == "application/json")
}

// sdkEchoesID is true for an id the SDK writes back byte for byte as it
// came: it decodes a number as a float64 (so -0 becomes 0 and integers
// beyond 2^53 change) and encodes strings again (invalid UTF-8 replaced,
// U+2028 and U+2029 escaped). The fast path echoes ids as sent, so it
// leaves the others to the SDK.
func sdkEchoesID(id []byte) bool {
	if len(id) == 0 {
		return false
	}
	if id[0] == '"' {
		// (Escapes never get here: plainID leaves them to the SDK.)
		return utf8.Valid(id) && !bytes.ContainsRune(id, '\u2028') && !bytes.ContainsRune(id, '\u2029')
	}
	if string(id) == "-0" {
		return false
	}
	n, err := strconv.ParseInt(string(id), 10, 64)
	const exact = 1 << 53 // float64 holds every integer up to here
	return err == nil && n >= -exact && n <= exact
}

// readUpTo reads all of r if it is at most limit bytes (limit ≤ 0: no
// limit); otherwise it returns what it read and an error.
func readUpTo(r io.Reader, limit int64) ([]byte, error) {
	if limit <= 0 {
		return io.ReadAll(r)
	}
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err == nil && int64(len(b)) > limit {
		err = errors.New("body over the limit")
	}
	return b, err
}

// toolCall is a decoded tools/call request.
type toolCall struct {
	id   json.RawMessage // an integer or a string literal, as sent
	name string
	args json.RawMessage // nil when absent
	// rawMeta is params._meta as sent (parseToolCallMeta only), meta the
	// same decoded once checkSessionlessMeta has accepted it: only calls
	// at revision 2026-07-28 have them.
	rawMeta json.RawMessage
	meta    mcp.Meta
}

func (f *FastPath) serve(w http.ResponseWriter, r *http.Request, c toolCall) {
	bp := answerBuffers.Get().(*[]byte)
	b, err := f.answer(append((*bp)[:0], "event: message\ndata: "...), r, c, nil)
	if err != nil {
		http.Error(w, "encoding the answer: "+err.Error(), http.StatusInternalServerError)
		return // the buffer is not put back: a rare case
	}
	writeStream(w, append(b, "\n\n"...))
	if cap(b) <= maxPooledAnswer {
		*bp = b
		answerBuffers.Put(bp)
	}
}

// answer runs the call through the receiving middleware and the tool's
// handler, as the SDK's session would, and appends to dst the JSON-RPC
// message the SDK would write: its result, or its error. ss is the call's
// MCP session (nil statelessly).
func (f *FastPath) answer(dst []byte, r *http.Request, c toolCall, ss *mcp.ServerSession) ([]byte, error) {
	b, _, err := f.respond(dst, r, c, ss)
	return b, err
}

// respond is answer, also returning the code of the JSON-RPC error it
// answered with (0 for a result).
func (f *FastPath) respond(dst []byte, r *http.Request, c toolCall, ss *mcp.ServerSession) (_ []byte, code int64, _ error) {
	req := &mcp.CallToolRequest{
		Session: ss,
		Params:  &mcp.CallToolParamsRaw{Meta: c.meta, Name: c.name, Arguments: c.args},
		Extra:   &mcp.RequestExtra{TokenInfo: auth.TokenInfoFromContext(r.Context()), Header: r.Header},
	}
	ctx := r.Context()
	var toolResult *mcp.CallToolResult
	if c.meta != nil {
		ctx = context.WithValue(ctx, sessionlessKey{}, &toolResult)
	}
	res, err := f.handle(ctx, "tools/call", req)
	// The envelope is written by hand around the result's own encoding:
	// encoding/json would compact the bytes MarshalJSON returns once more
	// (a sixth of the fast path's CPU), and the SDK writes them as they are.
	b := append(dst, `{"jsonrpc":"2.0","id":`...)
	b = append(b, c.id...)
	if err == nil {
		n := len(b)
		b = append(b, `,"result":`...)
		if c.meta != nil {
			tr, _ := res.(*mcp.CallToolResult)
			b, err = f.appendSessionlessResult(b, res, tr != nil && tr == toolResult)
		} else {
			b, err = marshalResult(b, res)
		}
		if err != nil {
			b = b[:n]
		}
	}
	if err != nil {
		// As the SDK's JSON-RPC layer: a JSON-RPC error as it is, any other
		// with its message and code 0; but one with the code for an unknown
		// method (it compares codes) is its own "method not found".
		var rpcErr *jsonrpc.Error
		if errors.Is(err, &jsonrpc.Error{Code: jsonrpc.CodeMethodNotFound}) {
			rpcErr = &jsonrpc.Error{Code: jsonrpc.CodeMethodNotFound, Message: `method not found: "tools/call"`}
		} else if !errors.As(err, &rpcErr) {
			rpcErr = &jsonrpc.Error{Message: err.Error()}
		} else if rpcErr != err {
			rpcErr = &jsonrpc.Error{Code: rpcErr.Code, Message: err.Error()}
		}
		data, err := marshalNoEscape(rpcErr)
		if err != nil {
			return nil, 0, err
		}
		b = append(b, `,"error":`...)
		b = append(b, data...)
		code = rpcErr.Code
	}
	return append(b, '}'), code, nil
}

// event is one server-sent event as the go-sdk writes it.
type event struct {
	name, id string
	data     []byte
}

// writeEvents answers 200 with the SDK's event-stream headers and events,
// in one write: the SDK flushes after each event, but nothing happens
// between them here.
func writeEvents(w http.ResponseWriter, events ...event) {
	bp := answerBuffers.Get().(*[]byte)
	b := (*bp)[:0]
	for _, e := range events {
		b = append(b, "event: "+e.name+"\n"...)
		if e.id != "" {
			b = append(b, "id: "+e.id+"\n"...)
		}
		b = append(b, "data: "...)
		b = append(b, e.data...)
		b = append(b, "\n\n"...)
	}
	writeStream(w, b)
	if cap(b) <= maxPooledAnswer {
		*bp = b
		answerBuffers.Put(bp)
	}
}

// writeStream answers 200 with the SDK's event-stream headers and body.
func writeStream(w http.ResponseWriter, body []byte) {
	h := w.Header()
	h.Set("Cache-Control", "no-cache, no-transform")
	h.Set("Content-Type", "text/event-stream")
	h.Set("Connection", "keep-alive")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}

// marshalResult appends a result encoded as the SDK does: through its own
// MarshalJSON when it has one (CallToolResult does), as it is. The tool
// results the fast path's tools make it writes itself, the same bytes
// faster (appendToolResult).
func marshalResult(dst []byte, res mcp.Result) ([]byte, error) {
	if r, ok := res.(*mcp.CallToolResult); ok {
		if b, ok := appendToolResult(dst, r); ok {
			return b, nil
		}
	}
	var data []byte
	var err error
	if m, ok := res.(json.Marshaler); ok {
		data, err = m.MarshalJSON()
	} else {
		data, err = marshalNoEscape(res)
	}
	return append(dst, data...), err
}

// marshalNoEscape is json.Marshal without HTML escaping, which the SDK's
// encoder does not do either.
func marshalNoEscape(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}
