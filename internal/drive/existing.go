package drive

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	drivev3 "google.golang.org/api/drive/v3"
	"google.golang.org/api/googleapi"
)

// IfExists says what an upload does when its folder already holds a file of
// the same name. Drive itself allows any number of same-named files side by
// side, so IfExistsNew is Drive's own behaviour.
type IfExists string

const (
	IfExistsNew           IfExists = "new"            // make another file beside it
	IfExistsUpdate        IfExists = "update"         // replace its content, keeping its id
	IfExistsSkipUnchanged IfExists = "skip_unchanged" // nothing when the md5 is equal, else update
	IfExistsFail          IfExists = "fail"           // refuse, naming the existing file
)

// IfExistsModes are the modes, in the order they are documented.
var IfExistsModes = []IfExists{IfExistsNew, IfExistsUpdate, IfExistsSkipUnchanged, IfExistsFail}

// Valid reports whether m is one of IfExistsModes.
func (m IfExists) Valid() bool {
	for _, v := range IfExistsModes {
		if m == v {
			return true
		}
	}
	return false
}

// Action is what an upload does about one file after looking at its folder.
type Action int

const (
	ActionCreate Action = iota // a new file
	ActionUpdate               // a new version of Decision.Existing
	ActionSkip                 // nothing: Decision.Existing has the same content
)

// Decision is the outcome of Decide.
type Decision struct {
	Action   Action
	Existing Item // the same-named file acted on; zero for ActionCreate
}

// ErrExists means the folder already holds a file of that name and the
// mode was IfExistsFail; ErrAmbiguous means it holds several, so no mode
// but IfExistsNew can tell which one was meant. Both come as *ExistsError.
var (
	ErrExists    = errors.New("drive: a file of that name already exists in the folder")
	ErrAmbiguous = errors.New("drive: several files of that name exist in the folder")
)

// ExistsError names the files that made Decide refuse.
type ExistsError struct {
	Name string
	IDs  []string
}

func (e *ExistsError) Error() string {
	if len(e.IDs) > 1 {
		return fmt.Sprintf("drive: %d files named %q are in the folder (ids %s)", len(e.IDs), e.Name, strings.Join(e.IDs, ", "))
	}
	return fmt.Sprintf("drive: a file named %q is already in the folder (id %s)", e.Name, strings.Join(e.IDs, ", "))
}

func (e *ExistsError) Is(target error) bool {
	if len(e.IDs) > 1 {
		return target == ErrAmbiguous
	}
	return target == ErrExists
}

// Decide is what an upload in mode does, given same (the files, not
// folders, of the same name in the target folder, from one listing) and
// localMD5 (the hex md5 of the bytes to upload; it may be empty when mode
// is not IfExistsSkipUnchanged). Where several files match, every mode but
// IfExistsNew refuses and touches none of them. A file Drive keeps no md5
// of (a Google Doc) never counts as unchanged.
func Decide(mode IfExists, same []Item, localMD5 string) (Decision, error) {
	if mode == "" {
		mode = IfExistsNew
	}
	if !mode.Valid() {
		return Decision{}, fmt.Errorf("%w: if_exists %q is not one of new, update, skip_unchanged, fail", ErrInvalidArgument, mode)
	}
	if mode == IfExistsNew || len(same) == 0 {
		return Decision{Action: ActionCreate}, nil
	}
	if len(same) > 1 {
		ids := make([]string, len(same))
		for i, it := range same {
			ids[i] = it.ID
		}
		return Decision{}, &ExistsError{Name: same[0].Name, IDs: ids}
	}
	existing := same[0]
	switch mode {
	case IfExistsFail:
		return Decision{}, &ExistsError{Name: existing.Name, IDs: []string{existing.ID}}
	case IfExistsSkipUnchanged:
		if existing.MD5 != "" && strings.EqualFold(existing.MD5, localMD5) {
			return Decision{Action: ActionSkip, Existing: existing}, nil
		}
	}
	return Decision{Action: ActionUpdate, Existing: existing}, nil
}

// Children is one folder's content as a single listing saw it, by name.
// Drive allows several items of one name, hence the slices (oldest first).
type Children struct {
	Files   map[string][]Item
	Folders map[string][]Item
	// Requests is how many list requests the listing took (one per 1,000
	// items): the cost that makes comparing a whole folder cheap.
	Requests int
}

// childFields is what a folder listing for comparison needs: names, types
// and checksums, nothing a page would not use.
const childFields = "id,name,mimeType,parents,size,md5Checksum,webViewLink"

// ListChildren lists every item directly inside folderID that is not in the
// trash, in as few requests as Drive allows (1,000 items per page), so that
// a whole folder can be compared with local files without one request per
// file. Upload tools call Decide with what it returns.
func (f *Files) ListChildren(ctx context.Context, folderID string) (Children, error) {
	if folderID == "" {
		folderID = "root"
	}
	all, n, err := f.ListChildrenOf(ctx, []string{folderID})
	c := all[folderID]
	c.Requests = n
	return c, err
}

// parentsPerQuery bounds how many folders one listing asks about, keeping
// the query far below the length Drive accepts.
const parentsPerQuery = 50

// ListChildrenOf lists the children of several folders at once (one query
// naming them all, 1,000 items per page), so that a tree of many small
// folders costs a request per 1,000 items rather than one per folder. It
// returns each folder's Children and the number of requests made.
func (f *Files) ListChildrenOf(ctx context.Context, folderIDs []string) (map[string]Children, int, error) {
	out := map[string]Children{}
	for _, id := range folderIDs {
		out[id] = Children{Files: map[string][]Item{}, Folders: map[string][]Item{}}
	}
	requests := 0
	for chunk := range slices.Chunk(folderIDs, parentsPerQuery) {
		terms := make([]string, len(chunk))
		for i, id := range chunk {
			terms[i] = Quote(id) + " in parents"
		}
		q := "(" + strings.Join(terms, " or ") + ") and trashed = false"
		token := ""
		for {
			call := f.svc.Files.List().Q(q).
				OrderBy("createdTime").PageSize(MaxPageSize).
				SupportsAllDrives(true).IncludeItemsFromAllDrives(true).
				Fields(googleapi.Field("nextPageToken,files(" + childFields + ")"))
			if token != "" {
				call = call.PageToken(token)
			}
			var list *drivev3.FileList
			requests++
			err := f.read(ctx, func() (err error) {
				list, err = call.Context(ctx).Do()
				return err
			})
			if err != nil {
				return out, requests, err
			}
			for _, file := range list.Files {
				it := itemFrom(file)
				for _, p := range it.Parents {
					c, ok := out[p]
					if !ok {
						continue
					}
					if it.IsFolder() {
						c.Folders[it.Name] = append(c.Folders[it.Name], it)
					} else {
						c.Files[it.Name] = append(c.Files[it.Name], it)
					}
				}
			}
			if token = list.NextPageToken; token == "" {
				break
			}
		}
	}
	return out, requests, nil
}

// Trash moves a file or folder to the trash (restorable for 30 days).
func (f *Files) Trash(ctx context.Context, fileID string) error {
	return f.write(ctx, func() error {
		_, err := f.svc.Files.Update(fileID, &drivev3.File{Trashed: true}).
			Fields("id").SupportsAllDrives(true).Context(ctx).Do()
		return err
	})
}
