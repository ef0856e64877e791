package mcpserver

import (
	"context"
	"log/slog"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/drivemcp/drivemcp/internal/typedtool"
)

// addTool registers a tool's typed handler through internal/typedtool (its
// schemas, checks, and the switch back to mcp.AddTool are there) with
// drivemcp's sentences: argument errors say how to fix the call, and an
// error that is not a userError is the server's own trouble (a store that
// did not answer, say): log, which may be nil, gets its words, and the
// client a sentence with the request id (see internalError).
func addTool[In, Out any](s *mcp.Server, log *slog.Logger, t *mcp.Tool, h mcp.ToolHandlerFor[In, Out]) {
	typedtool.Add(s, t, h, addToolOptions(log))
}

// addToolOptions are addTool's sentences, for the fast path too.
func addToolOptions(log *slog.Logger) typedtool.Options {
	return typedtool.Options{
		ArgumentError: argumentError,
		HandlerError: func(ctx context.Context, req *mcp.CallToolRequest, tool string, err error) error {
			return internalError(ctx, log, req, tool, err)
		},
	}
}

// argumentError is the answer to arguments that do not fit a tool.
func argumentError(tool string, err error, schema bool) error {
	if schema {
		return userErrorf(err, "The arguments do not fit %s's input schema (%v). "+
			"Fix the arguments as the schema says and call it again.", tool, err)
	}
	return userErrorf(err, "An argument of %s has the wrong type (%v). "+
		"Check the input schema and call it again.", tool, err)
}
