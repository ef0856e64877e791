package drive

import (
	"cmp"
	"context"
	"fmt"
	"strings"

	drivev3 "google.golang.org/api/drive/v3"
)

// CreateFolder makes a new folder named name inside parentID ("" means the
// root of My Drive). Drive allows several folders of one name side by side;
// this always makes a new one (ResolveFolderPath finds existing ones).
func (f *Files) CreateFolder(ctx context.Context, name, parentID string) (Item, error) {
	if strings.TrimSpace(name) == "" {
		return Item{}, fmt.Errorf("%w: a folder needs a name", ErrInvalidArgument)
	}
	if parentID == "" {
		parentID = "root"
	}
	var file *drivev3.File
	err := f.write(ctx, func() (err error) {
		file, err = f.svc.Files.Create(&drivev3.File{Name: name, MimeType: FolderMimeType, Parents: []string{parentID}}).
			Fields(itemFields).SupportsAllDrives(true).Context(ctx).Do()
		return err
	})
	if err != nil {
		return Item{}, err
	}
	return itemFrom(file), nil
}

// FolderPath is a folder found (and perhaps partly created) by its path.
type FolderPath struct {
	Folder Item
	// Path is the path's segments joined by "/", as resolved.
	Path string
	// Created are the segments' paths that did not exist and were made,
	// shallowest first ("Reports/2026", "Reports/2026/Q4").
	Created []string
}

// Drive nests folders at most 100 deep; a longer path would only cost a
// Drive call per level before failing.
const (
	maxFolderDepth = 100
	maxFolderName  = 1024
)

// SplitFolderPath splits "Reports/2026/Q4" into its folder names. Leading,
// trailing and doubled slashes and spaces around names are ignored; "." and
// ".." are refused rather than guessed at.
func SplitFolderPath(path string) ([]string, error) {
	var names []string
	for part := range strings.SplitSeq(path, "/") {
		part = strings.TrimSpace(part)
		switch part {
		case "":
			continue
		case ".", "..":
			return nil, fmt.Errorf("%w: folder path %q contains %q; give the folders' names from My Drive down", ErrInvalidArgument, path, part)
		}
		if len(part) > maxFolderName {
			return nil, fmt.Errorf("%w: a folder name in %q is longer than %d bytes", ErrInvalidArgument, path, maxFolderName)
		}
		if err := CheckName(part); err != nil {
			return nil, fmt.Errorf("folder path %q: %w", path, err)
		}
		names = append(names, part)
		if len(names) > maxFolderDepth {
			return nil, fmt.Errorf("%w: folder path %q is deeper than %d folders, Drive's own limit", ErrInvalidArgument, path, maxFolderDepth)
		}
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("%w: folder path %q names no folder", ErrInvalidArgument, path)
	}
	return names, nil
}

// ResolveFolderPath finds the folder at path, starting from the root of My
// Drive, one name at a time. With create, missing folders are made;
// without, a missing one fails with ErrNotFound. Where several folders share
// a name, the oldest is taken, so repeated calls agree.
//
// With the drive.file scope Drive shows drivemcp only the folders it made,
// so a folder the user made by hand is not found (and with create, a second
// one of the same name is made beside it).
func (f *Files) ResolveFolderPath(ctx context.Context, path string, create bool) (FolderPath, error) {
	return f.ResolveFolderPathIn(ctx, "", path, create)
}

// ResolveFolderPathIn is ResolveFolderPath from the top of the shared drive
// driveID ("" for My Drive); its lookups stay inside that drive.
func (f *Files) ResolveFolderPathIn(ctx context.Context, driveID, path string, create bool) (FolderPath, error) {
	names, err := SplitFolderPath(path)
	if err != nil {
		return FolderPath{}, err
	}
	var out FolderPath
	parent := Item{File: File{ID: cmp.Or(driveID, "root"), MimeType: FolderMimeType}, DriveID: driveID}
	for i, name := range names {
		sofar := strings.Join(names[:i+1], "/")
		found, ok, err := f.findFolder(ctx, driveID, parent.ID, name)
		switch {
		case err != nil:
			return out, err
		case ok:
			parent = found
		case !create:
			return out, fmt.Errorf("%w: there is no folder %q", ErrNotFound, sofar)
		default:
			if parent, err = f.CreateFolder(ctx, name, parent.ID); err != nil {
				return out, err
			}
			out.Created = append(out.Created, sofar)
		}
	}
	out.Folder, out.Path = parent, strings.Join(names, "/")
	return out, nil
}

// findFolder returns the oldest folder named name directly inside parentID
// (in the shared drive driveID, if set).
func (f *Files) findFolder(ctx context.Context, driveID, parentID, name string) (Item, bool, error) {
	q := "name = " + Quote(name) + " and mimeType = " + Quote(FolderMimeType) +
		" and " + Quote(parentID) + " in parents and trashed = false"
	call := f.svc.Files.List().Q(q).OrderBy("createdTime").PageSize(1).
		SupportsAllDrives(true).IncludeItemsFromAllDrives(true)
	if driveID != "" {
		call = call.Corpora("drive").DriveId(driveID)
	}
	var list *drivev3.FileList
	err := f.read(ctx, func() (err error) {
		list, err = call.Fields("files(" + itemFields + ")").Context(ctx).Do()
		return err
	})
	if err != nil || len(list.Files) == 0 {
		return Item{}, false, err
	}
	return itemFrom(list.Files[0]), true, nil
}
