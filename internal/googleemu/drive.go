package googleemu

import (
	"maps"
	"net/http"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The Drive model: files and folders, who may see them, and how they render
// as Drive v3 resources. Handlers are in drive_files.go, upload.go and
// drive_permissions.go.

const (
	mimeFolder       = "application/vnd.google-apps.folder"
	mimeDocument     = "application/vnd.google-apps.document"
	mimeSpreadsheet  = "application/vnd.google-apps.spreadsheet"
	mimePresentation = "application/vnd.google-apps.presentation"
	googleAppsPrefix = "application/vnd.google-apps."
)

type driveFile struct {
	id, name, mimeType, description string
	parents                         []string
	owner                           string // email
	clientID                        string // the OAuth client that created it (drive.file visibility)
	trashed                         bool
	// explicitlyTrashed: trashed on its own, not with a folder around it.
	explicitlyTrashed bool
	created, modified time.Time
	seq               int64 // creation order, the tie-breaker for every sort
	version           int64
	isRoot            bool
	content           blob // nil for folders
	md5               string
	// sourceMediaType is the media type of the bytes a converted file was
	// made from (the upload's X-Upload-Content-Type or part type).
	sourceMediaType string
	perms           []*permission
	// driveID is the shared drive the file lives in, "" for My Drive.
	driveID string
	// driveRoot marks the folder that is a shared drive itself (its id is
	// the drive's id); its members' roles apply to everything inside.
	driveRoot bool
	// appProperties are kept per OAuth client: Drive shows (and searches)
	// an app's properties only to that app ("Add custom file properties":
	// /drive/api/guides/properties).
	appProperties map[string]map[string]string
}

// setAppProperties merges set into the client's app properties; a nil
// value deletes its key, as in a files.update body.
func (f *driveFile) setAppProperties(set map[string]*string, clientID string) {
	if len(set) == 0 {
		return
	}
	if f.appProperties == nil {
		f.appProperties = map[string]map[string]string{}
	}
	mine := f.appProperties[clientID]
	if mine == nil {
		mine = map[string]string{}
		f.appProperties[clientID] = mine
	}
	for k, v := range set {
		if v == nil {
			delete(mine, k)
		} else {
			mine[k] = *v
		}
	}
}

func (f *driveFile) isFolder() bool { return f.mimeType == mimeFolder }

func (f *driveFile) size() int64 {
	if f.content == nil {
		return 0
	}
	return f.content.size()
}

// hasBinaryContent is what Drive can download with alt=media and checksum.
// Google Workspace files have neither: Drive's File resource documents
// md5Checksum as "only populated for files with content stored in Google
// Drive; not populated for Docs Editors or shortcut files"
// (/drive/api/reference/rest/v3/files).
func (f *driveFile) hasBinaryContent() bool {
	return !strings.HasPrefix(f.mimeType, googleAppsPrefix)
}

type permission struct {
	id, typ, role, email, domain string
	allowDiscovery               bool
	// expiration, if set, is when Drive drops the permission by itself
	// (Permission.expirationTime, /drive/api/reference/rest/v3/permissions).
	expiration time.Time
}

// liveAt reports whether p still grants access at now.
func (p *permission) liveAt(now time.Time) bool {
	return p.expiration.IsZero() || now.Before(p.expiration)
}

// Roles, ordered so that a greater value grants more.
const (
	roleNone = iota
	roleReader
	roleCommenter
	roleWriter
	roleOwner
)

func roleRank(role string) int {
	switch role {
	case "reader":
		return roleReader
	case "commenter":
		return roleCommenter
	case "writer", "fileOrganizer", "organizer":
		return roleWriter
	case "owner":
		return roleOwner
	}
	return roleNone
}

// caller is who a Drive request acts as, from its access token.
type caller struct {
	user     *user
	clientID string
	scopes   []string
	// allDrives is the request's supportsAllDrives: without it Drive acts
	// as if items in shared drives did not exist ("Implement shared drive
	// support", /drive/api/guides/enable-shareddrives).
	allDrives bool
}

func (c caller) has(scopes ...string) bool {
	return slices.ContainsFunc(scopes, func(s string) bool { return slices.Contains(c.scopes, s) })
}

// seesAllFiles: only drive.file restricts a token to the files its client created.
func (c caller) seesAllFiles() bool {
	return c.has(scopeDrive, scopeDriveReadonly, scopeDriveMeta, scopeDriveMetaRO)
}

func (c caller) canRead() bool {
	return c.has(scopeDrive, scopeDriveFile, scopeDriveReadonly, scopeDriveMeta, scopeDriveMetaRO)
}

func (c caller) canWrite() bool { return c.has(scopeDrive, scopeDriveFile) }

// authenticate resolves the bearer token of a Drive request. write says
// whether the request changes anything, which read-only scopes may not.
func (e *Emulator) authenticate(r *http.Request, write bool) (caller, *driveErr) {
	tok := bearerToken(r)
	e.mu.Lock()
	t, ok := e.lookupAccessLocked(tok)
	var c caller
	if ok {
		q := r.URL.Query()
		c = caller{user: e.userLocked(t.email), clientID: t.clientID, scopes: t.scopes,
			allDrives: q.Get("supportsAllDrives") == "true" || q.Get("supportsTeamDrives") == "true"}
	}
	e.mu.Unlock()
	if tok == "" {
		return c, &driveErr{code: 401, reason: "required", message: "Request is missing required authentication credential. " +
			"Expected OAuth 2 access token, login cookie or other valid authentication credential.",
			location: "Authorization", locationType: "header",
			wwwAuthenticate: `Bearer realm="https://accounts.google.com/"`}
	}
	if !ok {
		return c, &driveErr{code: 401, reason: "authError", message: "Request had invalid authentication credentials. " +
			"Expected OAuth 2 access token, login cookie or other valid authentication credential.",
			location: "Authorization", locationType: "header",
			wwwAuthenticate: `Bearer realm="https://accounts.google.com/", error="invalid_token"`}
	}
	if !c.canRead() || (write && !c.canWrite()) {
		// A token whose scopes the person unticked (granular consent) meets
		// this: Google's body names ACCESS_TOKEN_SCOPE_INSUFFICIENT in details.
		return c, &driveErr{code: 403, reason: "insufficientPermissions", message: "Request had insufficient authentication scopes.",
			errorInfo: "ACCESS_TOKEN_SCOPE_INSUFFICIENT",
			wwwAuthenticate: `Bearer realm="https://accounts.google.com/", error="insufficient_scope", scope="` +
				scopeDrive + " " + scopeDriveFile + `"`}
	}
	return c, nil
}

// drive wraps a Drive API handler with authentication; every method but GET writes.
func (e *Emulator) drive(h func(http.ResponseWriter, *http.Request, caller)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		c, err := e.authenticate(r, r.Method != http.MethodGet)
		if err != nil {
			writeDriveError(w, *err)
			return
		}
		if !e.admit(w, c.user.email, r.Method != http.MethodGet) {
			return
		}
		h(w, r, c)
	}
}

// resolveID maps the 'root' alias to the caller's My Drive.
func resolveID(id string, c caller) string {
	if id == "root" {
		return c.user.rootID
	}
	return id
}

// accessLocked reports the caller's role on f, and whether f shows up in the
// caller's listings (owned, or shared with them by name or domain; a link
// shared with anyone can be opened but is not listed). Permissions on a
// folder apply to everything inside it, as in Drive.
func (e *Emulator) accessLocked(f *driveFile, c caller) (role int, listed bool) {
	if f.isRoot {
		if f.owner == c.user.email {
			return roleOwner, false
		}
		return roleNone, false
	}
	if !c.seesAllFiles() && f.clientID != c.clientID {
		return roleNone, false
	}
	// Only the drive scope changes files another app (or the person) made:
	// drive.readonly beside drive.file still reads them only.
	limit := roleOwner
	if !c.has(scopeDrive) && f.clientID != c.clientID {
		limit = roleReader
	}
	defer func() { role = min(role, limit) }()
	if f.owner == c.user.email && f.driveID == "" {
		return roleOwner, true
	}
	_, domain, _ := strings.Cut(c.user.email, "@")
	now := e.now()
	cur := f
	for depth := 0; cur != nil && depth < 64; depth++ {
		if cur.driveRoot {
			// Items in a shared drive belong to the drive: its members'
			// roles reach everything inside ("Shared drives overview",
			// /drive/api/guides/about-shareddrives).
			if d := e.drives[cur.driveID]; d != nil && d.members[c.user.email] != "" {
				role, listed = max(role, roleRank(d.members[c.user.email])), true
			}
		}
		for _, p := range cur.perms {
			if !p.liveAt(now) {
				continue
			}
			r := roleRank(p.role)
			switch {
			case (p.typ == "user" || p.typ == "group") && p.email == c.user.email,
				p.typ == "domain" && strings.EqualFold(p.domain, domain):
				role, listed = max(role, r), true
			case p.typ == "anyone":
				role = max(role, r)
			}
		}
		if len(cur.parents) == 0 {
			break
		}
		cur = e.files[cur.parents[0]]
	}
	return role, listed
}

// fileLocked finds a file the caller may at least read, else Drive's 404
// (Drive does not reveal that a file exists to someone who cannot see it).
func (e *Emulator) fileLocked(id string, c caller) (*driveFile, int, *driveErr) {
	f, ok := e.files[resolveID(id, c)]
	if !ok || (f.driveID != "" && !c.allDrives && !e.lenientDrives) {
		return nil, roleNone, ptr(errFileNotFound(id))
	}
	role, _ := e.accessLocked(f, c)
	if role == roleNone && !c.seesAllFiles() && e.filePolicies[f.id].AppNotAuthorized {
		// "Resolve errors": the user may open the file, this drive.file
		// app was never given it.
		return nil, roleNone, &driveErr{code: 403, reason: "appNotAuthorizedToFile", location: "fileId",
			message: "The user has not granted the app " + c.clientID + " read access to the file " + id + "."}
	}
	if role == roleNone {
		return nil, roleNone, ptr(errFileNotFound(id))
	}
	return f, role, nil
}

func ptr[T any](v T) *T { return &v }

// isAncestorLocked reports whether a is f or one of its ancestors.
func (e *Emulator) isAncestorLocked(a string, f *driveFile) bool {
	for cur, depth := f, 0; cur != nil && depth < 64; depth++ {
		if cur.id == a {
			return true
		}
		if len(cur.parents) == 0 {
			return false
		}
		cur = e.files[cur.parents[0]]
	}
	return false
}

func formatTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// webViewLink is where a person opens the file in a browser.
func webViewLink(f *driveFile) string {
	switch f.mimeType {
	case mimeFolder:
		return "https://drive.google.com/drive/folders/" + f.id
	case mimeDocument:
		return "https://docs.google.com/document/d/" + f.id + "/edit"
	case mimeSpreadsheet:
		return "https://docs.google.com/spreadsheets/d/" + f.id + "/edit"
	case mimePresentation:
		return "https://docs.google.com/presentation/d/" + f.id + "/edit"
	}
	return "https://drive.google.com/file/d/" + f.id + "/view"
}

// resourceLocked renders f as a complete Drive v3 File; the fields mask trims it.
func (e *Emulator) resourceLocked(f *driveFile, c caller) map[string]any {
	owner := e.users[f.owner]
	if f.driveID != "" {
		owner = nil // items in a shared drive have no owner; the drive holds them
	}
	res := map[string]any{
		"kind":              "drive#file",
		"id":                f.id,
		"name":              f.name,
		"mimeType":          f.mimeType,
		"starred":           false,
		"trashed":           f.trashed,
		"explicitlyTrashed": f.explicitlyTrashed,
		"capabilities":      e.capabilitiesLocked(f, c),
		"spaces":            []string{"drive"},
		"version":           strconv.FormatInt(f.version, 10),
		"createdTime":       formatTime(f.created),
		"modifiedTime":      formatTime(f.modified),
		"webViewLink":       webViewLink(f),
		"ownedByMe":         owner != nil && f.owner == c.user.email,
		"shared":            len(f.perms) > 1 || f.driveID != "",
		"viewedByMe":        f.owner == c.user.email,
	}
	if owner != nil {
		res["owners"] = []map[string]any{{
			"kind": "drive#user", "displayName": owner.name, "emailAddress": owner.email,
			"me": owner.email == c.user.email, "permissionId": owner.permissionID,
		}}
	} else {
		res["driveId"] = f.driveID
	}
	if f.description != "" {
		res["description"] = f.description
	}
	if len(f.parents) > 0 {
		res["parents"] = slices.Clone(f.parents)
	}
	if props := f.appProperties[c.clientID]; len(props) > 0 {
		res["appProperties"] = maps.Clone(props)
	}
	ids := make([]string, len(f.perms))
	perms := make([]map[string]any, len(f.perms))
	for i, p := range f.perms {
		ids[i] = p.id
		perms[i] = e.permissionResourceLocked(p)
	}
	res["permissionIds"] = ids
	if role, _ := e.accessLocked(f, c); role >= roleWriter {
		res["permissions"] = perms // Drive shows the ACL only to those who may share
	}
	if !f.isFolder() {
		size := strconv.FormatInt(f.size(), 10)
		res["size"] = size
		res["quotaBytesUsed"] = size
		if f.hasBinaryContent() {
			res["md5Checksum"] = f.md5
			res["originalFilename"] = f.name
			res["webContentLink"] = "https://drive.google.com/uc?id=" + f.id + "&export=download"
			if ext := strings.TrimPrefix(path.Ext(f.name), "."); ext != "" {
				res["fileExtension"] = ext
				res["fullFileExtension"] = ext
			}
		}
	}
	return res
}
