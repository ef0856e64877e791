package drive

import (
	"context"
	"fmt"

	drivev3 "google.golang.org/api/drive/v3"
	"google.golang.org/api/googleapi"
)

// Recent returns the account's files (not folders, not in the trash), the
// most recently modified first: what an MCP client browses as resources.
func (f *Files) Recent(ctx context.Context, pageSize int, pageToken string) (Page, error) {
	call := f.svc.Files.List().
		Q("trashed = false and mimeType != " + Quote(FolderMimeType)).
		OrderBy("modifiedTime desc")
	return f.list(ctx, call, pageSize, pageToken)
}

// StartPageToken is where Drive's changes feed stands now; Changes lists
// what changed after it ("Retrieve changes", Drive API guide).
func (f *Files) StartPageToken(ctx context.Context) (string, error) {
	var tok *drivev3.StartPageToken
	err := f.read(ctx, func() (err error) {
		tok, err = f.svc.Changes.GetStartPageToken().SupportsAllDrives(true).Context(ctx).Do()
		return err
	})
	if err != nil {
		return "", err
	}
	return tok.StartPageToken, nil
}

// Changed is one entry of the changes feed.
type Changed struct {
	FileID  string
	Removed bool // deleted, or no longer visible to the account
}

// Changes returns every change after token, following Drive's pages, and
// the token to poll with next time.
func (f *Files) Changes(ctx context.Context, token string) ([]Changed, string, error) {
	var out []Changed
	for page := 0; ; page++ {
		if page == 100 {
			return out, token, fmt.Errorf("%w: the changes feed did not end after %d pages", ErrInvalidArgument, page)
		}
		var list *drivev3.ChangeList
		err := f.read(ctx, func() (err error) {
			list, err = f.svc.Changes.List(token).PageSize(1000).
				SupportsAllDrives(true).IncludeItemsFromAllDrives(true).
				Fields(googleapi.Field("nextPageToken,newStartPageToken,changes(fileId,removed)")).Context(ctx).Do()
			return err
		})
		if err != nil {
			return out, token, err
		}
		for _, c := range list.Changes {
			if c.FileId != "" {
				out = append(out, Changed{FileID: c.FileId, Removed: c.Removed})
			}
		}
		if list.NewStartPageToken != "" {
			return out, list.NewStartPageToken, nil
		}
		if list.NextPageToken == "" {
			return out, token, fmt.Errorf("%w: Drive's changes page has neither nextPageToken nor newStartPageToken", ErrInvalidArgument)
		}
		token = list.NextPageToken
	}
}
