package mcpserver

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/drivemcp/drivemcp/internal/drive"
	"github.com/drivemcp/drivemcp/internal/identity"
)

// Drive as MCP resources: resources/list pages through the account's
// recently modified files, resources/read returns a file's text (or, for
// a binary file, its details and how to download it: never its bytes as
// base64), and resources/subscribe watches a file through Drive's changes
// feed. Every request acts as the session's account exactly as a tool call
// does (t.resolve, then the scope-limited client of filesFor).

const (
	// resourcePrefix starts every Drive resource URI: gdrive:///<file id>.
	resourcePrefix = "gdrive:///"
	// resourcePageSize is how many files one resources/list page holds.
	resourcePageSize = 50
	// DefaultResourcePollInterval is how often a subscribed account's
	// changes feed is polled: at most once a minute, so watching files
	// never eats into the account's Drive quota noticeably.
	DefaultResourcePollInterval = time.Minute
)

var (
	driveFileTemplate = &mcp.ResourceTemplate{
		Name: "drive_file", Title: "A Google Drive file", URITemplate: resourcePrefix + "{file_id}",
		Description: "A file in the account's Google Drive by its id: its text (Google Docs, Sheets and Slides exported), " +
			"or for a binary file its details and a way to download it. Subscribe to hear when it changes.",
	}
	// driveFilePageTemplate reads on in a long text: a read's _meta.next_uri.
	driveFilePageTemplate = &mcp.ResourceTemplate{
		Name: "drive_file_page", Title: "A Google Drive file, from a byte offset", URITemplate: resourcePrefix + "{file_id}{?offset}",
		Description: "The text of a Drive file from a byte offset: the next_uri a read of a long file gives in its _meta.",
	}
)

// addResources registers the resource templates; resources/list is
// answered by listResourcesMiddleware, since the list is the account's.
func (t *tools) addResources(s *mcp.Server) {
	s.AddResourceTemplate(driveFileTemplate, t.readResource)
	s.AddResourceTemplate(driveFilePageTemplate, t.readResource)
}

// listResourcesMiddleware answers resources/list with the account's files;
// everything else goes on.
func (t *tools) listResourcesMiddleware(next mcp.MethodHandler) mcp.MethodHandler {
	return func(ctx context.Context, method string, req mcp.Request) (mcp.Result, error) {
		if lr, ok := req.(*mcp.ListResourcesRequest); ok && method == "resources/list" {
			return t.listResources(ctx, lr)
		}
		if method == "subscriptions/listen" && req.GetExtra() != nil {
			// From protocol revision 2026-07-28 on, the SDK subscribes through
			// subscriptions/listen with a request of its own that carries no
			// bearer token; keep the listen's, so the subscription acts as the
			// same account as the session's other requests.
			ctx = context.WithValue(ctx, listenExtraKey{}, req.GetExtra())
		}
		return next(ctx, method, req)
	}
}

type listenExtraKey struct{}

func (t *tools) listResources(ctx context.Context, req *mcp.ListResourcesRequest) (*mcp.ListResourcesResult, error) {
	cursor := ""
	if req.Params != nil {
		cursor = req.Params.Cursor
	}
	id, files, err := t.driveFiles(ctx, req, "")
	if err != nil {
		return nil, t.resourceError(ctx, "resources/list", err)
	}
	// The MCP cursor is Drive's own page token: nothing to keep per client.
	page, err := files.Recent(ctx, resourcePageSize, cursor)
	if err != nil {
		if cursor != "" && errors.Is(err, drive.ErrInvalidArgument) {
			return nil, &jsonrpc.Error{Code: jsonrpc.CodeInvalidParams, Message: "The cursor is not one this server gave out (Google: " +
				googleSays(err) + "): list again without a cursor to start from the first page."}
		}
		return nil, t.resourceError(ctx, "resources/list", t.explainDrive(ctx, id.Email, err, ""))
	}
	res := &mcp.ListResourcesResult{Resources: make([]*mcp.Resource, 0, len(page.Items)), NextCursor: page.NextPageToken}
	res.CacheScope = "private" // one account's files
	for _, it := range page.Items {
		r := &mcp.Resource{URI: resourcePrefix + it.ID, Name: it.Name, Title: it.Name, MIMEType: it.MimeType, Size: it.Size,
			Description: strings.Join(nonEmpty(kindOf(it.MimeType), ownerNote(it.Owner)), ", ")}
		if !it.ModifiedTime.IsZero() {
			r.Annotations = &mcp.Annotations{LastModified: rfc3339(it.ModifiedTime)}
		}
		res.Resources = append(res.Resources, r)
	}
	return res, nil
}

func ownerNote(owner string) string {
	if owner == "" {
		return ""
	}
	return "owned by " + owner
}

func nonEmpty(ss ...string) []string {
	out := ss[:0]
	for _, s := range ss {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

// parseResourceURI splits gdrive:///<id>[?offset=N] into the file id and
// the offset.
func parseResourceURI(uri string) (fileID string, offset int64, err error) {
	rest, ok := strings.CutPrefix(uri, resourcePrefix)
	if !ok {
		return "", 0, fmt.Errorf("%q is not a Drive resource: give gdrive:///<file id>", uri)
	}
	rest, query, _ := strings.Cut(rest, "?")
	if err := drive.CheckID(rest); err != nil {
		return "", 0, fmt.Errorf("%q does not name a Drive file id: give gdrive:///<file id> (resources/list gives them)", uri)
	}
	if query != "" {
		q, err := url.ParseQuery(query)
		if err == nil && q.Has("offset") {
			offset, err = strconv.ParseInt(q.Get("offset"), 10, 64)
		}
		if err != nil || offset < 0 {
			return "", 0, fmt.Errorf("%q has an offset that is not a byte count: give the next_uri of the previous read, or no offset", uri)
		}
	}
	return rest, offset, nil
}

func (t *tools) readResource(ctx context.Context, req *mcp.ReadResourceRequest) (*mcp.ReadResourceResult, error) {
	uri := req.Params.URI
	fileID, offset, err := parseResourceURI(uri)
	if err != nil {
		return nil, &jsonrpc.Error{Code: jsonrpc.CodeInvalidParams, Message: err.Error()}
	}
	id, files, err := t.driveFiles(ctx, req, "")
	if err != nil {
		return nil, t.resourceError(ctx, "resources/read", err)
	}
	c, err := files.ContentPage(ctx, fileID, offset, defaultContentBytes)
	switch {
	case errors.Is(err, drive.ErrIsFolder):
		return nil, &jsonrpc.Error{Code: jsonrpc.CodeInvalidParams, Message: fmt.Sprintf("%q is a folder, which has no content of its own: "+
			"call list_drive_items with folder_id %s to see what is in it.", c.Name, fileID)}
	case errors.Is(err, drive.ErrOffsetPastEnd):
		return nil, &jsonrpc.Error{Code: jsonrpc.CodeInvalidParams, Message: fmt.Sprintf("offset %d is past the end of %q, whose text is %d bytes: "+
			"read %s%s to start again.", offset, c.Name, c.Total, resourcePrefix, fileID)}
	case errors.Is(err, drive.ErrNotFound):
		// Resource not found: invalid params, as the SDK now answers it, with a sentence.
		return nil, &jsonrpc.Error{Code: jsonrpc.CodeInvalidParams, Message: t.explainDrive(ctx, id.Email, err,
			fmt.Sprintf("Drive has no file %q that %s can see. resources/list shows the account's files.", fileID, id.Email)).Error()}
	case errors.Is(err, drive.ErrContentTooLarge):
		c.Binary = true // too large to export: offer what a binary file gets
	case err != nil:
		return nil, t.resourceError(ctx, "resources/read", t.explainDrive(ctx, id.Email, err, ""))
	}
	meta := mcp.Meta{"file_id": c.ID, "name": c.Name, "mime_type": c.MimeType, "account": id.Email}
	if c.WebViewLink != "" {
		meta["web_view_link"] = c.WebViewLink
	}
	if !c.ModifiedTime.IsZero() {
		meta["modified_time"] = rfc3339(c.ModifiedTime)
	}
	if c.Binary {
		return t.binaryResource(ctx, uri, id, files, c, meta)
	}
	meta["offset"], meta["total_bytes"] = c.Offset, c.Total
	if c.Exported {
		meta["exported"] = true
	}
	if c.More {
		// The same paging as get_drive_file_content: the next page is
		// another URI, so a client needs nothing but resources/read.
		meta["next_offset"], meta["has_more"] = c.NextOffset, true
		meta["next_uri"] = fmt.Sprintf("%s%s?offset=%d", resourcePrefix, fileID, c.NextOffset)
	}
	return &mcp.ReadResourceResult{Contents: []*mcp.ResourceContents{{URI: uri, MIMEType: c.Format, Text: c.Text, Meta: meta}}}, nil
}

// binaryResource answers a read of a file with no text: its details and
// how to get the bytes (over HTTP a download link of this server, over
// stdio download_drive_file), never the bytes themselves.
func (t *tools) binaryResource(ctx context.Context, uri string, id identity.Identity, files *drive.Files, c drive.Content, meta mcp.Meta) (*mcp.ReadResourceResult, error) {
	meta["binary"] = true
	if c.Size > 0 {
		meta["size"] = c.Size
	}
	how := fmt.Sprintf("To save it, call download_drive_file with file_id %s.", c.ID)
	if !t.Stdio && t.DownloadLinks != nil {
		plan, err := files.PlanDownload(ctx, c.ID, "")
		if err == nil {
			var scopes []string
			if id.Method == identity.MethodOAuth {
				scopes = id.Scopes // the link reads Drive with no more than the token that asked
			}
			var link string
			var expires time.Time
			if link, expires, err = t.DownloadLinks.Mint(id.Email, scopes, plan); err == nil {
				meta["download_url"], meta["expires_at"] = link, rfc3339(expires)
				how = fmt.Sprintf("Download it from %s (for %s only, until %s), or call download_drive_file with file_id %s.",
					link, id.Email, expires.UTC().Format(time.RFC3339), c.ID)
			}
		}
		if err != nil {
			t.Logger.Warn("resources/read: no download link", "file_id", c.ID, "err", err)
		}
	}
	text := binaryNote(c) + " " + how
	return &mcp.ReadResourceResult{Contents: []*mcp.ResourceContents{{URI: uri, MIMEType: "text/plain", Text: text, Meta: meta}}}, nil
}

// resourceError is what a resource request says when it fails: the
// sentence of an explained error, otherwise a generic one (the cause goes
// to the log, not to the client).
func (t *tools) resourceError(ctx context.Context, method string, err error) error {
	var ue *userError
	if errors.As(err, &ue) {
		return &jsonrpc.Error{Code: jsonrpc.CodeInvalidParams, Message: ue.msg}
	}
	t.Logger.ErrorContext(ctx, "resource request failed", "method", method, "err", err)
	return &jsonrpc.Error{Code: jsonrpc.CodeInternalError, Message: method + " could not finish: a part of drivemcp (its database, " +
		"or its connection to Google) did not answer. Try again in a moment."}
}

// resourceWatch turns resources/subscribe into polls of Drive's changes
// feed: one poller per subscribed account (the same account through the
// same scopes), each polling at most once per interval, stopped as soon as
// its last subscriber unsubscribes or, at its next tick, when the last
// subscribed session has gone.
type resourceWatch struct {
	t      *tools
	server *mcp.Server
	every  time.Duration
	ticker func(time.Duration) (<-chan time.Time, func())

	mu      sync.Mutex
	subs    map[*mcp.ServerSession]map[string]string // session → uri → poller key
	pollers map[string]*poller
}

type poller struct {
	key    string
	token  string // where the next poll starts in the changes feed
	files  *drive.Files
	cancel context.CancelFunc
}

func newResourceWatch(t *tools, every time.Duration, ticker func(time.Duration) (<-chan time.Time, func())) *resourceWatch {
	if every <= 0 {
		every = DefaultResourcePollInterval
	}
	if ticker == nil {
		ticker = func(d time.Duration) (<-chan time.Time, func()) {
			tk := time.NewTicker(d)
			return tk.C, tk.Stop
		}
	}
	return &resourceWatch{t: t, every: every, ticker: ticker, subs: map[*mcp.ServerSession]map[string]string{}, pollers: map[string]*poller{}}
}

// pollerKey names an account as a poller sees it: the same email through
// a different token's scopes sees different files.
func pollerKey(id identity.Identity) string {
	if id.Method == identity.MethodOAuth {
		return id.Email + "\x00" + strings.Join(id.Scopes, " ")
	}
	return id.Email
}

func (w *resourceWatch) subscribe(ctx context.Context, req *mcp.SubscribeRequest) error {
	fileID, _, err := parseResourceURI(req.Params.URI)
	if err != nil {
		return &jsonrpc.Error{Code: jsonrpc.CodeInvalidParams, Message: err.Error()}
	}
	uri := resourcePrefix + fileID
	if uri != req.Params.URI {
		return &jsonrpc.Error{Code: jsonrpc.CodeInvalidParams, Message: fmt.Sprintf("subscribe to %s, without an offset: a change is to the whole file", uri)}
	}
	t := w.t
	if req.Extra == nil {
		if extra, ok := ctx.Value(listenExtraKey{}).(*mcp.RequestExtra); ok {
			withExtra := *req
			withExtra.Extra = extra
			req = &withExtra
		}
	}
	id, err := t.resolve(ctx, req, "")
	if err != nil {
		return t.resourceError(ctx, "resources/subscribe", err)
	}
	// The poller outlives this request: its client must not end with it.
	pctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	files, err := t.filesFor(pctx, id)
	if err == nil {
		_, err = files.Get(ctx, fileID) // only a file the account can see may be watched
	}
	var token string
	if err == nil {
		token, err = files.StartPageToken(ctx)
	}
	if err != nil {
		cancel()
		if errors.Is(err, drive.ErrNotFound) {
			return &jsonrpc.Error{Code: jsonrpc.CodeInvalidParams, Message: fmt.Sprintf("Drive has no file %q that %s can see, so there is nothing to watch. "+
				"resources/list shows the account's files.", fileID, id.Email)}
		}
		return t.resourceError(ctx, "resources/subscribe", t.explainDrive(ctx, id.Email, err, ""))
	}
	key := pollerKey(id)
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.subs[req.Session] == nil {
		w.subs[req.Session] = map[string]string{}
	}
	w.subs[req.Session][uri] = key
	if _, ok := w.pollers[key]; ok {
		cancel()
		return nil
	}
	p := &poller{key: key, token: token, files: files, cancel: cancel}
	w.pollers[key] = p
	ticks, stop := w.ticker(w.every)
	go w.run(pctx, p, ticks, stop)
	return nil
}

func (w *resourceWatch) unsubscribe(_ context.Context, req *mcp.UnsubscribeRequest) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if m := w.subs[req.Session]; m != nil {
		key, ok := m[req.Params.URI]
		delete(m, req.Params.URI)
		if len(m) == 0 {
			delete(w.subs, req.Session)
		}
		if ok {
			w.stopIfUnwatchedLocked(key)
		}
	}
	return nil
}

// stopIfUnwatchedLocked stops key's poller when no session subscribes
// through it any more.
func (w *resourceWatch) stopIfUnwatchedLocked(key string) bool {
	for _, m := range w.subs {
		for _, k := range m {
			if k == key {
				return false
			}
		}
	}
	if p := w.pollers[key]; p != nil {
		p.cancel()
		delete(w.pollers, key)
	}
	return true
}

func (w *resourceWatch) run(ctx context.Context, p *poller, ticks <-chan time.Time, stop func()) {
	defer stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticks:
		}
		uris, ok := w.watched(p.key)
		if !ok {
			return
		}
		changed, next, err := p.files.Changes(ctx, p.token)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			w.t.Logger.Warn("resource poll failed; trying again at the next tick", "err", err)
			if errors.Is(err, drive.ErrInvalidArgument) {
				// Drive no longer knows the token: start again from now.
				if tok, terr := p.files.StartPageToken(ctx); terr == nil {
					p.token = tok
				}
			}
			continue
		}
		p.token = next
		seen := map[string]bool{}
		for _, c := range changed {
			uri := resourcePrefix + c.FileID
			if uris[uri] && !seen[uri] {
				seen[uri] = true
				_ = w.server.ResourceUpdated(ctx, &mcp.ResourceUpdatedNotificationParams{URI: uri})
			}
		}
	}
}

// watched returns the URIs subscribed through key's poller, first
// forgetting sessions that have closed; false (and the poller stopped)
// when none is left.
func (w *resourceWatch) watched(key string) (map[string]bool, bool) {
	live := map[*mcp.ServerSession]bool{}
	for ss := range w.server.Sessions() {
		live[ss] = true
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	for ss := range w.subs {
		if !live[ss] {
			delete(w.subs, ss)
		}
	}
	if w.stopIfUnwatchedLocked(key) {
		return nil, false
	}
	uris := map[string]bool{}
	for _, m := range w.subs {
		for uri, k := range m {
			if k == key {
				uris[uri] = true
			}
		}
	}
	return uris, true
}
