package googleemu

import (
	"net/http"
)

// files.copy, trashing and restoring, and the capabilities a File resource
// reports: the lifecycle of a file after its upload.

// SetTrashByWriters lets a writer trash a file they do not own. Drive lets
// only the owner trash a file in My Drive ("Trash or delete files and
// folders", /drive/api/guides/delete: a non-owner gets
// insufficientFilePermissions); tests that need the lenient behaviour
// switch it on.
func (e *Emulator) SetTrashByWriters(on bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.trashByWriters = on
}

// setTrashedLocked trashes or restores f and, for a folder, what is inside
// it: Drive's guide (/drive/api/guides/delete) says trashing a folder moves
// its descendants owned by the user to the trash too, and they carry
// trashed without explicitlyTrashed; restoring the folder brings back
// those that were not trashed on their own.
func (e *Emulator) setTrashedLocked(f *driveFile, trashed bool) {
	f.trashed, f.explicitlyTrashed = trashed, trashed
	if !f.isFolder() {
		return
	}
	for _, other := range e.files {
		if other == f || other.isRoot || other.explicitlyTrashed || other.owner != f.owner || !e.isAncestorLocked(f.id, other) {
			continue
		}
		other.trashed = trashed
	}
}

// handleCopy is files.copy (/drive/api/reference/rest/v3/files/copy): a
// new file with the source's bytes, its metadata patched by the body. The
// copy is named "Copy of …" unless the body names it, and lands in the
// source's folder unless the body gives parents.
func (e *Emulator) handleCopy(w http.ResponseWriter, r *http.Request, c caller) {
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
	src, derr := e.fileSnapshot(r.PathValue("fileId"), c)
	if derr != nil {
		writeDriveError(w, *derr)
		return
	}
	if src.isFolder() {
		// The File resource's capabilities.canCopy covers "non-folder
		// descendants of this item, or this item if it's not a folder"
		// (/drive/api/reference/rest/v3/files): folders are never copied.
		writeDriveError(w, driveErr{code: 403, reason: "cannotCopyFile", message: "This file cannot be copied by the user."})
		return
	}
	body, err := openContent(src.content)
	if err != nil {
		writeDriveError(w, driveErr{code: 500, reason: "internalError", message: err.Error()})
		return
	}
	b, sum, err := e.receive(body)
	body.Close()
	if err != nil {
		writeDriveError(w, driveErr{code: 500, reason: "internalError", message: err.Error()})
		return
	}
	if meta.Name == nil {
		meta.Name = ptr("Copy of " + src.name)
	}
	if meta.MimeType == nil {
		meta.MimeType = ptr(src.mimeType)
	}
	if meta.Description == nil && src.description != "" {
		meta.Description = ptr(src.description)
	}
	if len(meta.Parents) == 0 {
		meta.Parents = src.parents
	}
	e.mu.Lock()
	f, derr := e.copyLocked(meta, c, src, b, sum)
	var res map[string]any
	if derr == nil {
		res = e.resourceLocked(f, c)
	}
	e.mu.Unlock()
	if derr != nil {
		b.remove()
		writeDriveError(w, *derr)
		return
	}
	writeJSON(w, http.StatusOK, mask.apply(res))
}

func (e *Emulator) copyLocked(meta fileMetadata, c caller, src driveFile, b blob, sum string) (*driveFile, *driveErr) {
	if derr := e.quotaLocked(c.user.email, b.size()); derr != nil {
		return nil, derr
	}
	f, derr := e.createFileLocked(meta, c, src.sourceMediaType, b, sum)
	if derr != nil {
		return nil, derr
	}
	if !f.hasBinaryContent() {
		f.md5 = ""
	}
	return f, nil
}

// capabilitiesLocked is the File resource's capabilities for the caller
// (/drive/api/reference/rest/v3/files#File.FIELDS.capabilities), from
// their role: readers download and copy, writers edit and share (Drive's
// default writersCanShare), only the owner trashes and deletes.
func (e *Emulator) capabilitiesLocked(f *driveFile, c caller) map[string]any {
	role, _ := e.accessLocked(f, c)
	owner := role >= roleOwner
	writer := role >= roleWriter
	trash := owner || (writer && e.trashByWriters)
	return map[string]any{
		"canEdit":                writer && !f.isFolder(),
		"canRename":              writer,
		"canShare":               writer,
		"canComment":             role >= roleCommenter,
		"canDownload":            role >= roleReader,
		"canCopy":                role >= roleReader && !f.isFolder(),
		"canTrash":               trash && !f.trashed,
		"canUntrash":             trash && f.trashed,
		"canDelete":              owner,
		"canAddChildren":         writer && f.isFolder(),
		"canListChildren":        role >= roleReader && f.isFolder(),
		"canMoveItemWithinDrive": writer,
		"canModifyContent":       writer && !f.isFolder(),
	}
}
