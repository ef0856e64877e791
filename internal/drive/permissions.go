package drive

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	drivev3 "google.golang.org/api/drive/v3"
)

// Permission is one entry of a file's access list.
type Permission struct {
	ID string
	// Type is user, group, domain or anyone.
	Type string
	// Role is owner, organizer, fileOrganizer, writer, commenter or reader.
	Role        string
	Email       string // user and group permissions
	Domain      string // domain permissions
	DisplayName string
	// Expiration is when Drive removes the permission by itself; zero: never.
	Expiration time.Time
	// Inherited: the permission comes from a folder or shared drive above
	// the file, so it is changed there, not on the file.
	Inherited bool
}

const permissionFields = "id,type,role,emailAddress,domain,displayName,expirationTime,permissionDetails(inherited)"

func permissionFrom(p *drivev3.Permission) Permission {
	out := Permission{ID: p.Id, Type: p.Type, Role: p.Role, Email: p.EmailAddress, Domain: p.Domain, DisplayName: p.DisplayName}
	if t, err := time.Parse(time.RFC3339Nano, p.ExpirationTime); err == nil {
		out.Expiration = t
	}
	for _, d := range p.PermissionDetails {
		out.Inherited = out.Inherited || d.Inherited
	}
	return out
}

// ListPermissions returns every permission on the file, all pages.
func (f *Files) ListPermissions(ctx context.Context, fileID string) ([]Permission, error) {
	var out []Permission
	err := f.read(ctx, func() error {
		out = out[:0]
		return f.svc.Permissions.List(fileID).SupportsAllDrives(true).Fields("nextPageToken,permissions("+permissionFields+")").
			Pages(ctx, func(list *drivev3.PermissionList) error {
				for _, p := range list.Permissions {
					out = append(out, permissionFrom(p))
				}
				return nil
			})
	})
	return out, err
}

// ErrNoSuchPermission means the file has no permission for that person or id.
var ErrNoSuchPermission = errors.New("drive: no such permission")

// ErrAmbiguous means a name or address matched more than one item, so
// nothing was touched.
var ErrAmbiguous = errors.New("drive: more than one match")

// FindPermission returns the file's permission with id permissionID, or,
// when permissionID is "", the one of email (user or group, compared
// without case). Either way one listing: Drive has no lookup by address.
func (f *Files) FindPermission(ctx context.Context, fileID, permissionID, email string) (Permission, error) {
	perms, err := f.ListPermissions(ctx, fileID)
	if err != nil {
		return Permission{}, err
	}
	var found []Permission
	for _, p := range perms {
		if (permissionID != "" && p.ID == permissionID) ||
			(permissionID == "" && p.Email != "" && strings.EqualFold(p.Email, email)) {
			found = append(found, p)
		}
	}
	switch len(found) {
	case 0:
		who := permissionID
		if who == "" {
			who = email
		}
		return Permission{}, fmt.Errorf("%w: %s on %s", ErrNoSuchPermission, who, fileID)
	case 1:
		return found[0], nil
	}
	return Permission{}, fmt.Errorf("%w: %d permissions of %s on %s", ErrAmbiguous, len(found), email, fileID)
}

// PermissionChange is what UpdatePermission changes; zero fields stay.
type PermissionChange struct {
	Role string
	// Expiration sets when the permission ends; ClearExpiration removes
	// an expiration so it never ends.
	Expiration      time.Time
	ClearExpiration bool
}

// UpdatePermission changes a permission's role and/or expiration.
// Setting the same values again changes nothing, so it is retried like a read.
func (f *Files) UpdatePermission(ctx context.Context, fileID, permissionID string, c PermissionChange) (Permission, error) {
	body := &drivev3.Permission{Role: c.Role}
	if !c.Expiration.IsZero() {
		body.ExpirationTime = c.Expiration.UTC().Format(time.RFC3339)
	}
	call := f.svc.Permissions.Update(fileID, permissionID, body).SupportsAllDrives(true).Fields(permissionFields)
	if c.ClearExpiration {
		call = call.RemoveExpiration(true)
	}
	var p *drivev3.Permission
	err := f.read(ctx, func() (err error) {
		p, err = call.Context(ctx).Do()
		return err
	})
	if err != nil {
		return Permission{}, err
	}
	return permissionFrom(p), nil
}

// RemovePermission deletes one permission. Deleting one that is already
// gone finds it gone, so it is retried like a read; a caller that must
// know may look for ErrNotFound.
func (f *Files) RemovePermission(ctx context.Context, fileID, permissionID string) error {
	return f.read(ctx, func() error {
		return f.svc.Permissions.Delete(fileID, permissionID).SupportsAllDrives(true).Context(ctx).Do()
	})
}

// SharedDrive is one shared drive the account is a member of.
type SharedDrive struct {
	ID, Name    string
	CreatedTime time.Time
	// CanAddFiles: the account may add files to it (contributor or more).
	CanAddFiles bool
}

// SharedDrivePage is one page of shared drives.
type SharedDrivePage struct {
	Drives        []SharedDrive
	NextPageToken string
}

// MaxSharedDrivePage is the most shared drives Drive returns in one page.
const MaxSharedDrivePage = 100

// ListSharedDrives returns one page of the shared drives the account belongs to.
func (f *Files) ListSharedDrives(ctx context.Context, pageSize int, pageToken string) (SharedDrivePage, error) {
	if pageSize < 1 || pageSize > MaxSharedDrivePage {
		return SharedDrivePage{}, fmt.Errorf("%w: page size %d is not within 1..%d", ErrInvalidArgument, pageSize, MaxSharedDrivePage)
	}
	call := f.svc.Drives.List().PageSize(int64(pageSize)).Fields("nextPageToken,drives(id,name,createdTime,capabilities(canAddChildren))")
	if pageToken != "" {
		call = call.PageToken(pageToken)
	}
	var list *drivev3.DriveList
	err := f.read(ctx, func() (err error) {
		list, err = call.Context(ctx).Do()
		return err
	})
	if err != nil {
		return SharedDrivePage{}, err
	}
	out := SharedDrivePage{Drives: make([]SharedDrive, 0, len(list.Drives)), NextPageToken: list.NextPageToken}
	for _, d := range list.Drives {
		sd := SharedDrive{ID: d.Id, Name: d.Name}
		sd.CreatedTime, _ = time.Parse(time.RFC3339Nano, d.CreatedTime)
		if d.Capabilities != nil {
			sd.CanAddFiles = d.Capabilities.CanAddChildren
		}
		out.Drives = append(out.Drives, sd)
	}
	return out, nil
}
