package mcpserver

import (
	"context"
	"errors"
	"fmt"

	"github.com/drivemcp/drivemcp/internal/drive"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// DefaultMaxInlineBytes caps create_drive_file's content unless
// Deps.MaxInlineBytes says otherwise; the HTTP transport's body limit
// (httpguard.RequestBodyLimit) is made to fit it.
const DefaultMaxInlineBytes = 32 << 20

// uploadSlot takes an upload slot for the call's account, telling a client
// that asked for progress that the upload is queued.
func (t *tools) uploadSlot(ctx context.Context, req *mcp.CallToolRequest, email string) (release func(), err error) {
	var waiting func(int)
	if req != nil && req.Params != nil && req.Session != nil {
		if token := req.Params.GetProgressToken(); token != nil {
			waiting = func(running int) {
				_ = req.Session.NotifyProgress(ctx, &mcp.ProgressNotificationParams{
					ProgressToken: token,
					Message:       fmt.Sprintf("queued: %s already has %d uploads running", email, running),
				})
			}
		}
	}
	release, err = t.slots.Acquire(ctx, email, waiting)
	var refused *drive.SlotError
	if errors.As(err, &refused) {
		return nil, userErrorf(err, "%s", refused.Error())
	}
	return release, err
}
