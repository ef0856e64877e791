package httpguard

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"

	"github.com/modelcontextprotocol/go-sdk/auth"
)

// maxPeekBytes bounds how much of a request body the scope check reads; a
// tools/call carrying inline content can be large, and only its method and
// tool name matter here.
const maxPeekBytes = 48 << 20

// ScopeDenier answers a request whose token lacks a needed scope (the
// authorization server's 403 insufficient_scope challenge).
type ScopeDenier func(w http.ResponseWriter, needed []string, description string)

// ToolScopes say which tools need which scopes.
type ToolScopes struct {
	// Offered are the scopes the server offers.
	Offered []string
	// Write are the scopes that let a tool write, least privilege first.
	Write []string
	// NeedsWrite reports whether a tool needs one of Write.
	NeedsWrite func(tool string) bool
}

// RequireToolScopes lets a client step up (MCP authorization, scope
// challenge handling): a tools/call for a tool that writes, made with a
// token that only reads, is answered 403 insufficient_scope naming the
// scope to ask for, before the MCP handler runs. It must run after the bearer-token middleware.
func RequireToolScopes(next http.Handler, rule ToolScopes, deny ScopeDenier) http.Handler {
	offered, writeScopes := rule.Offered, rule.Write
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
		if tool := writingTool(body, rule.NeedsWrite); tool != "" {
			needed := append(slices.Clone(info.Scopes), stepUp)
			deny(w, needed, "the tool "+tool+" creates or changes files in Google Drive, which needs the "+stepUp+" scope; this token only has "+strings.Join(info.Scopes, " "))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// writingTool returns the name of a writing tool that body calls, if any
// (a single JSON-RPC message or a batch).
func writingTool(body []byte, needsWrite func(string) bool) string {
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
		if m.Method == "tools/call" && needsWrite(m.Params.Name) {
			return m.Params.Name
		}
	}
	return ""
}

func hasAny(have, want []string) bool {
	for _, w := range want {
		if slices.Contains(have, w) {
			return true
		}
	}
	return false
}
