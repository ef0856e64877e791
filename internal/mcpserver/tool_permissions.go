package mcpserver

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/drivemcp/drivemcp/internal/drive"
)

// Who may open a file: list_drive_permissions, update_drive_permission and
// remove_drive_permission. make_drive_files_public(public: false) removes
// link permissions through the same drive calls (drive.Files.RemovePermission).

type permissionsIn struct {
	AccountArg
	FileID string `json:"file_id" jsonschema:"the file or folder whose access list to show (search_drive_files finds ids)"`
}

type permissionOut struct {
	PermissionID   string `json:"permission_id" jsonschema:"Drive's id of the permission; pass it to update_drive_permission or remove_drive_permission"`
	Type           string `json:"type" enum:"user,group,domain,anyone" jsonschema:"who it is for: a person (user), a Google group, everyone in a domain, or anyone with the link"`
	Role           string `json:"role" jsonschema:"what they may do: owner, organizer, fileOrganizer, writer, commenter or reader"`
	EmailAddress   string `json:"email_address,omitempty" jsonschema:"the person's or group's address; absent for domain and link permissions"`
	Domain         string `json:"domain,omitempty" jsonschema:"the domain; absent unless type is domain"`
	DisplayName    string `json:"display_name,omitempty" jsonschema:"the name Google shows; absent when Google gave none"`
	ExpirationTime string `json:"expiration_time,omitempty" jsonschema:"when the access ends by itself (RFC 3339); absent when it does not expire"`
	Inherited      bool   `json:"inherited,omitempty" jsonschema:"the access comes from a folder or shared drive above the file and is changed there; absent (false) when it is on the file itself"`
}

type permissionsOut struct {
	FileID      string          `json:"file_id" jsonschema:"the file or folder"`
	FileName    string          `json:"file_name" jsonschema:"its name in Drive"`
	Permissions []permissionOut `json:"permissions" jsonschema:"everyone who has access, the owner included"`
	Account     string          `json:"account" jsonschema:"the Google account the tool acted as"`
}

type updatePermissionIn struct {
	AccountArg
	FileID         string `json:"file_id" jsonschema:"the file or folder"`
	PermissionID   string `json:"permission_id,omitempty" jsonschema:"the permission to change (from list_drive_permissions); optional: give exactly one of permission_id and email_address"`
	EmailAddress   string `json:"email_address,omitempty" jsonschema:"instead of permission_id: the person or group whose access to change; optional: give exactly one of permission_id and email_address"`
	Role           string `json:"role" enum:"reader,commenter,writer" jsonschema:"the new role: reader, commenter or writer"`
	ExpirationTime string `json:"expiration_time,omitempty" jsonschema:"when the access should end, RFC 3339 such as 2026-12-31T00:00:00Z: in the future, at most a year ahead, people and groups only; default: the expiration stays as it is"`
}

type removePermissionIn struct {
	AccountArg
	FileID       string `json:"file_id" jsonschema:"the file or folder"`
	PermissionID string `json:"permission_id,omitempty" jsonschema:"the permission to remove (from list_drive_permissions); optional: give exactly one of permission_id and email_address"`
	EmailAddress string `json:"email_address,omitempty" jsonschema:"instead of permission_id: the person or group whose access to remove; optional: give exactly one of permission_id and email_address"`
}

type changedPermissionOut struct {
	FileID string `json:"file_id" jsonschema:"the file or folder"`
	permissionOut
	Account string `json:"account" jsonschema:"the Google account the tool acted as"`
}

func (t *tools) addPermissionTools(s *mcp.Server) {
	addTool(s, t.Logger, listDrivePermissionsTool, t.listDrivePermissions)
	addTool(s, t.Logger, updateDrivePermissionTool, t.updateDrivePermission)
	addTool(s, t.Logger, removeDrivePermissionTool, t.removeDrivePermission)
}

// checkFileID refuses an id Drive could never have made, before Google is asked.
func checkFileID(arg, id string) error {
	if id == "" {
		return userErrorf(nil, "%s is empty: give the id of the file (search_drive_files or list_drive_items give ids).", arg)
	}
	if err := drive.CheckID(id); err != nil {
		return userErrorf(err, "%s %q is not a Drive id (ids are letters, digits, - and _), so nothing was sent to Drive. "+
			"Give the id from the file's link (…/d/ID/…) or from search_drive_files.", arg, id)
	}
	return nil
}

// checkGrantee checks that exactly one of permission_id and email_address names whose access to change.
func checkGrantee(permissionID, email string) error {
	switch {
	case permissionID == "" && email == "":
		return userErrorf(nil, "Say whose access to change: give permission_id (from list_drive_permissions) or email_address.")
	case permissionID != "" && email != "":
		return userErrorf(nil, "Give either permission_id or email_address, not both: they name the same access in two ways.")
	case permissionID != "":
		if err := drive.CheckID(permissionID); err != nil {
			return userErrorf(err, "permission_id %q is not a Drive permission id: copy it from list_drive_permissions, or give email_address instead.", permissionID)
		}
	default:
		if err := drive.CheckEmail(email); err != nil {
			return userErrorf(err, "email_address %q is not an email address: give one like name@example.com, or permission_id from list_drive_permissions.", email)
		}
	}
	return nil
}

// expirationArg parses expiration_time and holds it to Drive's rules for
// Permission.expirationTime (in the future, at most a year ahead), so a
// date Drive would refuse is answered here with the fix.
func expirationArg(s string, now time.Time) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, nil
	}
	at, err := time.Parse(time.RFC3339, s)
	switch {
	case err != nil:
		return at, userErrorf(err, "expiration_time %q is not an RFC 3339 time: give one like 2026-12-31T00:00:00Z (or omit it to leave the expiration as it is).", s)
	case !at.After(now):
		return at, userErrorf(nil, "expiration_time %s is in the past: give a time in the future (Drive allows up to a year ahead).", s)
	case at.After(now.AddDate(1, 0, 0)):
		return at, userErrorf(nil, "expiration_time %s is more than a year ahead, which Drive does not allow: give a time within a year.", s)
	}
	return at, nil
}

func permissionOutOf(p drive.Permission) permissionOut {
	out := permissionOut{PermissionID: p.ID, Type: p.Type, Role: p.Role, EmailAddress: p.Email, Domain: p.Domain,
		DisplayName: p.DisplayName, Inherited: p.Inherited}
	if !p.Expiration.IsZero() {
		out.ExpirationTime = p.Expiration.UTC().Format(time.RFC3339)
	}
	return out
}

// who names a permission's grantee for people.
func (p permissionOut) who() string {
	switch p.Type {
	case "anyone":
		return "anyone with the link"
	case "domain":
		return "everyone at " + p.Domain
	}
	return cmp.Or(p.EmailAddress, p.PermissionID)
}

func (t *tools) listDrivePermissions(ctx context.Context, req *mcp.CallToolRequest, in permissionsIn) (*mcp.CallToolResult, permissionsOut, error) {
	fileID := strings.TrimSpace(in.FileID)
	if err := checkFileID("file_id", fileID); err != nil {
		return nil, permissionsOut{}, err
	}
	id, files, err := t.driveFiles(ctx, req, in.UserGoogleEmail)
	if err != nil {
		return nil, permissionsOut{}, err
	}
	item, err := files.Get(ctx, fileID)
	var perms []drive.Permission
	if err == nil {
		perms, err = files.ListPermissions(ctx, fileID)
	}
	if err != nil {
		return nil, permissionsOut{}, t.explainPermission(ctx, id.Email, fileID, err)
	}
	out := permissionsOut{FileID: fileID, FileName: item.Name, Permissions: make([]permissionOut, 0, len(perms)), Account: id.Email}
	lines := make([]string, 0, len(perms))
	for _, p := range perms {
		po := permissionOutOf(p)
		out.Permissions = append(out.Permissions, po)
		line := fmt.Sprintf("- %s: %s (permission_id %s)", po.who(), po.Role, po.PermissionID)
		if po.ExpirationTime != "" {
			line += ", until " + po.ExpirationTime
		}
		if po.Inherited {
			line += ", inherited from a folder or shared drive above"
		}
		lines = append(lines, line)
	}
	return text(fmt.Sprintf("%s has %d permission(s):\n%s", fileLabel(fileID, item.Name), len(perms), strings.Join(lines, "\n"))), out, nil
}

func (t *tools) updateDrivePermission(ctx context.Context, req *mcp.CallToolRequest, in updatePermissionIn) (*mcp.CallToolResult, changedPermissionOut, error) {
	fileID, permID, email := strings.TrimSpace(in.FileID), strings.TrimSpace(in.PermissionID), strings.TrimSpace(in.EmailAddress)
	if err := checkFileID("file_id", fileID); err != nil {
		return nil, changedPermissionOut{}, err
	}
	if err := checkGrantee(permID, email); err != nil {
		return nil, changedPermissionOut{}, err
	}
	if strings.TrimSpace(in.Role) == "" {
		return nil, changedPermissionOut{}, userErrorf(nil, "role is empty: give the new role, reader, commenter or writer.")
	}
	role, err := roleArg(in.Role, drive.RoleReader, drive.RoleCommenter, drive.RoleWriter)
	if err != nil {
		return nil, changedPermissionOut{}, err
	}
	expires, err := expirationArg(in.ExpirationTime, time.Now())
	if err != nil {
		return nil, changedPermissionOut{}, err
	}
	id, files, err := t.driveFiles(ctx, req, in.UserGoogleEmail)
	if err != nil {
		return nil, changedPermissionOut{}, err
	}
	p, err := files.FindPermission(ctx, fileID, permID, email)
	if err != nil {
		return nil, changedPermissionOut{}, t.explainPermission(ctx, id.Email, fileID, err)
	}
	switch {
	case p.Role == "owner":
		return nil, changedPermissionOut{}, userErrorf(nil, "%s owns this file, and an owner's role cannot be changed: "+
			"share it with someone else, or transfer ownership in Drive's web app.", cmp.Or(p.Email, p.ID))
	case p.Inherited:
		return nil, changedPermissionOut{}, userErrorf(nil, "%s has this access through a folder or shared drive above the file: change it there.", cmp.Or(p.Email, p.ID))
	case !expires.IsZero() && p.Type != "user" && p.Type != "group":
		return nil, changedPermissionOut{}, userErrorf(nil, "Drive lets only people's and groups' access expire, not a %s permission: omit expiration_time.", p.Type)
	}
	updated, err := files.UpdatePermission(ctx, fileID, p.ID, drive.PermissionChange{Role: role, Expiration: expires})
	if err != nil {
		return nil, changedPermissionOut{}, t.explainPermission(ctx, id.Email, fileID, err)
	}
	out := changedPermissionOut{FileID: fileID, permissionOut: permissionOutOf(updated), Account: id.Email}
	if out.EmailAddress == "" {
		out.EmailAddress, out.Type = p.Email, p.Type // Drive's answer may omit the grantee
	}
	msg := fmt.Sprintf("%s now has %s access to %s", out.who(), out.Role, fileID)
	if out.ExpirationTime != "" {
		msg += " until " + out.ExpirationTime
	}
	return text(msg + "."), out, nil
}

func (t *tools) removeDrivePermission(ctx context.Context, req *mcp.CallToolRequest, in removePermissionIn) (*mcp.CallToolResult, changedPermissionOut, error) {
	fileID, permID, email := strings.TrimSpace(in.FileID), strings.TrimSpace(in.PermissionID), strings.TrimSpace(in.EmailAddress)
	if err := checkFileID("file_id", fileID); err != nil {
		return nil, changedPermissionOut{}, err
	}
	if err := checkGrantee(permID, email); err != nil {
		return nil, changedPermissionOut{}, err
	}
	id, files, err := t.driveFiles(ctx, req, in.UserGoogleEmail)
	if err != nil {
		return nil, changedPermissionOut{}, err
	}
	p, err := files.FindPermission(ctx, fileID, permID, email)
	if err != nil {
		return nil, changedPermissionOut{}, t.explainPermission(ctx, id.Email, fileID, err)
	}
	switch {
	case p.Role == "owner":
		return nil, changedPermissionOut{}, userErrorf(nil, "%s owns this file, and the owner's access cannot be removed: "+
			"to get rid of the file, trash it instead.", cmp.Or(p.Email, p.ID))
	case p.Inherited:
		return nil, changedPermissionOut{}, userErrorf(nil, "%s has this access through a folder or shared drive above the file: remove it there.", cmp.Or(p.Email, p.ID))
	}
	if err := files.RemovePermission(ctx, fileID, p.ID); err != nil && !errors.Is(err, drive.ErrNotFound) {
		return nil, changedPermissionOut{}, t.explainPermission(ctx, id.Email, fileID, err)
	}
	out := changedPermissionOut{FileID: fileID, permissionOut: permissionOutOf(p), Account: id.Email}
	return text(fmt.Sprintf("Removed %s's %s access to %s.", out.who(), out.Role, fileID)), out, nil
}

// explainPermission is a failed permission call as a sentence.
func (t *tools) explainPermission(ctx context.Context, email, fileID string, err error) error {
	switch {
	case errors.Is(err, drive.ErrNoSuchPermission):
		return userErrorf(err, "File %s has no such permission, so nothing was changed: see who has access with list_drive_permissions.", fileID)
	case errors.Is(err, drive.ErrAmbiguous):
		return userErrorf(err, "Several permissions of file %s match, so none was touched: give permission_id from list_drive_permissions.", fileID)
	}
	return t.explainDrive(ctx, email, err,
		fmt.Sprintf("Drive has no file %q that this account can see, or no such permission on it. Check file_id, and see who has access with list_drive_permissions.", fileID))
}
