package drive

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"strings"

	drivev3 "google.golang.org/api/drive/v3"
)

// Roles a person or a link can be given on a file, least access first.
const (
	RoleReader    = "reader"
	RoleCommenter = "commenter"
	RoleWriter    = "writer"
)

// ShareResult is the outcome of giving one person access to one file.
type ShareResult struct {
	FileID string
	File   Item // the file's id and name, when it could be read
	Email  string
	Role   string
	// PermissionID is Drive's id of the new permission (the person's
	// permission id: sharing again with the same person changes its role).
	PermissionID string
	Err          error
}

// Share gives every email role on every file, one permission at a time, and
// reports each pair: one failure (an unknown file, an address Drive refuses)
// does not stop or hide the others. With notify, Drive emails each person,
// with message in the email.
func (f *Files) Share(ctx context.Context, fileIDs, emails []string, role string, notify bool, message string) []ShareResult {
	results := make([]ShareResult, 0, len(fileIDs)*len(emails))
	for _, id := range fileIDs {
		// The name only labels the answer; Drive's 404 here also spares
		// the permission requests for a file that is not there.
		item, err := f.getFields(ctx, id, "id,name")
		for _, email := range emails {
			r := ShareResult{FileID: id, File: item, Email: strings.TrimSpace(email), Role: role, Err: err}
			if r.Err == nil {
				r.Err = CheckEmail(r.Email)
			}
			if r.Err == nil {
				r.PermissionID, r.Err = f.addPermission(ctx, id, &drivev3.Permission{Type: "user", Role: role, EmailAddress: r.Email}, notify, message)
			}
			results = append(results, r)
		}
	}
	return results
}

// CheckEmail reports whether s is one plain email address (no display name,
// no angle brackets), the only form Drive accepts.
func CheckEmail(s string) error {
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || a.Name != "" {
		return fmt.Errorf("%w: %q is not an email address", ErrInvalidArgument, s)
	}
	local, domain, _ := strings.Cut(s, "@")
	if local == "" || !strings.Contains(domain, ".") || strings.HasSuffix(domain, ".") {
		return fmt.Errorf("%w: %q is not an email address", ErrInvalidArgument, s)
	}
	return nil
}

func (f *Files) addPermission(ctx context.Context, fileID string, p *drivev3.Permission, notify bool, message string) (string, error) {
	call := f.svc.Permissions.Create(fileID, p).SupportsAllDrives(true).Fields("id")
	if p.Type == "user" {
		call = call.SendNotificationEmail(notify)
		if notify && message != "" {
			call = call.EmailMessage(message)
		}
	}
	// Drive replaces a person's permission rather than adding a second, so
	// a retry after an unanswered request cannot duplicate it.
	var created *drivev3.Permission
	err := f.read(ctx, func() (err error) {
		created, err = call.Context(ctx).Do()
		return err
	})
	if err != nil {
		return "", err
	}
	return created.Id, nil
}

// PublicResult is the outcome of opening or closing one file's link.
type PublicResult struct {
	FileID string
	File   Item // the file, when it could be read; WebViewLink is its link
	// Public says whether anyone with the link can open the file now.
	Public bool
	Err    error
}

// SetPublic lets anyone with the link open each file with role (public),
// or removes every such link permission (!public). Files are not made
// discoverable by search. Each file is reported on its own.
func (f *Files) SetPublic(ctx context.Context, fileIDs []string, public bool, role string) []PublicResult {
	results := make([]PublicResult, 0, len(fileIDs))
	for _, id := range fileIDs {
		r := PublicResult{FileID: id}
		r.File, r.Err = f.Get(ctx, id)
		if r.Err == nil {
			if public {
				_, r.Err = f.addPermission(ctx, id, &drivev3.Permission{Type: "anyone", Role: role, AllowFileDiscovery: false}, false, "")
				r.Public = r.Err == nil
			} else {
				r.Err = f.removeAnyone(ctx, id)
				r.Public = r.Err != nil
			}
		}
		results = append(results, r)
	}
	return results
}

// removeAnyone deletes the file's "anyone" permissions (with or without
// discovery) through the same calls as remove_drive_permission. Domain and
// personal shares stay.
func (f *Files) removeAnyone(ctx context.Context, fileID string) error {
	perms, err := f.ListPermissions(ctx, fileID)
	if err != nil {
		return err
	}
	for _, p := range perms {
		if p.Type != "anyone" {
			continue
		}
		if err := f.RemovePermission(ctx, fileID, p.ID); err != nil && !errors.Is(err, ErrNotFound) {
			return err
		}
	}
	return nil
}
