package httpguard

import (
	"encoding/base64"
)

// RequestBodyLimit is the largest MCP request body the HTTP transport
// should read: a create_drive_file call carrying maxInline bytes (its cap,
// mcpserver.DefaultMaxInlineBytes unless configured) as content_base64, and room for the rest of the message.
// The go-sdk's own default (4 MiB) would refuse inline content long before
// the tool's cap, with a bare 413.
func RequestBodyLimit(maxInline int64) int64 {
	return int64(base64.StdEncoding.EncodedLen(int(maxInline))) + 1<<20
}
