package mcpserver

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/drivemcp/drivemcp/internal/drive"
	"github.com/drivemcp/drivemcp/internal/google"
	"github.com/drivemcp/drivemcp/internal/identity"
	"github.com/drivemcp/drivemcp/internal/progressbar"
)

// get_drive_file_content returns a page of text at a time: by default
// defaultContentBytes, at most maxContentBytes (more would not fit a
// model's context anyway), at least minContentBytes.
const (
	defaultContentBytes = 256 << 10
	maxContentBytes     = 1 << 20
	minContentBytes     = 256
)

type listItemsIn struct {
	AccountArg
	FolderID  string `json:"folder_id,omitempty" jsonschema:"the folder to list (default: root, i.e. My Drive, or with drive_id the top of that shared drive)"`
	DriveID   string `json:"drive_id,omitempty" jsonschema:"list inside this shared drive (its id, from list_shared_drives); default: none, folder_id alone says where"`
	PageSize  *int   `json:"page_size,omitempty" minimum:"1" maximum:"1000" jsonschema:"items per page, 1 to 1000 (default 100)"`
	PageToken string `json:"page_token,omitempty" jsonschema:"next_page_token of the previous page, to get the next one; default: the first page"`
}

type searchIn struct {
	AccountArg
	Query     string `json:"query" jsonschema:"words to find in file names and contents, or a Drive query such as name contains 'report' and mimeType = 'application/pdf'"`
	PageSize  *int   `json:"page_size,omitempty" minimum:"1" maximum:"1000" jsonschema:"results per page, 1 to 1000 (default 10)"`
	PageToken string `json:"page_token,omitempty" jsonschema:"next_page_token of the previous page, to get the next one (with the same query); default: the first page"`
	// A pointer: the older server searched shared drives unless told not to.
	IncludeItemsFromAllDrives *bool  `json:"include_items_from_all_drives,omitempty" jsonschema:"also search the shared drives the account belongs to (default true)"`
	DriveID                   string `json:"drive_id,omitempty" jsonschema:"search only this shared drive (its id, from the shared drive's URL); default: My Drive and, unless include_items_from_all_drives is false, every shared drive"`
}

type contentIn struct {
	AccountArg
	FileID string `json:"file_id" jsonschema:"the file to read (ids come from search_drive_files or list_drive_items)"`
	// Pointers: 0 is a valid offset, and an absent max_bytes means the default.
	Offset   *int64 `json:"offset,omitempty" minimum:"0" jsonschema:"where to start, in bytes: the next_offset of the previous page; default 0, the start of the text"`
	MaxBytes *int64 `json:"max_bytes,omitempty" minimum:"256" maximum:"1048576" jsonschema:"the most bytes of text to return, 256 to 1048576; default 262144 (256 KiB). A page never splits a character, so it may be a few bytes shorter"`
}

// driveItem is a file or folder in a listing.
type driveItem struct {
	ID           string `json:"id" jsonschema:"the file's or folder's Drive id"`
	Name         string `json:"name" jsonschema:"its name in Drive"`
	MimeType     string `json:"mime_type" jsonschema:"its MIME type; folders are application/vnd.google-apps.folder"`
	IsFolder     bool   `json:"is_folder" jsonschema:"whether it is a folder"`
	Size         int64  `json:"size,omitempty" jsonschema:"size in bytes; absent for folders and Google Docs, Sheets and Slides"`
	ModifiedTime string `json:"modified_time,omitempty" jsonschema:"when it last changed (RFC 3339); absent when Drive did not say"`
	Owner        string `json:"owner,omitempty" jsonschema:"its owner's email address; absent for files in shared drives"`
	WebViewLink  string `json:"web_view_link,omitempty" jsonschema:"its link in Drive's web interface; absent when Drive gave none"`
}

// pageOut is what list and search have in common.
type pageOut struct {
	Items         []driveItem `json:"items" jsonschema:"this page's files and folders, folders first; empty when there are none"`
	NextPageToken string      `json:"next_page_token,omitempty" jsonschema:"pass as page_token to get the next page; absent on the last page"`
	Incomplete    bool        `json:"incomplete_search,omitempty" jsonschema:"Drive did not search every shared drive; narrow the search with drive_id; absent (false) when it did"`
	// VisibilityNote is set when the grant is drive.file and so hides most of Drive.
	VisibilityNote string `json:"visibility_note,omitempty" jsonschema:"what this grant hides of Drive and how to see more; absent when it hides nothing"`
	Account        string `json:"account" jsonschema:"the Google account the tool acted as"`
}

type listItemsOut struct {
	FolderID string `json:"folder_id" jsonschema:"the folder listed (root for My Drive)"`
	pageOut
}

type searchOut struct {
	Query string `json:"query" jsonschema:"the Drive query that was run"`
	pageOut
}

type contentOut struct {
	FileID        string `json:"file_id" jsonschema:"the file's Drive id"`
	Name          string `json:"name" jsonschema:"its name in Drive"`
	MimeType      string `json:"mime_type" jsonschema:"its MIME type in Drive"`
	Size          int64  `json:"size,omitempty" jsonschema:"size in bytes; absent for Google Docs, Sheets and Slides"`
	ModifiedTime  string `json:"modified_time,omitempty" jsonschema:"when it last changed (RFC 3339); absent when Drive did not say"`
	WebViewLink   string `json:"web_view_link,omitempty" jsonschema:"its link in Drive's web interface; absent when Drive gave none"`
	Content       string `json:"content,omitempty" jsonschema:"the file's text; absent for binary files"`
	ContentFormat string `json:"content_format,omitempty" jsonschema:"MIME type of content: the file's own, or the export format of a Google Doc (text/markdown or text/plain), Sheet (text/csv) or Slides (text/plain); absent with content"`
	Exported      bool   `json:"exported,omitempty" jsonschema:"content is an export of a Google Doc, Sheet or Slides; absent (false) for other files"`
	Binary        bool   `json:"binary,omitempty" jsonschema:"the file has no text form; only its metadata is returned; absent (false) for text"`
	Note          string `json:"note,omitempty" jsonschema:"for a binary file, what it is and how to open it; for an empty file, that it is empty; absent otherwise"`
	Offset        int64  `json:"offset" jsonschema:"where content starts in the whole text, in bytes"`
	NextOffset    int64  `json:"next_offset,omitempty" jsonschema:"pass as offset to read on; absent on the last page"`
	HasMore       bool   `json:"has_more,omitempty" jsonschema:"there is more text after this page (from next_offset); absent (false) on the last page"`
	TotalBytes    int64  `json:"total_bytes,omitempty" jsonschema:"the whole text's length in bytes; absent for binary files"`
	Account       string `json:"account" jsonschema:"the Google account the tool acted as"`
}

// addDriveTools registers the tools that browse, read, organize and share
// Drive files. (Uploads are in tool_upload.go.)
func (t *tools) addDriveTools(s *mcp.Server) {
	addTool(s, t.Logger, listDriveItemsTool, t.listDriveItems)
	addTool(s, t.Logger, searchDriveFilesTool, t.searchDriveFiles)
	addTool(s, t.Logger, getDriveFileContentTool, t.getDriveFileContent)
	t.addFolderTools(s)
	t.addShareTools(s)
	t.addPermissionTools(s)
	t.addSharedDriveTools(s)
}

func (t *tools) listDriveItems(ctx context.Context, req *mcp.CallToolRequest, in listItemsIn) (*mcp.CallToolResult, listItemsOut, error) {
	pageSize, err := pageSizeArg(in.PageSize, 100)
	if err != nil {
		return nil, listItemsOut{}, err
	}
	driveID := strings.TrimSpace(in.DriveID)
	if err := checkDriveID(driveID); err != nil {
		return nil, listItemsOut{}, err
	}
	folderID := cmp.Or(strings.TrimSpace(in.FolderID), driveID, "root")
	id, files, err := t.driveFiles(ctx, req, in.UserGoogleEmail)
	if err != nil {
		return nil, listItemsOut{}, err
	}
	page, err := files.ListInDrive(ctx, driveID, folderID, pageSize, in.PageToken)
	if driveID != "" && errors.Is(err, drive.ErrNotFound) && in.PageToken == "" {
		return nil, listItemsOut{}, userErrorf(err, "There is no shared drive %q that %s belongs to, or no folder %q in it. "+
			"Check drive_id with list_shared_drives, or omit it for My Drive.", driveID, id.Email, folderID)
	}
	if in.PageToken != "" && errors.Is(err, drive.ErrInvalidArgument) {
		return nil, listItemsOut{}, badPageToken(err)
	}
	if errors.Is(err, drive.ErrNotAFolder) {
		return nil, listItemsOut{}, userErrorf(err, "folder_id %s is a file, not a folder: read it with get_drive_file_content, or give a folder's id.", folderID)
	}
	if err != nil {
		notFound := fmt.Sprintf("Drive has no folder %q that this account can see. Check folder_id (omit it to list My Drive; search_drive_files finds folder ids).", folderID)
		if in.PageToken != "" {
			notFound = "" // what Drive did not find is more likely the page
		}
		return nil, listItemsOut{}, t.explainDrive(ctx, id.Email, err, notFound)
	}
	out := listItemsOut{FolderID: folderID, pageOut: t.pageOut(ctx, id.Email, page)}
	where := "My Drive"
	if folderID == driveID && driveID != "" {
		where = "Shared drive " + driveID
	} else if folderID != "root" {
		where = "Folder " + folderID
	}
	summary := fmt.Sprintf("%s holds %d item(s) on this page:", where, len(out.Items))
	switch {
	case len(out.Items) > 0:
	case in.PageToken == "" && out.NextPageToken == "":
		summary = where + " is empty."
	default:
		summary = where + " has no items on this page."
	}
	return text(out.render(summary, "list_drive_items")), out, nil
}

func (t *tools) searchDriveFiles(ctx context.Context, req *mcp.CallToolRequest, in searchIn) (*mcp.CallToolResult, searchOut, error) {
	if strings.TrimSpace(in.Query) == "" {
		return nil, searchOut{}, userErrorf(nil, "query is empty: give words to look for, or a Drive query such as name contains 'report'.")
	}
	pageSize, err := pageSizeArg(in.PageSize, 10)
	if err != nil {
		return nil, searchOut{}, err
	}
	driveID := strings.TrimSpace(in.DriveID)
	if err := checkDriveID(driveID); err != nil {
		return nil, searchOut{}, err
	}
	allDrives := in.IncludeItemsFromAllDrives == nil || *in.IncludeItemsFromAllDrives
	id, files, err := t.driveFiles(ctx, req, in.UserGoogleEmail)
	if err != nil {
		return nil, searchOut{}, err
	}
	q, isQuery := drive.SearchQuery(in.Query)
	page, err := files.Search(ctx, q, pageSize, in.PageToken, allDrives, driveID)
	if err != nil {
		if driveID != "" && errors.Is(err, drive.ErrNotFound) {
			return nil, searchOut{}, userErrorf(err, "There is no shared drive %q that %s belongs to (Google: %s). "+
				"Check drive_id (it is the id at the end of the shared drive's URL), or omit it to search My Drive and all shared drives.",
				driveID, id.Email, googleSays(err))
		}
		if in.PageToken != "" && errors.Is(err, drive.ErrInvalidArgument) {
			return nil, searchOut{}, badPageToken(err)
		}
		if isQuery && errors.Is(err, drive.ErrInvalidArgument) {
			return nil, searchOut{}, userErrorf(err, "Drive did not accept the query %q (Google: %s). Fix the query syntax "+
				"(strings in single quotes, with \\' for a quote inside them), or search plain words instead.", q, googleSays(err))
		}
		return nil, searchOut{}, t.explainDrive(ctx, id.Email, err, "")
	}
	out := searchOut{Query: q, pageOut: t.pageOut(ctx, id.Email, page)}
	summary := fmt.Sprintf("Found %d file(s) on this page for the Drive query %s:", len(out.Items), q)
	switch {
	case len(out.Items) > 0:
	case in.PageToken == "" && out.NextPageToken == "":
		summary = "Nothing matches the Drive query " + q + "."
	default:
		summary = "Nothing on this page matches the Drive query " + q + "."
	}
	return text(out.render(summary, "search_drive_files")), out, nil
}

func (t *tools) getDriveFileContent(ctx context.Context, req *mcp.CallToolRequest, in contentIn) (*mcp.CallToolResult, contentOut, error) {
	fileID := strings.TrimSpace(in.FileID)
	if fileID == "" {
		return nil, contentOut{}, userErrorf(nil, "file_id is empty: give the id of the file to read (search_drive_files finds ids).")
	}
	offset, maxBytes := int64(0), int64(defaultContentBytes)
	if in.Offset != nil {
		if offset = *in.Offset; offset < 0 {
			return nil, contentOut{}, userErrorf(nil, "offset %d is negative: give 0 (or omit it) for the start, or the next_offset of the previous page.", offset)
		}
	}
	if in.MaxBytes != nil {
		if maxBytes = *in.MaxBytes; maxBytes < minContentBytes || maxBytes > maxContentBytes {
			return nil, contentOut{}, userErrorf(nil, "max_bytes %d is out of range: give a number from %d to %d (or omit it for %d).",
				maxBytes, minContentBytes, maxContentBytes, defaultContentBytes)
		}
	}
	id, files, err := t.driveFiles(ctx, req, in.UserGoogleEmail)
	if err != nil {
		return nil, contentOut{}, err
	}
	c, err := files.ContentPage(ctx, fileID, offset, maxBytes)
	switch {
	case errors.Is(err, drive.ErrIsFolder):
		return nil, contentOut{}, userErrorf(err, "%q is a folder, which has no content of its own: list it with list_drive_items and folder_id %s.", c.Name, c.ID)
	case errors.Is(err, drive.ErrOffsetPastEnd):
		return nil, contentOut{}, userErrorf(err, "offset %d is past the end of %q, whose text is %d bytes: give a smaller offset, or 0 to start again.", offset, c.Name, c.Total)
	case errors.Is(err, drive.ErrContentTooLarge):
		return nil, contentOut{}, userErrorf(err, "%q is too large for Google Drive to export as text (Drive exports at most 10 MB). Open it in a browser at %s, "+
			"or download it with download_drive_file.", c.Name, cmp.Or(c.WebViewLink, "drive.google.com"))
	case err != nil:
		return nil, contentOut{}, t.explainDrive(ctx, id.Email, err,
			fmt.Sprintf("Drive has no file %q that this account can see. Check file_id (search_drive_files or list_drive_items give ids).", fileID))
	}
	out := contentOut{
		FileID: c.ID, Name: c.Name, MimeType: c.MimeType, Size: c.Size, ModifiedTime: rfc3339(c.ModifiedTime),
		WebViewLink: c.WebViewLink, Content: c.Text, ContentFormat: c.Format, Exported: c.Exported, Binary: c.Binary,
		Offset: c.Offset, NextOffset: c.NextOffset, HasMore: c.More, TotalBytes: c.Total, Account: id.Email,
	}
	if c.Binary {
		out.Note = binaryNote(c)
		out.Offset, out.NextOffset, out.HasMore, out.TotalBytes = 0, 0, false, 0
		return text(out.Note), out, nil
	}
	head := fmt.Sprintf("%q (%s", c.Name, kindOf(c.MimeType))
	if c.Exported {
		head += ", exported as " + c.Format
	}
	head += "), id " + c.ID
	if c.Text == "" && c.Offset == 0 {
		out.Note = "The file is empty."
		return text(head + ": the file is empty."), out, nil
	}
	if c.Offset > 0 || c.More {
		head += fmt.Sprintf(", bytes %d to %d of %d", c.Offset, c.Offset+int64(len(c.Text)), c.Total)
	}
	tail := ""
	switch {
	case c.More:
		// The marker a model can act on: where to go on, and how.
		tail = fmt.Sprintf("\n\n[more from offset %d: call get_drive_file_content again with offset %d to read on]", c.NextOffset, c.NextOffset)
	case c.Offset > 0:
		tail = "\n\n[end of the file]"
	}
	return text(head + ":\n\n" + c.Text + tail), out, nil
}

func binaryNote(c drive.Content) string {
	var why string
	switch {
	case strings.HasPrefix(c.MimeType, "application/vnd.google-apps."):
		why = "a " + kindOf(c.MimeType) + ", which has no text export"
	case strings.HasPrefix(c.MimeType, "text/"):
		why = "not UTF-8 text"
	default:
		why = "a binary file (" + c.MimeType + ")"
	}
	note := fmt.Sprintf("%q is %s, so drivemcp returns its details but not its bytes", c.Name, why)
	if c.Size > 0 {
		note += fmt.Sprintf(": %s", progressbar.Bytes(c.Size))
	}
	if c.WebViewLink != "" {
		note += ". Open it at " + c.WebViewLink
	}
	return note + "."
}

// kindOf names a MIME type for people.
func kindOf(mimeType string) string {
	mimeType, _, _ = strings.Cut(mimeType, ";")
	switch mimeType {
	case drive.FolderMimeType:
		return "folder"
	case "application/vnd.google-apps.document":
		return "Google Doc"
	case "application/vnd.google-apps.spreadsheet":
		return "Google Sheet"
	case "application/vnd.google-apps.presentation":
		return "Google Slides"
	case "application/vnd.google-apps.form":
		return "Google Form"
	case "application/vnd.google-apps.drawing":
		return "Google Drawing"
	case "application/vnd.google-apps.shortcut":
		return "shortcut"
	}
	return mimeType
}

// driveFiles resolves the call's account and opens its Drive.
func (t *tools) driveFiles(ctx context.Context, req mcp.Request, email string) (identity.Identity, *drive.Files, error) {
	id, err := t.resolve(ctx, req, email)
	if err != nil {
		return id, nil, err
	}
	files, err := t.filesFor(ctx, id)
	return id, files, err
}

// filesFor opens the identity's Drive.
func (t *tools) filesFor(ctx context.Context, id identity.Identity) (*drive.Files, error) {
	if err := t.requireDriveGrant(ctx, id); err != nil {
		return nil, err
	}
	files, err := drive.NewFiles(ctx, t.httpClient(ctx, id), t.Grants.Upstream().Endpoints().DriveBase, t.Retry)
	if err != nil {
		return nil, userErrorf(err, "Could not set up the Google Drive client (%v). Try again in a moment.", err)
	}
	return files.WithFolderCache(t.FolderCache, id.Email), nil
}

// pageSizeArg checks page_size, applying the tool's default when absent.
func pageSizeArg(p *int, def int) (int, error) {
	if p == nil {
		return def, nil
	}
	if *p < 1 || *p > drive.MaxPageSize {
		return 0, userErrorf(nil, "page_size %d is out of range: give a number from 1 to %d (or omit it for %d).", *p, drive.MaxPageSize, def)
	}
	return *p, nil
}

func badPageToken(err error) error {
	return userErrorf(err, "page_token is not valid here (Google: %s): pass the next_page_token of the previous page with the same other arguments, "+
		"or omit page_token to start from the first page.", googleSays(err))
}

func (t *tools) pageOut(ctx context.Context, email string, p drive.Page) pageOut {
	out := pageOut{Items: make([]driveItem, 0, len(p.Items)), NextPageToken: p.NextPageToken, Incomplete: p.Incomplete, Account: email}
	for _, it := range p.Items {
		out.Items = append(out.Items, itemOut(it))
	}
	out.VisibilityNote = t.visibilityNote(ctx, email)
	return out
}

func itemOut(it drive.Item) driveItem {
	return driveItem{
		ID: it.ID, Name: it.Name, MimeType: it.MimeType, IsFolder: it.IsFolder(), Size: it.Size,
		ModifiedTime: rfc3339(it.ModifiedTime), Owner: it.Owner, WebViewLink: it.WebViewLink,
	}
}

// render writes a page for people: what it is, one line per item, then
// how to go on.
func (p pageOut) render(summary, tool string) string {
	var b strings.Builder
	b.WriteString(summary)
	for _, it := range p.Items {
		b.WriteString("\n- ")
		b.WriteString(it.line())
	}
	if p.NextPageToken != "" {
		fmt.Fprintf(&b, "\n\nMore items: call %s again with the same arguments and page_token %q.", tool, p.NextPageToken)
	}
	if p.Incomplete {
		b.WriteString("\n\nDrive did not search every shared drive; give drive_id to search one completely.")
	}
	if p.VisibilityNote != "" {
		b.WriteString("\n\n" + p.VisibilityNote)
	}
	return b.String()
}

func (it driveItem) line() string {
	if it.IsFolder {
		return fmt.Sprintf("%s/ (folder) id: %s", it.Name, it.ID)
	}
	parts := []string{kindOf(it.MimeType)}
	if it.Size > 0 {
		parts = append(parts, progressbar.Bytes(it.Size))
	}
	if it.ModifiedTime != "" {
		parts = append(parts, "modified "+it.ModifiedTime)
	}
	return fmt.Sprintf("%s (%s) id: %s", it.Name, strings.Join(parts, ", "), it.ID)
}

// visibilityNote warns, for a drive.file grant, that Drive shows drivemcp
// only part of the account's files, and says how to see more.
func (t *tools) visibilityNote(ctx context.Context, email string) string {
	acct, err := t.Grants.Account(ctx, email)
	if err != nil || !onlyDriveFile(acct.Scopes) {
		return ""
	}
	return "Only files that drivemcp created, or that you opened with it, are visible: this account granted drivemcp the drive.file scope. " +
		`To see every file, call start_google_auth with scope: "readonly" and force: true, and consent again.`
}

func onlyDriveFile(scopes []string) bool {
	return slices.Contains(scopes, google.ScopeDriveFile) &&
		!slices.Contains(scopes, google.ScopeDrive) && !slices.Contains(scopes, google.ScopeDriveReadonly)
}

// explainDrive turns a failed Drive call into a sentence that says what to
// do. notFound is the sentence for drive.ErrNotFound ("" for a generic one).
func (t *tools) explainDrive(ctx context.Context, email string, err error, notFound string) error {
	if e := t.explain(err); e != err {
		return e
	}
	if e, ok := explainReason(err, email); ok {
		return e
	}
	says := googleSays(err)
	switch {
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return userErrorf(err, "The call was cancelled before Google Drive answered; nothing more was done.")
	case errors.Is(err, drive.ErrNotFound):
		if notFound == "" {
			notFound = fmt.Sprintf("Google Drive answered that it has no such item (%s). Check the ids and tokens you passed, or start over without page_token.", says)
		}
		if note := t.visibilityNote(ctx, email); note != "" {
			notFound += " " + note
		}
		return userErrorf(err, "%s", notFound)
	case errors.Is(err, drive.ErrInsufficientScope):
		return userErrorf(err, "drivemcp's access to %s does not allow this (Google: %s). Call start_google_auth with force: true "+
			`(and scope: "full" to change files drivemcp did not create) and consent again.`, email, says)
	case errors.Is(err, drive.ErrPermissionDenied):
		return userErrorf(err, "Google refused (%s): %s may not do this to the file. Ask its owner for access, or pick a file you own.", says, email)
	case errors.Is(err, drive.ErrInvalidArgument):
		return userErrorf(err, "Google Drive rejected the request (%s). Check the arguments and call again.", says)
	}
	var api *drive.APIError
	if errors.As(err, &api) {
		return userErrorf(err, "Google Drive failed (%s). Try again in a moment.", says)
	}
	// Not Google's answer: the store behind the account's token, or the
	// network, whose words stay in the log (see internalError).
	return err
}

// googleSays is Google's own message in an error, without its final period.
func googleSays(err error) string {
	var api *drive.APIError
	if errors.As(err, &api) {
		return strings.TrimSuffix(strings.TrimSpace(api.Message), ".")
	}
	return strings.TrimSuffix(err.Error(), ".")
}

func rfc3339(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}
