package mcpserver

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"

	"github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// writeScopes are the OAuth scopes that let a tool create or change files;
// drive.readonly does not. Tools not in toolNeedsWrite work with any scope
// the server offers.
var writeScopes = []string{"drive.file", "drive"}

// toolNeedsWrite are the tools a read-only token may not call, read off
// their definitions (tooldefs.go), so that a new tool cannot be forgotten.
var toolNeedsWrite = writingTools(toolDefinitions)

// signInTools change only which Google account a connection uses, not
// Drive: a read-only connection must be able to call them (start_google_auth
// is how it asks for more scope). sign_out's revoke, which does reach
// Google, is checked by its handler.
var signInTools = map[string]bool{"start_google_auth": true, "sign_out": true}

// localWriteTools read Drive and write only outside it: download_drive_file
// writes a file on the user's own disk (so it is not read-only, and with
// overwrite it is destructive there), yet changes nothing in Drive, so a
// read-only Drive scope is all it needs.
var localWriteTools = map[string]bool{"download_drive_file": true}

// writingTools are the tools in defs that are not read-only (or do not
// say), other than the sign-in tools.
func writingTools(defs []*mcp.Tool) map[string]bool {
	m := map[string]bool{}
	for _, d := range defs {
		if (d.Annotations == nil || !d.Annotations.ReadOnlyHint) && !signInTools[d.Name] && !localWriteTools[d.Name] {
			m[d.Name] = true
		}
	}
	return m
}

// maxPeekBytes bounds how much of a request body the scope check reads; a
// tools/call carrying inline content can be large, and only its method and
// tool name matter here.
const maxPeekBytes = 48 << 20

// ScopeDenier answers a request whose token lacks a needed scope (the
// authorization server's 403 insufficient_scope challenge).
type ScopeDenier func(w http.ResponseWriter, needed []string, description string)

// RequireToolScopes lets a client step up (MCP authorization, scope
// challenge handling): a tools/call for a tool that writes, made with a
// token that only reads, is answered 403 insufficient_scope naming the
// scope to ask for, before the MCP handler runs. offered are the scopes the
// server offers; it must run after the bearer-token middleware.
func RequireToolScopes(next http.Handler, offered []string, deny ScopeDenier) http.Handler {
	var stepUp string // least privilege first
	for _, sc := range writeScopes {
		if slices.Contains(offered, sc) {
			stepUp = sc
			break
		}
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		info := auth.TokenInfoFromContext(r.Context())
		if stepUp == "" || r.Method != http.MethodPost || info == nil || hasAny(info.Scopes, writeScopes) {
			next.ServeHTTP(w, r) // nothing to step up to, or the token writes already
			return
		}
		body, err := io.ReadAll(io.LimitReader(r.Body, maxPeekBytes))
		r.Body.Close()
		if err != nil {
			http.Error(w, "reading the request body: "+err.Error(), http.StatusBadRequest)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		if tool := writingTool(body); tool != "" {
			needed := append(slices.Clone(info.Scopes), stepUp)
			deny(w, needed, "the tool "+tool+" creates or changes files in Google Drive, which needs the "+stepUp+" scope; this token only has "+strings.Join(info.Scopes, " "))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// writingTool returns the name of a writing tool that body calls, if any
// (a single JSON-RPC message or a batch).
func writingTool(body []byte) string {
	type call struct {
		Method string `json:"method"`
		Params struct {
			Name string `json:"name"`
		} `json:"params"`
	}
	var msgs []call
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) > 0 && trimmed[0] == '[' {
		_ = json.Unmarshal(trimmed, &msgs)
	} else {
		var one call
		if json.Unmarshal(trimmed, &one) == nil {
			msgs = []call{one}
		}
	}
	for _, m := range msgs {
		if m.Method == "tools/call" && toolNeedsWrite[m.Params.Name] {
			return m.Params.Name
		}
	}
	return ""
}

// tokenMayWrite reports whether a call may change things in Drive or at
// Google: its bearer token has a writing scope, or there is no token
// (trusted local mode, where the local user may do anything).
func tokenMayWrite(req *mcp.CallToolRequest) bool {
	if req == nil || req.Extra == nil || req.Extra.TokenInfo == nil {
		return true
	}
	return hasAny(req.Extra.TokenInfo.Scopes, writeScopes)
}

func hasAny(have, want []string) bool {
	for _, w := range want {
		if slices.Contains(have, w) {
			return true
		}
	}
	return false
}

// enforceToolScopes is the scope check that decides: it sees the tools/call
// the SDK decoded and is about to run, so no spelling of the JSON (a
// "Name" beside "name", a duplicated key, a "METHOD") can show it another
// tool than the one that runs. RequireToolScopes, before the transport,
// only exists to answer 403 insufficient_scope so that clients step up.
func enforceToolScopes(next mcp.MethodHandler) mcp.MethodHandler {
	return func(ctx context.Context, method string, req mcp.Request) (mcp.Result, error) {
		if method == "tools/call" {
			p, _ := req.GetParams().(*mcp.CallToolParamsRaw)
			extra := req.GetExtra()
			if p != nil && toolNeedsWrite[p.Name] && extra != nil && extra.TokenInfo != nil && !hasAny(extra.TokenInfo.Scopes, writeScopes) {
				return &mcp.CallToolResult{IsError: true, Content: []mcp.Content{&mcp.TextContent{Text: "The tool " + p.Name +
					" creates or changes files in Google Drive, which needs the drive.file (or drive) scope; this connection was authorized for " +
					strings.Join(extra.TokenInfo.Scopes, " ") + " only. Authorize the client again with drive.file, then call it again."}}}, nil
			}
		}
		return next(ctx, method, req)
	}
}
