package mcpserver

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/drivemcp/drivemcp/internal/drive"
	"github.com/drivemcp/drivemcp/internal/identity"
	"github.com/drivemcp/drivemcp/internal/progressbar"
	"github.com/drivemcp/drivemcp/internal/safefile"
)

type uploadFolderIn struct {
	AccountArg
	LocalPath   string `json:"local_path" jsonschema:"the local folder to upload, with everything below it; absolute, or relative to an upload root"`
	FolderID    string `json:"folder_id,omitempty" jsonschema:"Drive folder whose content becomes a mirror of local_path (default: root, i.e. My Drive)"`
	FolderPath  string `json:"folder_path,omitempty" jsonschema:"instead of folder_id: a folder path from My Drive such as Backups/project; missing folders are created; default: none, folder_id is used"`
	IfExists    string `json:"if_exists,omitempty" enum:"new,update,skip_unchanged,fail" jsonschema:"what to do when the Drive folder already has a file of the same name: new (another file beside it), update (replace its content, keeping its id), skip_unchanged (nothing when its md5 is the same, else update) or fail (report it, naming its id); default skip_unchanged. Where Drive holds several files of that name, only new touches any."`
	Concurrency *int   `json:"concurrency,omitempty" minimum:"1" maximum:"16" jsonschema:"how many files upload at once, 1 to 16 (default 4)"`
}

type folderFileOut struct {
	Path    string `json:"path" jsonschema:"the file's path below local_path, with / separators"`
	Outcome string `json:"outcome" enum:"uploaded,updated,skipped_unchanged,failed" jsonschema:"uploaded (a new Drive file), updated (new content for the same-named file, same id), skipped_unchanged (the Drive file has the same md5) or failed"`
	FileID  string `json:"file_id,omitempty" jsonschema:"the Drive file's id; absent when none was made or found"`
	Size    int64  `json:"size,omitempty" jsonschema:"its size in bytes; absent when failed"`
	MD5     string `json:"md5,omitempty" jsonschema:"the md5 Drive reports, checked against the local file's; absent when failed"`
	Error   string `json:"error,omitempty" jsonschema:"why it failed and what to do; absent unless failed"`
}

type folderSkipOut struct {
	Path   string `json:"path" jsonschema:"the local entry left out, below local_path"`
	Reason string `json:"reason" jsonschema:"why it was left out"`
}

type uploadFolderOut struct {
	LocalPath        string          `json:"local_path" jsonschema:"the local folder uploaded"`
	FolderID         string          `json:"folder_id" jsonschema:"the Drive folder it was mirrored into (root for My Drive)"`
	Uploaded         int             `json:"uploaded" jsonschema:"files uploaded as new Drive files"`
	Updated          int             `json:"updated" jsonschema:"files whose Drive copy got new content, keeping its id"`
	SkippedUnchanged int             `json:"skipped_unchanged" jsonschema:"files whose Drive copy already had the same md5"`
	Failed           int             `json:"failed" jsonschema:"files that could not be uploaded; each says why in files"`
	BytesSent        int64           `json:"bytes_sent" jsonschema:"bytes of the files uploaded or updated"`
	FoldersCreated   []string        `json:"folders_created" jsonschema:"local folders (below local_path) that were created in Drive; empty when all existed"`
	Files            []folderFileOut `json:"files" jsonschema:"every file's outcome, by path"`
	Skipped          []folderSkipOut `json:"skipped" jsonschema:"local entries left out on purpose (hidden files and folders, symbolic links to hidden files, out of local_path or to folders, special files); empty when none"`
	Account          string          `json:"account" jsonschema:"the Google account the tool acted as"`
}

func (t *tools) addFolderUploadTools(s *mcp.Server) {
	addTool(s, t.Logger, uploadFolderToDriveTool, t.uploadFolderToDrive)
}

func (t *tools) uploadFolderToDrive(ctx context.Context, req *mcp.CallToolRequest, in uploadFolderIn) (*mcp.CallToolResult, uploadFolderOut, error) {
	if strings.TrimSpace(in.LocalPath) == "" {
		return nil, uploadFolderOut{}, userErrorf(nil, "local_path is empty: give the path of the local folder to upload.")
	}
	mode, err := drive.ParseIfExists(in.IfExists, drive.IfExistsSkipUnchanged)
	if err != nil {
		return nil, uploadFolderOut{}, userErrorf(err, "if_exists %q is not one of new, update, skip_unchanged and fail: pick one, or leave it out for skip_unchanged.", in.IfExists)
	}
	concurrency := drive.DefaultFolderConcurrency
	if in.Concurrency != nil {
		if *in.Concurrency < 1 || *in.Concurrency > drive.MaxFolderConcurrency {
			return nil, uploadFolderOut{}, userErrorf(nil, "concurrency %d is not between 1 and %d: give a number in that range, or leave it out for %d.",
				*in.Concurrency, drive.MaxFolderConcurrency, drive.DefaultFolderConcurrency)
		}
		concurrency = *in.Concurrency
	}
	if err := checkFolderArgs("folder_id", in.FolderID, in.FolderPath); err != nil {
		return nil, uploadFolderOut{}, err
	}
	id, err := t.resolve(ctx, req, in.UserGoogleEmail)
	if err != nil {
		return nil, uploadFolderOut{}, err
	}
	roots := t.rootsFor(id.Email)
	dir, err := openDirInRoots(roots, in.LocalPath)
	if err != nil {
		return nil, uploadFolderOut{}, explainOpenDir(roots, len(t.UploadRoots) > 0, in.LocalPath, err)
	}
	defer dir.Close()
	release, err := t.uploadSlot(ctx, req, id.Email)
	if err != nil {
		return nil, uploadFolderOut{}, err
	}
	defer release()
	folderID, err := t.uploadFolder(ctx, id, "", in.FolderID, in.FolderPath)
	if err != nil {
		return nil, uploadFolderOut{}, err
	}
	files, err := t.filesFor(ctx, id)
	if err != nil {
		return nil, uploadFolderOut{}, err
	}
	progress, waiting := folderProgress(ctx, req)
	sync := &drive.FolderSync{
		Files:       files,
		Uploader:    t.uploader(ctx, id, waiting),
		Concurrency: concurrency,
		IfExists:    mode,
		Progress:    progress,
	}
	started := time.Now()
	rep, err := sync.Run(ctx, dir, folderID)
	if err != nil && rep.Files == nil {
		return nil, uploadFolderOut{}, t.explainDrive(ctx, id.Email, err,
			fmt.Sprintf("Drive has no folder %q that this account can see. Check folder_id (omit it to upload into My Drive).", folderID))
	}
	out := t.folderOut(id, in.LocalPath, folderID, rep)
	t.Logger.Info("folder uploaded", "files", len(rep.Files), "uploaded", rep.Uploaded, "updated", rep.Updated,
		"unchanged", rep.Unchanged, "failed", rep.Failed, "bytes", rep.BytesSent, "list_requests", rep.ListRequests,
		"duration", time.Since(started).Round(time.Millisecond))
	msg := fmt.Sprintf("Uploaded the folder %s to Google Drive as %s (folder id %s): %d uploaded, %d updated, %d skipped unchanged, %d failed; %s sent.",
		in.LocalPath, id.Email, folderID, out.Uploaded, out.Updated, out.SkippedUnchanged, out.Failed, progressbar.Bytes(out.BytesSent))
	if len(out.Skipped) > 0 {
		names := make([]string, len(out.Skipped))
		for i, s := range out.Skipped {
			names[i] = s.Path
		}
		msg += fmt.Sprintf(" Left out on purpose: %s.", strings.Join(names, ", "))
	}
	for _, f := range out.Files {
		if f.Outcome == string(drive.OutcomeFailed) {
			msg += fmt.Sprintf(" %s failed: %s", f.Path, f.Error)
		}
	}
	if err != nil { // cancelled part way
		msg += " The upload was cancelled before every file was done; call again to finish: unchanged files are skipped."
	}
	res := text(msg)
	res.IsError = out.Failed > 0 && out.Uploaded+out.Updated+out.SkippedUnchanged == 0
	return res, out, nil
}

// folderOut is the tool's answer from the run's report.
func (t *tools) folderOut(id identity.Identity, localPath, folderID string, rep drive.SyncReport) uploadFolderOut {
	out := uploadFolderOut{
		LocalPath: localPath, FolderID: folderID, Account: id.Email,
		Uploaded: rep.Uploaded, Updated: rep.Updated, SkippedUnchanged: rep.Unchanged, Failed: rep.Failed,
		BytesSent: rep.BytesSent, FoldersCreated: rep.FoldersCreated,
		Files: make([]folderFileOut, len(rep.Files)), Skipped: make([]folderSkipOut, len(rep.Skipped)),
	}
	for i, f := range rep.Files {
		fo := folderFileOut{Path: f.Path, Outcome: string(f.Outcome), FileID: f.File.ID}
		if f.Err != nil {
			fo.Error = t.explainFolderFile(id.Email, f.Path, f.Err)
		} else {
			fo.Size, fo.MD5 = f.File.Size, f.File.MD5
		}
		out.Files[i] = fo
	}
	for i, s := range rep.Skipped {
		out.Skipped[i] = folderSkipOut{Path: s.Path, Reason: s.Reason}
	}
	return out
}

// explainFolderFile is one failed file's sentence.
func (t *tools) explainFolderFile(email, path string, err error) string {
	var exists *drive.ExistsError
	switch {
	case errors.As(err, &exists) && errors.Is(err, drive.ErrAmbiguousName):
		return fmt.Sprintf("Drive has %d files named %q in that folder (ids %s), so none was touched. Remove or rename the extra ones, or call with if_exists new.",
			len(exists.Files), exists.Name, itemIDs(exists.Files))
	case errors.As(err, &exists):
		return fmt.Sprintf("Drive already has %q in that folder (id %s), and if_exists is fail. Call with if_exists update or skip_unchanged to replace it.", exists.Name, exists.Files[0].ID)
	case errors.Is(err, drive.ErrExists):
		return fmt.Sprintf("Drive has a folder named like %s where the file would go; rename one of them.", path)
	}
	e := t.explainUpload(email, path, "", err)
	var ue *userError
	if errors.As(e, &ue) {
		return ue.msg
	}
	// Not Google's answer (a store or network failure): its words stay in
	// the log, as for every upload.
	t.Logger.Warn("folder upload: a file failed", "err", err)
	return "drivemcp could not upload it (a failure on the server's side, logged). Call again: files already uploaded are skipped."
}

// folderProgress sends MCP progress notifications by bytes, with the files
// done in the message, when the client gave a progress token.
func folderProgress(ctx context.Context, req *mcp.CallToolRequest) (func(drive.SyncProgress), func(time.Duration)) {
	if req.Params == nil || req.Session == nil {
		return nil, nil
	}
	token := req.Params.GetProgressToken()
	if token == nil {
		return nil, nil
	}
	var mu sync.Mutex
	var last, lastTotal float64
	notify := func(p *mcp.ProgressNotificationParams) {
		_ = req.Session.NotifyProgress(ctx, p) // progress is best effort
	}
	progress := func(sp drive.SyncProgress) {
		mu.Lock()
		// MCP wants every notification's progress larger than the last.
		last, lastTotal = max(float64(sp.BytesDone), math.Nextafter(last, math.Inf(1))), float64(sp.BytesTotal)
		p := &mcp.ProgressNotificationParams{ProgressToken: token, Progress: last, Total: lastTotal,
			Message: fmt.Sprintf("%s of %s, %d of %d files", progressbar.Bytes(sp.BytesDone), progressbar.Bytes(sp.BytesTotal), sp.FilesDone, sp.FilesTotal)}
		mu.Unlock()
		notify(p)
	}
	waiting := func(left time.Duration) {
		mu.Lock()
		last = math.Nextafter(last, math.Inf(1))
		p := &mcp.ProgressNotificationParams{ProgressToken: token, Progress: last, Total: lastTotal,
			Message: fmt.Sprintf("Google asked drivemcp to slow down or failed for a moment; trying again in %s", left.Round(time.Second))}
		mu.Unlock()
		notify(p)
	}
	return progress, waiting
}

// errNotADir is a local_path that names a file.
var errNotADir = errors.New("not a directory")

// openDirInRoots opens a directory inside one of roots as an os.Root, so
// that nothing read below it can lead out of it (a symlink out is refused
// when used, and skipped by the walk).
func openDirInRoots(roots []string, name string) (*os.Root, error) {
	return inRoots(roots, name, func(root, rel string) (*os.Root, error) {
		d, err := safefile.OpenDir(root, rel)
		switch {
		case errors.Is(err, safefile.ErrEscapes):
			return nil, errOutsideRoots
		case errors.Is(err, safefile.ErrNotDir):
			return nil, errNotADir
		}
		return d, err
	})
}

func explainOpenDir(roots []string, configured bool, name string, err error) error {
	switch {
	case errors.Is(err, errNotADir):
		return userErrorf(err, "%s is not a folder. Give a folder to upload_folder_to_drive, or upload the file with upload_file_to_drive.", name)
	case errors.Is(err, fs.ErrNotExist):
		return userErrorf(err, "There is no folder %s in the upload roots (%s). Check the path and call again.", name, strings.Join(roots, ", "))
	}
	return explainOpen(roots, configured, name, err)
}
