package drive

import (
	"context"
	"slices"
	"strings"

	drivev3 "google.golang.org/api/drive/v3"
	"google.golang.org/api/googleapi"
)

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
