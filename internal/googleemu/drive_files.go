package googleemu

import (
	"cmp"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// files.get, files.list, files.create (metadata only), files.update,
// files.delete and files.export.

// fileMetadata is the writable part of a File in request bodies. Pointers
// tell "absent" from "empty".
type fileMetadata struct {
	Name        *string  `json:"name"`
	MimeType    *string  `json:"mimeType"`
	Description *string  `json:"description"`
	Parents     []string `json:"parents"`
	Trashed     *bool    `json:"trashed"`
	// AppProperties are private to the app that sets them; a null value
	// removes a key on update (File resource, "appProperties":
	// /drive/api/reference/rest/v3/files).
	AppProperties map[string]*string `json:"appProperties"`
}

const maxMetadataBytes = 1 << 20

// decodeMetadata reads a JSON File body; an empty body is empty metadata.
func decodeMetadata(r io.Reader) (fileMetadata, *driveErr) {
	var m fileMetadata
	b, err := io.ReadAll(io.LimitReader(r, maxMetadataBytes+1))
	if err != nil {
		return m, &driveErr{code: 400, reason: "badRequest", message: "Could not read the request body: " + err.Error()}
	}
	if len(b) > maxMetadataBytes {
		return m, &driveErr{code: 400, reason: "badRequest", message: "File metadata is too large."}
	}
	if len(strings.TrimSpace(string(b))) == 0 {
		return m, nil
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return m, &driveErr{code: 400, reason: "parseError", message: "Parse Error: " + err.Error()}
	}
	return m, nil
}

func (e *Emulator) handleGet(w http.ResponseWriter, r *http.Request, c caller) {
	q := r.URL.Query()
	if q.Get("alt") == "media" {
		e.download(w, r, c)
		return
	}
	mask, derr := maskFor(q.Get("fields"), defaultFileFields)
	if derr != nil {
		writeDriveError(w, *derr)
		return
	}
	e.mu.Lock()
	f, _, derr := e.fileLocked(r.PathValue("fileId"), c)
	var res map[string]any
	if derr == nil {
		res = e.resourceLocked(f, c)
	}
	e.mu.Unlock()
	if derr != nil {
		writeDriveError(w, *derr)
		return
	}
	writeJSON(w, http.StatusOK, mask.apply(res))
}

// fileSnapshot copies a file the caller may see, so its bytes can be
// served without holding the emulator's lock.
func (e *Emulator) fileSnapshot(id string, c caller) (driveFile, *driveErr) {
	e.mu.Lock()
	defer e.mu.Unlock()
	f, _, derr := e.fileLocked(id, c)
	if derr != nil {
		return driveFile{}, derr
	}
	return *f, nil
}

// download serves alt=media, with Range support via http.ServeContent.
func (e *Emulator) download(w http.ResponseWriter, r *http.Request, c caller) {
	if !c.has(scopeDrive, scopeDriveFile, scopeDriveReadonly) {
		// The metadata scopes may list files but not read their bytes.
		writeDriveError(w, driveErr{code: 403, reason: "insufficientPermissions", message: "Request had insufficient authentication scopes."})
		return
	}
	snapshot, derr := e.fileSnapshot(r.PathValue("fileId"), c)
	if derr != nil {
		writeDriveError(w, *derr)
		return
	}
	e.mu.Lock()
	abusive := e.filePolicies[snapshot.id].Abusive
	e.mu.Unlock()
	if abusive {
		// "Resolve errors": a file flagged as malware or abuse is never
		// served, to its owner neither.
		writeDriveError(w, driveErr{code: 403, reason: "cannotDownloadAbusiveFile",
			message: "This file has been identified as malware or spam and cannot be downloaded."})
		return
	}
	if !snapshot.hasBinaryContent() {
		writeDriveError(w, driveErr{code: 403, reason: "fileNotDownloadable", location: "alt",
			message: "Only files with binary content can be downloaded. Use Export with Docs Editors files."})
		return
	}
	body, err := openContent(snapshot.content)
	if err != nil {
		writeDriveError(w, driveErr{code: 500, reason: "internalError", message: err.Error()})
		return
	}
	defer body.Close()
	w.Header().Set("Content-Type", snapshot.mimeType)
	if sum, err := hex.DecodeString(snapshot.md5); err == nil && len(sum) > 0 {
		w.Header().Set("X-Goog-Hash", "md5="+base64.StdEncoding.EncodeToString(sum))
	}
	http.ServeContent(w, r, "", snapshot.modified, body)
}

func openContent(b blob) (io.ReadSeekCloser, error) {
	if b == nil {
		return memoryBlob(nil).open()
	}
	return b.open()
}

func (e *Emulator) handleList(w http.ResponseWriter, r *http.Request, c caller) {
	q := r.URL.Query()
	mask, derr := maskFor(q.Get("fields"), defaultFileListFields)
	if derr != nil {
		writeDriveError(w, *derr)
		return
	}
	expr, err := parseQuery(q.Get("q"))
	if err != nil {
		writeDriveError(w, errInvalid("q", "Invalid Value: "+err.Error()))
		return
	}
	pageSize := 100
	if s := q.Get("pageSize"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 || n > 1000 {
			writeDriveError(w, errInvalid("pageSize", fmt.Sprintf("Invalid value '%s'. Values must be within the range: [1, 1000]", s)))
			return
		}
		if n > 0 {
			pageSize = n
		}
	}
	order, err := parseOrderBy(q.Get("orderBy"))
	if err != nil {
		writeDriveError(w, errInvalid("orderBy", "Invalid Value: "+err.Error()))
		return
	}
	scope, derr := e.listScope(q, c)
	if derr != nil {
		writeDriveError(w, *derr)
		return
	}
	// A page token is only valid for the query that produced it.
	listKey := c.user.email + "\x00" + q.Get("q") + "\x00" + q.Get("orderBy") + "\x00" + q.Get("spaces") +
		"\x00" + q.Get("corpora") + "\x00" + q.Get("driveId")
	offset := 0
	if tok := q.Get("pageToken"); tok != "" {
		offset, err = decodePageToken(tok, listKey)
		if err != nil {
			writeDriveError(w, errInvalid("pageToken", "Invalid Value"))
			return
		}
	}

	e.mu.Lock()
	var matches []*driveFile
	if q.Get("spaces") != "appDataFolder" { // the app data folder is not emulated: always empty
		env := &queryEnv{e: e, caller: c, text: fileText}
		for _, f := range e.files {
			if f.isRoot || f.driveRoot || !scope.includes(f) {
				continue
			}
			if _, listed := e.accessLocked(f, c); listed && expr.match(f, env) {
				matches = append(matches, f)
			}
		}
	}
	slices.SortFunc(matches, order.compare)
	page := matches[min(offset, len(matches)):]
	next := ""
	if len(page) > pageSize {
		page = page[:pageSize]
		next = encodePageToken(offset+pageSize, listKey)
	}
	files := make([]map[string]any, len(page))
	for i, f := range page {
		files[i] = e.resourceLocked(f, c)
	}
	e.mu.Unlock()

	res := map[string]any{"kind": "drive#fileList", "incompleteSearch": false, "files": files}
	if next != "" {
		res["nextPageToken"] = next
	}
	writeJSON(w, http.StatusOK, mask.apply(res))
}

// fileText returns a small text file's content for fullText search.
func fileText(f *driveFile) string {
	const limit = 1 << 20
	textual := strings.HasPrefix(f.mimeType, "text/") || f.mimeType == "application/json" ||
		f.mimeType == mimeDocument || f.mimeType == mimeSpreadsheet || f.mimeType == mimePresentation
	if f.content == nil || !textual || f.content.size() > limit {
		return ""
	}
	rc, err := f.content.open()
	if err != nil {
		return ""
	}
	defer rc.Close()
	b, _ := io.ReadAll(io.LimitReader(rc, limit))
	return string(b)
}

func encodePageToken(offset int, key string) string {
	h := fnv.New64a()
	h.Write([]byte(key))
	return base64.RawURLEncoding.EncodeToString(fmt.Appendf(nil, "%d:%x", offset, h.Sum64()))
}

func decodePageToken(tok, key string) (int, error) {
	raw, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil {
		return 0, err
	}
	offStr, sum, ok := strings.Cut(string(raw), ":")
	h := fnv.New64a()
	h.Write([]byte(key))
	if !ok || sum != fmt.Sprintf("%x", h.Sum64()) {
		return 0, errors.New("page token does not belong to this query")
	}
	return strconv.Atoi(offStr)
}

// fileOrder is a parsed orderBy.
type fileOrder []orderKey

type orderKey struct {
	key  string
	desc bool
}

func parseOrderBy(s string) (fileOrder, error) {
	var o fileOrder
	for part := range strings.SplitSeq(s, ",") {
		fields := strings.Fields(part)
		if len(fields) == 0 {
			continue
		}
		k := orderKey{key: fields[0]}
		if len(fields) > 2 || (len(fields) == 2 && !strings.EqualFold(fields[1], "desc") && !strings.EqualFold(fields[1], "asc")) {
			return nil, fmt.Errorf("bad sort key %q", part)
		}
		k.desc = len(fields) == 2 && strings.EqualFold(fields[1], "desc")
		switch k.key {
		case "folder", "createdTime", "modifiedTime", "modifiedByMeTime", "name", "name_natural",
			"quotaBytesUsed", "recency", "sharedWithMeTime", "starred", "viewedByMeTime":
		default:
			return nil, fmt.Errorf("unsupported sort key %q", k.key)
		}
		o = append(o, k)
	}
	if len(o) == 0 {
		o = fileOrder{{key: "createdTime"}} // Drive leaves it unspecified; creation order is stable
	}
	return o, nil
}

func (o fileOrder) compare(a, b *driveFile) int {
	for _, k := range o {
		var c int
		switch k.key {
		case "folder":
			// Folders first in ascending order.
			c = -cmp.Compare(boolInt(a.isFolder()), boolInt(b.isFolder()))
		case "createdTime":
			c = a.created.Compare(b.created)
		case "modifiedTime", "modifiedByMeTime", "recency", "viewedByMeTime":
			c = a.modified.Compare(b.modified)
		case "name", "name_natural":
			c = cmp.Or(cmp.Compare(strings.ToLower(a.name), strings.ToLower(b.name)), cmp.Compare(a.name, b.name))
		case "quotaBytesUsed":
			c = cmp.Compare(a.size(), b.size())
		}
		if k.desc {
			c = -c
		}
		if c != 0 {
			return c
		}
	}
	return cmp.Compare(a.seq, b.seq)
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// handleCreateMetadata is files.create without content: folders, empty files,
// empty Google Docs.
func (e *Emulator) handleCreateMetadata(w http.ResponseWriter, r *http.Request, c caller) {
	mask, derr := maskFor(r.URL.Query().Get("fields"), defaultFileFields)
	if derr != nil {
		writeDriveError(w, *derr)
		return
	}
	meta, derr := decodeMetadata(r.Body)
	if derr != nil {
		writeDriveError(w, *derr)
		return
	}
	e.mu.Lock()
	f, derr := e.createFileLocked(meta, c, "", nil, emptyMD5)
	var res map[string]any
	if derr == nil {
		res = e.resourceLocked(f, c)
	}
	e.mu.Unlock()
	if derr != nil {
		writeDriveError(w, *derr)
		return
	}
	writeJSON(w, http.StatusOK, mask.apply(res))
}

const emptyMD5 = "d41d8cd98f00b204e9800998ecf8427e"

// parentsLocked validates requested parents ('root' allowed) and returns
// their resolved ids; no parents means the caller's My Drive.
func (e *Emulator) parentsLocked(ids []string, c caller) ([]string, *driveErr) {
	if len(ids) == 0 {
		return []string{c.user.rootID}, nil
	}
	if len(ids) > 1 {
		return nil, &driveErr{code: 403, reason: "cannotAddParent", message: "Increasing the number of parents is not allowed."}
	}
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		p, role, derr := e.fileLocked(id, c)
		if derr != nil {
			return nil, derr
		}
		if !p.isFolder() {
			return nil, ptr(errInvalid("parents", "The specified parent is not a folder: "+id+"."))
		}
		if e.filePolicies[p.id].FolderFull {
			return nil, &driveErr{code: 403, reason: "teamDriveFileLimitExceeded",
				message: "The file limit for this shared drive has been exceeded."}
		}
		if role < roleWriter {
			return nil, ptr(errInsufficientFilePermissions())
		}
		out = append(out, p.id)
	}
	return out, nil
}

// createFileLocked adds a file owned by the caller. content may be nil.
func (e *Emulator) createFileLocked(meta fileMetadata, c caller, mediaType string, content blob, md5 string) (*driveFile, *driveErr) {
	parents, derr := e.parentsLocked(meta.Parents, c)
	if derr != nil {
		return nil, derr
	}
	mime := cmp.Or(deref(meta.MimeType), mediaType, "application/octet-stream")
	if mime == mimeFolder && content != nil {
		content.remove() // folders have no content; Drive ignores media sent with one
		content = nil
	}
	if mime != mimeFolder && content == nil {
		content = memoryBlob(nil)
	}
	now := e.now()
	e.fileSeq++
	f := &driveFile{
		id:                "1" + randomString(32),
		name:              cmp.Or(deref(meta.Name), "Untitled"),
		mimeType:          mime,
		description:       deref(meta.Description),
		parents:           parents,
		owner:             c.user.email,
		clientID:          c.clientID,
		trashed:           deref(meta.Trashed),
		explicitlyTrashed: deref(meta.Trashed),
		created:           now,
		modified:          now,
		seq:               e.fileSeq,
		version:           1,
		content:           content,
		md5:               md5,
		perms:             []*permission{{id: c.user.permissionID, typ: "user", role: "owner", email: c.user.email}},
	}
	if strings.HasPrefix(mime, googleAppsPrefix) && content != nil && mediaType != "" {
		f.sourceMediaType = mediaType
	}
	f.setAppProperties(meta.AppProperties, c.clientID)
	if p := e.files[parents[0]]; p != nil && p.driveID != "" {
		// The shared drive, not its creator, owns what is made in it.
		f.driveID, f.perms = p.driveID, nil
	}
	e.files[f.id] = f
	return f, nil
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

// handleUpdate is files.update without content: rename, move, trash.
func (e *Emulator) handleUpdate(w http.ResponseWriter, r *http.Request, c caller) {
	q := r.URL.Query()
	mask, derr := maskFor(q.Get("fields"), defaultFileFields)
	if derr != nil {
		writeDriveError(w, *derr)
		return
	}
	meta, derr := decodeMetadata(r.Body)
	if derr != nil {
		writeDriveError(w, *derr)
		return
	}
	e.mu.Lock()
	f, derr := e.updateFileLocked(r.PathValue("fileId"), meta, q.Get("addParents"), q.Get("removeParents"), c)
	var res map[string]any
	if derr == nil {
		res = e.resourceLocked(f, c)
	}
	e.mu.Unlock()
	if derr != nil {
		writeDriveError(w, *derr)
		return
	}
	writeJSON(w, http.StatusOK, mask.apply(res))
}

func (e *Emulator) updateFileLocked(id string, meta fileMetadata, addParents, removeParents string, c caller) (*driveFile, *driveErr) {
	f, role, derr := e.fileLocked(id, c)
	if derr != nil {
		return nil, derr
	}
	if role < roleWriter || f.isRoot {
		return nil, ptr(errInsufficientFilePermissions())
	}
	if len(meta.Parents) > 0 {
		return nil, &driveErr{code: 403, reason: "fieldNotWritable",
			message: "The resource body includes fields which are not directly writable.", location: "parents"}
	}
	parents := slices.Clone(f.parents)
	for p := range strings.SplitSeq(removeParents, ",") {
		if p = strings.TrimSpace(p); p != "" {
			p = resolveID(p, c)
			parents = slices.DeleteFunc(parents, func(x string) bool { return x == p })
		}
	}
	for p := range strings.SplitSeq(addParents, ",") {
		if p = strings.TrimSpace(p); p == "" {
			continue
		}
		resolved, derr := e.parentsLocked([]string{p}, c)
		if derr != nil {
			return nil, derr
		}
		if e.isAncestorLocked(f.id, e.files[resolved[0]]) {
			return nil, ptr(errInvalid("addParents", "A folder cannot be moved into itself or one of its descendants."))
		}
		if !slices.Contains(parents, resolved[0]) {
			parents = append(parents, resolved[0])
		}
	}
	if len(parents) > 1 {
		return nil, &driveErr{code: 403, reason: "cannotAddParent", message: "Increasing the number of parents is not allowed."}
	}
	if meta.MimeType != nil && (*meta.MimeType == mimeFolder) != f.isFolder() {
		return nil, ptr(errInvalid("mimeType", "A file cannot be converted to or from a folder."))
	}
	if meta.Name != nil {
		f.name = *meta.Name
	}
	if meta.Description != nil {
		f.description = *meta.Description
	}
	if meta.MimeType != nil {
		f.mimeType = *meta.MimeType
	}
	f.setAppProperties(meta.AppProperties, c.clientID)
	if meta.Trashed != nil && *meta.Trashed != f.trashed {
		if role < roleOwner && !e.trashByWriters {
			// "Trash or delete files and folders" (/drive/api/guides/delete):
			// only the owner can trash a file; others get insufficientFilePermissions.
			return nil, ptr(errInsufficientFilePermissions())
		}
		e.setTrashedLocked(f, *meta.Trashed)
	}
	f.parents = parents
	f.modified = e.now()
	f.version++
	return f, nil
}

// handleDelete deletes permanently (no trash), with everything inside a folder.
func (e *Emulator) handleDelete(w http.ResponseWriter, r *http.Request, c caller) {
	e.mu.Lock()
	f, role, derr := e.fileLocked(r.PathValue("fileId"), c)
	if derr == nil && (role < roleOwner || f.isRoot) {
		derr = ptr(errInsufficientFilePermissions())
	}
	if derr == nil {
		e.deleteTreeLocked(f)
	}
	e.mu.Unlock()
	if derr != nil {
		writeDriveError(w, *derr)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (e *Emulator) deleteTreeLocked(f *driveFile) {
	doomed := []*driveFile{f}
	for _, other := range e.files {
		if other != f && !other.isRoot && e.isAncestorLocked(f.id, other) {
			doomed = append(doomed, other)
		}
	}
	for _, d := range doomed {
		delete(e.files, d.id)
		if d.content != nil {
			d.content.remove()
		}
	}
}

// exportFormats is Drive's export table ("Export MIME types for Google
// Workspace documents", /drive/api/guides/ref-export-formats): a format not
// listed for a type is refused with 400, as Drive refuses it. Text formats
// are the stored content verbatim; the others are rendered by exportBody.
var exportFormats = map[string][]string{
	mimeDocument: {"text/plain", "text/markdown", "text/html", mimePDF, mimeDocx,
		"application/vnd.oasis.opendocument.text", "application/rtf", "application/epub+zip", "application/zip"},
	mimeSpreadsheet: {"text/csv", "text/tab-separated-values", mimePDF, mimeXlsx,
		"application/vnd.oasis.opendocument.spreadsheet", "application/zip"},
	mimePresentation: {"text/plain", mimePDF, mimePptx, "application/vnd.oasis.opendocument.presentation"},
}

// exportSizeLimit: files.export "is limited to 10MB" and answers 403
// exportSizeLimitExceeded beyond it (Drive API files.export,
// /drive/api/reference/rest/v3/files/export).
const exportSizeLimit = 10 << 20

func (e *Emulator) handleExport(w http.ResponseWriter, r *http.Request, c caller) {
	target := r.URL.Query().Get("mimeType")
	if target == "" {
		writeDriveError(w, driveErr{code: 400, reason: "required", message: "Required parameter: mimeType", location: "mimeType"})
		return
	}
	snapshot, derr := e.fileSnapshot(r.PathValue("fileId"), c)
	if derr != nil {
		writeDriveError(w, *derr)
		return
	}
	formats, ok := exportFormats[snapshot.mimeType]
	switch {
	case !ok:
		writeDriveError(w, driveErr{code: 403, reason: "fileNotExportable", message: "Export only supports Docs Editors files."})
		return
	case !slices.Contains(formats, target):
		writeDriveError(w, driveErr{code: 400, reason: "badRequest", message: "The requested conversion is not supported.", location: "convertTo"})
		return
	case snapshot.size() > exportSizeLimit:
		writeDriveError(w, driveErr{code: 403, reason: "exportSizeLimitExceeded", message: "This file is too large to be exported."})
		return
	}
	body, err := openContent(snapshot.content)
	if err != nil {
		writeDriveError(w, driveErr{code: 500, reason: "internalError", message: err.Error()})
		return
	}
	defer body.Close()
	if !strings.HasPrefix(target, "text/") {
		text, err := io.ReadAll(io.LimitReader(body, exportSizeLimit))
		if err != nil {
			writeDriveError(w, driveErr{code: 500, reason: "internalError", message: err.Error()})
			return
		}
		w.Header().Set("Content-Type", target)
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(exportBody(target, snapshot.name, text))
		return
	}
	w.Header().Set("Content-Type", target+"; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	_, _ = io.Copy(w, body)
}
