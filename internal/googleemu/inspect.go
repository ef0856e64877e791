package googleemu

import (
	"cmp"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"time"
)

// Test helpers: what tests look at after driving the emulator over HTTP.

// File is a snapshot of a Drive file or folder.
type File struct {
	ID, Name, MimeType string
	Parents            []string
	Size               int64
	MD5                string
	Owner              string
	Trashed            bool
	CreatedTime        time.Time
	ModifiedTime       time.Time
	// Additions beyond the original contract.
	Description string
	ClientID    string // the OAuth client that created it
	// SourceMimeType is the media type of the bytes Drive converted into
	// this Google Workspace file, as the upload declared it; "" otherwise.
	SourceMimeType string
	// Version is Drive's version number, which grows with every change.
	Version int64
	// DriveID is the shared drive holding the file; "" in My Drive.
	DriveID string
}

func snapshotFile(f *driveFile) File {
	out := File{
		ID: f.id, Name: f.name, MimeType: f.mimeType, Parents: slices.Clone(f.parents),
		Size: f.size(), Owner: f.owner, Trashed: f.trashed, Version: f.version,
		CreatedTime: f.created, ModifiedTime: f.modified,
		Description: f.description, ClientID: f.clientID, SourceMimeType: f.sourceMediaType,
		DriveID: f.driveID,
	}
	if !f.isFolder() && f.hasBinaryContent() {
		out.MD5 = f.md5
	}
	return out
}

// Files returns all files and folders of every owner, sorted by CreatedTime.
// Each user's own root folder ("My Drive") is left out: tests care about what
// was created, and File(rootID) still finds it.
func (e *Emulator) Files() []File {
	e.mu.Lock()
	defer e.mu.Unlock()
	var fs []*driveFile
	for _, f := range e.files {
		if !f.isRoot {
			fs = append(fs, f)
		}
	}
	slices.SortFunc(fs, func(a, b *driveFile) int {
		return cmp.Or(a.created.Compare(b.created), cmp.Compare(a.seq, b.seq))
	})
	out := make([]File, len(fs))
	for i, f := range fs {
		out[i] = snapshotFile(f)
	}
	return out
}

// File returns one file by id.
func (e *Emulator) File(id string) (File, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	f, ok := e.files[id]
	if !ok {
		return File{}, false
	}
	return snapshotFile(f), true
}

// OpenContent opens a file's stored bytes.
func (e *Emulator) OpenContent(id string) (io.ReadCloser, error) {
	e.mu.Lock()
	f, ok := e.files[id]
	var b blob
	if ok {
		b = f.content
	}
	e.mu.Unlock()
	switch {
	case !ok:
		return nil, fmt.Errorf("googleemu: no file %q", id)
	case b == nil:
		return nil, errors.New("googleemu: " + id + " is a folder and has no content")
	}
	return b.open()
}

// RootFolderID returns the id of a user's My Drive, creating the user if needed.
func (e *Emulator) RootFolderID(email string) string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.userLocked(email).rootID
}

// Stats counts traffic.
type Stats struct {
	UploadBytesReceived int64          // total request-body bytes read on /upload/... paths (all requests, including ones that later fail)
	TokenRequests       map[string]int // by grant_type
	Requests            int64
	Throttled           int64 // requests refused by UsageLimits (rate limits)
	OpenUploadSessions  int   // resumable sessions neither finished nor cancelled nor expired
}

// Stats returns the traffic counters so far.
func (e *Emulator) Stats() Stats {
	e.mu.Lock()
	tr := maps.Clone(e.tokenRequests)
	sessions := make([]*uploadSession, 0, len(e.sessions))
	for _, s := range e.sessions {
		sessions = append(sessions, s)
	}
	e.mu.Unlock()
	open := 0
	for _, s := range sessions {
		if !s.mu.TryLock() {
			open++ // mid-request, so not finished
			continue
		}
		if !s.done {
			open++
		}
		s.mu.Unlock()
	}
	return Stats{UploadBytesReceived: e.uploadBytes.Load(), TokenRequests: tr, Requests: e.requests.Load(), Throttled: e.throttled.Load(), OpenUploadSessions: open}
}

// ExpireAccessTokens makes every access token issued so far expired, so
// clients must refresh. Tokens issued afterwards are unaffected.
func (e *Emulator) ExpireAccessTokens() {
	e.mu.Lock()
	defer e.mu.Unlock()
	now := e.now()
	for _, t := range e.accessTokens {
		if t.expires.After(now) {
			t.expires = now
		}
	}
}

// IssuedSecrets returns every access token, refresh token and authorization
// code ever issued, so tests can check none leaked into logs or responses.
func (e *Emulator) IssuedSecrets() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.issued)
}

// RevokedTokens returns every token /revoke invalidated: each token named in a
// request, followed by the other tokens of the grant that died with it.
func (e *Emulator) RevokedTokens() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.revoked)
}

// Notifications returns the sharing emails Drive would have sent.
func (e *Emulator) Notifications() []Notification {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.notifications)
}

// Permission is a snapshot of one entry of a file's access list.
type Permission struct {
	ID, Type, Role     string
	Email, Domain      string // for user/group and domain permissions
	AllowFileDiscovery bool
	Expiration         time.Time // zero: never expires
}

// Permissions returns a file's access list (its owner first), or nil if
// there is no such file.
func (e *Emulator) Permissions(fileID string) []Permission {
	e.mu.Lock()
	defer e.mu.Unlock()
	f, ok := e.files[fileID]
	if !ok {
		return nil
	}
	out := make([]Permission, len(f.perms))
	for i, p := range f.perms {
		out[i] = Permission{ID: p.id, Type: p.typ, Role: p.role, Email: p.email, Domain: p.domain, AllowFileDiscovery: p.allowDiscovery, Expiration: p.expiration}
	}
	return out
}

// SeedFile adds a text file to owner's My Drive as if the person had made it
// in Drive's own web app: no OAuth client created it, so a drive.file token
// cannot see it while a drive or drive.readonly token can. It returns the
// file's id.
func (e *Emulator) SeedFile(owner, name, content string) string {
	e.mu.Lock()
	defer e.mu.Unlock()
	u := e.userLocked(owner)
	sum := md5.Sum([]byte(content))
	f, derr := e.createFileLocked(fileMetadata{Name: &name, Parents: []string{u.rootID}},
		caller{user: u, scopes: []string{scopeDrive}}, "text/plain", memoryBlob(content), hex.EncodeToString(sum[:]))
	if derr != nil {
		return "" // cannot happen: the owner may always write to their own root
	}
	return f.id
}

// RevokeAccess plays the person removing the app at
// myaccount.google.com/permissions (Google Account Help, "Manage
// connections between your Google Account and third-party apps &
// services", /accounts/answer/13533235): every grant of email, to every
// client, dies at once with all its tokens, and the next refresh is
// answered invalid_grant.
func (e *Emulator) RevokeAccess(email string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for k := range e.grants {
		if k.email == email {
			e.revokeGrantLocked(k.email, k.clientID, "")
		}
	}
}

// DeleteFile deletes a file or folder permanently, with everything inside
// it, as its owner would in Drive's web app: behind the back of every API
// client, which learn it only from a 404. It reports whether id existed.
func (e *Emulator) DeleteFile(id string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	f := e.files[id]
	if f == nil || f.isRoot || f.driveRoot {
		return false
	}
	e.deleteTreeLocked(f)
	return true
}
