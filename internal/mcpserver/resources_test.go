package mcpserver

import (
	"context"
	"encoding/base64"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/drivemcp/drivemcp/internal/google"
	"github.com/drivemcp/drivemcp/internal/identity"
	"github.com/drivemcp/drivemcp/internal/store/sqlite"
)

// resources/list pages through the account's files, newest first, 50 at
// a time; the MCP cursor is Drive's page token, and a cursor Drive never
// gave out is refused with a sentence.
func TestResources_ListPagesRecentFilesThroughTheCursor(t *testing.T) {
	f := newFixture(t, Deps{}, google.ScopeDriveReadonly)
	ids := map[string]bool{}
	for i := range 60 {
		ids[f.google.SeedFile(alice, "note"+strings.Repeat("x", i%3)+".txt", "hello")] = true
	}
	ctx := context.Background()
	first, err := f.session.ListResources(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(first.Resources) != resourcePageSize || first.NextCursor == "" {
		t.Fatalf("first page: %d resources, cursor %q; want %d and a cursor", len(first.Resources), first.NextCursor, resourcePageSize)
	}
	second, err := f.session.ListResources(ctx, &mcp.ListResourcesParams{Cursor: first.NextCursor})
	if err != nil {
		t.Fatal(err)
	}
	if len(second.Resources) != 10 || second.NextCursor != "" {
		t.Fatalf("second page: %d resources, cursor %q; want 10 and none", len(second.Resources), second.NextCursor)
	}
	for _, r := range append(first.Resources, second.Resources...) {
		id, ok := strings.CutPrefix(r.URI, "gdrive:///")
		if !ok || !ids[id] {
			t.Errorf("resource %q is not one of the seeded files", r.URI)
		}
		delete(ids, id)
		if r.MIMEType != "text/plain" || r.Annotations == nil || r.Annotations.LastModified == "" {
			t.Errorf("resource %+v: want its MIME type and last-modified time", r)
		}
	}
	if len(ids) != 0 {
		t.Errorf("%d files never listed", len(ids))
	}
	if _, err := f.session.ListResources(ctx, &mcp.ListResourcesParams{Cursor: "not-a-drive-token"}); err == nil || !strings.Contains(err.Error(), "without a cursor") {
		t.Errorf("a made-up cursor: %v; want a sentence saying to list without one", err)
	}
}

func TestResources_TemplatesOfferGdriveFileID(t *testing.T) {
	f := newFixture(t, Deps{})
	res, err := f.session.ListResourceTemplates(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, rt := range res.ResourceTemplates {
		got = append(got, rt.URITemplate)
	}
	if len(got) == 0 || got[0] != "gdrive:///{file_id}" && !strings.Contains(strings.Join(got, " "), "gdrive:///{file_id} ") {
		t.Errorf("templates %v; want gdrive:///{file_id}", got)
	}
}

// A long text reads a page at a time, as get_drive_file_content does: the
// read's _meta.next_uri is the next page.
func TestResources_ReadPagesLongTextLikeGetDriveFileContent(t *testing.T) {
	f := newFixture(t, Deps{}, google.ScopeDriveReadonly)
	text := strings.Repeat("0123456789abcdef", 20<<10) // 320 KiB
	id := f.google.SeedFile(alice, "long.txt", text)
	ctx := context.Background()
	r1, err := f.session.ReadResource(ctx, &mcp.ReadResourceParams{URI: "gdrive:///" + id})
	if err != nil {
		t.Fatal(err)
	}
	c := r1.Contents[0]
	next, _ := c.Meta["next_uri"].(string)
	if len(c.Text) != defaultContentBytes || c.MIMEType != "text/plain" || next == "" {
		t.Fatalf("first read: %d bytes, %q, next %q; want %d bytes and a next_uri", len(c.Text), c.MIMEType, next, defaultContentBytes)
	}
	r2, err := f.session.ReadResource(ctx, &mcp.ReadResourceParams{URI: next})
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Text + r2.Contents[0].Text; got != text || r2.Contents[0].Meta["next_uri"] != nil {
		t.Fatalf("two reads give %d bytes (want %d) and next %v (want none)", len(got), len(text), r2.Contents[0].Meta["next_uri"])
	}
}

var pngBytes = append([]byte("\x89PNG\r\n\x1a\n"), make([]byte, 4096)...)

// A binary file reads as its details and how to download it: over HTTP a
// link to drivemcp's /files/, over stdio download_drive_file; never its
// bytes as base64.
func TestResources_ReadBinaryGivesDetailsAndADownloadLinkNotBase64(t *testing.T) {
	upload := func(t *testing.T, f *fixture) string {
		out := f.mustCall(t, "create_drive_file", map[string]any{"file_name": "photo.png", "content_base64": base64.StdEncoding.EncodeToString(pngBytes)})
		return out["file_id"].(string)
	}
	check := func(t *testing.T, f *fixture, id, want string) {
		res, err := f.session.ReadResource(context.Background(), &mcp.ReadResourceParams{URI: "gdrive:///" + id})
		if err != nil {
			t.Fatal(err)
		}
		c := res.Contents[0]
		if len(c.Blob) != 0 || c.Meta["binary"] != true || !strings.Contains(c.Text, want) || len(c.Text) > 2000 {
			t.Fatalf("read of a PNG: blob %d bytes, text %q, meta %v; want no blob and %q", len(c.Blob), c.Text, c.Meta, want)
		}
	}
	t.Run("stdio", func(t *testing.T) {
		f := newFixture(t, Deps{})
		check(t, f, upload(t, f), "call download_drive_file")
	})
	t.Run("http", func(t *testing.T) {
		lf := newLinkFixture(t)
		id := upload(t, lf.fixture)
		check(t, lf.fixture, id, lf.srv.URL+"/files/")
	})
}

// A session with no account is told how to connect one, on every resource
// request.
func TestResources_SessionWithNoAccountIsToldToSignIn(t *testing.T) {
	deps, g := fixtureDeps(t, Deps{})
	empty, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "empty.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { empty.Close() })
	deps.Resolver = identity.NewResolver(empty, false)
	f := connectFixture(t, g, New(deps), nil)
	ctx := context.Background()
	id := g.SeedFile(alice, "a.txt", "x")
	for name, call := range map[string]func() error{
		"list": func() error { _, err := f.session.ListResources(ctx, nil); return err },
		"read": func() error {
			_, err := f.session.ReadResource(ctx, &mcp.ReadResourceParams{URI: "gdrive:///" + id})
			return err
		},
	} {
		if err := call(); err == nil || !strings.Contains(err.Error(), "start_google_auth") {
			t.Errorf("%s with no account: %v; want a sentence naming start_google_auth", name, err)
		}
	}
}

// handTicker is the resource poller's ticker in tests: each tick is sent
// by the test, and stop is counted.
type handTicker struct {
	mu      sync.Mutex
	ticks   chan time.Time
	every   []time.Duration
	started chan struct{}
	stopped chan struct{}
}

func newHandTicker() *handTicker {
	return &handTicker{ticks: make(chan time.Time), started: make(chan struct{}, 8), stopped: make(chan struct{}, 8)}
}

func (h *handTicker) make(every time.Duration) (<-chan time.Time, func()) {
	h.mu.Lock()
	h.every = append(h.every, every)
	h.mu.Unlock()
	h.started <- struct{}{}
	return h.ticks, func() { h.stopped <- struct{}{} }
}

// waitStarted waits for a poller to start: from protocol revision
// 2026-07-28 on, Subscribe returns before the server has subscribed.
func (h *handTicker) waitStarted(t *testing.T) {
	t.Helper()
	select {
	case <-h.started:
	case <-time.After(10 * time.Second):
		t.Fatal("no poller started after resources/subscribe")
	}
}

// tick delivers one tick to a running poller (or fails if none runs).
func (h *handTicker) tick(t *testing.T) {
	t.Helper()
	select {
	case h.ticks <- time.Now():
	case <-time.After(10 * time.Second):
		t.Fatal("no poller took the tick")
	}
}

// A subscribed file that another client renames is reported with
// notifications/resources/updated at the next poll of the changes feed,
// which runs once a minute; unsubscribing stops the poller.
func TestResources_SubscribeNotifiesWhenAnotherClientChangesTheFile(t *testing.T) {
	ticker := newHandTicker()
	deps, g := fixtureDeps(t, Deps{ResourceTicker: ticker.make}, google.ScopeDrive)
	deps.Stdio = true
	server := New(deps)
	updated := make(chan string, 4)
	ct, st := mcp.NewInMemoryTransports()
	if _, err := server.Connect(context.Background(), st, nil); err != nil {
		t.Fatal(err)
	}
	watcher, err := mcp.NewClient(&mcp.Implementation{Name: "watcher", Version: "1"}, &mcp.ClientOptions{
		ResourceUpdatedHandler: func(_ context.Context, req *mcp.ResourceUpdatedNotificationRequest) { updated <- req.Params.URI },
	}).Connect(context.Background(), ct, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { watcher.Close() })
	other := connectFixture(t, g, server, nil)

	id := g.SeedFile(alice, "watched.txt", "v1")
	quiet := g.SeedFile(alice, "other.txt", "v1")
	ctx := context.Background()
	uri := "gdrive:///" + id
	if err := watcher.Subscribe(ctx, &mcp.SubscribeParams{URI: uri}); err != nil {
		t.Fatal(err)
	}
	ticker.waitStarted(t)
	ticker.mu.Lock()
	defer ticker.mu.Unlock()
	if len(ticker.every) != 1 || ticker.every[0] != time.Minute {
		t.Fatalf("poller intervals %v; want one poller, once a minute", ticker.every)
	}
	other.mustCall(t, "rename_drive_file", map[string]any{"file_id": quiet, "new_name": "other2.txt"})
	other.mustCall(t, "rename_drive_file", map[string]any{"file_id": id, "new_name": "watched2.txt"})
	ticker.tick(t)
	select {
	case got := <-updated:
		if got != uri {
			t.Fatalf("updated %q; want %q", got, uri)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no notifications/resources/updated after the file changed")
	}
	if err := watcher.Unsubscribe(ctx, &mcp.UnsubscribeParams{URI: uri}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-ticker.stopped:
	case <-time.After(10 * time.Second):
		t.Fatal("the poller still runs after the last subscriber left")
	}
	select {
	case got := <-updated:
		t.Errorf("unexpected second notification %q (the other file is not watched)", got)
	default:
	}
}

// A poller whose last subscribed session closed stops at its next tick
// without calling Drive.
func TestResources_PollerStopsWhenTheLastSubscribedSessionCloses(t *testing.T) {
	ticker := newHandTicker()
	deps, g := fixtureDeps(t, Deps{ResourceTicker: ticker.make}, google.ScopeDrive)
	deps.Stdio = true
	server := New(deps)
	f := connectFixture(t, g, server, nil)
	id := g.SeedFile(alice, "watched.txt", "v1")
	if err := f.session.Subscribe(context.Background(), &mcp.SubscribeParams{URI: "gdrive:///" + id}); err != nil {
		t.Fatal(err)
	}
	ticker.waitStarted(t)
	f.session.Close()
	// The server notices the closed session in its own time; tick until the poller stops.
	for {
		select {
		case ticker.ticks <- time.Now():
			continue
		case <-ticker.stopped:
			return
		case <-time.After(10 * time.Second):
			t.Fatal("the poller still runs after its only session closed")
		}
	}
}
