package mcpserver

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/drivemcp/drivemcp/internal/drive"
)

// Shared drives: list_shared_drives, and the drive_id argument that points
// list_drive_items, search_drive_files and folder_path at one shared drive.

// SharedDriveArg is embedded by the inputs that can work inside a shared drive.
type SharedDriveArg struct {
	DriveID string `json:"drive_id,omitempty" jsonschema:"a shared drive's id (from list_shared_drives): folder_path and the default folder then start at the top of that shared drive; default: My Drive"`
}

// checkDriveID refuses a drive_id Drive could never have made.
func checkDriveID(id string) error {
	if id == "" {
		return nil
	}
	if err := drive.CheckID(id); err != nil {
		return userErrorf(err, "drive_id %q is not a shared drive id (ids are letters, digits, - and _), so nothing was sent to Drive: "+
			"copy one from list_shared_drives, or omit drive_id for My Drive.", id)
	}
	return nil
}

type sharedDrivesIn struct {
	AccountArg
	PageSize  *int   `json:"page_size,omitempty" minimum:"1" maximum:"100" jsonschema:"shared drives per page, 1 to 100 (default 50)"`
	PageToken string `json:"page_token,omitempty" jsonschema:"next_page_token of the previous page, to get the next one; default: the first page"`
}

type sharedDriveOut struct {
	ID          string `json:"id" jsonschema:"the shared drive's id: pass it as drive_id"`
	Name        string `json:"name" jsonschema:"its name"`
	CreatedTime string `json:"created_time,omitempty" jsonschema:"when it was created (RFC 3339); absent when Drive did not say"`
	CanAddFiles bool   `json:"can_add_files" jsonschema:"whether this account may add files to it"`
}

type sharedDrivesOut struct {
	SharedDrives  []sharedDriveOut `json:"shared_drives" jsonschema:"the shared drives this account is a member of; empty when none"`
	NextPageToken string           `json:"next_page_token,omitempty" jsonschema:"pass as page_token to get the next page; absent on the last page"`
	Account       string           `json:"account" jsonschema:"the Google account the tool acted as"`
}

func (t *tools) addSharedDriveTools(s *mcp.Server) {
	addTool(s, t.Logger, listSharedDrivesTool, t.listSharedDrives)
}

func (t *tools) listSharedDrives(ctx context.Context, req *mcp.CallToolRequest, in sharedDrivesIn) (*mcp.CallToolResult, sharedDrivesOut, error) {
	pageSize := 50
	if in.PageSize != nil {
		if *in.PageSize < 1 || *in.PageSize > drive.MaxSharedDrivePage {
			return nil, sharedDrivesOut{}, userErrorf(nil, "page_size %d is out of range: give a number from 1 to %d (or omit it for 50).", *in.PageSize, drive.MaxSharedDrivePage)
		}
		pageSize = *in.PageSize
	}
	id, files, err := t.driveFiles(ctx, req, in.UserGoogleEmail)
	if err != nil {
		return nil, sharedDrivesOut{}, err
	}
	page, err := files.ListSharedDrives(ctx, pageSize, in.PageToken)
	switch {
	case err == nil:
	case in.PageToken != "" && errors.Is(err, drive.ErrInvalidArgument):
		return nil, sharedDrivesOut{}, badPageToken(err)
	case errors.Is(err, drive.ErrInsufficientScope):
		// Drive lists shared drives only to the drive and drive.readonly scopes.
		return nil, sharedDrivesOut{}, userErrorf(err, "%s granted drivemcp only access to files it created, and Google lists shared drives only to wider access. "+
			`Call start_google_auth with scope: "readonly" (or "full") and force: true, consent again, then call list_shared_drives again.`, id.Email)
	default:
		return nil, sharedDrivesOut{}, t.explainDrive(ctx, id.Email, err, "")
	}
	out := sharedDrivesOut{SharedDrives: make([]sharedDriveOut, 0, len(page.Drives)), NextPageToken: page.NextPageToken, Account: id.Email}
	var b strings.Builder
	fmt.Fprintf(&b, "%s is a member of %d shared drive(s) on this page:", id.Email, len(page.Drives))
	if len(page.Drives) == 0 && in.PageToken == "" {
		b.Reset()
		fmt.Fprintf(&b, "%s is a member of no shared drive.", id.Email)
	}
	for _, d := range page.Drives {
		out.SharedDrives = append(out.SharedDrives, sharedDriveOut{ID: d.ID, Name: d.Name, CreatedTime: rfc3339(d.CreatedTime), CanAddFiles: d.CanAddFiles})
		fmt.Fprintf(&b, "\n- %s (drive_id %s)", d.Name, d.ID)
	}
	if out.NextPageToken != "" {
		fmt.Fprintf(&b, "\n\nMore shared drives: call list_shared_drives again with page_token %q.", out.NextPageToken)
	}
	return text(b.String()), out, nil
}
