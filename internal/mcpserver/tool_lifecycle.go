package mcpserver

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/drivemcp/drivemcp/internal/drive"
	"github.com/drivemcp/drivemcp/internal/identity"
)

// The file lifecycle after an upload: new content for the same file,
// moving, renaming, copying, the trash, permanent deletion and metadata.

// maxLifecycleFiles bounds one trash or delete call.
const maxLifecycleFiles = 100

type updateFileIn struct {
	AccountArg
	FileID        string `json:"file_id" jsonschema:"id of the Drive file whose content is replaced"`
	FilePath      string `json:"filepath,omitempty" jsonschema:"a local file (inside the server's upload roots) with the new content; optional: give exactly one of filepath, content, content_base64 and fileUrl"`
	Content       string `json:"content,omitempty" jsonschema:"the new content as text; optional: give exactly one of filepath, content, content_base64 and fileUrl"`
	ContentBase64 string `json:"content_base64,omitempty" jsonschema:"the new content as base64-encoded bytes; optional: give exactly one of filepath, content, content_base64 and fileUrl"`
	FileURL       string `json:"fileUrl,omitempty" jsonschema:"an http(s) URL whose body becomes the new content; only public addresses unless the server allows private ones; optional: give exactly one of filepath, content, content_base64 and fileUrl"`
	MimeType      string `json:"mime_type,omitempty" jsonschema:"the file's MIME type from now on (default: the file keeps its type)"`
	NewName       string `json:"new_name,omitempty" jsonschema:"a new name for the file (default: it keeps its name)"`
}

type fileIDIn struct {
	AccountArg
	FileID string `json:"file_id" jsonschema:"id of the Drive file or folder"`
}

type moveIn struct {
	AccountArg
	FileID     string `json:"file_id" jsonschema:"id of the Drive file or folder to move"`
	FolderID   string `json:"folder_id,omitempty" jsonschema:"the folder to move it into (root for My Drive); optional: give folder_id or folder_path"`
	FolderPath string `json:"folder_path,omitempty" jsonschema:"instead of folder_id: a folder path from My Drive such as Archive/2026; missing folders are created; optional: give folder_id or folder_path"`
}

type renameIn struct {
	AccountArg
	FileID  string `json:"file_id" jsonschema:"id of the Drive file or folder to rename"`
	NewName string `json:"new_name" jsonschema:"its new name"`
}

type copyIn struct {
	AccountArg
	FileID     string `json:"file_id" jsonschema:"id of the Drive file to copy (folders cannot be copied)"`
	NewName    string `json:"new_name,omitempty" jsonschema:"the copy's name (default: Drive names it Copy of and the original's name)"`
	FolderID   string `json:"folder_id,omitempty" jsonschema:"the folder to put the copy in (default: the original's folder)"`
	FolderPath string `json:"folder_path,omitempty" jsonschema:"instead of folder_id: a folder path from My Drive such as Archive/2026; missing folders are created; default: none"`
}

// fileOut is a file after a move, rename or copy.
type fileOut struct {
	FileID      string `json:"file_id" jsonschema:"the file's Drive id (for a copy: the new file's)"`
	Name        string `json:"name" jsonschema:"its name in Drive"`
	MimeType    string `json:"mime_type" jsonschema:"its MIME type"`
	FolderID    string `json:"folder_id,omitempty" jsonschema:"the folder it is in; absent when Drive did not say"`
	SourceID    string `json:"source_id,omitempty" jsonschema:"for a copy: the original's id; absent otherwise"`
	WebViewLink string `json:"web_view_link,omitempty" jsonschema:"its link in Drive's web interface; absent when Drive gave none"`
	Account     string `json:"account" jsonschema:"the Google account the tool acted as"`
}

type trashIn struct {
	AccountArg
	FileIDs []string `json:"file_ids" jsonschema:"ids of the files or folders (at most 100)"`
	Restore *bool    `json:"restore,omitempty" jsonschema:"true takes the files out of the trash again; default false: move them to the trash"`
}

type deleteIn struct {
	AccountArg
	FileIDs []string `json:"file_ids" jsonschema:"ids of the files or folders to delete for good (at most 100)"`
	Confirm *bool    `json:"confirm,omitempty" jsonschema:"must be true: permanent deletion cannot be undone; absent or false deletes nothing"`
}

type itemResult struct {
	FileID   string `json:"file_id" jsonschema:"the file or folder"`
	FileName string `json:"file_name,omitempty" jsonschema:"its name; absent when it could not be read"`
	OK       bool   `json:"ok" jsonschema:"whether it worked for this file"`
	Error    string `json:"error,omitempty" jsonschema:"why it failed for this file and what to do; absent when it worked"`
}

type itemsOut struct {
	Results   []itemResult `json:"results" jsonschema:"one entry per file, in the order given"`
	Succeeded int          `json:"succeeded" jsonschema:"how many files it worked for"`
	Failed    int          `json:"failed" jsonschema:"how many failed (see each result's error)"`
	Account   string       `json:"account" jsonschema:"the Google account the tool acted as"`
}

type capabilitiesOut struct {
	CanEdit     bool `json:"can_edit" jsonschema:"may change the content"`
	CanRename   bool `json:"can_rename" jsonschema:"may rename it"`
	CanShare    bool `json:"can_share" jsonschema:"may share it with others"`
	CanDownload bool `json:"can_download" jsonschema:"may download or read it"`
	CanCopy     bool `json:"can_copy" jsonschema:"may copy it"`
	CanTrash    bool `json:"can_trash" jsonschema:"may move it to the trash (only its owner may)"`
	CanDelete   bool `json:"can_delete" jsonschema:"may delete it for good"`
}

type metadataOut struct {
	FileID       string          `json:"file_id" jsonschema:"the file's Drive id"`
	Name         string          `json:"name" jsonschema:"its name"`
	MimeType     string          `json:"mime_type" jsonschema:"its MIME type"`
	IsFolder     bool            `json:"is_folder" jsonschema:"whether it is a folder"`
	Size         int64           `json:"size" jsonschema:"bytes stored (0 for folders and Google Docs, Sheets and Slides)"`
	MD5          string          `json:"md5,omitempty" jsonschema:"md5 checksum Drive keeps; absent for folders and Google Docs, Sheets and Slides"`
	Version      int64           `json:"version,omitempty" jsonschema:"Drive's version number, which grows with every change; absent when Drive did not say"`
	FolderID     string          `json:"folder_id,omitempty" jsonschema:"the folder it is in; absent for a drive's root"`
	Path         string          `json:"path" jsonschema:"its path from the root of its drive, its own name last; starts with …/ where a folder above it is not visible to this account"`
	Owners       []string        `json:"owners" jsonschema:"the owners' email addresses; empty in a shared drive, which owns its files"`
	CreatedTime  string          `json:"created_time,omitempty" jsonschema:"when it was created (RFC 3339); absent when Drive did not say"`
	ModifiedTime string          `json:"modified_time,omitempty" jsonschema:"when it last changed (RFC 3339); absent when Drive did not say"`
	WebViewLink  string          `json:"web_view_link,omitempty" jsonschema:"its link in Drive's web interface; absent when Drive gave none"`
	Trashed      bool            `json:"trashed" jsonschema:"whether it is in the trash"`
	Shared       bool            `json:"shared" jsonschema:"whether it is shared with anyone"`
	DriveID      string          `json:"drive_id,omitempty" jsonschema:"the shared drive holding it; absent in My Drive"`
	Capabilities capabilitiesOut `json:"capabilities" jsonschema:"what this account may do with it"`
	Account      string          `json:"account" jsonschema:"the Google account the tool acted as"`
}

func (t *tools) addLifecycleTools(s *mcp.Server) {
	addTool(s, t.Logger, updateDriveFileTool, t.updateDriveFile)
	addTool(s, t.Logger, moveDriveFileTool, t.moveDriveFile)
	addTool(s, t.Logger, renameDriveFileTool, t.renameDriveFile)
	addTool(s, t.Logger, copyDriveFileTool, t.copyDriveFile)
	addTool(s, t.Logger, trashDriveFilesTool, t.trashDriveFiles)
	addTool(s, t.Logger, deleteDriveFilesTool, t.deleteDriveFiles)
	addTool(s, t.Logger, getDriveFileMetadataTool, t.getDriveFileMetadata)
}

// checkFileIDArg refuses a file id Drive could never know.
func checkFileIDArg(arg, id string) error {
	if strings.TrimSpace(id) == "" {
		return userErrorf(nil, "%s is empty: give the id of a Drive file (search_drive_files or list_drive_items find it).", arg)
	}
	if err := drive.CheckID(strings.TrimSpace(id)); err != nil {
		return userErrorf(err, "%s %q is not a Drive id (ids are letters, digits, - and _), so nothing was sent to Drive. "+
			"Give the id from the file's link (…/d/ID/…) or from search_drive_files.", arg, id)
	}
	return nil
}

func (t *tools) notFound(id, email string) string {
	return fmt.Sprintf("Google Drive has no file %s that %s can see. Check file_id (search_drive_files finds files).", id, email)
}

func (t *tools) updateDriveFile(ctx context.Context, req *mcp.CallToolRequest, in updateFileIn) (*mcp.CallToolResult, uploadOut, error) {
	if err := checkFileIDArg("file_id", in.FileID); err != nil {
		return nil, uploadOut{}, err
	}
	given := 0
	for _, s := range []string{in.FilePath, in.Content, in.ContentBase64, in.FileURL} {
		if s != "" {
			given++
		}
	}
	switch {
	case given == 0:
		return nil, uploadOut{}, userErrorf(nil, "No new content: give one of filepath, content, content_base64 and fileUrl.")
	case given > 1:
		return nil, uploadOut{}, userErrorf(nil, "Give only one of filepath, content, content_base64 and fileUrl.")
	}
	if err := checkUploadArgs("new_name", in.NewName, in.MimeType, "", ""); err != nil {
		return nil, uploadOut{}, err
	}
	fileID := strings.TrimSpace(in.FileID)
	// target looks the file up once the account is known: its name and
	// type decide the upload's, and a folder is refused before any byte.
	target := func(id identity.Identity) (drive.Item, error) {
		files, err := t.filesFor(ctx, id)
		if err != nil {
			return drive.Item{}, err
		}
		it, err := files.Get(ctx, fileID)
		if err != nil {
			return it, t.explainDrive(ctx, id.Email, err, t.notFound(fileID, id.Email))
		}
		if it.IsFolder() {
			return it, userErrorf(nil, "%s is a folder, which has no content to replace. Give the id of a file; to add files to the folder use upload_file_to_drive with folder_id %s.", fileLabel(it.ID, it.Name), it.ID)
		}
		return it, nil
	}
	dest := func(it drive.Item) uploadDest {
		d := uploadDest{name: it.Name, targetID: it.ID, explicitType: in.MimeType != ""}
		if in.NewName != "" {
			d.name, d.rename = in.NewName, true
		}
		if len(it.Parents) > 0 {
			d.folderID = it.Parents[0]
		}
		return d
	}
	if in.FileURL != "" {
		return t.createFromURL(ctx, req, in.UserGoogleEmail, in.FileURL, in.MimeType, func(id identity.Identity) (uploadDest, error) {
			it, err := target(id)
			return dest(it), err
		})
	}
	id, release, err := t.uploadAs(ctx, req, in.UserGoogleEmail)
	if err != nil {
		return nil, uploadOut{}, err
	}
	defer release()
	it, err := target(id)
	if err != nil {
		return nil, uploadOut{}, err
	}
	d := dest(it)
	var src drive.Source
	mimeType := in.MimeType
	if in.FilePath != "" {
		roots := t.rootsFor(id.Email)
		f, err := openInRoots(roots, in.FilePath)
		if err != nil {
			return nil, uploadOut{}, explainOpen(roots, len(t.UploadRoots) > 0, in.FilePath, err)
		}
		defer f.Close()
		fi, err := f.Stat()
		if err != nil {
			return nil, uploadOut{}, userErrorf(err, "Could not read %s (%v).", in.FilePath, err)
		}
		src = drive.Source{ReaderAt: f, Size: fi.Size()}
		if mimeType == "" {
			mimeType = guessMIME(filepath.Base(f.Name()), io.NewSectionReader(f, 0, 512))
		}
		if isGoogleType(it.MimeType) {
			src.MediaType = importSourceType(filepath.Base(f.Name()), io.NewSectionReader(f, 0, 512))
		}
	} else {
		data, mt, err := t.inlineContent(d.name, in.Content, in.ContentBase64, mimeType)
		if err != nil {
			return nil, uploadOut{}, err
		}
		mimeType = mt
		src = drive.Source{ReaderAt: bytes.NewReader(data), Size: int64(len(data))}
		if isGoogleType(it.MimeType) {
			if in.ContentBase64 != "" {
				src.MediaType = importSourceType(d.name, bytes.NewReader(data))
			} else if tt := drive.TextImportType(it.MimeType, d.name); tt != "" {
				src.MediaType = tt + "; charset=utf-8"
			} else {
				src.MediaType = "text/plain; charset=utf-8"
			}
		}
	}
	if isGoogleType(it.MimeType) && !d.explicitType {
		// A Google Doc stays a Doc: the new bytes are converted into it.
		mimeType = it.MimeType
		if err := checkConversion(mimeType, src.MediaType); err != nil {
			return nil, uploadOut{}, err
		}
	}
	return t.upload(ctx, req, id, d, mimeType, src)
}

// destinationFolder is the folder a move or copy goes to: folder_id, or
// folder_path created where missing; "" when neither was given.
func (t *tools) destinationFolder(ctx context.Context, id identity.Identity, folderID, folderPath string) (string, error) {
	if strings.TrimSpace(folderID) == "" && strings.TrimSpace(folderPath) == "" {
		return "", nil
	}
	return t.uploadFolder(ctx, id, "", folderID, folderPath)
}

func (t *tools) moveDriveFile(ctx context.Context, req *mcp.CallToolRequest, in moveIn) (*mcp.CallToolResult, fileOut, error) {
	if err := checkFileIDArg("file_id", in.FileID); err != nil {
		return nil, fileOut{}, err
	}
	if strings.TrimSpace(in.FolderID) == "" && strings.TrimSpace(in.FolderPath) == "" {
		return nil, fileOut{}, userErrorf(nil, "Say where to move it: give folder_id (root for My Drive) or folder_path (such as Archive/2026).")
	}
	if err := checkFolderArgs("folder_id", in.FolderID, in.FolderPath); err != nil {
		return nil, fileOut{}, err
	}
	id, files, err := t.driveFiles(ctx, req, in.UserGoogleEmail)
	if err != nil {
		return nil, fileOut{}, err
	}
	folderID, err := t.destinationFolder(ctx, id, in.FolderID, in.FolderPath)
	if err != nil {
		return nil, fileOut{}, err
	}
	fileID := strings.TrimSpace(in.FileID)
	it, err := files.Move(ctx, fileID, folderID)
	if err != nil {
		return nil, fileOut{}, t.explainDrive(ctx, id.Email, err, fmt.Sprintf("Google Drive has no file %s or folder %s that %s can change. Check file_id and folder_id.", fileID, folderID, id.Email))
	}
	out := fileOutOf(it, id.Email)
	return text(fmt.Sprintf("Moved %s into folder %s.", fileLabel(it.ID, it.Name), out.FolderID)), out, nil
}

func (t *tools) renameDriveFile(ctx context.Context, req *mcp.CallToolRequest, in renameIn) (*mcp.CallToolResult, fileOut, error) {
	if err := checkFileIDArg("file_id", in.FileID); err != nil {
		return nil, fileOut{}, err
	}
	if strings.TrimSpace(in.NewName) == "" {
		return nil, fileOut{}, userErrorf(nil, "new_name is empty: say what the file should be called.")
	}
	if err := checkNameArg("new_name", in.NewName); err != nil {
		return nil, fileOut{}, err
	}
	id, files, err := t.driveFiles(ctx, req, in.UserGoogleEmail)
	if err != nil {
		return nil, fileOut{}, err
	}
	fileID := strings.TrimSpace(in.FileID)
	it, err := files.Rename(ctx, fileID, in.NewName)
	if err != nil {
		return nil, fileOut{}, t.explainDrive(ctx, id.Email, err, t.notFound(fileID, id.Email))
	}
	return text(fmt.Sprintf("Renamed %s to %q.", it.ID, it.Name)), fileOutOf(it, id.Email), nil
}

func (t *tools) copyDriveFile(ctx context.Context, req *mcp.CallToolRequest, in copyIn) (*mcp.CallToolResult, fileOut, error) {
	if err := checkFileIDArg("file_id", in.FileID); err != nil {
		return nil, fileOut{}, err
	}
	if in.NewName != "" {
		if err := checkNameArg("new_name", in.NewName); err != nil {
			return nil, fileOut{}, err
		}
	}
	if err := checkFolderArgs("folder_id", in.FolderID, in.FolderPath); err != nil {
		return nil, fileOut{}, err
	}
	id, files, err := t.driveFiles(ctx, req, in.UserGoogleEmail)
	if err != nil {
		return nil, fileOut{}, err
	}
	folderID, err := t.destinationFolder(ctx, id, in.FolderID, in.FolderPath)
	if err != nil {
		return nil, fileOut{}, err
	}
	fileID := strings.TrimSpace(in.FileID)
	it, err := files.Copy(ctx, fileID, in.NewName, folderID)
	if err != nil {
		var api *drive.APIError
		if errors.As(err, &api) && api.Reason == "cannotCopyFile" {
			return nil, fileOut{}, userErrorf(err, "Google Drive does not copy %s (Google: %s): folders cannot be copied, and an owner may forbid copying a file. "+
				"Copy the files inside a folder one by one, or ask the owner.", fileID, googleSays(err))
		}
		return nil, fileOut{}, t.explainDrive(ctx, id.Email, err, t.notFound(fileID, id.Email))
	}
	out := fileOutOf(it, id.Email)
	out.SourceID = fileID
	return text(fmt.Sprintf("Copied %s to %s in folder %s.", fileID, fileLabel(it.ID, it.Name), out.FolderID)), out, nil
}

func fileOutOf(it drive.Item, email string) fileOut {
	out := fileOut{FileID: it.ID, Name: it.Name, MimeType: it.MimeType, WebViewLink: it.WebViewLink, Account: email}
	if len(it.Parents) > 0 {
		out.FolderID = it.Parents[0]
	}
	return out
}

// checkFileIDsArg checks a list of ids before Google is asked, naming
// the first bad one.
func checkFileIDsArg(ids []string) ([]string, error) {
	ids = distinct(ids, false)
	switch {
	case len(ids) == 0:
		return nil, userErrorf(nil, "file_ids is empty: give the ids of the files (search_drive_files finds them).")
	case len(ids) > maxLifecycleFiles:
		return nil, userErrorf(nil, "file_ids has %d ids, more than the %d one call handles: split them into several calls.", len(ids), maxLifecycleFiles)
	}
	for _, id := range ids {
		if err := drive.CheckID(id); err != nil {
			return nil, userErrorf(err, "file_ids holds %q, which is not a Drive id (ids are letters, digits, - and _), so nothing was sent to Drive. Remove or correct it and call again.", id)
		}
	}
	return ids, nil
}

func (t *tools) trashDriveFiles(ctx context.Context, req *mcp.CallToolRequest, in trashIn) (*mcp.CallToolResult, itemsOut, error) {
	ids, err := checkFileIDsArg(in.FileIDs)
	if err != nil {
		return nil, itemsOut{}, err
	}
	restore := in.Restore != nil && *in.Restore
	id, files, err := t.driveFiles(ctx, req, in.UserGoogleEmail)
	if err != nil {
		return nil, itemsOut{}, err
	}
	verb := "Moved to the trash"
	if restore {
		verb = "Restored from the trash"
	}
	out := t.eachFile(ctx, req, id, ids, func(fileID string) (string, error) {
		it, err := files.SetTrashed(ctx, fileID, !restore)
		return it.Name, err
	})
	return text(summary(verb, out)), out, nil
}

func (t *tools) deleteDriveFiles(ctx context.Context, req *mcp.CallToolRequest, in deleteIn) (*mcp.CallToolResult, itemsOut, error) {
	ids, err := checkFileIDsArg(in.FileIDs)
	if err != nil {
		return nil, itemsOut{}, err
	}
	if in.Confirm == nil || !*in.Confirm {
		return nil, itemsOut{}, userErrorf(nil, "Nothing was deleted: permanent deletion cannot be undone, so it needs confirm: true. "+
			"Ask the user first, or use trash_drive_files, which can be restored for 30 days.")
	}
	id, files, err := t.driveFiles(ctx, req, in.UserGoogleEmail)
	if err != nil {
		return nil, itemsOut{}, err
	}
	out := t.eachFile(ctx, req, id, ids, func(fileID string) (string, error) {
		// The name first, so the result says what was deleted.
		it, err := files.Get(ctx, fileID)
		if err != nil {
			return "", err
		}
		return it.Name, files.Delete(ctx, fileID)
	})
	return text(summary("Deleted for good", out)), out, nil
}

// eachFile runs do for every id, one failure not stopping the others, and
// reports progress by files done.
func (t *tools) eachFile(ctx context.Context, req *mcp.CallToolRequest, id identity.Identity, ids []string, do func(fileID string) (name string, err error)) itemsOut {
	progress, _ := progressReporter(ctx, req)
	out := itemsOut{Results: make([]itemResult, 0, len(ids)), Account: id.Email}
	for i, fileID := range ids {
		r := itemResult{FileID: fileID}
		name, err := do(fileID)
		r.FileName = name
		if err != nil {
			r.Error = userText(t.explainDrive(ctx, id.Email, err, t.notFound(fileID, id.Email)))
			out.Failed++
		} else {
			r.OK = true
			out.Succeeded++
		}
		out.Results = append(out.Results, r)
		if progress != nil {
			progress(int64(i+1), int64(len(ids)))
		}
	}
	return out
}

func summary(verb string, out itemsOut) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %d of %d.", verb, out.Succeeded, out.Succeeded+out.Failed)
	for _, r := range out.Results {
		if !r.OK {
			fmt.Fprintf(&b, " %s: %s", r.FileID, r.Error)
		}
	}
	return b.String()
}

func (t *tools) getDriveFileMetadata(ctx context.Context, req *mcp.CallToolRequest, in fileIDIn) (*mcp.CallToolResult, metadataOut, error) {
	if err := checkFileIDArg("file_id", in.FileID); err != nil {
		return nil, metadataOut{}, err
	}
	id, files, err := t.driveFiles(ctx, req, in.UserGoogleEmail)
	if err != nil {
		return nil, metadataOut{}, err
	}
	fileID := strings.TrimSpace(in.FileID)
	m, err := files.GetMetadata(ctx, fileID)
	if err != nil {
		return nil, metadataOut{}, t.explainDrive(ctx, id.Email, err, t.notFound(fileID, id.Email))
	}
	c := m.Capabilities
	out := metadataOut{
		FileID: m.ID, Name: m.Name, MimeType: m.MimeType, IsFolder: m.IsFolder(), Size: m.Size, MD5: m.MD5, Version: m.Version,
		Path: m.Path, Owners: m.Owners, WebViewLink: m.WebViewLink, Trashed: m.Trashed, Shared: m.Shared, DriveID: m.DriveID,
		Capabilities: capabilitiesOut{CanEdit: c.CanEdit, CanRename: c.CanRename, CanShare: c.CanShare, CanDownload: c.CanDownload,
			CanCopy: c.CanCopy, CanTrash: c.CanTrash, CanDelete: c.CanDelete},
		Account: id.Email,
	}
	if len(m.Parents) > 0 {
		out.FolderID = m.Parents[0]
	}
	if !m.CreatedTime.IsZero() {
		out.CreatedTime = m.CreatedTime.UTC().Format(time.RFC3339)
	}
	if !m.ModifiedTime.IsZero() {
		out.ModifiedTime = m.ModifiedTime.UTC().Format(time.RFC3339)
	}
	msg := fmt.Sprintf("%s: %s, %s, at %s", fileLabel(m.ID, m.Name), m.MimeType, sizeText(m), m.Path)
	if m.Trashed {
		msg += " (in the trash)"
	}
	return text(msg + "."), out, nil
}

func sizeText(m drive.Metadata) string {
	if m.IsFolder() || m.MD5 == "" {
		return "no stored bytes"
	}
	return fmt.Sprintf("%d bytes, md5 %s", m.Size, m.MD5)
}

// userText is the sentence of an explained error for a per-file result;
// anything unexplained (a store or network failure) is logged, not quoted.
func userText(err error) string {
	var ue *userError
	if errors.As(err, &ue) {
		return ue.msg
	}
	return "drivemcp could not finish this file (an internal or network failure, logged on the server). Try again in a moment."
}
