package mcpserver

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/drivemcp/drivemcp/internal/drive"
	"github.com/drivemcp/drivemcp/internal/identity"
	"github.com/drivemcp/drivemcp/internal/progressbar"
	"github.com/drivemcp/drivemcp/internal/safefile"
)

type downloadIn struct {
	AccountArg
	FileID       string `json:"file_id" jsonschema:"the file to download (ids come from search_drive_files or list_drive_items)"`
	LocalPath    string `json:"local_path,omitempty" jsonschema:"stdio only: where to save it, a file or an existing folder, relative to the first download folder or absolute inside one; default: the file's Drive name in the first download folder. Ignored over HTTP, where the tool returns a link"`
	ExportFormat string `json:"export_format,omitempty" enum:"pdf,docx,xlsx,pptx,csv,md,txt" jsonschema:"for a Google Doc (docx, pdf, md, txt), Sheet (xlsx, pdf, csv) or Slides (pptx, pdf, txt): the format to export it as; default docx, xlsx or pptx. Other files download as they are and take none"`
	Overwrite    bool   `json:"overwrite,omitempty" jsonschema:"stdio only: replace a file already at local_path; default false, which refuses to touch an existing file"`
}

type downloadOut struct {
	FileID       string `json:"file_id" jsonschema:"the file's Drive id"`
	Name         string `json:"name" jsonschema:"its name in Drive"`
	MimeType     string `json:"mime_type" jsonschema:"its MIME type in Drive"`
	ExportFormat string `json:"export_format,omitempty" jsonschema:"the format a Google Doc, Sheet or Slides was exported as; absent for other files"`
	LocalPath    string `json:"local_path,omitempty" jsonschema:"stdio: the absolute path of the saved file; absent over HTTP"`
	Bytes        int64  `json:"bytes,omitempty" jsonschema:"stdio: how many bytes were saved; absent over HTTP"`
	MD5          string `json:"md5,omitempty" jsonschema:"stdio: the md5 of the saved bytes; absent over HTTP"`
	Verified     bool   `json:"verified,omitempty" jsonschema:"stdio: the saved bytes have the md5 Drive keeps for the file; absent (false) for exports, which Drive keeps no checksum of"`
	DownloadURL  string `json:"download_url,omitempty" jsonschema:"HTTP: a link that downloads the file from drivemcp, for this account only, until expires_at; absent over stdio"`
	ExpiresAt    string `json:"expires_at,omitempty" jsonschema:"HTTP: when download_url stops working (RFC 3339); absent over stdio"`
	Account      string `json:"account" jsonschema:"the Google account the tool acted as"`
}

func (t *tools) addDownloadTools(s *mcp.Server) {
	addTool(s, t.Logger, downloadDriveFileTool, t.downloadDriveFile)
}

func (t *tools) downloadDriveFile(ctx context.Context, req *mcp.CallToolRequest, in downloadIn) (*mcp.CallToolResult, downloadOut, error) {
	fileID := strings.TrimSpace(in.FileID)
	if err := drive.CheckID(fileID); err != nil {
		return nil, downloadOut{}, userErrorf(err, "file_id %q is not a Drive file id: give the id of the file to download (search_drive_files finds ids).", in.FileID)
	}
	format := strings.ToLower(strings.TrimSpace(in.ExportFormat))
	if format != "" && !containsString(drive.ExportFormats, format) {
		return nil, downloadOut{}, userErrorf(nil, "export_format %q is not one of %s: pick one, or omit it for the file's own format.", in.ExportFormat, strings.Join(drive.ExportFormats, ", "))
	}
	toDisk := t.Stdio
	if toDisk {
		if len(t.DownloadRoots) == 0 {
			return nil, downloadOut{}, userErrorf(nil, "This server saves no downloads: it was started without a download folder (~/Downloads does not exist). Restart it with --download-root DIR.")
		}
		if in.LocalPath != "" {
			if err := checkDownloadPath(t.downloadRootsFor(""), in.LocalPath); err != nil {
				return nil, downloadOut{}, explainDownloadPath(t.downloadRootsFor(""), in.LocalPath, err)
			}
		}
	} else if t.DownloadLinks == nil {
		return nil, downloadOut{}, userErrorf(nil, "This server does not hand out download links (it is not serving HTTP). Read a text file with get_drive_file_content, or open the file in Drive.")
	}
	id, files, err := t.driveFiles(ctx, req, in.UserGoogleEmail)
	if err != nil {
		return nil, downloadOut{}, err
	}
	plan, err := files.PlanDownload(ctx, fileID, format)
	if err != nil {
		return nil, downloadOut{}, t.explainDownload(ctx, id.Email, fileID, plan, err)
	}
	out := downloadOut{FileID: plan.ID, Name: plan.Name, MimeType: plan.MimeType, ExportFormat: plan.Format, Account: id.Email}
	if !toDisk {
		return t.downloadLink(id, plan, out)
	}
	roots := t.downloadRootsFor(id.Email)
	if len(roots) == 0 {
		return nil, downloadOut{}, userErrorf(nil, "No download folder of this server is open to %s. Ask the server's operator for a --download-root this account may use.", id.Email)
	}
	progress, waiting := progressReporter(ctx, req)
	if waiting != nil {
		files = files.WithOnWait(waiting)
	}
	path, res, err := SaveDownload(ctx, files, plan, roots, in.LocalPath, in.Overwrite, progress)
	if err != nil {
		return nil, downloadOut{}, t.explainDownload(ctx, id.Email, fileID, plan, err)
	}
	out.LocalPath, out.Bytes, out.MD5, out.Verified = path, res.Bytes, res.MD5, res.Verified
	msg := fmt.Sprintf("Saved %q", plan.Name)
	if plan.Format != "" {
		msg += " (exported as " + plan.Format + ")"
	}
	msg += fmt.Sprintf(" to %s: %s", path, progressbar.Bytes(res.Bytes))
	switch {
	case res.Verified:
		msg += ", md5 " + res.MD5 + " matches Drive's."
	default:
		msg += " (Drive keeps no checksum of exports)."
	}
	return text(msg), out, nil
}

func (t *tools) downloadLink(id identity.Identity, plan drive.Download, out downloadOut) (*mcp.CallToolResult, downloadOut, error) {
	var scopes []string
	if id.Method == identity.MethodOAuth {
		scopes = id.Scopes // the link reads Drive with no more than the token that asked for it
	}
	link, expires, err := t.DownloadLinks.Mint(id.Email, scopes, plan)
	if err != nil {
		return nil, downloadOut{}, err
	}
	out.DownloadURL, out.ExpiresAt = link, rfc3339(expires)
	return text(fmt.Sprintf("Download %q from %s (for %s only, until %s; it streams from Google Drive and is not saved on the server).",
		downloadName(plan), link, id.Email, expires.UTC().Format(time.RFC3339))), out, nil
}

// SaveDownload writes plan's file inside roots (the first one, under its
// Drive name, when localPath is ""), as download_drive_file does over stdio
// and the download command does: never out of the roots, never a hidden
// name, never over an existing file unless overwrite. It returns the saved
// file's absolute path. Errors about the path are sentences that say what
// to do; Drive's errors pass through.
func SaveDownload(ctx context.Context, files *drive.Files, plan drive.Download, roots []string, localPath string, overwrite bool, progress drive.Progress) (string, drive.DownloadResult, error) {
	if len(roots) == 0 {
		return "", drive.DownloadResult{}, userErrorf(errOutsideRoots, "There is no download folder: give one with --download-root DIR.")
	}
	target, err := openDownloadTarget(roots, localPath, downloadName(plan), overwrite)
	if err != nil {
		return "", drive.DownloadResult{}, explainDownloadPath(roots, cmpOr(localPath, downloadName(plan)), err)
	}
	defer target.discard()
	res, err := files.DownloadTo(ctx, plan, target.tmp, progress)
	if err != nil {
		return "", res, err
	}
	if err := target.commit(); err != nil {
		return "", res, explainDownloadPath(roots, target.path, err)
	}
	return target.path, res, nil
}

// explainDownload words a failed plan or download.
func (t *tools) explainDownload(ctx context.Context, email, fileID string, plan drive.Download, err error) error {
	if e := explainDownloadErr(plan, err); e != nil {
		return e
	}
	return t.explainDrive(ctx, email, err,
		fmt.Sprintf("Drive has no file %q that this account can see. Check file_id (search_drive_files or list_drive_items give ids).", fileID))
}

// ExplainDownload words what PlanDownload and SaveDownload refuse (nil for
// an error that is Drive's or the account's, which the caller words).
func ExplainDownload(plan drive.Download, err error) error { return explainDownloadErr(plan, err) }

func explainDownloadErr(plan drive.Download, err error) error {
	var ue *userError
	if errors.As(err, &ue) {
		return err
	}
	switch {
	case errors.Is(err, drive.ErrExportFormat):
		if formats := drive.ExportFormatsFor(plan.MimeType); len(formats) > 0 {
			return userErrorf(err, "A %s cannot be exported as that: give export_format %s (or omit it for %s).", kindOf(plan.MimeType), strings.Join(formats, ", "), formats[0])
		}
		return userErrorf(err, "%q is not a Google Doc, Sheet or Slides, so it downloads as it is: omit export_format.", plan.Name)
	case errors.Is(err, drive.ErrNotDownloadable):
		return userErrorf(err, "%q is a %s, which has no content to download. Open it at %s.", plan.Name, kindOf(plan.MimeType), cmpOr(plan.WebViewLink, "drive.google.com"))
	case errors.Is(err, drive.ErrContentTooLarge):
		return userErrorf(err, "%q is too large for Google Drive to export (Drive exports at most 10 MB). Open it at %s and download it from there.", plan.Name, cmpOr(plan.WebViewLink, "drive.google.com"))
	case errors.Is(err, drive.ErrDownloadChecksum):
		return userErrorf(err, "The bytes received for %q do not match the checksum Drive keeps for it (it may have changed during the download); nothing was saved. Download it again.", plan.Name)
	}
	var pathErr *fs.PathError
	if errors.As(err, &pathErr) {
		return userErrorf(err, "Could not write the download (%v); nothing was saved. Free some space or pick another local_path.", pathErr.Err)
	}
	return nil
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// downloadRootsFor is the download folders email may write ("" for
// every folder: only to check a path's shape before the account is known).
func (t *tools) downloadRootsFor(email string) []string {
	var dirs []string
	for _, r := range t.DownloadRoots {
		if email == "" || len(r.Accounts) == 0 || containsString(r.Accounts, email) {
			dirs = append(dirs, r.Dir)
		}
	}
	return dirs
}

// downloadName is the name a download is saved under: the Drive name made
// safe for a file system (no separators, no leading dots that would hide
// it), with the export's extension.
func downloadName(d drive.Download) string {
	name := strings.Map(func(r rune) rune {
		if r == '/' || r == '\\' || r == 0 || r < ' ' {
			return '_'
		}
		return r
	}, d.Name)
	name = strings.TrimLeft(strings.TrimSpace(name), ".")
	if name == "" {
		name = d.ID
	}
	if d.Ext != "" && !strings.EqualFold(filepath.Ext(name), d.Ext) {
		name += d.Ext
	}
	return name
}

var errDownloadExists = errors.New("a file is already there")

// checkDownloadPath refuses, before Google is asked, a local_path that is
// outside every download folder or hidden.
func checkDownloadPath(roots []string, name string) error {
	for _, root := range roots {
		rel, ok := relativeTo(root, name)
		if !ok {
			continue
		}
		if rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
			return errOutsideRoots
		}
		if safefile.Hidden(rel) {
			return errHiddenPath
		}
		return nil
	}
	return errOutsideRoots
}

// downloadTarget is a download being written: a hidden temporary file next
// to where it goes, moved into place only once complete and verified, so a
// failed download never leaves half a file under the real name.
type downloadTarget struct {
	root      *os.Root
	tmp       *os.File
	tmpRel    string
	rel, path string
	overwrite bool
	done      bool
}

// openDownloadTarget opens the temporary file of a download to name
// (local_path, or "" for fileName in the first root) inside roots. os.Root
// does the opening, so neither ".." nor a symlink leads out of the root.
func openDownloadTarget(roots []string, name, fileName string, overwrite bool) (*downloadTarget, error) {
	root, rel := roots[0], fileName
	if name != "" {
		if err := checkDownloadPath(roots, name); err != nil {
			return nil, err
		}
		for _, r := range roots {
			if got, ok := relativeTo(r, name); ok {
				root, rel = r, got
				break
			}
		}
	}
	r, err := os.OpenRoot(root)
	if err != nil {
		return nil, err
	}
	if fi, err := r.Stat(rel); err == nil && fi.IsDir() {
		rel = filepath.Join(rel, fileName) // a folder: the file goes inside it
	}
	if safefile.Hidden(rel) || safefile.HiddenIn(r, filepath.Dir(rel)) {
		r.Close()
		return nil, errHiddenPath
	}
	if dir := filepath.Dir(rel); dir != "." {
		if err := r.MkdirAll(dir, 0o755); err != nil {
			r.Close()
			return nil, rootErr(err)
		}
	}
	if _, err := r.Lstat(rel); err == nil && !overwrite {
		r.Close()
		return nil, errDownloadExists
	}
	var rnd [8]byte
	_, _ = rand.Read(rnd[:])
	tmpRel := filepath.Join(filepath.Dir(rel), "."+filepath.Base(rel)+".drivemcp-"+hex.EncodeToString(rnd[:])+".part")
	tmp, err := r.OpenFile(tmpRel, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		r.Close()
		return nil, rootErr(err)
	}
	return &downloadTarget{root: r, tmp: tmp, tmpRel: tmpRel, rel: rel, path: filepath.Join(root, rel), overwrite: overwrite}, nil
}

// rootErr turns os.Root's refusal of a path that leads out into errOutsideRoots.
func rootErr(err error) error {
	// os.Root's escape error is not exported; its text is the only way to
	// tell it from other failures (as in internal/safefile).
	if err != nil && strings.Contains(err.Error(), "path escapes from parent") {
		return errOutsideRoots
	}
	return err
}

// commit puts the finished download in place: with overwrite by renaming
// over what is there, without by a hard link, which fails if a file
// appeared there meanwhile, so nothing is ever replaced unasked.
func (d *downloadTarget) commit() error {
	if err := d.tmp.Sync(); err != nil {
		return err
	}
	if err := d.tmp.Close(); err != nil {
		return err
	}
	var err error
	if d.overwrite {
		err = d.root.Rename(d.tmpRel, d.rel)
	} else if err = d.root.Link(d.tmpRel, d.rel); errors.Is(err, fs.ErrExist) {
		err = errDownloadExists
	}
	if err != nil {
		return rootErr(err)
	}
	d.done = true
	return nil
}

// discard removes the temporary file (after commit, the link's other name).
func (d *downloadTarget) discard() {
	_ = d.tmp.Close()
	if !d.done || !d.overwrite {
		_ = d.root.Remove(d.tmpRel)
	}
	_ = d.root.Close()
}

func explainDownloadPath(roots []string, name string, err error) error {
	switch {
	case errors.Is(err, errOutsideRoots):
		return userErrorf(err, "%s is outside the download folders of this server (%s): give a path inside one, or omit local_path to save in %s.",
			name, strings.Join(roots, ", "), roots[0])
	case errors.Is(err, errHiddenPath):
		return userErrorf(err, "%s is, or is inside, a hidden file or folder (a name starting with \".\"); drivemcp does not write those, since they hold settings and keys. Give a visible path.", name)
	case errors.Is(err, errDownloadExists):
		return userErrorf(err, "%s already exists and was left as it is. Give another local_path, or overwrite: true to replace it.", name)
	}
	return userErrorf(err, "Could not save to %s (%v). Give another local_path.", name, err)
}
