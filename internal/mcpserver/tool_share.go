package mcpserver

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/drivemcp/drivemcp/internal/drive"
)

// maxShares bounds one share_drive_files call: files × people.
const maxShares = 100

type shareIn struct {
	AccountArg
	FileIDs          []string `json:"file_ids" jsonschema:"ids of the files or folders to share"`
	EmailAddresses   []string `json:"email_addresses" jsonschema:"email addresses of the people to share with"`
	Role             string   `json:"role,omitempty" enum:"reader,commenter,writer" jsonschema:"reader, commenter or writer (default reader)"`
	SendNotification *bool    `json:"send_notification,omitempty" jsonschema:"email each person about the share (default true); people without a Google account can only be invited with it"`
	Message          string   `json:"message,omitempty" jsonschema:"text to include in the notification email; default: none"`
}

type shareResult struct {
	FileID       string `json:"file_id" jsonschema:"the file or folder"`
	FileName     string `json:"file_name,omitempty" jsonschema:"its name; absent when it could not be read"`
	Email        string `json:"email" jsonschema:"the person shared with"`
	Role         string `json:"role" enum:"reader,commenter,writer" jsonschema:"the role given"`
	OK           bool   `json:"ok" jsonschema:"whether the share worked"`
	PermissionID string `json:"permission_id,omitempty" jsonschema:"Drive's id of the permission; absent when the share failed"`
	Error        string `json:"error,omitempty" jsonschema:"why this share failed and what to do; absent when it worked"`
}

type shareOut struct {
	Results []shareResult `json:"results" jsonschema:"one entry per file and email address"`
	Shared  int           `json:"shared" jsonschema:"how many shares worked"`
	Failed  int           `json:"failed" jsonschema:"how many shares failed (see each result's error)"`
	Account string        `json:"account" jsonschema:"the Google account the tool acted as"`
}

type publicIn struct {
	AccountArg
	FileIDs []string `json:"file_ids" jsonschema:"ids of the files or folders"`
	Public  *bool    `json:"public,omitempty" jsonschema:"true (default): anyone with the link can open them; false: remove link access again"`
	Role    string   `json:"role,omitempty" enum:"reader,commenter" jsonschema:"what people with the link may do: reader (default) or commenter"`
}

type publicResult struct {
	FileID   string `json:"file_id" jsonschema:"the file or folder"`
	FileName string `json:"file_name,omitempty" jsonschema:"its name; absent when it could not be read"`
	Link     string `json:"link,omitempty" jsonschema:"the link to open it; absent when the change failed"`
	Public   bool   `json:"public" jsonschema:"whether anyone with the link can open the file now"`
	OK       bool   `json:"ok" jsonschema:"whether the change worked"`
	Error    string `json:"error,omitempty" jsonschema:"why the change failed and what to do; absent when it worked"`
}

type publicOut struct {
	Results []publicResult `json:"results" jsonschema:"one entry per file"`
	Changed int            `json:"changed" jsonschema:"how many files changed"`
	Failed  int            `json:"failed" jsonschema:"how many files could not be changed (see each result's error)"`
	Account string         `json:"account" jsonschema:"the Google account the tool acted as"`
}

func (t *tools) addShareTools(s *mcp.Server) {
	addTool(s, t.Logger, shareDriveFilesTool, t.shareDriveFiles)
	addTool(s, t.Logger, makeDriveFilesPublicTool, t.makeDriveFilesPublic)
}

func (t *tools) shareDriveFiles(ctx context.Context, req *mcp.CallToolRequest, in shareIn) (*mcp.CallToolResult, shareOut, error) {
	fileIDs := distinct(in.FileIDs, false)
	emails := distinct(in.EmailAddresses, true)
	switch {
	case len(fileIDs) == 0:
		return nil, shareOut{}, userErrorf(nil, "file_ids is empty: give the ids of the files to share (search_drive_files finds them).")
	case len(emails) == 0:
		return nil, shareOut{}, userErrorf(nil, "email_addresses is empty: give the email addresses of the people to share with.")
	case len(fileIDs)*len(emails) > maxShares:
		return nil, shareOut{}, userErrorf(nil, "%d files × %d people is %d shares, more than the %d one call makes: split them into several calls.",
			len(fileIDs), len(emails), len(fileIDs)*len(emails), maxShares)
	}
	valid := 0
	for _, e := range emails {
		if drive.CheckEmail(e) == nil {
			valid++
		}
	}
	if valid == 0 {
		return nil, shareOut{}, userErrorf(nil, "None of email_addresses is an email address (%s): give addresses like name@example.com.", strings.Join(emails, ", "))
	}
	role, err := roleArg(in.Role, drive.RoleReader, drive.RoleCommenter, drive.RoleWriter)
	if err != nil {
		return nil, shareOut{}, err
	}
	notify := in.SendNotification == nil || *in.SendNotification
	if !notify && strings.TrimSpace(in.Message) != "" {
		return nil, shareOut{}, userErrorf(nil, "message goes into the notification email, but send_notification is false: drop message or set send_notification to true.")
	}
	id, files, err := t.driveFiles(ctx, req, in.UserGoogleEmail)
	if err != nil {
		return nil, shareOut{}, err
	}
	out := shareOut{Results: []shareResult{}, Account: id.Email}
	var lines []string
	missing := false
	for _, r := range files.Share(ctx, fileIDs, emails, role, notify, in.Message) {
		res := shareResult{FileID: r.FileID, FileName: r.File.Name, Email: r.Email, Role: r.Role, PermissionID: r.PermissionID, OK: r.Err == nil}
		what := fileLabel(r.FileID, r.File.Name)
		missing = missing || errors.Is(r.Err, drive.ErrNotFound)
		if r.Err != nil {
			res.Error = t.explainShare(ctx, id.Email, r.FileID, r.Email, notify, r.Err)
			out.Failed++
			lines = append(lines, fmt.Sprintf("- %s with %s: FAILED. %s", what, r.Email, res.Error))
		} else {
			out.Shared++
			lines = append(lines, fmt.Sprintf("- %s with %s: shared as %s.", what, r.Email, r.Role))
		}
		out.Results = append(out.Results, res)
	}
	summary := fmt.Sprintf("Shared %d of %d (files × people) as %s", out.Shared, len(out.Results), id.Email)
	if notify {
		summary += "; Google emails each person"
	}
	summary += ":\n" + strings.Join(lines, "\n") + t.missingNote(ctx, id.Email, missing)
	res := text(summary)
	// Nothing worked: a tool error, still with every item's reason.
	res.IsError = out.Shared == 0
	return res, out, nil
}

// explainShare is one failed share as a sentence.
func (t *tools) explainShare(ctx context.Context, email, fileID, person string, notify bool, err error) string {
	var api *drive.APIError
	fromGoogle := errors.As(err, &api)
	switch {
	case errors.Is(err, drive.ErrInvalidArgument) && !fromGoogle:
		return fmt.Sprintf("%q is not an email address: fix it and share again with only that address.", person)
	case errors.Is(err, drive.ErrInvalidArgument) && !notify:
		return fmt.Sprintf("Google refused (%s). If %s has no Google account, share again with send_notification: true so Google can invite them.", googleSays(err), person)
	case errors.Is(err, drive.ErrInvalidArgument):
		return fmt.Sprintf("Google refused to share with %s (%s). Check the address.", person, googleSays(err))
	case errors.Is(err, drive.ErrNotFound):
		return fmt.Sprintf("Drive has no file %q that %s can see. Check the id (search_drive_files finds ids).", fileID, email)
	}
	return t.explainDrive(ctx, email, err, "").Error()
}

func (t *tools) makeDriveFilesPublic(ctx context.Context, req *mcp.CallToolRequest, in publicIn) (*mcp.CallToolResult, publicOut, error) {
	fileIDs := distinct(in.FileIDs, false)
	switch {
	case len(fileIDs) == 0:
		return nil, publicOut{}, userErrorf(nil, "file_ids is empty: give the ids of the files to share by link (search_drive_files finds them).")
	case len(fileIDs) > maxShares:
		return nil, publicOut{}, userErrorf(nil, "file_ids has %d files, more than the %d one call changes: split them into several calls.", len(fileIDs), maxShares)
	}
	public := in.Public == nil || *in.Public
	role, err := roleArg(in.Role, drive.RoleReader, drive.RoleCommenter)
	if err != nil {
		return nil, publicOut{}, err
	}
	id, files, err := t.driveFiles(ctx, req, in.UserGoogleEmail)
	if err != nil {
		return nil, publicOut{}, err
	}
	out := publicOut{Results: []publicResult{}, Account: id.Email}
	var lines []string
	missing := false
	for _, r := range files.SetPublic(ctx, fileIDs, public, role) {
		res := publicResult{FileID: r.FileID, FileName: r.File.Name, Link: r.File.WebViewLink, Public: r.Public, OK: r.Err == nil}
		what := fileLabel(r.FileID, r.File.Name)
		missing = missing || errors.Is(r.Err, drive.ErrNotFound)
		switch {
		case r.Err != nil:
			res.Error = t.explainShare(ctx, id.Email, r.FileID, "", false, r.Err)
			out.Failed++
			lines = append(lines, fmt.Sprintf("- %s: FAILED. %s", what, res.Error))
		case public:
			out.Changed++
			lines = append(lines, fmt.Sprintf("- %s: anyone with the link can open it as %s: %s", what, role, res.Link))
		default:
			out.Changed++
			lines = append(lines, fmt.Sprintf("- %s: link access removed; only people it is shared with can open it.", what))
		}
		out.Results = append(out.Results, res)
	}
	res := text(fmt.Sprintf("Changed link access of %d of %d file(s) as %s:\n%s", out.Changed, len(out.Results), id.Email, strings.Join(lines, "\n")) +
		t.missingNote(ctx, id.Email, missing))
	res.IsError = out.Changed == 0
	return res, out, nil
}

// missingNote explains, once, why files may be missing under a drive.file grant.
func (t *tools) missingNote(ctx context.Context, email string, missing bool) string {
	if !missing {
		return ""
	}
	if note := t.visibilityNote(ctx, email); note != "" {
		return "\n\n" + note
	}
	return ""
}

// roleArg checks a role argument against the allowed ones; the first is the default.
func roleArg(role string, allowed ...string) (string, error) {
	role = strings.ToLower(strings.TrimSpace(role))
	if role == "" {
		return allowed[0], nil
	}
	for _, a := range allowed {
		if role == a {
			return role, nil
		}
	}
	return "", userErrorf(nil, "role %q is not one of %s: pick one of those (or omit role for %s).", role, strings.Join(allowed, ", "), allowed[0])
}

// distinct trims, drops empty and repeated values, keeping the first
// spelling; fold compares case-insensitively (email addresses).
func distinct(values []string, fold bool) []string {
	seen := map[string]bool{}
	out := []string{}
	for _, v := range values {
		v = strings.TrimSpace(v)
		key := v
		if fold {
			key = strings.ToLower(v)
		}
		if v == "" || seen[key] {
			continue
		}
		seen[key] = true
		out = append(out, v)
	}
	return out
}

func fileLabel(id, name string) string {
	if name == "" {
		return id
	}
	return fmt.Sprintf("%q (%s)", name, id)
}
