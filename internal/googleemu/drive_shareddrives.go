package googleemu

import (
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
)

// Shared drives: drives.list, items that live in a shared drive, and the
// corpora/driveId/includeItemsFromAllDrives parameters of files.list, as
// "Implement shared drive support" (/drive/api/guides/enable-shareddrives)
// and the drives reference (/drive/api/reference/rest/v3/drives) describe.

// sharedDrive is one shared drive: its members and their roles
// (organizer, fileOrganizer, writer, commenter, reader). Its root folder
// is a driveFile with driveRoot set and the drive's id.
type sharedDrive struct {
	id, name string
	seq      int64
	members  map[string]string // email → role
}

// AddSharedDrive creates a shared drive named name whose members are given
// by email → role, as an administrator would in Drive's web app, and
// returns its id (also the id of its root folder). Tests use it; Drive's
// own drives.create is not emulated.
func (e *Emulator) AddSharedDrive(name string, members map[string]string) string {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.fileSeq++
	id := "0A" + randomString(17)
	d := &sharedDrive{id: id, name: name, seq: e.fileSeq, members: map[string]string{}}
	for email, role := range members {
		if addr, ok := normalizeEmail(email); ok {
			d.members[addr] = role
			e.userLocked(addr)
		}
	}
	e.drives[id] = d
	now := e.now()
	// The root has no clientID: like a folder made in the web app, a
	// drive.file token does not see it.
	e.files[id] = &driveFile{id: id, name: name, mimeType: mimeFolder, driveID: id, driveRoot: true,
		owner: firstKey(d.members), created: now, modified: now, seq: e.fileSeq, version: 1}
	return id
}

func firstKey(m map[string]string) string {
	keys := slices.Sorted(maps.Keys(m))
	if len(keys) == 0 {
		return ""
	}
	return keys[0]
}

// listScope is which items a files.list request covers.
type listScope struct {
	// sharedItems: items in shared drives may be listed at all.
	sharedItems bool
	// driveID restricts the listing to one shared drive (corpora=drive).
	driveID string
}

func (s listScope) includes(f *driveFile) bool {
	switch {
	case s.driveID != "":
		return f.driveID == s.driveID
	case f.driveID != "":
		return s.sharedItems
	}
	return true
}

// listScope checks files.list's shared-drive parameters as Drive does:
// driveId if and only if corpora=drive, and includeItemsFromAllDrives
// with corpora drive or allDrives (files.list reference,
// /drive/api/reference/rest/v3/files/list). Shared-drive items are listed
// only when the request says it supports them and asks for them.
func (e *Emulator) listScope(q url.Values, c caller) (listScope, *driveErr) {
	corpora, driveID := q.Get("corpora"), q.Get("driveId")
	include := q.Get("includeItemsFromAllDrives") == "true" || q.Get("includeTeamDriveItems") == "true"
	if e.lenientDrives {
		return listScope{sharedItems: true, driveID: driveID}, nil
	}
	switch corpora {
	case "", "user", "domain", "drive", "allDrives":
	default:
		return listScope{}, ptr(errInvalid("corpora", "Invalid Value"))
	}
	if (driveID != "") != (corpora == "drive") {
		return listScope{}, ptr(errInvalid("driveId", "The driveId parameter must be specified if and only if corpora is set to drive."))
	}
	if (corpora == "drive" || corpora == "allDrives") && !include {
		return listScope{}, ptr(errInvalid("includeItemsFromAllDrives",
			"The includeItemsFromAllDrives parameter must be set to true when corpora is drive or allDrives."))
	}
	if driveID != "" {
		e.mu.Lock()
		d := e.drives[driveID]
		member := d != nil && d.members[c.user.email] != ""
		e.mu.Unlock()
		if !member || !c.allDrives {
			return listScope{}, &driveErr{code: 404, reason: "notFound", message: "Shared drive not found: " + driveID, location: "driveId"}
		}
	}
	return listScope{sharedItems: include && c.allDrives, driveID: driveID}, nil
}

// handleListDrives serves drives.list: the shared drives the caller is a
// member of. Drive's reference gives it only the drive and drive.readonly
// scopes, so a drive.file token is refused.
func (e *Emulator) handleListDrives(w http.ResponseWriter, r *http.Request, c caller) {
	if !c.has(scopeDrive, scopeDriveReadonly) {
		writeDriveError(w, driveErr{code: 403, reason: "insufficientPermissions", message: "Request had insufficient authentication scopes.",
			errorInfo: "ACCESS_TOKEN_SCOPE_INSUFFICIENT"})
		return
	}
	q := r.URL.Query()
	mask, derr := maskFor(q.Get("fields"), "kind,nextPageToken,drives(kind,id,name)")
	if derr != nil {
		writeDriveError(w, *derr)
		return
	}
	pageSize := 10
	if s := q.Get("pageSize"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 100 {
			writeDriveError(w, errInvalid("pageSize", fmt.Sprintf("Invalid value '%s'. Values must be within the range: [1, 100]", s)))
			return
		}
		pageSize = n
	}
	listKey := c.user.email + "\x00drives"
	offset := 0
	if tok := q.Get("pageToken"); tok != "" {
		var err error
		if offset, err = decodePageToken(tok, listKey); err != nil {
			writeDriveError(w, errInvalid("pageToken", "Invalid Value"))
			return
		}
	}
	e.mu.Lock()
	var mine []*sharedDrive
	for _, d := range e.drives {
		if d.members[c.user.email] != "" {
			mine = append(mine, d)
		}
	}
	slices.SortFunc(mine, func(a, b *sharedDrive) int { return int(a.seq - b.seq) })
	page := mine[min(offset, len(mine)):]
	next := ""
	if len(page) > pageSize {
		page, next = page[:pageSize], encodePageToken(offset+pageSize, listKey)
	}
	drives := make([]map[string]any, len(page))
	for i, d := range page {
		role := roleRank(d.members[c.user.email])
		drives[i] = map[string]any{
			"kind": "drive#drive", "id": d.id, "name": d.name, "hidden": false,
			"createdTime": formatTime(e.files[d.id].created),
			"capabilities": map[string]any{
				"canAddChildren":   role >= roleWriter,
				"canManageMembers": d.members[c.user.email] == "organizer",
				"canShare":         role >= roleWriter,
			},
		}
	}
	e.mu.Unlock()
	res := map[string]any{"kind": "drive#driveList", "drives": drives}
	if next != "" {
		res["nextPageToken"] = next
	}
	writeJSON(w, http.StatusOK, mask.apply(res))
}
