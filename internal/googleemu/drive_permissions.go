package googleemu

import (
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// permissions.create/list/get/delete and about.get.

// Notification is a sharing email Drive would have sent (permissions.create
// with sendNotificationEmail, the default for users and groups).
type Notification struct {
	FileID  string
	From    string
	To      string
	Role    string
	Message string
}

type permissionBody struct {
	Type               string `json:"type"`
	Role               string `json:"role"`
	EmailAddress       string `json:"emailAddress"`
	Domain             string `json:"domain"`
	AllowFileDiscovery bool   `json:"allowFileDiscovery"`
	ExpirationTime     string `json:"expirationTime"`
}

func (e *Emulator) permissionResourceLocked(p *permission) map[string]any {
	res := map[string]any{"kind": "drive#permission", "id": p.id, "type": p.typ, "role": p.role}
	switch p.typ {
	case "user", "group":
		res["emailAddress"] = p.email
		if u, ok := e.users[p.email]; ok {
			res["displayName"] = u.name
		}
	case "domain":
		res["domain"] = p.domain
		res["allowFileDiscovery"] = p.allowDiscovery
	case "anyone":
		res["allowFileDiscovery"] = p.allowDiscovery
	}
	if !p.expiration.IsZero() {
		res["expirationTime"] = formatTime(p.expiration)
	}
	return res
}

func (e *Emulator) handleCreatePermission(w http.ResponseWriter, r *http.Request, c caller) {
	q := r.URL.Query()
	mask, derr := maskFor(q.Get("fields"), defaultPermissionFields)
	if derr != nil {
		writeDriveError(w, *derr)
		return
	}
	var body permissionBody
	raw, err := io.ReadAll(io.LimitReader(r.Body, maxMetadataBytes))
	if err == nil {
		err = json.Unmarshal(raw, &body)
	}
	if err != nil {
		writeDriveError(w, driveErr{code: 400, reason: "parseError", message: "Parse Error"})
		return
	}
	p, derr := validatePermission(body, q.Get("transferOwnership") == "true")
	if derr == nil {
		e.mu.Lock()
		p.expiration, derr = e.checkExpirationLocked(body.ExpirationTime, p.typ)
		e.mu.Unlock()
	}
	if derr != nil {
		writeDriveError(w, *derr)
		return
	}
	notify := p.typ == "user" || p.typ == "group"
	if v := q.Get("sendNotificationEmail"); v != "" {
		notify = notify && v == "true"
	}
	if p.role == "owner" && q.Get("sendNotificationEmail") == "false" {
		writeDriveError(w, driveErr{code: 403, reason: "forbidden", location: "sendNotificationEmail",
			message: "Sorry, you cannot turn off the email notification when transferring ownership."})
		return
	}

	e.mu.Lock()
	res, derr := e.addPermissionLocked(r.PathValue("fileId"), p, c)
	if derr == nil && notify {
		e.notifications = append(e.notifications, Notification{FileID: resolveID(r.PathValue("fileId"), c),
			From: c.user.email, To: p.email, Role: p.role, Message: q.Get("emailMessage")})
	}
	e.mu.Unlock()
	if derr != nil {
		writeDriveError(w, *derr)
		return
	}
	writeJSON(w, http.StatusOK, mask.apply(res))
}

func validatePermission(b permissionBody, transferOwnership bool) (*permission, *driveErr) {
	switch b.Type {
	case "user", "group", "domain", "anyone":
	case "":
		return nil, &driveErr{code: 400, reason: "required", message: "Required: permission.type", location: "permission.type", locationType: "other"}
	default:
		return nil, &driveErr{code: 400, reason: "invalid", message: "Invalid permission type: " + b.Type, location: "permission.type", locationType: "other"}
	}
	switch b.Role {
	case "reader", "commenter", "writer", "fileOrganizer", "organizer":
	case "owner":
		if !transferOwnership || b.Type != "user" {
			return nil, &driveErr{code: 403, reason: "forbidden", location: "transferOwnership",
				message: "The transferOwnership parameter must be enabled when the permission role is 'owner'."}
		}
	case "":
		return nil, &driveErr{code: 400, reason: "required", message: "Required: permission.role", location: "permission.role", locationType: "other"}
	default:
		return nil, &driveErr{code: 400, reason: "invalid", message: "Invalid permission role: " + b.Role, location: "permission.role", locationType: "other"}
	}
	p := &permission{typ: b.Type, role: b.Role, allowDiscovery: b.AllowFileDiscovery}
	switch b.Type {
	case "user", "group":
		email, ok := normalizeEmail(b.EmailAddress)
		if !ok {
			return nil, &driveErr{code: 400, reason: "invalid", location: "permission.emailAddress", locationType: "other",
				message: "Invalid email address: " + b.EmailAddress}
		}
		p.email = email
		p.id = digitsFrom("perm:"+email, 20)
	case "domain":
		if b.Domain == "" || strings.ContainsAny(b.Domain, "@ /") {
			return nil, &driveErr{code: 400, reason: "invalid", message: "Invalid domain: " + b.Domain, location: "permission.domain", locationType: "other"}
		}
		p.domain = strings.ToLower(b.Domain)
		p.id = digitsFrom("domain:"+p.domain, 20) + "k"
	case "anyone":
		p.id = "anyoneWithLink"
		if p.allowDiscovery {
			p.id = "anyone"
		}
	}
	return p, nil
}

// addPermissionLocked adds p, replacing any permission for the same grantee
// (Drive updates the role rather than adding a duplicate).
func (e *Emulator) addPermissionLocked(fileID string, p *permission, c caller) (map[string]any, *driveErr) {
	f, role, derr := e.fileLocked(fileID, c)
	if derr != nil {
		return nil, derr
	}
	if role < roleWriter || f.isRoot {
		return nil, ptr(errInsufficientFilePermissions())
	}
	if p.typ == "anyone" && e.policyLocked(c.user.email).NoLinkSharing {
		// The administrator's sharing settings bind the API as they bind
		// the web page (Drive's "Share files, folders and drives" guide).
		return nil, &driveErr{code: 403, reason: "publishOutNotPermitted",
			message: "The user's domain policy does not allow sharing with anyone who has the link."}
	}
	if p.role == "owner" {
		if role < roleOwner {
			return nil, ptr(errInsufficientFilePermissions())
		}
		for _, old := range f.perms {
			if old.role == "owner" {
				old.role = "writer" // the previous owner keeps edit access
			}
		}
		f.owner = p.email
		e.userLocked(p.email)
	}
	f.perms = slices.DeleteFunc(f.perms, func(old *permission) bool {
		return old.id == p.id || (p.typ == "anyone" && old.typ == "anyone")
	})
	f.perms = append(f.perms, p)
	return e.permissionResourceLocked(p), nil
}

func (e *Emulator) handleListPermissions(w http.ResponseWriter, r *http.Request, c caller) {
	mask, derr := maskFor(r.URL.Query().Get("fields"), defaultPermissionListFields)
	if derr != nil {
		writeDriveError(w, *derr)
		return
	}
	e.mu.Lock()
	f, _, derr := e.fileLocked(r.PathValue("fileId"), c)
	var perms []map[string]any
	if derr == nil {
		now := e.now()
		for _, p := range f.perms {
			if p.liveAt(now) { // Drive drops a permission once it expires
				perms = append(perms, e.permissionResourceLocked(p))
			}
		}
	}
	e.mu.Unlock()
	if derr != nil {
		writeDriveError(w, *derr)
		return
	}
	if perms == nil {
		perms = []map[string]any{}
	}
	writeJSON(w, http.StatusOK, mask.apply(map[string]any{"kind": "drive#permissionList", "permissions": perms}))
}

func (e *Emulator) handleGetPermission(w http.ResponseWriter, r *http.Request, c caller) {
	mask, derr := maskFor(r.URL.Query().Get("fields"), defaultPermissionFields)
	if derr != nil {
		writeDriveError(w, *derr)
		return
	}
	e.mu.Lock()
	var res map[string]any
	f, _, derr := e.fileLocked(r.PathValue("fileId"), c)
	if derr == nil {
		derr = errPermissionNotFound(r.PathValue("permissionId"))
		for _, p := range f.perms {
			if p.id == r.PathValue("permissionId") && p.liveAt(e.now()) {
				res, derr = e.permissionResourceLocked(p), nil
			}
		}
	}
	e.mu.Unlock()
	if derr != nil {
		writeDriveError(w, *derr)
		return
	}
	writeJSON(w, http.StatusOK, mask.apply(res))
}

func errPermissionNotFound(id string) *driveErr {
	return &driveErr{code: 404, reason: "notFound", message: "Permission not found: " + id + ".", location: "permissionId"}
}

func (e *Emulator) handleDeletePermission(w http.ResponseWriter, r *http.Request, c caller) {
	id := r.PathValue("permissionId")
	e.mu.Lock()
	f, role, derr := e.fileLocked(r.PathValue("fileId"), c)
	if derr == nil && role < roleWriter {
		derr = ptr(errInsufficientFilePermissions())
	}
	if derr == nil {
		i := slices.IndexFunc(f.perms, func(p *permission) bool { return p.id == id })
		switch {
		case i < 0:
			derr = errPermissionNotFound(id)
		case f.perms[i].role == "owner":
			derr = &driveErr{code: 403, reason: "cannotRemoveOwner", message: "The owner of a file cannot be removed."}
		default:
			f.perms = slices.Delete(f.perms, i, i+1)
		}
	}
	e.mu.Unlock()
	if derr != nil {
		writeDriveError(w, *derr)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// checkExpirationLocked parses a permission's expirationTime and holds it to the
// restrictions of Drive's Permission resource (/drive/api/reference/rest/v3/permissions,
// expirationTime): only user and group permissions, in the future, at
// most a year ahead. "" is no expiration.
func (e *Emulator) checkExpirationLocked(s, typ string) (time.Time, *driveErr) {
	if s == "" {
		return time.Time{}, nil
	}
	now := e.now()
	t, err := time.Parse(time.RFC3339Nano, s)
	switch {
	case err != nil:
		return t, ptr(errInvalid("permission.expirationTime", "Invalid value for expirationTime: "+s))
	case e.lenientExpiry:
	case typ != "user" && typ != "group":
		return t, &driveErr{code: 403, reason: "cannotSetExpirationOnAnyoneOrDomain", location: "permission.expirationTime",
			message: "Expiration dates cannot be set on anyone or domain permissions."}
	case !t.After(now):
		return t, &driveErr{code: 400, reason: "expirationDatesMustBeInTheFuture", location: "permission.expirationTime",
			message: "Expiration dates must be in the future."}
	case t.After(now.AddDate(1, 0, 0)):
		return t, &driveErr{code: 400, reason: "expirationDateTooFarInFuture", location: "permission.expirationTime",
			message: "Expiration dates cannot be more than a year in the future."}
	}
	return t.UTC(), nil
}

// handleUpdatePermission serves permissions.update (PATCH): a new role
// and/or expirationTime, or removeExpiration=true. Only role and
// expirationTime are writable; the grantee is not (permissions.update
// reference, /drive/api/reference/rest/v3/permissions/update).
func (e *Emulator) handleUpdatePermission(w http.ResponseWriter, r *http.Request, c caller) {
	q := r.URL.Query()
	mask, derr := maskFor(q.Get("fields"), defaultPermissionFields)
	if derr != nil {
		writeDriveError(w, *derr)
		return
	}
	var body permissionBody
	raw, err := io.ReadAll(io.LimitReader(r.Body, maxMetadataBytes))
	if err == nil {
		err = json.Unmarshal(raw, &body)
	}
	if err != nil {
		writeDriveError(w, driveErr{code: 400, reason: "parseError", message: "Parse Error"})
		return
	}
	if body.Type != "" || body.EmailAddress != "" || body.Domain != "" {
		writeDriveError(w, driveErr{code: 403, reason: "fieldNotWritable", location: "permission.type",
			message: "The resource body includes fields which are not directly writable."})
		return
	}
	switch body.Role {
	case "", "reader", "commenter", "writer", "fileOrganizer", "organizer":
	case "owner":
		if q.Get("transferOwnership") != "true" {
			writeDriveError(w, driveErr{code: 403, reason: "forbidden", location: "transferOwnership",
				message: "The transferOwnership parameter must be enabled when the permission role is 'owner'."})
			return
		}
		writeDriveError(w, driveErr{code: 403, reason: "forbidden", message: "Ownership transfer through permissions.update is not emulated."})
		return
	default:
		writeDriveError(w, driveErr{code: 400, reason: "invalid", message: "Invalid permission role: " + body.Role, location: "permission.role", locationType: "other"})
		return
	}
	id := r.PathValue("permissionId")
	e.mu.Lock()
	var res map[string]any
	f, role, derr := e.fileLocked(r.PathValue("fileId"), c)
	if derr == nil && role < roleWriter {
		derr = ptr(errInsufficientFilePermissions())
	}
	if derr == nil {
		now := e.now()
		i := slices.IndexFunc(f.perms, func(p *permission) bool { return p.id == id && p.liveAt(now) })
		switch {
		case i < 0:
			derr = errPermissionNotFound(id)
		case f.perms[i].role == "owner":
			derr = &driveErr{code: 403, reason: "cannotModifyOwner", message: "The owner's role cannot be changed; transfer ownership instead."}
		default:
			p := *f.perms[i]
			if body.Role != "" {
				p.role = body.Role
			}
			if q.Get("removeExpiration") == "true" {
				p.expiration = time.Time{}
			} else if body.ExpirationTime != "" {
				p.expiration, derr = e.checkExpirationLocked(body.ExpirationTime, p.typ)
			}
			if derr == nil {
				f.perms[i] = &p
				res = e.permissionResourceLocked(&p)
			}
		}
	}
	e.mu.Unlock()
	if derr != nil {
		writeDriveError(w, *derr)
		return
	}
	writeJSON(w, http.StatusOK, mask.apply(res))
}

// handleAbout serves about.get. Drive requires `fields` here, and so does the
// emulator, so a client that forgets it fails in tests too.
func (e *Emulator) handleAbout(w http.ResponseWriter, r *http.Request, c caller) {
	fields := r.URL.Query().Get("fields")
	if strings.TrimSpace(fields) == "" {
		writeDriveError(w, driveErr{code: 400, reason: "required", location: "fields",
			message: "The 'fields' parameter is required for this method."})
		return
	}
	mask, derr := maskFor(fields, "")
	if derr != nil {
		writeDriveError(w, *derr)
		return
	}
	e.mu.Lock()
	var usage, trash int64
	for _, f := range e.files {
		if f.owner == c.user.email {
			usage += f.size()
			if f.trashed {
				trash += f.size()
			}
		}
	}
	e.mu.Unlock()
	formats := map[string][]string{}
	for k, v := range exportFormats {
		formats[k] = v
	}
	res := map[string]any{
		"kind": "drive#about",
		"user": map[string]any{"kind": "drive#user", "displayName": c.user.name, "emailAddress": c.user.email,
			"me": true, "permissionId": c.user.permissionID},
		"storageQuota": map[string]any{
			"limit":             strconv.FormatInt(15<<30, 10),
			"usage":             strconv.FormatInt(usage, 10),
			"usageInDrive":      strconv.FormatInt(usage, 10),
			"usageInDriveTrash": strconv.FormatInt(trash, 10),
		},
		"maxUploadSize":   strconv.FormatInt(5<<40, 10),
		"appInstalled":    false,
		"canCreateDrives": false,
		"exportFormats":   formats,
		"importFormats":   importFormatsResource(),
	}
	writeJSON(w, http.StatusOK, mask.apply(res))
}
