package mcpserver

import (
	"bytes"
	"cmp"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"mime"
	"net/http"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/drivemcp/drivemcp/internal/drive"
	"github.com/drivemcp/drivemcp/internal/identity"
	"github.com/drivemcp/drivemcp/internal/progressbar"
)

type uploadFileIn struct {
	AccountArg
	SharedDriveArg
	FilePath   string `json:"filepath" jsonschema:"path of the local file to upload; absolute, or relative to an upload root"`
	FolderID   string `json:"folder_id,omitempty" jsonschema:"Drive folder to upload into (default: root, i.e. My Drive)"`
	FolderPath string `json:"folder_path,omitempty" jsonschema:"instead of folder_id: a folder path from My Drive such as Reports/2026; missing folders are created; default: none, the file goes into folder_id"`
	FileName   string `json:"filename,omitempty" jsonschema:"name of the file in Drive (default: the local file's name)"`
	MimeType   string `json:"mime_type,omitempty" jsonschema:"MIME type (default: guessed from the name and content)"`
	IfExists   string `json:"if_exists,omitempty" enum:"new,update,skip_unchanged,fail" jsonschema:"when the folder already has a file of this name: new makes another (the default, as Drive does), update replaces its content keeping its id, skip_unchanged does nothing if its md5 equals this content's and updates it otherwise, fail stops and names it; where several files have the name, nothing is touched"`
}

type createFileIn struct {
	AccountArg
	SharedDriveArg
	FileName      string `json:"file_name" jsonschema:"name of the new file in Drive"`
	Content       string `json:"content,omitempty" jsonschema:"text content of the file; optional: give exactly one of content, content_base64 and fileUrl"`
	ContentBase64 string `json:"content_base64,omitempty" jsonschema:"binary content, base64-encoded (instead of content); optional: give exactly one of content, content_base64 and fileUrl"`
	FileURL       string `json:"fileUrl,omitempty" jsonschema:"an http(s) URL whose body becomes the file (instead of content); only public addresses unless the server allows private ones; optional: give exactly one of content, content_base64 and fileUrl"`
	FolderID      string `json:"folder_id,omitempty" jsonschema:"Drive folder to create the file in (default: root)"`
	FolderPath    string `json:"folder_path,omitempty" jsonschema:"instead of folder_id: a folder path from My Drive such as Reports/2026; missing folders are created; default: none, the file goes into folder_id"`
	MimeType      string `json:"mime_type,omitempty" jsonschema:"MIME type (default: text/plain for content, guessed otherwise)"`
	IfExists      string `json:"if_exists,omitempty" enum:"new,update,skip_unchanged,fail" jsonschema:"when the folder already has a file of this name: new makes another (the default, as Drive does), update replaces its content keeping its id, skip_unchanged does nothing if its md5 equals this content's and updates it otherwise, fail stops and names it; where several files have the name, nothing is touched"`
}

// uploadOut describes a file now in Drive.
type uploadOut struct {
	FileID   string `json:"file_id" jsonschema:"the new file's Drive id"`
	Name     string `json:"name" jsonschema:"its name in Drive"`
	MimeType string `json:"mime_type" jsonschema:"its MIME type in Drive"`
	Size     int64  `json:"size" jsonschema:"bytes stored (0 for a Google Doc or Sheet converted from text)"`
	MD5      string `json:"md5,omitempty" jsonschema:"md5 checksum Drive computed; drivemcp checked it against its own. Absent for a file Drive converted into a Google Doc, Sheet or Slides: Drive keeps no checksum of those"`
	// ConvertedFrom is the type of the bytes Drive converted, for a
	// Google Workspace file; no checksum exists to compare then.
	ConvertedFrom string `json:"converted_from,omitempty" jsonschema:"for a file Drive converted into a Google type: the type of the bytes it was made from; absent for files kept as uploaded"`
	FolderID      string `json:"folder_id,omitempty" jsonschema:"the folder it is in; absent when Drive did not say"`
	WebViewLink   string `json:"web_view_link,omitempty" jsonschema:"its link in Drive's web interface; absent when Drive gave none"`
	Account       string `json:"account" jsonschema:"the Google account the tool acted as"`
	// Outcome says which if_exists branch was taken.
	Outcome string `json:"outcome" enum:"created,updated,skipped_unchanged" jsonschema:"created: a new file; updated: an existing file got the new content as a new version, same id; skipped_unchanged: the existing file already had these bytes and nothing was sent"`
	Version int64  `json:"version,omitempty" jsonschema:"Drive's version number of the file after the call, which grows with every change; absent when Drive did not say"`
}

// uploadDest is where an upload's bytes go: a new file named name in
// folderID (subject to ifExists), or, with targetID, a new version of
// that file (renamed to name when rename is set).
type uploadDest struct {
	name     string
	folderID string
	ifExists drive.IfExists
	targetID string
	rename   bool
	// explicitType: mime_type was given, so an update sets it as the
	// file's type; otherwise the file keeps its own.
	explicitType bool
	// md5 is the content's md5 when the caller knows it without reading
	// the bytes (an upload session's declared md5); "" otherwise.
	md5 string
	// again, set when folderID came from the folder cache, resolves the
	// folder path anew: the upload's 404 says the cached folder is gone.
	again func() (string, error)
}

func (t *tools) addUploadTools(s *mcp.Server) {
	addTool(s, t.Logger, uploadFileToDriveTool, t.uploadFile)
	addTool(s, t.Logger, createDriveFileTool, t.createFile)
}

func (t *tools) uploadFile(ctx context.Context, req *mcp.CallToolRequest, in uploadFileIn) (*mcp.CallToolResult, uploadOut, error) {
	if strings.TrimSpace(in.FilePath) == "" {
		return nil, uploadOut{}, userErrorf(nil, "filepath is empty: give the path of the local file to upload.")
	}
	if err := checkUploadArgs("filename", in.FileName, in.MimeType, in.FolderID, in.FolderPath); err != nil {
		return nil, uploadOut{}, err
	}
	ifExists, err := ifExistsArg(in.IfExists)
	if err != nil {
		return nil, uploadOut{}, err
	}
	id, release, err := t.uploadAs(ctx, req, in.UserGoogleEmail)
	if err != nil {
		return nil, uploadOut{}, err
	}
	defer release()
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
	name := in.FileName
	if name == "" {
		name = filepath.Base(f.Name())
		if err := drive.CheckName(name); err != nil {
			return nil, uploadOut{}, userErrorf(err, "The local file's name %s, so nothing was uploaded. "+
				"Pass filename with the name it should have in Drive.", nameProblem(name))
		}
	}
	mimeType := in.MimeType
	if mimeType == "" {
		mimeType = guessMIME(name, io.NewSectionReader(f, 0, 512))
	}
	src := drive.Source{ReaderAt: f, Size: fi.Size()}
	if isGoogleType(mimeType) {
		src.MediaType = importSourceType(filepath.Base(f.Name()), io.NewSectionReader(f, 0, 512))
		if err := checkConversion(mimeType, src.MediaType); err != nil {
			return nil, uploadOut{}, err
		}
	}
	dest, err := t.uploadDestFor(ctx, id, in.DriveID, in.FolderID, in.FolderPath)
	if err != nil {
		return nil, uploadOut{}, err
	}
	dest.name, dest.ifExists, dest.explicitType = name, ifExists, in.MimeType != ""
	return t.upload(ctx, req, id, dest, mimeType, src)
}

func (t *tools) createFile(ctx context.Context, req *mcp.CallToolRequest, in createFileIn) (*mcp.CallToolResult, uploadOut, error) {
	if strings.TrimSpace(in.FileName) == "" {
		return nil, uploadOut{}, userErrorf(nil, "file_name is empty: say what the new Drive file should be called.")
	}
	given := 0
	for _, s := range []string{in.Content, in.ContentBase64, in.FileURL} {
		if s != "" {
			given++
		}
	}
	if given > 1 {
		return nil, uploadOut{}, userErrorf(nil, "Give only one of content, content_base64 and fileUrl.")
	}
	if err := checkUploadArgs("file_name", in.FileName, in.MimeType, in.FolderID, in.FolderPath); err != nil {
		return nil, uploadOut{}, err
	}
	ifExists, err := ifExistsArg(in.IfExists)
	if err != nil {
		return nil, uploadOut{}, err
	}
	if in.FileURL != "" {
		if ifExists == drive.IfExistsSkipUnchanged {
			return nil, uploadOut{}, userErrorf(nil, "if_exists skip_unchanged compares checksums before sending, but fileUrl is streamed into Drive "+
				"without being held here, so its checksum is not known in advance. Use if_exists update (or new), or download the file and use upload_file_to_drive.")
		}
		return t.createFromURL(ctx, req, in.UserGoogleEmail, in.FileURL, in.MimeType, func(id identity.Identity) (uploadDest, error) {
			folderID, err := t.uploadFolder(ctx, id, in.DriveID, in.FolderID, in.FolderPath)
			return uploadDest{name: in.FileName, folderID: folderID, ifExists: ifExists, explicitType: in.MimeType != ""}, err
		})
	}
	id, release, err := t.uploadAs(ctx, req, in.UserGoogleEmail)
	if err != nil {
		return nil, uploadOut{}, err
	}
	defer release()
	data, mimeType, err := t.inlineContent(in.FileName, in.Content, in.ContentBase64, in.MimeType)
	if err != nil {
		return nil, uploadOut{}, err
	}
	src := drive.Source{ReaderAt: bytes.NewReader(data), Size: int64(len(data))}
	if isGoogleType(mimeType) {
		// What the bytes are decides the conversion: Drive imports a Sheet
		// from CSV or TSV, never from plain text.
		if in.ContentBase64 != "" {
			src.MediaType = importSourceType(in.FileName, bytes.NewReader(data))
		} else if tt := drive.TextImportType(mimeType, in.FileName); tt != "" {
			src.MediaType = tt + "; charset=utf-8"
		} else {
			src.MediaType = "text/plain; charset=utf-8"
		}
		if err := checkConversion(mimeType, src.MediaType); err != nil {
			return nil, uploadOut{}, err
		}
	}
	dest, err := t.uploadDestFor(ctx, id, in.DriveID, in.FolderID, in.FolderPath)
	if err != nil {
		return nil, uploadOut{}, err
	}
	dest.name, dest.ifExists, dest.explicitType = in.FileName, ifExists, in.MimeType != ""
	return t.upload(ctx, req, id, dest, mimeType, src)
}

// uploadDestFor is the folder an upload goes into (see uploadFolder), with
// the way to resolve its path again when it came from the cache.
func (t *tools) uploadDestFor(ctx context.Context, id identity.Identity, driveID, folderID, folderPath string) (uploadDest, error) {
	folder, cached, err := t.uploadFolderCached(ctx, id, driveID, folderID, folderPath)
	d := uploadDest{folderID: folder}
	if cached {
		d.again = func() (string, error) {
			t.FolderCache.Forget(id.Email)
			return t.uploadFolder(ctx, id, driveID, folderID, folderPath)
		}
	}
	return d, err
}

// inlineContent is the bytes of content or content_base64 (within the
// inline limit) and their MIME type: mimeType when given, else guessed
// from name (and, for bytes, their start); text defaults to text/plain.
func (t *tools) inlineContent(name, content, contentBase64, mimeType string) ([]byte, string, error) {
	if contentBase64 != "" {
		if int64(base64.StdEncoding.DecodedLen(len(contentBase64))) > t.MaxInlineBytes {
			return nil, "", userErrorf(nil, "content_base64 is larger than %d MiB: save the file locally and use a filepath instead.", t.MaxInlineBytes>>20)
		}
		data, err := decodeBase64(contentBase64)
		if err != nil {
			return nil, "", userErrorf(err, "content_base64 is not valid base64 (%v): encode the bytes with standard base64 and call again.", err)
		}
		if mimeType == "" {
			mimeType = guessMIME(name, bytes.NewReader(data))
		}
		return data, mimeType, nil
	}
	if int64(len(content)) > t.MaxInlineBytes {
		return nil, "", userErrorf(nil, "content is larger than %d MiB: save the file locally and use a filepath instead.", t.MaxInlineBytes>>20)
	}
	if mimeType == "" {
		mimeType = mime.TypeByExtension(filepath.Ext(name))
		if mimeType == "" || !strings.HasPrefix(mimeType, "text/") {
			mimeType = "text/plain; charset=utf-8"
		}
	}
	return []byte(content), mimeType, nil
}

// ifExistsArg reads if_exists; the single-file tools default to new,
// Drive's own behaviour.
func ifExistsArg(s string) (drive.IfExists, error) {
	mode, err := drive.ParseIfExists(strings.TrimSpace(s), drive.IfExistsNew)
	if err != nil {
		return "", userErrorf(err, "if_exists %q is not one of new, update, skip_unchanged and fail: give one of those, or leave it out to always create a new file.", s)
	}
	return mode, nil
}

// createFromURL streams fileUrl's body into a new Drive file: nothing is
// requested from an address the server may not reach, and nothing is held
// in memory beyond the uploader's one chunk.
//
// dest says where the bytes go; it is called once the account is known
// and the download has begun, so a folder path is created only for a
// download that started.
func (t *tools) createFromURL(ctx context.Context, req *mcp.CallToolRequest, email, fileURL, givenType string, dest func(identity.Identity) (uploadDest, error)) (*mcp.CallToolResult, uploadOut, error) {
	u, err := parseFileURL(fileURL)
	if err != nil {
		return nil, uploadOut{}, err
	}
	// The slot comes before the download starts: a queued call must not
	// leave a remote server's connection idle until its stall timeout.
	id, release, err := t.uploadAs(ctx, req, email)
	if err != nil {
		return nil, uploadOut{}, err
	}
	defer release()
	remote, err := openURL(ctx, t.urlPolicy(), u, t.maxDownloadBytes(), t.Version)
	if err != nil {
		if e := t.explainFetch(u, err); e != nil {
			return nil, uploadOut{}, e
		}
		return nil, uploadOut{}, userErrorf(err, "Could not download fileUrl (%v). Check the URL and try again.", err)
	}
	defer remote.Body.Close()
	d, err := dest(id)
	if err != nil {
		return nil, uploadOut{}, err
	}
	mimeType := givenType
	if mimeType == "" {
		mimeType = cmp.Or(remote.MediaType, mime.TypeByExtension(filepath.Ext(d.name)), mime.TypeByExtension(path.Ext(u.Path)), "application/octet-stream")
	}
	src := drive.Source{Reader: remote.Body, Size: remote.Size}
	if isGoogleType(mimeType) {
		src.MediaType = cmp.Or(remote.MediaType, importTypeByName(d.name), importTypeByName(path.Base(u.Path)))
		if err := checkConversion(mimeType, src.MediaType); err != nil {
			return nil, uploadOut{}, err
		}
	}
	res, out, err := t.upload(ctx, req, id, d, mimeType, src)
	var broken *downloadError
	switch {
	case err == nil:
		return res, out, nil
	case errors.Is(err, drive.ErrSourceChanged):
		return nil, out, userErrorf(err, "The download of fileUrl from %s ended before the size it announced, so nothing was created. Try again.", remote.Host)
	case errors.As(err, &broken):
		if e := t.explainFetch(u, broken.err); e != nil {
			return nil, out, e
		}
		return nil, out, userErrorf(err, "The download of fileUrl from %s broke off (%v), so nothing was created. Try again.", remote.Host, broken.err)
	}
	return nil, out, err
}

// checkUploadArgs refuses, before Google is asked or an upload slot taken,
// the arguments of an upload that could never succeed: retrying them would
// only hold the slot while the same failure comes back.
func checkUploadArgs(nameArg, name, mimeType, folderID, folderPath string) error {
	if name != "" {
		if err := checkNameArg(nameArg, name); err != nil {
			return err
		}
	}
	if mimeType != "" {
		if err := drive.CheckMediaType(mimeType); err != nil {
			return userErrorf(err, "mime_type %q is not a MIME type (type/subtype with optional ; parameters, no line breaks or other control characters), "+
				"so nothing was sent to Drive. Give one such as text/plain, application/pdf or application/vnd.google-apps.document, "+
				"or leave mime_type out to have it guessed.", mimeType)
		}
	}
	return checkFolderArgs("folder_id", folderID, folderPath)
}

// checkNameArg refuses a file or folder name Drive could not sensibly hold.
func checkNameArg(arg, name string) error {
	if err := drive.CheckName(name); err != nil {
		return userErrorf(err, "%s %s, so nothing was sent to Drive. "+
			"Give a name without line breaks, NUL or other control characters, at most 1024 bytes long.", arg, nameProblem(name))
	}
	return nil
}

// nameProblem says why drive.CheckName refused name, after the argument's
// name in a sentence.
func nameProblem(name string) string {
	if len(name) > 1024 {
		return fmt.Sprintf("is %d bytes long, more than the 1024 a Drive name may have here", len(name))
	}
	return fmt.Sprintf("%q contains a control character (a line break, NUL, escape or the like) or invalid UTF-8", name)
}

// checkConversion refuses, before anything reaches Drive, an upload asking
// Drive for a conversion its import map (about.importFormats) does not
// offer: Drive would refuse it after the bytes were sent.
func checkConversion(target, source string) error {
	offered := drive.ImportSources(target)
	if len(offered) == 0 {
		return userErrorf(nil, "Drive does not convert uploads into %s, so nothing was uploaded. Give mime_type %s, %s or %s, "+
			"or leave mime_type out to upload the file as it is.", target, drive.DocumentMimeType, drive.SpreadsheetMimeType, drive.PresentationMimeType)
	}
	if drive.CanImport(source, target) {
		return nil
	}
	return userErrorf(nil, "Drive cannot turn %s into %s, so nothing was uploaded. Drive converts into %s only from: %s. "+
		"Give the content in one of those formats (a name ending in .csv, .tsv, .md or .html says which text format it is), "+
		"or leave mime_type out to upload the file as it is.", cmp.Or(baseMediaType(source), "bytes of unknown type"), target, target, strings.Join(offered, ", "))
}

// importSourceType is what the bytes of a file named name are, for Drive's
// import map: the text formats Drive imports by extension first (Go's own
// table knows neither .md nor .csv), then the extension, then the content.
func importSourceType(name string, head io.Reader) string {
	if t := importTypeByName(name); t != "" {
		return t
	}
	return guessMIME(name, head)
}

// importTypeByName is the import format a name's extension says, or "".
func importTypeByName(name string) string {
	if t := drive.TextImportType("", name); t != "" {
		return t
	}
	return mime.TypeByExtension(filepath.Ext(name))
}

func baseMediaType(t string) string {
	if mt, _, err := mime.ParseMediaType(t); err == nil {
		return mt
	}
	return t
}

func isGoogleType(mimeType string) bool {
	return strings.HasPrefix(mimeType, "application/vnd.google-apps.")
}

// upload sends src to Drive as the account, reporting progress to the
// client when it asked for it: a new file, or a new version of an existing
// one (dest.targetID, or the same-named file if_exists picked).
func (t *tools) upload(ctx context.Context, req *mcp.CallToolRequest, id identity.Identity, dest uploadDest, mimeType string, src drive.Source) (*mcp.CallToolResult, uploadOut, error) {
	if dest.folderID == "" {
		dest.folderID = "root"
	}
	if err := t.requireDriveGrant(ctx, id); err != nil {
		return nil, uploadOut{}, err
	}
	email := id.Email
	if dest.targetID == "" && dest.ifExists != "" && dest.ifExists != drive.IfExistsNew {
		res, out, err := t.applyIfExists(ctx, id, &dest, src)
		if res != nil || err != nil {
			return res, out, err
		}
	}
	progress, waiting := progressReporter(ctx, req)
	up := t.uploader(ctx, id, waiting)
	started := time.Now()
	var file drive.File
	var err error
	outcome := "created"
	if dest.targetID != "" {
		outcome = "updated"
		meta := drive.FileMeta{}
		if dest.rename {
			meta.Name = dest.name
		}
		if dest.explicitType {
			meta.MimeType = mimeType
		}
		if src.MediaType == "" && !isGoogleType(mimeType) {
			src.MediaType = mimeType // what the bytes are, though the file keeps its type
		}
		file, err = up.Update(ctx, dest.targetID, meta, src, progress)
	} else {
		file, err = up.Upload(ctx, drive.FileMeta{Name: dest.name, MimeType: mimeType, Parents: []string{dest.folderID}}, src, progress)
	}
	var api *drive.APIError
	if err != nil && dest.again != nil && dest.targetID == "" && src.ReaderAt != nil && errors.As(err, &api) && api.Status == http.StatusNotFound {
		// The folder cache named a folder that is gone: a 404 on the
		// parent created nothing, so resolve the path and send again.
		folderID, aerr := dest.again()
		if aerr != nil {
			return nil, uploadOut{}, aerr
		}
		dest.folderID, dest.again = folderID, nil
		return t.upload(ctx, req, id, dest, mimeType, src)
	}
	if err != nil {
		t.Metrics.Upload(false, 0, 0, 0)
		if dest.targetID != "" && errors.Is(err, drive.ErrNotFound) {
			return nil, uploadOut{}, t.explainDrive(ctx, email, err, fmt.Sprintf("Google Drive has no file %s that %s can change. Check file_id (search_drive_files finds files).", dest.targetID, email))
		}
		return nil, uploadOut{}, t.explainUpload(email, dest.name, dest.folderID, err)
	}
	t.Metrics.Upload(true, file.Size, time.Since(started), file.Retries)
	t.Logger.Info("uploaded", "bytes", file.Size, "retries", file.Retries, "duration", time.Since(started).Round(time.Millisecond), "outcome", outcome)
	out := uploadOut{
		FileID: file.ID, Name: file.Name, MimeType: file.MimeType, Size: file.Size, MD5: file.MD5,
		WebViewLink: file.WebViewLink, Account: email, FolderID: dest.folderID, Outcome: outcome, Version: file.Version,
	}
	if len(file.Parents) > 0 {
		out.FolderID = file.Parents[0]
	}
	msg := fmt.Sprintf("Uploaded %q (%s) to Google Drive as %s. File id: %s.", out.Name, progressbar.Bytes(out.Size), email, out.FileID)
	if outcome == "updated" {
		msg = fmt.Sprintf("Replaced the content of %q (%s) in Google Drive as %s with %s; the id, links and sharing stay. File id: %s.",
			out.Name, out.FileID, email, progressbar.Bytes(out.Size), out.FileID)
	}
	if isGoogleType(mimeType) || isGoogleType(file.MimeType) {
		// Drive keeps no md5 of a Google Doc or Sheet; what was checked is
		// that Drive's upload session took every byte before it answered.
		out.ConvertedFrom = baseMediaType(cmp.Or(src.MediaType, mimeType))
		msg += fmt.Sprintf(" Drive converted it from %s into %s; Drive keeps no checksum of converted files, so drivemcp checked only that Drive received all %d bytes.",
			out.ConvertedFrom, file.MimeType, src.Size)
	}
	if out.WebViewLink != "" {
		msg += " Link: " + out.WebViewLink
	}
	return text(msg), out, nil
}

// uploader is the account's Drive uploader under the server's retry
// policy and upload cutoff.
func (t *tools) uploader(ctx context.Context, id identity.Identity, waiting func(time.Duration)) *drive.Uploader {
	ep := t.Grants.Upstream().Endpoints()
	return &drive.Uploader{
		Client:    t.httpClient(ctx, id),
		Endpoint:  ep.UploadBase,
		DriveBase: ep.DriveBase,
		Cutoff:    t.UploadCutoff,
		Backoff:   t.Retry.Schedule(),
		Sleep:     t.Retry.Sleep,
		Waiting:   waiting,
	}
}

// applyIfExists looks for a file of dest.name in dest.folderID and applies
// the if_exists rule: it either answers (skipped, or refused) or sets
// dest.targetID for the upload to update that file. One listing request;
// the local md5 is computed only when a same-named file has one to
// compare with.
func (t *tools) applyIfExists(ctx context.Context, id identity.Identity, dest *uploadDest, src drive.Source) (*mcp.CallToolResult, uploadOut, error) {
	files, err := t.filesFor(ctx, id)
	if err != nil {
		return nil, uploadOut{}, err
	}
	same, err := files.FindNamed(ctx, dest.folderID, dest.name)
	if err != nil {
		return nil, uploadOut{}, t.explainDrive(ctx, id.Email, err, fmt.Sprintf("Drive has no folder %q that this account can see. Check folder_id (omit it to upload to My Drive).", dest.folderID))
	}
	localMD5 := dest.md5
	if localMD5 == "" && dest.ifExists == drive.IfExistsSkipUnchanged && len(same) == 1 && same[0].MD5 != "" && src.ReaderAt != nil {
		if localMD5, err = drive.MD5Of(io.NewSectionReader(src.ReaderAt, 0, src.Size)); err != nil {
			return nil, uploadOut{}, userErrorf(err, "Could not read the content to compare it with %q in Drive (%v). Try again.", dest.name, err)
		}
	}
	d, err := drive.Decide(dest.ifExists, dest.name, same, localMD5)
	var exists *drive.ExistsError
	switch {
	case errors.As(err, &exists) && errors.Is(err, drive.ErrAmbiguousName):
		return nil, uploadOut{}, userErrorf(err, "%d files named %q are in that folder (%s), so drivemcp cannot tell which to %s and touched none. "+
			"Use update_drive_file with the file_id of the one to change, or if_exists new to add another.", len(exists.Files), dest.name, itemIDs(exists.Files), dest.ifExists)
	case errors.As(err, &exists):
		return nil, uploadOut{}, userErrorf(err, "A file named %q already exists in that folder (file id %s), and if_exists is fail, so nothing was uploaded. "+
			"Use if_exists update to replace its content, new to add another file of that name, or another name.", dest.name, exists.Files[0].ID)
	case err != nil:
		return nil, uploadOut{}, userErrorf(err, "if_exists could not be applied (%v).", err)
	}
	switch d.Action {
	case drive.ActionSkip:
		f := d.Target
		out := uploadOut{FileID: f.ID, Name: f.Name, MimeType: f.MimeType, Size: f.Size, MD5: f.MD5, WebViewLink: f.WebViewLink,
			FolderID: dest.folderID, Account: id.Email, Outcome: "skipped_unchanged", Version: f.Version}
		return text(fmt.Sprintf("%q (%s) in Google Drive already has this content (md5 %s), so nothing was uploaded.", f.Name, f.ID, f.MD5)), out, nil
	case drive.ActionUpdate:
		dest.targetID = d.Target.ID
	}
	return nil, uploadOut{}, nil
}

func itemIDs(items []drive.Item) string {
	ids := make([]string, len(items))
	for i, it := range items {
		ids[i] = it.ID
	}
	return strings.Join(ids, ", ")
}

// progressReporter sends MCP progress notifications when the client gave a
// progress token; otherwise both are nil and the uploader reports nothing.
// waiting keeps notifications flowing while the upload waits out a rate
// limit or an outage: MCP wants each notification's progress to grow, so
// it adds the least a float can add to the bytes sent, and says why.
func progressReporter(ctx context.Context, req *mcp.CallToolRequest) (progress drive.Progress, waiting func(time.Duration)) {
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
	progress = func(sent, total int64) {
		mu.Lock()
		last, lastTotal = max(float64(sent), math.Nextafter(last, math.Inf(1))), float64(total)
		p := &mcp.ProgressNotificationParams{ProgressToken: token, Progress: last}
		mu.Unlock()
		if total > 0 {
			p.Total = float64(total)
			p.Message = fmt.Sprintf("%s of %s", progressbar.Bytes(sent), progressbar.Bytes(total))
		}
		notify(p)
	}
	waiting = func(left time.Duration) {
		mu.Lock()
		last = math.Nextafter(last, math.Inf(1))
		p := &mcp.ProgressNotificationParams{ProgressToken: token, Progress: last,
			Message: fmt.Sprintf("Google asked drivemcp to slow down or failed for a moment; trying again in %s", left.Round(time.Second))}
		if lastTotal > 0 {
			p.Total = lastTotal
		}
		mu.Unlock()
		notify(p)
	}
	return progress, waiting
}

// explainOpen words an open failure; roots are the caller's own, and
// configured says whether the server has any root at all.
func explainOpen(roots []string, configured bool, name string, err error) error {
	switch {
	case errors.Is(err, errOutsideRoots):
		if !configured {
			return userErrorf(err, "This server reads no local files: it was started without --upload-root. Use create_drive_file with the content instead, or restart it with --upload-root DIR.")
		}
		if len(roots) == 0 {
			return userErrorf(err, "This server reads no local files for this account: it was started without an --upload-root this account may read. Use create_drive_file with the content instead, or ask the server's operator for an upload root.")
		}
		return userErrorf(err, "%s is outside the directories this account may upload from (%s). Move or copy the file into one of them, or give a path inside one.",
			name, strings.Join(roots, ", "))
	case errors.Is(err, errHiddenPath):
		return userErrorf(err, "%s is, or is inside, a hidden file or folder (a name starting with \".\"); drivemcp does not upload those, since they often hold keys and credentials. Copy the file to a visible folder if you really mean to upload it.", name)
	case errors.Is(err, fs.ErrNotExist):
		return userErrorf(err, "There is no file %s in the upload roots (%s). Check the path and call again.", name, strings.Join(roots, ", "))
	case errors.Is(err, fs.ErrPermission):
		return userErrorf(err, "The server may not read %s (permission denied).", name)
	}
	return userErrorf(err, "Could not open %s: %v.", name, err)
}

func (t *tools) explainUpload(email, name, folderID string, err error) error {
	var api *drive.APIError
	if errors.As(err, &api) && api.Status == http.StatusNotFound {
		// Drive's notFound on the parent: the folder does not exist, or
		// this account (or, with drive.file, drivemcp) cannot see it.
		return userErrorf(err, "Drive has no folder %q that this account can write to. Check folder_id (omit it to upload to My Drive).", folderID)
	}
	if e, ok := explainReason(err, email); ok {
		return e
	}
	switch {
	case errors.As(err, &api) && (api.Status == http.StatusForbidden || api.Status == http.StatusUnauthorized):
		if api.Status == http.StatusUnauthorized {
			return userErrorf(err, "Google did not accept drivemcp's access for this account while uploading %q (%s), even with a refreshed token. "+
				"Call start_google_auth with force: true and consent again, then upload again.", name, googleSays(err))
		}
		return userErrorf(err, "Google refused the upload of %q: %s. The account may lack permission on the folder, or the grant lacks a Drive scope (call start_google_auth with force: true).", name, googleSays(err))
	case errors.As(err, &api):
		return userErrorf(err, "Google rejected the upload of %q: %s (HTTP %d).", name, googleSays(err), api.Status)
	case errors.Is(err, drive.ErrChecksumMismatch):
		return userErrorf(err, "The upload of %q finished but Drive's checksum differs from the local file's (%v): the file may have changed while uploading. Upload it again.", name, err)
	case errors.Is(err, drive.ErrSourceChanged):
		return userErrorf(err, "%q changed size while it was being uploaded. Upload it again once it is no longer being written.", name)
	case errors.Is(err, context.Canceled):
		return userErrorf(err, "The upload of %q was cancelled; nothing was created in Drive.", name)
	}
	if e := t.explain(err); e != err {
		return e
	}
	// Anything else (a store or network failure) names hosts, database
	// users and URLs: the operator's business. internalError logs it under
	// the request id and answers with a sentence that quotes the id.
	return err
}

func guessMIME(name string, head io.Reader) string {
	if m := mime.TypeByExtension(filepath.Ext(name)); m != "" {
		return m
	}
	buf := make([]byte, 512)
	n, _ := io.ReadFull(head, buf)
	return http.DetectContentType(buf[:n])
}

func decodeBase64(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			return b, nil
		}
	}
	_, err := base64.StdEncoding.DecodeString(s)
	return nil, err
}
