package drive

import (
	"cmp"
	"context"
	"fmt"
	"slices"
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
	// Cached: the folder came from the FolderCache, not from Drive just now.
	Cached bool
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
// Drive. With create, missing folders are made; without, a missing one
// fails with ErrNotFound. Where several folders share a name, the oldest is
// taken, so repeated calls agree.
//
// One query fetches the candidates of every segment (see folderCandidates);
// the path is walked in memory, and only the folders that are missing cost
// a request each. With a FolderCache (WithFolderCache), a path resolved a
// moment ago costs nothing; FolderPath.Cached says so, and a caller that
// then finds the folder gone (404) calls ForgetFolders and resolves again
// (a caller that cannot, uses ResolveFolderPathFresh).
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
	return f.resolveFolderPath(ctx, driveID, path, create, true)
}

// ResolveFolderPathFresh is ResolveFolderPathIn asking Drive even when the
// path is cached (and caching what it finds), for a caller that cannot
// notice a cached folder being gone: one whose answer is the folder itself,
// or whose upload cannot be sent again.
func (f *Files) ResolveFolderPathFresh(ctx context.Context, driveID, path string, create bool) (FolderPath, error) {
	return f.resolveFolderPath(ctx, driveID, path, create, false)
}

func (f *Files) resolveFolderPath(ctx context.Context, driveID, path string, create, useCache bool) (FolderPath, error) {
	names, err := SplitFolderPath(path)
	if err != nil {
		return FolderPath{}, err
	}
	full := strings.Join(names, "/")
	if it, ok := f.folders.get(f.account, driveID, full); ok && useCache {
		return FolderPath{Folder: it, Path: full, Cached: true}, nil
	}
	top := cmp.Or(driveID, "root")
	cands, err := f.folderCandidates(ctx, driveID, top, names)
	if err != nil {
		return FolderPath{}, err
	}
	var out FolderPath
	parent := Item{File: File{ID: top, MimeType: FolderMimeType}, DriveID: driveID}
	i := 0
	for ; i < len(names); i++ {
		next, ok := cands.pick(i, parent.ID, names[i])
		if !ok {
			break
		}
		parent = next
		f.folders.put(f.account, driveID, strings.Join(names[:i+1], "/"), parent)
	}
	if i < len(names) && !create {
		return out, fmt.Errorf("%w: there is no folder %q", ErrNotFound, strings.Join(names[:i+1], "/"))
	}
	for ; i < len(names); i++ {
		if parent, err = f.CreateFolder(ctx, names[i], parent.ID); err != nil {
			return out, err
		}
		sofar := strings.Join(names[:i+1], "/")
		out.Created = append(out.Created, sofar)
		f.folders.put(f.account, driveID, sofar, parent)
	}
	out.Folder, out.Path = parent, full
	return out, nil
}

// candidates are the folders that may lie on a path: top holds those of
// its first segment, byName every other one, each oldest first.
type candidates struct {
	top    []Item
	byName map[string][]Item
}

// pick is the oldest candidate for segment i named name inside parentID.
func (c candidates) pick(i int, parentID, name string) (Item, bool) {
	if i == 0 {
		for _, it := range c.top {
			if it.Name == name {
				return it, true
			}
		}
		return Item{}, false
	}
	for _, it := range c.byName[name] {
		if slices.Contains(it.Parents, parentID) {
			return it, true
		}
	}
	return Item{}, false
}

// folderCandidates fetches, in one query where it can, every folder that
// may lie on the path names below top: the first segment's folders inside
// top, and the folders named like any later segment anywhere else, as
// Drive's query language ("Search query terms", /drive/api/guides/
// ref-search-terms) allows with or and not. The first segment is asked
// for inside top because "root" is an alias: the real id of My Drive,
// which folders list as their parent, is not known before the answer. A
// path whose first name comes again later takes a second query, so the
// two kinds of candidate cannot be confused.
func (f *Files) folderCandidates(ctx context.Context, driveID, top string, names []string) (candidates, error) {
	c := candidates{byName: map[string][]Item{}}
	rest := uniq(names[1:])
	folder := "mimeType = " + Quote(FolderMimeType) + " and trashed = false and "
	first := Quote(top) + " in parents and name = " + Quote(names[0])
	if len(rest) == 0 || slices.Contains(rest, names[0]) {
		items, err := f.listFolders(ctx, driveID, folder+first)
		if err != nil {
			return c, err
		}
		c.top = items
		if len(rest) == 0 {
			return c, nil
		}
		items, err = f.listFolders(ctx, driveID, folder+"not "+Quote(top)+" in parents and ("+nameIn(rest)+")")
		for _, it := range items {
			c.byName[it.Name] = append(c.byName[it.Name], it)
		}
		return c, err
	}
	items, err := f.listFolders(ctx, driveID, folder+"(("+first+") or (not "+Quote(top)+" in parents and ("+nameIn(rest)+")))")
	for _, it := range items {
		if it.Name == names[0] {
			c.top = append(c.top, it)
		} else {
			c.byName[it.Name] = append(c.byName[it.Name], it)
		}
	}
	return c, err
}

func nameIn(names []string) string {
	terms := make([]string, len(names))
	for i, n := range names {
		terms[i] = "name = " + Quote(n)
	}
	return strings.Join(terms, " or ")
}

func uniq(names []string) []string {
	var out []string
	for _, n := range names {
		if !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	return out
}

// folderFields is what a path walk reads of a folder.
const folderFields = "id,name,mimeType,parents,webViewLink,driveId"

// listFolders returns every folder matching q, oldest first.
func (f *Files) listFolders(ctx context.Context, driveID, q string) ([]Item, error) {
	var items []Item
	token := ""
	for {
		call := f.svc.Files.List().Q(q).OrderBy("createdTime").PageSize(MaxPageSize).
			SupportsAllDrives(true).IncludeItemsFromAllDrives(true).
			Fields("nextPageToken,files(" + folderFields + ")")
		if driveID != "" {
			call = call.Corpora("drive").DriveId(driveID)
		}
		if token != "" {
			call = call.PageToken(token)
		}
		var list *drivev3.FileList
		err := f.read(ctx, func() (err error) {
			list, err = call.Context(ctx).Do()
			return err
		})
		if err != nil {
			return nil, err
		}
		for _, file := range list.Files {
			items = append(items, itemFrom(file))
		}
		if token = list.NextPageToken; token == "" {
			return items, nil
		}
	}
}
