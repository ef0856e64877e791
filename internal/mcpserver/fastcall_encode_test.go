package mcpserver

import (
	"context"
	"encoding/json"
	"log/slog"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/drivemcp/drivemcp/internal/typedtool"
)

// benchAuthOut is what check_drive_auth answers a signed-in OAuth client,
// as in BenchmarkToolCallHandler.
var benchAuthOut = checkAuthOut{
	Authenticated: true,
	Email:         "bench@example.com",
	Method:        "oauth",
	Scopes:        []string{"openid", "email", "https://www.googleapis.com/auth/drive.file"},
	TokenExpiry:   time.Date(2026, 5, 1, 12, 30, 0, 0, time.UTC),
	Message: "Acting as bench@example.com (authenticated by your MCP client's OAuth login) with scopes: " +
		"openid email https://www.googleapis.com/auth/drive.file.",
}

// fixedAuthHandler is check_drive_auth's typed handler around a fixed
// output: the encoding of a call's answer, without the store.
func fixedAuthHandler(out checkAuthOut) mcp.ToolHandler {
	_, h := typedtool.Handler(checkDriveAuthTool, func(context.Context, *mcp.CallToolRequest, checkAuthIn) (*mcp.CallToolResult, checkAuthOut, error) {
		return text(out.Message), out, nil
	}, addToolOptions(slog.New(slog.DiscardHandler)))
	return h
}

// The encoding step of a fast-path check_drive_auth call: the typed
// handler turning the output into a result (arguments {} checked first,
// as in every call), and that result encoded as the answer's "result",
// into a buffer that serve reuses. "result" alone is the second half.
func BenchmarkCheckDriveAuthEncoding(b *testing.B) {
	h := fixedAuthHandler(benchAuthOut)
	req := &mcp.CallToolRequest{Params: &mcp.CallToolParamsRaw{Name: checkDriveAuthTool.Name, Arguments: json.RawMessage(`{}`)}}
	ctx := context.Background()
	b.Run("handler+result", func(b *testing.B) {
		b.ReportAllocs()
		var buf []byte
		for b.Loop() {
			res, err := h(ctx, req)
			if err != nil {
				b.Fatal(err)
			}
			if buf, err = marshalResult(buf[:0], res); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("result", func(b *testing.B) {
		res, err := h(ctx, req)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		var buf []byte
		for b.Loop() {
			if buf, err = marshalResult(buf[:0], res); err != nil {
				b.Fatal(err)
			}
		}
	})
}
