package drive

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/drivemcp/drivemcp/internal/googleemu"
)

// drv is a Files for alice@example.com on the emulator, with retries that
// do not wait.
type drv struct {
	*emulated
	files *Files
}

func newDrive(t *testing.T) *drv {
	t.Helper()
	e := newEmulated(t)
	return &drv{emulated: e, files: filesFor(t, e, e.client)}
}

func filesFor(t *testing.T, e *emulated, client *http.Client) *Files {
	t.Helper()
	f, err := NewFiles(t.Context(), client, e.url+"/drive/v3/", Retry{Sleep: func(ctx context.Context, _ time.Duration) error { return ctx.Err() }})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// signIn is authorizedClient with other scopes.
func signIn(t *testing.T, base, email string, scopes ...string) *http.Client {
	t.Helper()
	cfg := oauth2.Config{
		ClientID: googleemu.DemoClientID, ClientSecret: googleemu.DemoClientSecret,
		Endpoint:    oauth2.Endpoint{AuthURL: base + "/o/oauth2/v2/auth", TokenURL: base + "/token"},
		RedirectURL: "http://127.0.0.1/cb", Scopes: scopes,
	}
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noFollow.Get(cfg.AuthCodeURL("s", oauth2.SetAuthURLParam("login_hint", email)))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	tok, err := cfg.Exchange(t.Context(), loc.Query().Get("code"))
	if err != nil {
		t.Fatal(err)
	}
	return cfg.Client(context.Background(), tok)
}

// put uploads content as a new file and returns it.
func (d *drv) put(t *testing.T, name, mimeType, parent string, content []byte) File {
	t.Helper()
	meta := FileMeta{Name: name, MimeType: mimeType}
	if parent != "" {
		meta.Parents = []string{parent}
	}
	src := Source{ReaderAt: bytes.NewReader(content), Size: int64(len(content))}
	if len(mimeType) > len(googleAppsPrefix) && mimeType[:len(googleAppsPrefix)] == googleAppsPrefix {
		// A type Drive imports into mimeType (Slides take no text: the
		// emulator keeps the bytes verbatim, so they pass as a .pptx).
		src.MediaType = TextImportType(mimeType, name)
		if sources := ImportSources(mimeType); src.MediaType == "" && len(sources) > 0 {
			src.MediaType = sources[0]
		}
	}
	u := &Uploader{Client: d.client, Endpoint: d.url}
	f, err := u.Upload(t.Context(), meta, src, nil)
	if err != nil {
		t.Fatalf("uploading %s: %v", name, err)
	}
	return f
}

func (d *drv) folder(t *testing.T, name, parent string) Item {
	t.Helper()
	it, err := d.files.CreateFolder(t.Context(), name, parent)
	if err != nil {
		t.Fatal(err)
	}
	return it
}

func TestSearchQuery(t *testing.T) {
	tests := []struct {
		in, want string
		isQuery  bool
	}{
		{"budget", `fullText contains 'budget' and trashed = false`, false},
		{"  it's done ", `fullText contains 'it\'s done' and trashed = false`, false},
		{`C:\temp\x`, `fullText contains 'C:\\temp\\x' and trashed = false`, false},
		{`a\'b`, `fullText contains 'a\\\'b' and trashed = false`, false},
		{"cats and dogs", `fullText contains 'cats and dogs' and trashed = false`, false},
		{"name of the rose", `fullText contains 'name of the rose' and trashed = false`, false},
		{"name contains 'report'", "name contains 'report'", true},
		{"mimeType = 'application/pdf' and trashed = false", "mimeType = 'application/pdf' and trashed = false", true},
		{"'1abc' in parents", "'1abc' in parents", true},
		{`'it\'s' IN parents`, `'it\'s' IN parents`, true},
		{"modifiedTime > '2026-01-01T00:00:00'", "modifiedTime > '2026-01-01T00:00:00'", true},
		{"fullText contains 'x'", "fullText contains 'x'", true},
		{"starred=true", "starred=true", true},
	}
	for _, tt := range tests {
		got, isQuery := SearchQuery(tt.in)
		if got != tt.want || isQuery != tt.isQuery {
			t.Errorf("SearchQuery(%q) = %q, %v; want %q, %v", tt.in, got, isQuery, tt.want, tt.isQuery)
		}
	}
}

// Names with quotes and backslashes are found by free-text search and by
// an exact name query built with Quote: Drive (and the emulator) reject
// any escape but \' and \\, so a quoting bug fails loudly.
func TestSearch_QuotesAndBackslashes(t *testing.T) {
	d := newDrive(t)
	tricky := []string{`it's here.txt`, `back\slash.txt`, `both \' mixed.txt`}
	for _, name := range tricky {
		d.put(t, name, "text/plain", "", []byte("x"))
	}
	d.put(t, "plain.txt", "text/plain", "", []byte("x"))
	for _, name := range tricky {
		q, _ := SearchQuery(name[:len(name)-4])
		p, err := d.files.Search(t.Context(), q, 10, "", false, "")
		if err != nil {
			t.Fatalf("Search(%q): %v", q, err)
		}
		if len(p.Items) != 1 || p.Items[0].Name != name {
			t.Errorf("Search(%q) = %v, want only %q", q, names(p.Items), name)
		}
		p, err = d.files.Search(t.Context(), "name = "+Quote(name), 10, "", false, "")
		if err != nil || len(p.Items) != 1 {
			t.Errorf("name = %s: %v, %v", Quote(name), names(p.Items), err)
		}
	}
}

func names(items []Item) []string {
	var out []string
	for _, it := range items {
		out = append(out, it.Name)
	}
	return out
}

func TestList_PagesFoldersFirstThenByName(t *testing.T) {
	d := newDrive(t)
	parent := d.folder(t, "Parent", "")
	for _, n := range []string{"e.txt", "b.txt", "d.txt", "a.txt"} {
		d.put(t, n, "text/plain", parent.ID, []byte(n))
	}
	d.folder(t, "z-sub", parent.ID)
	d.put(t, "elsewhere.txt", "text/plain", "", nil)

	var got []string
	token := ""
	pages := 0
	for {
		p, err := d.files.List(t.Context(), parent.ID, 2, token)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		got = append(got, names(p.Items)...)
		if token = p.NextPageToken; token == "" {
			break
		}
	}
	want := []string{"z-sub", "a.txt", "b.txt", "d.txt", "e.txt"}
	if fmt.Sprint(got) != fmt.Sprint(want) || pages != 3 {
		t.Fatalf("listing = %v in %d pages, want %v in 3", got, pages, want)
	}
}

func TestList_ItemsCarryTheirMetadata(t *testing.T) {
	d := newDrive(t)
	f := d.put(t, "notes.txt", "text/plain", "", []byte("hello"))
	p, err := d.files.List(t.Context(), "", 10, "")
	if err != nil || len(p.Items) != 1 {
		t.Fatalf("List = %v, %v", p.Items, err)
	}
	it := p.Items[0]
	if it.ID != f.ID || it.Size != 5 || it.MD5 == "" || it.WebViewLink == "" || it.Owner != "alice@example.com" ||
		it.ModifiedTime.IsZero() || len(it.Parents) != 1 || it.IsFolder() {
		t.Fatalf("item = %+v", it)
	}
}

func TestList_RefusesPageSizesDriveWouldRefuse(t *testing.T) {
	d := newDrive(t)
	for _, n := range []int{0, -1, 1001} {
		if _, err := d.files.List(t.Context(), "", n, ""); !errors.Is(err, ErrInvalidArgument) {
			t.Errorf("List(page size %d) = %v, want ErrInvalidArgument", n, err)
		}
	}
}

func TestErrors_AreSortedByWhatTheCallerCanDo(t *testing.T) {
	d := newDrive(t)
	readonly := filesFor(t, d.emulated, signIn(t, d.url, "alice@example.com", "https://www.googleapis.com/auth/drive.readonly"))
	tests := []struct {
		name string
		call func() error
		want error
	}{
		{"unknown file", func() error { _, err := d.files.Get(t.Context(), "nope"); return err }, ErrNotFound},
		{"bad query", func() error { _, err := d.files.Search(t.Context(), "name ~ 'x'", 10, "", false, ""); return err }, ErrInvalidArgument},
		{"unknown shared drive", func() error {
			_, err := d.files.Search(t.Context(), "trashed = false", 10, "", true, "0Axyz")
			return err
		}, ErrNotFound},
		{"read-only scope", func() error { _, err := readonly.CreateFolder(t.Context(), "x", ""); return err }, ErrInsufficientScope},
	}
	for _, tt := range tests {
		err := tt.call()
		var api *APIError
		if !errors.Is(err, tt.want) || !errors.As(err, &api) || api.Message == "" {
			t.Errorf("%s: error %v, want %v carrying Google's message", tt.name, err, tt.want)
		}
	}
}

func TestRead_RetriesRateLimitsThenGivesUp(t *testing.T) {
	d := newDrive(t)
	d.emu.InjectFault(googleemu.Fault{Method: "GET", PathPrefix: "/drive/v3/files", Status: 429, Times: 2})
	d.emu.InjectFault(googleemu.Fault{Method: "GET", PathPrefix: "/drive/v3/files", Status: 403, Reason: "userRateLimitExceeded", Times: 1})
	if _, err := d.files.List(t.Context(), "", 10, ""); err != nil {
		t.Fatalf("List after 3 rate limits = %v, want success on the 4th attempt", err)
	}
	d.emu.InjectFault(googleemu.Fault{Method: "GET", PathPrefix: "/drive/v3/files", Status: 429, Times: 10})
	if _, err := d.files.List(t.Context(), "", 10, ""); !errors.Is(err, ErrRateLimited) {
		t.Fatalf("List under a lasting rate limit = %v, want ErrRateLimited", err)
	}
}

// Drive answers a listing of an unknown parent with no items; List tells
// an empty folder from a missing one and from a file.
func TestList_TellsEmptyFromMissingFromFile(t *testing.T) {
	d := newDrive(t)
	empty := d.folder(t, "Empty", "")
	file := d.put(t, "a.txt", "text/plain", "", []byte("a"))
	if p, err := d.files.List(t.Context(), empty.ID, 10, ""); err != nil || len(p.Items) != 0 {
		t.Fatalf("List(empty folder) = %v, %v", p.Items, err)
	}
	if _, err := d.files.List(t.Context(), "missing", 10, ""); !errors.Is(err, ErrNotFound) {
		t.Fatalf("List(missing) = %v, want ErrNotFound", err)
	}
	if _, err := d.files.List(t.Context(), file.ID, 10, ""); !errors.Is(err, ErrNotAFolder) {
		t.Fatalf("List(file) = %v, want ErrNotAFolder", err)
	}
}

// A Drive that stops answering does not hold a tool call for ever: each
// call has a deadline even when the caller's client has none.
func TestFiles_CallsHaveADeadline(t *testing.T) {
	e := newEmulated(t)
	f, err := newFiles(t.Context(), e.client, e.url+"/drive/v3/", 300*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	e.emu.InjectFault(googleemu.Fault{Method: "GET", PathPrefix: "/drive/v3/files", Latency: 10 * time.Second})
	start := time.Now()
	_, err = f.List(t.Context(), "root", 10, "")
	if err == nil {
		t.Fatal("a call Drive never answered succeeded")
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("the call took %v with a 300 ms deadline", d)
	}
	if e.client.Timeout != 0 {
		t.Fatal("newFiles changed the caller's client")
	}
}
