package mcpserver

import (
	"context"
	"slices"
	"strings"

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

// WriteScopes are the OAuth scopes that let a tool create or change files,
// for httpguard.RequireToolScopes.
func WriteScopes() []string { return slices.Clone(writeScopes) }

// NeedsWriteScope reports whether a read-only token may not call tool, for
// httpguard.RequireToolScopes (enforceToolScopes is the check that decides).
func NeedsWriteScope(tool string) bool { return toolNeedsWrite[tool] }

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
// tool than the one that runs. httpguard.RequireToolScopes, before the transport,
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
