package googleemu

import (
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// Drive's changes feed, as the "Retrieve changes" guide
// (/drive/api/guides/manage-changes) and the Changes resource
// (/drive/api/reference/rest/v3/changes) describe it: changes.getStartPageToken
// hands out a token for "now", and changes.list returns every change to a
// file the caller can see made since a token, then a newStartPageToken to
// poll with next time. Tokens are Drive's: opaque decimal strings.
//
// The feed is recorded lazily: each call first compares every file with
// what the feed last saw of it and logs a change for each difference, so
// every way the emulator changes a file (metadata, content, trash, sharing,
// deletion) shows up without each handler having to report it. Several
// edits between two polls are one change, as Drive may also coalesce them.

// changeFeed is the emulator's change log; guarded by Emulator.mu.
type changeFeed struct {
	seq     int64                 // the last change's number; tokens are seq+1 onward
	log     []changeRecord        // in order of seq
	seen    map[string]changeSeen // by file id: what the log last recorded
	started bool
}

type changeRecord struct {
	seq     int64
	fileID  string
	removed bool
	owner   string // who owned a removed file: only they hear of its removal
	at      time.Time
}

type changeSeen struct {
	fingerprint string
	owner       string
}

// defaultChangeListFields is what changes.list returns without a fields
// parameter: the change's own fields and the file's kind, id, name and type.
const defaultChangeListFields = "kind,nextPageToken,newStartPageToken,changes(kind,changeType,time,removed,fileId,file(kind,id,name,mimeType))"

func fileFingerprint(f *driveFile) string {
	return fmt.Sprint(f.version, f.modified.UnixNano(), f.trashed, f.name, f.parents, f.md5, f.size(), len(f.perms), f.description)
}

// syncChangesLocked logs a change for every file that differs from what
// the feed last saw, and a removal for every file gone since.
func (e *Emulator) syncChangesLocked() {
	fd := &e.feed
	if fd.seen == nil {
		fd.seen = map[string]changeSeen{}
	}
	now := e.now()
	for id, f := range e.files {
		if f.isRoot || f.driveRoot {
			continue
		}
		fp := fileFingerprint(f)
		if s, ok := fd.seen[id]; ok && s.fingerprint == fp {
			continue
		}
		fd.seen[id] = changeSeen{fingerprint: fp, owner: f.owner}
		if !fd.started {
			continue // what existed before anyone asked for a token is not a change
		}
		fd.seq++
		fd.log = append(fd.log, changeRecord{seq: fd.seq, fileID: id, at: now})
	}
	for id, s := range fd.seen {
		if _, ok := e.files[id]; ok {
			continue
		}
		delete(fd.seen, id)
		fd.seq++
		fd.log = append(fd.log, changeRecord{seq: fd.seq, fileID: id, removed: true, owner: s.owner, at: now})
	}
	fd.started = true
}

// handleStartPageToken is changes.getStartPageToken.
func (e *Emulator) handleStartPageToken(w http.ResponseWriter, r *http.Request, c caller) {
	mask, derr := maskFor(r.URL.Query().Get("fields"), "kind,startPageToken")
	if derr != nil {
		writeDriveError(w, *derr)
		return
	}
	e.mu.Lock()
	e.syncChangesLocked()
	tok := strconv.FormatInt(e.feed.seq+1, 10)
	e.mu.Unlock()
	writeJSON(w, http.StatusOK, mask.apply(map[string]any{"kind": "drive#startPageToken", "startPageToken": tok}))
}

// handleChanges is changes.list.
func (e *Emulator) handleChanges(w http.ResponseWriter, r *http.Request, c caller) {
	q := r.URL.Query()
	mask, derr := maskFor(q.Get("fields"), defaultChangeListFields)
	if derr != nil {
		writeDriveError(w, *derr)
		return
	}
	raw := q.Get("pageToken")
	if raw == "" {
		// pageToken is the one required parameter of changes.list.
		writeDriveError(w, driveErr{code: 400, reason: "required", message: "Required parameter: pageToken", location: "pageToken"})
		return
	}
	pageSize := 100
	if s := q.Get("pageSize"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			writeDriveError(w, errInvalid("pageSize", fmt.Sprintf("Invalid value '%s'. Values must be within the range: [1, 1000]", s)))
			return
		}
		pageSize = min(n, 1000) // the discovery document: "values above 1000 will be coerced to 1000"
	}
	includeRemoved := q.Get("includeRemoved") != "false" // default true
	e.mu.Lock()
	defer e.mu.Unlock()
	e.syncChangesLocked()
	from, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || from < 1 || from > e.feed.seq+1 {
		writeDriveError(w, errInvalid("pageToken", "Invalid Value"))
		return
	}
	// The latest record per file wins: a file changed twice is listed once.
	latest := map[string]int64{}
	for _, rec := range e.feed.log {
		if rec.seq >= from {
			latest[rec.fileID] = rec.seq
		}
	}
	changes := []map[string]any{}
	next := int64(0)
	for _, rec := range e.feed.log {
		if rec.seq < from || latest[rec.fileID] != rec.seq {
			continue
		}
		if len(changes) == pageSize {
			next = rec.seq
			break
		}
		ch := map[string]any{"kind": "drive#change", "changeType": "file", "fileId": rec.fileID, "time": formatTime(rec.at), "removed": rec.removed}
		if rec.removed {
			if !includeRemoved || rec.owner != c.user.email {
				continue
			}
		} else {
			f := e.files[rec.fileID]
			if f == nil || (f.driveID != "" && !c.allDrives) {
				continue
			}
			if role, _ := e.accessLocked(f, c); role == roleNone {
				continue // Drive lists only changes to files the caller can see
			}
			ch["file"] = e.resourceLocked(f, c)
			if f.driveID != "" {
				ch["driveId"] = f.driveID
			}
		}
		changes = append(changes, ch)
	}
	res := map[string]any{"kind": "drive#changeList", "changes": changes}
	if next != 0 {
		res["nextPageToken"] = strconv.FormatInt(next, 10)
	} else {
		res["newStartPageToken"] = strconv.FormatInt(e.feed.seq+1, 10)
	}
	writeJSON(w, http.StatusOK, mask.apply(res))
}
