package mcpserver

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/drivemcp/drivemcp/internal/drive"
	"github.com/drivemcp/drivemcp/internal/identity"
)

type createFolderIn struct {
	AccountArg
	SharedDriveArg
	FolderName     string `json:"folder_name,omitempty" jsonschema:"name of the new folder (may be omitted when folder_path names the folder itself)"`
	ParentFolderID string `json:"parent_folder_id,omitempty" jsonschema:"folder to create it in (default: root, i.e. My Drive)"`
	FolderPath     string `json:"folder_path,omitempty" jsonschema:"instead of parent_folder_id: a path from My Drive such as Reports/2026; folders on it are reused when they exist and created when not; default: none, the folder goes into parent_folder_id"`
}

type createFolderOut struct {
	FolderID       string   `json:"folder_id" jsonschema:"the folder's Drive id"`
	Name           string   `json:"name" jsonschema:"its name in Drive"`
	ParentFolderID string   `json:"parent_folder_id,omitempty" jsonschema:"the folder it is in; absent when Drive did not say"`
	Path           string   `json:"path,omitempty" jsonschema:"the folder's path from My Drive; absent unless folder_path was given"`
	Created        bool     `json:"created" jsonschema:"false when folder_path named a folder that already existed"`
	CreatedPaths   []string `json:"created_paths,omitempty" jsonschema:"the folders on folder_path that did not exist and were created; absent when none were"`
	WebViewLink    string   `json:"web_view_link,omitempty" jsonschema:"its link in Drive's web interface; absent when Drive gave none"`
	Account        string   `json:"account" jsonschema:"the Google account the tool acted as"`
}

func (t *tools) addFolderTools(s *mcp.Server) {
	addTool(s, t.Logger, createDriveFolderTool, t.createDriveFolder)
}

func (t *tools) createDriveFolder(ctx context.Context, req *mcp.CallToolRequest, in createFolderIn) (*mcp.CallToolResult, createFolderOut, error) {
	name := strings.TrimSpace(in.FolderName)
	if name == "" && strings.TrimSpace(in.FolderPath) == "" {
		return nil, createFolderOut{}, userErrorf(nil, "folder_name is empty: say what the new folder should be called (or give folder_path, such as Reports/2026).")
	}
	if strings.Contains(name, "/") && in.FolderPath == "" {
		// A slash in a Drive name is legal but almost never meant.
		return nil, createFolderOut{}, userErrorf(nil, "folder_name %q contains a slash: to create nested folders pass it as folder_path instead; "+
			"a single folder's name cannot contain /.", name)
	}
	if name != "" {
		if err := checkNameArg("folder_name", name); err != nil {
			return nil, createFolderOut{}, err
		}
	}
	if err := checkFolderArgs("parent_folder_id", in.ParentFolderID, in.FolderPath); err != nil {
		return nil, createFolderOut{}, err
	}
	driveID := strings.TrimSpace(in.DriveID)
	if err := checkDriveID(driveID); err != nil {
		return nil, createFolderOut{}, err
	}
	id, files, err := t.driveFiles(ctx, req, in.UserGoogleEmail)
	if err != nil {
		return nil, createFolderOut{}, err
	}
	out := createFolderOut{Account: id.Email}
	if in.FolderPath != "" {
		path := in.FolderPath
		if name != "" {
			path += "/" + name
		}
		// Fresh: the answer is the folder itself, which must exist now.
		fp, err := files.ResolveFolderPathFresh(ctx, driveID, path, true)
		if err != nil {
			return nil, createFolderOut{}, t.explainFolderPath(ctx, id.Email, path, err)
		}
		out.FolderID, out.Name, out.Path, out.WebViewLink = fp.Folder.ID, fp.Folder.Name, fp.Path, fp.Folder.WebViewLink
		out.CreatedPaths, out.Created = fp.Created, len(fp.Created) > 0
		if len(fp.Folder.Parents) > 0 {
			out.ParentFolderID = fp.Folder.Parents[0]
		}
		msg := fmt.Sprintf("The folder %s already existed; nothing was created. Folder id: %s.", fp.Path, out.FolderID)
		if out.Created {
			where := id.Email + "'s My Drive"
			if driveID != "" {
				where = "shared drive " + driveID
			}
			msg = fmt.Sprintf("Created %s in %s. Folder id: %s.", strings.Join(fp.Created, ", "), where, out.FolderID)
		}
		return text(msg), out, nil
	}
	parent := cmp.Or(strings.TrimSpace(in.ParentFolderID), driveID, "root")
	folder, err := files.CreateFolder(ctx, name, parent)
	if err != nil {
		return nil, createFolderOut{}, t.explainDrive(ctx, id.Email, err,
			fmt.Sprintf("Drive has no folder %q that this account can see. Check parent_folder_id (omit it to create the folder in My Drive).", parent))
	}
	out.FolderID, out.Name, out.WebViewLink, out.Created = folder.ID, folder.Name, folder.WebViewLink, true
	if len(folder.Parents) > 0 {
		out.ParentFolderID = folder.Parents[0]
	}
	msg := fmt.Sprintf("Created the folder %q as %s. Folder id: %s.", folder.Name, id.Email, folder.ID)
	if folder.WebViewLink != "" {
		msg += " Link: " + folder.WebViewLink
	}
	return text(msg), out, nil
}

// checkFolderArgs refuses a folder id and a folder path together: they
// would name two places.
func checkFolderArgs(idArg, folderID, folderPath string) error {
	if strings.TrimSpace(folderID) != "" && strings.TrimSpace(folderPath) != "" {
		return userErrorf(nil, "Give either %s or folder_path, not both: they name the same thing in two ways.", idArg)
	}
	if id := strings.TrimSpace(folderID); id != "" {
		if err := drive.CheckID(id); err != nil {
			return userErrorf(err, "%s %q is not a Drive folder id (ids are letters, digits, - and _), so nothing was sent to Drive. "+
				"Give the id from the folder's link (…/folders/ID), root for My Drive, or use folder_path instead.", idArg, id)
		}
	}
	if folderPath != "" {
		if _, err := drive.SplitFolderPath(folderPath); err != nil {
			return userErrorf(err, "folder_path %q names no folder: give folder names from My Drive down, separated by /, such as Reports/2026 "+
				"(no . or .., no control characters, at most 100 folders).", folderPath)
		}
	}
	return nil
}

// uploadFolder is where an upload goes: folderID (default My Drive, or the
// top of the shared drive driveID), or folderPath from there, created where
// missing.
//
// It asks Drive even for a path in the folder cache (and caches what it
// finds): its callers (moves, copies, folder uploads, fileUrl) cannot send
// again when a cached folder turns out gone. Single-file uploads, which
// can, use uploadFolderCached.
func (t *tools) uploadFolder(ctx context.Context, id identity.Identity, driveID, folderID, folderPath string) (string, error) {
	folder, _, err := t.resolveUploadFolder(ctx, id, driveID, folderID, folderPath, false)
	return folder, err
}

// uploadFolderCached is uploadFolder taking a path from the folder cache
// when it is there, and saying so: an upload that then finds the folder
// gone resolves the path again (upload).
func (t *tools) uploadFolderCached(ctx context.Context, id identity.Identity, driveID, folderID, folderPath string) (string, bool, error) {
	return t.resolveUploadFolder(ctx, id, driveID, folderID, folderPath, true)
}

func (t *tools) resolveUploadFolder(ctx context.Context, id identity.Identity, driveID, folderID, folderPath string, useCache bool) (string, bool, error) {
	driveID = strings.TrimSpace(driveID)
	if err := checkDriveID(driveID); err != nil {
		return "", false, err
	}
	if folderPath == "" {
		return cmp.Or(strings.TrimSpace(folderID), driveID, "root"), false, nil
	}
	email := id.Email
	files, err := t.filesFor(ctx, id)
	if err != nil {
		return "", false, err
	}
	resolve := files.ResolveFolderPathFresh
	if useCache {
		resolve = files.ResolveFolderPathIn
	}
	fp, err := resolve(ctx, driveID, folderPath, true)
	if err != nil {
		return "", false, t.explainFolderPath(ctx, email, folderPath, err)
	}
	return fp.Folder.ID, fp.Cached, nil
}

func (t *tools) explainFolderPath(ctx context.Context, email, path string, err error) error {
	var api *drive.APIError
	if errors.Is(err, drive.ErrInvalidArgument) && !errors.As(err, &api) {
		return userErrorf(err, "folder_path %q names no folder: give folder names from My Drive down, separated by /, such as Reports/2026 (no . or ..).", path)
	}
	return t.explainDrive(ctx, email, err, fmt.Sprintf("A folder on the path %q could not be found or created. Check folder_path.", path))
}
