package drive

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	drivev3 "google.golang.org/api/drive/v3"
	"google.golang.org/api/googleapi"
)

// The lifecycle of a file after its upload: finding a same-named file to
// update instead of duplicating it (if_exists), moving, renaming, copying,
// trashing, deleting, and its full metadata.

// IfExists is what an upload does when its folder already holds a file of
// the same name. Drive itself allows any number of equal names.
type IfExists string

const (
	// IfExistsNew makes another file, as Drive does.
	IfExistsNew IfExists = "new"
	// IfExistsUpdate replaces the same-named file's content, keeping its id.
	IfExistsUpdate IfExists = "update"
	// IfExistsSkipUnchanged does nothing when the same-named file has the
	// same md5, and updates it otherwise.
	IfExistsSkipUnchanged IfExists = "skip_unchanged"
	// IfExistsFail refuses, naming the existing file.
	IfExistsFail IfExists = "fail"
)

// IfExistsModes are the modes in the order tools list them.
var IfExistsModes = []IfExists{IfExistsNew, IfExistsUpdate, IfExistsSkipUnchanged, IfExistsFail}

// ParseIfExists reads a mode; "" is def.
func ParseIfExists(s string, def IfExists) (IfExists, error) {
	if s == "" {
		return def, nil
	}
	for _, m := range IfExistsModes {
		if string(m) == s {
			return m, nil
		}
	}
	return "", fmt.Errorf("%w: if_exists %q is not one of new, update, skip_unchanged, fail", ErrInvalidArgument, s)
}

// Action is what an upload does after Decide.
type Action int

const (
	ActionCreate Action = iota // upload a new file
	ActionUpdate               // replace Target's content
	ActionSkip                 // Target already has these bytes
)

// Decision is Decide's answer: the action and, unless creating, the file
// it concerns.
type Decision struct {
	Action Action
	Target Item
}

var (
	// ErrExists: if_exists fail met a same-named file (ExistsError says which).
	ErrExists = errors.New("drive: a file of that name exists")
	// ErrAmbiguousName: several same-named files, so none is touched.
	ErrAmbiguousName = errors.New("drive: several files have that name")
)

// ExistsError names the files that made Decide refuse: one for ErrExists,
// several for ErrAmbiguousName.
type ExistsError struct {
	Kind  error
	Name  string
	Files []Item
}

func (e *ExistsError) Error() string {
	ids := make([]string, len(e.Files))
	for i, f := range e.Files {
		ids[i] = f.ID
	}
	return fmt.Sprintf("%v: %q (%s)", e.Kind, e.Name, strings.Join(ids, ", "))
}

func (e *ExistsError) Unwrap() error { return e.Kind }

// Decide is the if_exists rule, given the non-folder files already named
// like the upload in its folder (same, from FindNamed or from one listing
// of the whole folder) and the md5 of the bytes to upload (empty when not
// known: skip_unchanged then updates). A file Drive keeps no md5 of (a
// Google Doc) is never "unchanged".
func Decide(mode IfExists, name string, same []Item, localMD5 string) (Decision, error) {
	if mode == IfExistsNew || len(same) == 0 {
		return Decision{Action: ActionCreate}, nil
	}
	if len(same) > 1 {
		return Decision{}, &ExistsError{Kind: ErrAmbiguousName, Name: name, Files: same}
	}
	target := same[0]
	switch mode {
	case IfExistsFail:
		return Decision{}, &ExistsError{Kind: ErrExists, Name: name, Files: same}
	case IfExistsSkipUnchanged:
		if localMD5 != "" && target.MD5 != "" && strings.EqualFold(localMD5, target.MD5) {
			return Decision{Action: ActionSkip, Target: target}, nil
		}
	}
	return Decision{Action: ActionUpdate, Target: target}, nil
}

// FindNamed returns the files (not folders, not in the trash) named name
// directly inside folderID ("" is My Drive's root), oldest first: one
// request for up to 100 of them.
func (f *Files) FindNamed(ctx context.Context, folderID, name string) ([]Item, error) {
	if folderID == "" {
		folderID = "root"
	}
	q := "name = " + Quote(name) + " and mimeType != " + Quote(FolderMimeType) +
		" and " + Quote(folderID) + " in parents and trashed = false"
	var list *drivev3.FileList
	err := f.read(ctx, func() (err error) {
		list, err = f.svc.Files.List().Q(q).OrderBy("createdTime").PageSize(100).
			SupportsAllDrives(true).IncludeItemsFromAllDrives(true).
			Fields("files(" + itemFields + ")").Context(ctx).Do()
		return err
	})
	if err != nil {
		return nil, err
	}
	items := make([]Item, 0, len(list.Files))
	for _, file := range list.Files {
		items = append(items, itemFrom(file))
	}
	return items, nil
}

// Move puts the file into folderID, out of every folder it was in.
func (f *Files) Move(ctx context.Context, fileID, folderID string) (Item, error) {
	defer f.ForgetFolders()
	cur, err := f.Get(ctx, fileID)
	if err != nil {
		return Item{}, err
	}
	var file *drivev3.File
	// Moving to where the file is already is a no-op Drive accepts, so
	// the call is repeatable.
	err = f.read(ctx, func() (err error) {
		call := f.svc.Files.Update(fileID, &drivev3.File{}).AddParents(folderID).SupportsAllDrives(true).Fields(itemFields)
		if len(cur.Parents) > 0 {
			call = call.RemoveParents(strings.Join(cur.Parents, ","))
		}
		file, err = call.Context(ctx).Do()
		return err
	})
	if err != nil {
		return Item{}, err
	}
	return itemFrom(file), nil
}

// Rename gives the file a new name.
func (f *Files) Rename(ctx context.Context, fileID, name string) (Item, error) {
	defer f.ForgetFolders()
	if err := CheckName(name); err != nil {
		return Item{}, err
	}
	var file *drivev3.File
	err := f.read(ctx, func() (err error) {
		file, err = f.svc.Files.Update(fileID, &drivev3.File{Name: name}).SupportsAllDrives(true).Fields(itemFields).Context(ctx).Do()
		return err
	})
	if err != nil {
		return Item{}, err
	}
	return itemFrom(file), nil
}

// Copy makes a copy of the file named name ("" lets Drive name it "Copy
// of …") in folderID ("" is the source's folder).
func (f *Files) Copy(ctx context.Context, fileID, name, folderID string) (Item, error) {
	meta := &drivev3.File{Name: name}
	if folderID != "" {
		meta.Parents = []string{folderID}
	}
	var file *drivev3.File
	// A copy that got no answer may exist: not repeated (write).
	err := f.write(ctx, func() (err error) {
		file, err = f.svc.Files.Copy(fileID, meta).SupportsAllDrives(true).Fields(itemFields).Context(ctx).Do()
		return err
	})
	if err != nil {
		return Item{}, err
	}
	return itemFrom(file), nil
}

// SetTrashed moves the file to the trash, or restores it from there.
func (f *Files) SetTrashed(ctx context.Context, fileID string, trashed bool) (Item, error) {
	defer f.ForgetFolders()
	var file *drivev3.File
	err := f.read(ctx, func() (err error) {
		file, err = f.svc.Files.Update(fileID, &drivev3.File{Trashed: trashed, ForceSendFields: []string{"Trashed"}}).
			SupportsAllDrives(true).Fields(itemFields).Context(ctx).Do()
		return err
	})
	if err != nil {
		return Item{}, err
	}
	return itemFrom(file), nil
}

// Delete removes the file for good, skipping the trash; a folder goes with
// everything inside it.
func (f *Files) Delete(ctx context.Context, fileID string) error {
	defer f.ForgetFolders()
	// Deleting again answers notFound, which the caller reports; repeating
	// a delete that got no answer cannot delete anything else.
	return f.read(ctx, func() error {
		return f.svc.Files.Delete(fileID).SupportsAllDrives(true).Context(ctx).Do()
	})
}

// Capabilities are what the account may do with a file, as Drive says.
type Capabilities struct {
	CanEdit, CanShare, CanDownload, CanCopy, CanTrash, CanDelete, CanRename bool
}

// Metadata is everything get_drive_file_metadata shows about a file.
type Metadata struct {
	Item
	Path         string // from the root of its drive, the file's own name last
	Owners       []string
	CreatedTime  time.Time
	Trashed      bool
	Capabilities Capabilities
}

const metadataFields = itemFields + ",trashed,createdTime,owners(emailAddress)," +
	"capabilities(canEdit,canShare,canDownload,canCopy,canTrash,canDelete,canRename)"

// GetMetadata returns the file's metadata and its path, found by walking
// up its folders (a request per level, at most maxFolderDepth). A folder
// the account cannot see ends the walk: the path then starts with "…/".
func (f *Files) GetMetadata(ctx context.Context, fileID string) (Metadata, error) {
	var file *drivev3.File
	err := f.read(ctx, func() (err error) {
		file, err = f.svc.Files.Get(fileID).Fields(googleapi.Field(metadataFields)).SupportsAllDrives(true).Context(ctx).Do()
		return err
	})
	if err != nil {
		return Metadata{}, err
	}
	m := Metadata{Item: itemFrom(file), Trashed: file.Trashed}
	if t, err := time.Parse(time.RFC3339Nano, file.CreatedTime); err == nil {
		m.CreatedTime = t
	}
	for _, o := range file.Owners {
		m.Owners = append(m.Owners, o.EmailAddress)
	}
	if c := file.Capabilities; c != nil {
		m.Capabilities = Capabilities{CanEdit: c.CanEdit, CanShare: c.CanShare, CanDownload: c.CanDownload,
			CanCopy: c.CanCopy, CanTrash: c.CanTrash, CanDelete: c.CanDelete, CanRename: c.CanRename}
	}
	names := []string{file.Name}
	parents := file.Parents
	for depth := 0; len(parents) > 0 && depth < maxFolderDepth; depth++ {
		var p *drivev3.File
		err := f.read(ctx, func() (err error) {
			p, err = f.svc.Files.Get(parents[0]).Fields("id,name,parents").SupportsAllDrives(true).Context(ctx).Do()
			return err
		})
		if err != nil {
			if errors.Is(err, ErrNotFound) || errors.Is(err, ErrPermissionDenied) {
				names = append(names, "…")
				break
			}
			return Metadata{}, err
		}
		if len(p.Parents) == 0 {
			break // the root of My Drive or of a shared drive
		}
		names = append(names, p.Name)
		parents = p.Parents
	}
	for i, j := 0, len(names)-1; i < j; i, j = i+1, j-1 {
		names[i], names[j] = names[j], names[i]
	}
	m.Path = strings.Join(names, "/")
	return m, nil
}
