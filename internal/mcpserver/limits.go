package mcpserver

import (
	"context"
	"errors"
	"fmt"

	"github.com/drivemcp/drivemcp/internal/drive"
	"github.com/drivemcp/drivemcp/internal/identity"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// DefaultMaxInlineBytes caps create_drive_file's content unless
// Deps.MaxInlineBytes says otherwise; the HTTP transport's body limit
// (httpguard.RequestBodyLimit) is made to fit it.
const DefaultMaxInlineBytes = 32 << 20

// uploadAs resolves the call's account and takes one of its upload slots,
// the way every uploading tool starts; release must be called.
func (t *tools) uploadAs(ctx context.Context, req *mcp.CallToolRequest, explicitEmail string) (id identity.Identity, release func(), err error) {
	if id, err = t.resolve(ctx, req, explicitEmail); err != nil {
		return id, nil, err
	}
	release, err = t.uploadSlot(ctx, req, id.Email)
	return id, release, err
}

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
