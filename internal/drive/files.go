package drive

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"time"

	drivev3 "google.golang.org/api/drive/v3"
	"google.golang.org/api/googleapi"
	"google.golang.org/api/option"
)

// Files is one account's Drive as the tools see it: listing, searching,
// reading, folders and sharing, through google.golang.org/api/drive/v3.
// Every call asks for explicit fields: Drive answers with only the fields
// it is asked for.
type Files struct {
	svc *drivev3.Service
	// media downloads: its client has no overall timeout (a file takes as
	// long as it takes); Open bounds the time a body may stall instead.
	media *drivev3.Service
	// retry is applied to every call, reads and writes alike.
	retry Retry
	// folders caches account's folder paths (WithFolderCache); nil: none.
	folders *FolderCache
	account string
}

// WithFolderCache makes ResolveFolderPath remember the paths it resolves
// for account in c, and the account's moves, renames, trashes and deletes
// forget them. It returns f.
func (f *Files) WithFolderCache(c *FolderCache, account string) *Files {
	f.folders, f.account = c, account
	return f
}

// ForgetFolders drops the account's cached folder paths: a folder was
// found gone, or changed by a call outside Files.
func (f *Files) ForgetFolders() { f.folders.Forget(f.account) }

// callTimeout bounds one Drive API call, its answer's body included: a
// listing, a file's metadata, a text export read up to a few MiB. The
// transport bounds connecting and waiting for headers, not a body that
// stops coming, and callers pass clients without a timeout (the uploader's
// requests carry whole files).
const callTimeout = 2 * time.Minute

// NewFiles returns the Drive of the account client is authorized as.
// driveBase is the Drive API base URL, e.g. "https://www.googleapis.com/drive/v3/"
// or an emulator's E+"/drive/v3/"; empty means Google's. Each call is
// bounded by the client's Timeout or, if it has none or a longer one, two
// minutes. Calls are retried by retry (its zero value is Google's schedule).
func NewFiles(ctx context.Context, client *http.Client, driveBase string, retry Retry) (*Files, error) {
	f, err := newFiles(ctx, client, driveBase, callTimeout)
	if err != nil {
		return nil, err
	}
	f.retry = retry.withDefaults()
	return f, nil
}

func newFiles(ctx context.Context, client *http.Client, driveBase string, timeout time.Duration) (*Files, error) {
	if client == nil {
		client = http.DefaultClient
	}
	mediaClient := *client
	mediaClient.Timeout = 0
	mopts := []option.ClientOption{option.WithHTTPClient(&mediaClient)}
	if driveBase != "" {
		mopts = append(mopts, option.WithEndpoint(driveBase))
	}
	media, err := drivev3.NewService(ctx, mopts...)
	if err != nil {
		return nil, fmt.Errorf("drive: building the Drive client: %w", err)
	}
	if client.Timeout == 0 || client.Timeout > timeout {
		c := *client
		c.Timeout = timeout
		client = &c
	}
	opts := []option.ClientOption{option.WithHTTPClient(client)}
	if driveBase != "" {
		opts = append(opts, option.WithEndpoint(driveBase))
	}
	svc, err := drivev3.NewService(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("drive: building the Drive client: %w", err)
	}
	return &Files{svc: svc, media: media, retry: Retry{}.withDefaults()}, nil
}

// FolderMimeType is the MIME type of Drive folders.
const FolderMimeType = "application/vnd.google-apps.folder"

// Item is a file or folder as a listing shows it.
type Item struct {
	File
	ModifiedTime time.Time
	Owner        string // the first owner's email; empty in shared drives
	Shared       bool
	DriveID      string // the shared drive holding the item; empty in My Drive
}

// IsFolder reports whether the item is a folder.
func (i Item) IsFolder() bool { return i.MimeType == FolderMimeType }

// itemFields is what every call that returns items asks Drive for.
const itemFields = "id,name,mimeType,parents,size,md5Checksum,webViewLink,version,modifiedTime,owners(emailAddress),shared,driveId"

func itemFrom(f *drivev3.File) Item {
	it := Item{
		File: File{
			ID: f.Id, Name: f.Name, MimeType: f.MimeType, Parents: f.Parents,
			Size: f.Size, MD5: f.Md5Checksum, WebViewLink: f.WebViewLink, Version: f.Version,
		},
		Shared:  f.Shared,
		DriveID: f.DriveId,
	}
	if t, err := time.Parse(time.RFC3339Nano, f.ModifiedTime); err == nil {
		it.ModifiedTime = t
	}
	if len(f.Owners) > 0 {
		it.Owner = f.Owners[0].EmailAddress
	}
	return it
}

// Page is one page of a listing.
type Page struct {
	Items []Item
	// NextPageToken fetches the next page; empty on the last one.
	NextPageToken string
	// Incomplete: Drive did not search every corpus it was asked to (a
	// search across all drives can stop early).
	Incomplete bool
}

// MaxPageSize is the most items Drive returns in one page.
const MaxPageSize = 1000

// List returns the folder's items that are not in the trash, folders
// first, then by name. folderID "" means the root of My Drive.
func (f *Files) List(ctx context.Context, folderID string, pageSize int, pageToken string) (Page, error) {
	return f.ListInDrive(ctx, "", folderID, pageSize, pageToken)
}

// ListInDrive is List inside the shared drive driveID ("" for My Drive
// and folders anywhere): folderID "" is then the shared drive's top level.
func (f *Files) ListInDrive(ctx context.Context, driveID, folderID string, pageSize int, pageToken string) (Page, error) {
	if folderID == "" {
		folderID = cmp.Or(driveID, "root")
	}
	call := f.svc.Files.List().
		Q(Quote(folderID) + " in parents and trashed = false").
		OrderBy("folder,name").
		SupportsAllDrives(true).IncludeItemsFromAllDrives(true)
	if driveID != "" {
		call = call.Corpora("drive").DriveId(driveID)
	}
	p, err := f.list(ctx, call, pageSize, pageToken)
	if err != nil || len(p.Items) > 0 || pageToken != "" || folderID == "root" || folderID == driveID {
		return p, err
	}
	// Drive lists the children of a folder that does not exist as
	// nothing at all; say which it is.
	folder, err := f.Get(ctx, folderID)
	switch {
	case err != nil:
		return p, err
	case !folder.IsFolder():
		return p, fmt.Errorf("%w: %q is a %s, not a folder", ErrNotAFolder, folder.Name, folder.MimeType)
	}
	return p, nil
}

// ErrNotAFolder means a folder id names a file.
var ErrNotAFolder = errors.New("drive: not a folder")

// Search returns the items matching q, a Drive query (see SearchQuery).
// allDrives also searches the shared drives the account belongs to;
// driveID restricts the search to one shared drive.
func (f *Files) Search(ctx context.Context, q string, pageSize int, pageToken string, allDrives bool, driveID string) (Page, error) {
	call := f.svc.Files.List().Q(q).SupportsAllDrives(true)
	switch {
	case driveID != "":
		call = call.Corpora("drive").DriveId(driveID).IncludeItemsFromAllDrives(true)
	case allDrives:
		call = call.Corpora("allDrives").IncludeItemsFromAllDrives(true)
	}
	return f.list(ctx, call, pageSize, pageToken)
}

func (f *Files) list(ctx context.Context, call *drivev3.FilesListCall, pageSize int, pageToken string) (Page, error) {
	if pageSize < 1 || pageSize > MaxPageSize {
		return Page{}, fmt.Errorf("%w: page size %d is not within 1..%d", ErrInvalidArgument, pageSize, MaxPageSize)
	}
	call = call.PageSize(int64(pageSize)).Fields(googleapi.Field("nextPageToken,incompleteSearch,files(" + itemFields + ")"))
	if pageToken != "" {
		call = call.PageToken(pageToken)
	}
	var list *drivev3.FileList
	err := f.read(ctx, func() (err error) {
		list, err = call.Context(ctx).Do()
		return err
	})
	if err != nil {
		return Page{}, err
	}
	p := Page{Items: make([]Item, 0, len(list.Files)), NextPageToken: list.NextPageToken, Incomplete: list.IncompleteSearch}
	for _, file := range list.Files {
		p.Items = append(p.Items, itemFrom(file))
	}
	return p, nil
}

// Get returns one file's metadata. fileID "root" is My Drive itself.
func (f *Files) Get(ctx context.Context, fileID string) (Item, error) {
	return f.getFields(ctx, fileID, itemFields)
}

// getFields is Get asking Drive for fields only: a caller that uses a few
// of them makes Drive send (and look up) no more.
func (f *Files) getFields(ctx context.Context, fileID string, fields googleapi.Field) (Item, error) {
	var file *drivev3.File
	err := f.read(ctx, func() (err error) {
		file, err = f.svc.Files.Get(fileID).Fields(fields).SupportsAllDrives(true).Context(ctx).Do()
		return err
	})
	if err != nil {
		return Item{}, err
	}
	return itemFrom(file), nil
}

// Quote makes s a Drive query string literal: single-quoted, with \ and '
// escaped, the only two escapes Drive accepts.
func Quote(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}

// queryShape recognises Drive's query language: a field compared with an
// operator (name = …, mimeType contains …, modifiedTime > …) or a
// membership test ('…' in parents). Words such as "and" alone do not make
// a query: "cats and dogs" is free text.
var queryShape = regexp.MustCompile(`(?i)` +
	`\b(name|fulltext|mimetype|modifiedtime|createdtime|viewedbymetime|sharedwithmetime|trashed|starred|sharedwithme|` +
	`parents|owners|writers|readers|properties|appproperties|visibility|hidden|memberCount|organizerCount|` +
	`shortcutDetails\.targetId|shortcutDetails\.targetMimeType|labels\.[\w.]+)\s*(=|!=|<=|>=|<|>|\bcontains\b|\bhas\b)` +
	`|'(?:[^'\\]|\\.)*'\s+in\s+(parents|owners|writers|readers)\b`)

// SearchQuery turns what a person typed into a Drive query. Text already in
// Drive's query language passes through unchanged (isQuery); anything else is
// searched for in names and contents, outside the trash.
func SearchQuery(text string) (q string, isQuery bool) {
	text = strings.TrimSpace(text)
	if queryShape.MatchString(text) {
		return text, true
	}
	return "fullText contains " + Quote(text) + " and trashed = false", false
}

// Errors of Drive calls, sorted by what the caller can do about them. A
// failed call's error wraps one of these and an *APIError with Google's own
// words; errors.Is and errors.As find both.
var (
	// ErrNotFound: no such file, or the account may not see it (Drive does
	// not tell the two apart). With the drive.file scope, also every file
	// drivemcp did not create or open.
	ErrNotFound = errors.New("drive: not found")
	// ErrPermissionDenied: the account may see the file but not do this to it.
	ErrPermissionDenied = errors.New("drive: permission denied")
	// ErrInsufficientScope: the grant's Google scopes do not cover the call.
	ErrInsufficientScope = errors.New("drive: the grant's scopes do not allow this")
	// ErrRateLimited: Google asks to slow down; retried reads ran out.
	ErrRateLimited = errors.New("drive: rate limited by Google")
	// ErrInvalidArgument: Drive rejected an argument (a bad query, role, email…).
	ErrInvalidArgument = errors.New("drive: invalid argument")
)

// Error is a Drive call that Google refused.
type Error struct {
	Kind error // one of the Err* above, or nil when none fits
	API  *APIError
}

func (e *Error) Error() string { return e.API.Error() }

func (e *Error) Unwrap() []error {
	if e.Kind == nil {
		return []error{e.API}
	}
	return []error{e.Kind, e.API}
}

// classify turns a googleapi error into an *Error, with Google's
// Retry-After if it sent one; other errors (the network, the account's
// token) and errors classified already pass through.
func classify(err error) error {
	var done *Error
	if err == nil || errors.As(err, &done) {
		return err
	}
	var ge *googleapi.Error
	if !errors.As(err, &ge) {
		return err
	}
	api := &APIError{Status: ge.Code, Message: ge.Message}
	if len(ge.Errors) > 0 {
		api.Reason = ge.Errors[0].Reason
		if api.Message == "" {
			api.Message = ge.Errors[0].Message
		}
	}
	if api.Message == "" {
		api.Message = http.StatusText(ge.Code)
	}
	api.scopeChallenge = strings.Contains(ge.Header.Get("WWW-Authenticate"), "insufficient_scope")
	return withRetryAfterHeader(&Error{Kind: kindOf(api), API: api}, ge.Header)
}

func kindOf(api *APIError) error {
	switch api.Reason {
	case "rateLimitExceeded", "userRateLimitExceeded", "sharingRateLimitExceeded", "dailyLimitExceeded":
		return ErrRateLimited
	case "insufficientPermissions", "insufficientScopes", "ACCESS_TOKEN_SCOPE_INSUFFICIENT":
		return ErrInsufficientScope
	case "exportSizeLimitExceeded":
		return ErrContentTooLarge
	}
	if api.scopeChallenge {
		return ErrInsufficientScope
	}
	switch {
	case api.Status == http.StatusNotFound:
		return ErrNotFound
	case api.Status == http.StatusForbidden || api.Status == http.StatusUnauthorized:
		return ErrPermissionDenied
	case api.Status == http.StatusTooManyRequests:
		return ErrRateLimited
	case api.Status == http.StatusBadRequest:
		return ErrInvalidArgument
	}
	return nil
}

// read runs an idempotent call under the retry policy.
func (f *Files) read(ctx context.Context, call func() error) error {
	return f.retry.Do(ctx, true, call)
}

// write runs a call that changes Drive under the retry policy: Google's
// refusals (rate limits, 5xx) are retried, a request that got no answer is
// not, since it may have taken effect.
func (f *Files) write(ctx context.Context, call func() error) error {
	return f.retry.Do(ctx, false, call)
}
