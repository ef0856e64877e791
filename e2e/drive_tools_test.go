package e2e

import (
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/drivemcp/drivemcp/internal/e2etest"
	"github.com/drivemcp/drivemcp/internal/googleemu"
)

// The Drive tools, one at a time, from an MCP client's side: the real
// binary over stdio, alice@example.com connected, Google played by the
// emulator.

type driveServer struct {
	g       *e2etest.Google
	s       *e2etest.StdioServer
	session *mcp.ClientSession
	root    string // an upload root
}

func startDrive(t *testing.T, extraArgs ...string) *driveServer {
	t.Helper()
	g := e2etest.StartGoogle(t)
	root := t.TempDir()
	s := e2etest.StartStdio(t, e2etest.Config{Binary: binary, DB: filepath.Join(t.TempDir(), "drivemcp.db"),
		UploadRoots: []string{root}, Google: g, ExtraArgs: extraArgs})
	e2etest.Connect(t, s.Session, "alice@example.com")
	return &driveServer{g: g, s: s, session: s.Session, root: root}
}

func (d *driveServer) call(t *testing.T, tool string, args map[string]any) *mcp.CallToolResult {
	t.Helper()
	return e2etest.Call(t, d.session, tool, args)
}

func (d *driveServer) ok(t *testing.T, tool string, args map[string]any) map[string]any {
	t.Helper()
	return e2etest.Structured(t, e2etest.MustCall(t, d.session, tool, args))
}

// mustFail calls a tool that must fail with a finished sentence containing want.
func (d *driveServer) mustFail(t *testing.T, tool string, args map[string]any, want ...string) string {
	t.Helper()
	res := d.call(t, tool, args)
	text := e2etest.ResultText(res)
	if !res.IsError {
		t.Fatalf("%s %v succeeded: %s", tool, args, text)
	}
	for _, w := range want {
		if !strings.Contains(text, w) {
			t.Fatalf("%s %v: error %q does not say %q", tool, args, text, w)
		}
	}
	if !strings.HasSuffix(strings.TrimSpace(text), ".") {
		t.Fatalf("%s: error %q is not a finished sentence", tool, text)
	}
	return text
}

func (d *driveServer) create(t *testing.T, args map[string]any) string {
	t.Helper()
	id, _ := d.ok(t, "create_drive_file", args)["file_id"].(string)
	if id == "" {
		t.Fatalf("create_drive_file %v gave no file_id", args)
	}
	return id
}

func items(t *testing.T, out map[string]any) []map[string]any {
	t.Helper()
	raw, ok := out["items"].([]any)
	if !ok {
		t.Fatalf("no items array in %v", out)
	}
	list := make([]map[string]any, len(raw))
	for i, it := range raw {
		list[i] = it.(map[string]any)
	}
	return list
}

func itemIDs(t *testing.T, out map[string]any) []string {
	var ids []string
	for _, it := range items(t, out) {
		ids = append(ids, it["id"].(string))
	}
	return ids
}

func itemNames(t *testing.T, out map[string]any) []string {
	var names []string
	for _, it := range items(t, out) {
		names = append(names, it["name"].(string))
	}
	return names
}

func TestListDriveItems_PagesThroughAFolder(t *testing.T) {
	d := startDrive(t)
	folder, _ := d.ok(t, "create_drive_folder", map[string]any{"folder_name": "Paging"})["folder_id"].(string)
	var want []string
	for i := range 7 {
		name := fmt.Sprintf("file-%d.txt", i)
		d.create(t, map[string]any{"file_name": name, "content": name, "folder_id": folder})
		want = append(want, name)
	}
	d.create(t, map[string]any{"file_name": "outside.txt", "content": "not in the folder"})

	var got []string
	var sizes []int
	token := ""
	for page := 1; ; page++ {
		args := map[string]any{"folder_id": folder, "page_size": 3}
		if token != "" {
			args["page_token"] = token
		}
		res := e2etest.MustCall(t, d.session, "list_drive_items", args)
		out := e2etest.Structured(t, res)
		names := itemNames(t, out)
		got = append(got, names...)
		sizes = append(sizes, len(names))
		token, _ = out["next_page_token"].(string)
		text := e2etest.ResultText(res)
		if token != "" && !strings.Contains(text, fmt.Sprintf("page_token %q", token)) {
			t.Fatalf("page %d does not say how to get the next one: %s", page, text)
		}
		if !strings.Contains(text, "drive.file") {
			t.Fatalf("page %d does not say that drive.file hides files: %s", page, text)
		}
		if token == "" || page > 5 {
			break
		}
	}
	if !slices.Equal(sizes, []int{3, 3, 1}) || !slices.Equal(got, want) {
		t.Fatalf("pages of %v holding %v, want [3 3 1] holding %v", sizes, got, want)
	}

	root := d.ok(t, "list_drive_items", nil)
	if names := itemNames(t, root); !slices.Equal(names, []string{"Paging", "outside.txt"}) {
		t.Fatalf("My Drive lists %v, want the folder first, then outside.txt", names)
	}
	d.mustFail(t, "list_drive_items", map[string]any{"folder_id": "no-such-folder"}, `no folder "no-such-folder"`, "folder_id")
	d.mustFail(t, "list_drive_items", map[string]any{"folder_id": itemIDs(t, root)[1]}, "is a file, not a folder")
	d.mustFail(t, "list_drive_items", map[string]any{"page_size": 5000}, "page_size 5000 is out of range")
}

func TestSearchDriveFiles_QuotesFreeTextAndPassesQueriesThrough(t *testing.T) {
	d := startDrive(t)
	quote := d.create(t, map[string]any{"file_name": "it's done.txt", "content": "alpha"})
	slash := d.create(t, map[string]any{"file_name": `back\slash notes.txt`, "content": "beta"})
	d.create(t, map[string]any{"file_name": "plain.txt", "content": "gamma words"})

	tests := []struct {
		query, wantQ string
		want         []string
	}{
		{"it's", `fullText contains 'it\'s' and trashed = false`, []string{quote}},
		{`back\slash`, `fullText contains 'back\\slash' and trashed = false`, []string{slash}},
		{"gamma", `fullText contains 'gamma' and trashed = false`, nil},
		{"name contains 'plain'", "name contains 'plain'", nil},
		{`name = 'it\'s done.txt'`, `name = 'it\'s done.txt'`, []string{quote}},
	}
	for _, tt := range tests {
		out := d.ok(t, "search_drive_files", map[string]any{"query": tt.query})
		if out["query"] != tt.wantQ {
			t.Errorf("query %q ran as %q, want %q", tt.query, out["query"], tt.wantQ)
		}
		var ids []string
		for _, it := range items(t, out) {
			ids = append(ids, it["id"].(string))
		}
		if tt.want != nil && !slices.Equal(ids, tt.want) {
			t.Errorf("query %q found %v, want %v", tt.query, ids, tt.want)
		}
		if tt.want == nil && len(ids) != 1 {
			t.Errorf("query %q found %v, want plain.txt", tt.query, ids)
		}
	}
	d.mustFail(t, "search_drive_files", map[string]any{"query": "name = unquoted"}, "did not accept the query", "single quotes")
	d.mustFail(t, "search_drive_files", map[string]any{"query": ""}, "query is empty")

	// Paging a search: three matches, two pages.
	out := d.ok(t, "search_drive_files", map[string]any{"query": "mimeType contains 'text/plain'", "page_size": 2})
	token, _ := out["next_page_token"].(string)
	if len(items(t, out)) != 2 || token == "" {
		t.Fatalf("first page %v", out)
	}
	out = d.ok(t, "search_drive_files", map[string]any{"query": "mimeType contains 'text/plain'", "page_size": 2, "page_token": token})
	if len(items(t, out)) != 1 || out["next_page_token"] != nil {
		t.Fatalf("second page %v", out)
	}
}

// Shared drives are not emulated; the arguments still reach Drive, and its
// answer for an unknown shared drive becomes a sentence about drive_id.
func TestSearchDriveFiles_SharedDriveArguments(t *testing.T) {
	d := startDrive(t)
	id := d.create(t, map[string]any{"file_name": "report.txt", "content": "q4"})
	out := d.ok(t, "search_drive_files", map[string]any{"query": "report", "include_items_from_all_drives": true})
	if got := items(t, out); len(got) != 1 || got[0]["id"] != id {
		t.Fatalf("search across all drives found %v", got)
	}
	out = d.ok(t, "search_drive_files", map[string]any{"query": "report", "include_items_from_all_drives": false})
	if len(items(t, out)) != 1 {
		t.Fatalf("search of My Drive only found %v", out)
	}
	d.mustFail(t, "search_drive_files", map[string]any{"query": "report", "drive_id": "0ANoSuchDrive"},
		`no shared drive "0ANoSuchDrive"`, "drive_id", "omit it")
}

func TestGetDriveFileContent(t *testing.T) {
	d := startDrive(t)
	text := d.create(t, map[string]any{"file_name": "notes.md", "content": "# Notes\n\n- one\n- two\n"})
	doc := d.create(t, map[string]any{"file_name": "Plan", "content": "# Plan\n\nShip the Drive tools.",
		"mime_type": "application/vnd.google-apps.document"})
	sheet := d.create(t, map[string]any{"file_name": "Budget", "content": "item,cost\ntea,3\n",
		"mime_type": "application/vnd.google-apps.spreadsheet"})
	png := append([]byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), make([]byte, 200)...)
	image := d.create(t, map[string]any{"file_name": "logo.png", "content_base64": base64.StdEncoding.EncodeToString(png)})
	folder, _ := d.ok(t, "create_drive_folder", map[string]any{"folder_name": "Stuff"})["folder_id"].(string)

	tests := []struct {
		id, content, format string
		exported, binary    bool
	}{
		{text, "# Notes\n\n- one\n- two\n", "text/markdown", false, false},
		{doc, "# Plan\n\nShip the Drive tools.", "text/markdown", true, false},
		{sheet, "item,cost\ntea,3\n", "text/csv", true, false},
		{image, "", "", false, true},
	}
	for _, tt := range tests {
		res := e2etest.MustCall(t, d.session, "get_drive_file_content", map[string]any{"file_id": tt.id})
		out := e2etest.Structured(t, res)
		content, _ := out["content"].(string)
		format, _ := out["content_format"].(string)
		exported, _ := out["exported"].(bool)
		binary, _ := out["binary"].(bool)
		if content != tt.content || !strings.HasPrefix(format, tt.format) || exported != tt.exported || binary != tt.binary {
			t.Errorf("%s: content %q format %q exported %v binary %v; want %q %q %v %v",
				out["name"], content, format, exported, binary, tt.content, tt.format, tt.exported, tt.binary)
		}
		shown := e2etest.ResultText(res)
		if tt.binary {
			if !strings.Contains(shown, "binary file (image/png)") || !strings.Contains(shown, "https://") || strings.Contains(shown, "PNG") {
				t.Errorf("binary file shown as %q, want a note with its link and none of its bytes", shown)
			}
		} else if !strings.Contains(shown, tt.content) {
			t.Errorf("%s: text %q does not hold the content", out["name"], shown)
		}
	}
	d.mustFail(t, "get_drive_file_content", map[string]any{"file_id": folder}, "is a folder", "list_drive_items")
	d.mustFail(t, "get_drive_file_content", map[string]any{"file_id": "no-such-file"}, `no file "no-such-file"`, "drive.file")
}

func TestCreateDriveFolder_ByIDAndByPath(t *testing.T) {
	d := startDrive(t)
	parent, _ := d.ok(t, "create_drive_folder", map[string]any{"folder_name": "Parent"})["folder_id"].(string)
	child := d.ok(t, "create_drive_folder", map[string]any{"folder_name": "Child", "parent_folder_id": parent})
	if child["parent_folder_id"] != parent || child["created"] != true {
		t.Fatalf("child folder %v", child)
	}

	first := d.ok(t, "create_drive_folder", map[string]any{"folder_path": "Reports/2026/Q4"})
	if first["path"] != "Reports/2026/Q4" || first["created"] != true || fmt.Sprint(first["created_paths"]) != "[Reports Reports/2026 Reports/2026/Q4]" {
		t.Fatalf("first folder_path call: %v", first)
	}
	again := d.ok(t, "create_drive_folder", map[string]any{"folder_path": "Reports/2026", "folder_name": "Q4"})
	if again["folder_id"] != first["folder_id"] || again["created"] != false {
		t.Fatalf("second call made another folder: %v", again)
	}

	local := filepath.Join(d.root, "summary.txt")
	if err := os.WriteFile(local, []byte("totals"), 0o600); err != nil {
		t.Fatal(err)
	}
	up := d.ok(t, "upload_file_to_drive", map[string]any{"filepath": local, "folder_path": "Reports/2026/Q4"})
	made := d.ok(t, "create_drive_file", map[string]any{"file_name": "note.txt", "content": "hi", "folder_path": "Reports/2026/Q5"})
	if up["folder_id"] != first["folder_id"] {
		t.Fatalf("upload went to %v, want Q4 %v", up["folder_id"], first["folder_id"])
	}
	if len(e2etest.FilesNamed(d.g, "Reports")) != 1 || len(e2etest.FilesNamed(d.g, "2026")) != 1 || len(e2etest.FilesNamed(d.g, "Q5")) != 1 {
		t.Fatalf("folders were duplicated: %v", d.g.Files())
	}
	if q5 := e2etest.FilesNamed(d.g, "Q5")[0]; made["folder_id"] != q5.ID {
		t.Fatalf("create_drive_file went to %v, want Q5 %v", made["folder_id"], q5.ID)
	}
	d.mustFail(t, "create_drive_folder", map[string]any{"folder_name": "x", "parent_folder_id": "no-such-parent"}, `no folder "no-such-parent"`)
}

func TestShareDriveFiles_EachShareOnItsOwn(t *testing.T) {
	d := startDrive(t)
	a := d.create(t, map[string]any{"file_name": "a.txt", "content": "a"})
	b := d.create(t, map[string]any{"file_name": "b.txt", "content": "b"})

	res := e2etest.Call(t, d.session, "share_drive_files", map[string]any{
		"file_ids":        []string{a, "no-such-file", b},
		"email_addresses": []string{"bob@example.com", "not-an-email", "carol@example.org"},
		"role":            "commenter", "message": "For review",
	})
	out := e2etest.Structured(t, res)
	if res.IsError || out["shared"] != float64(4) || out["failed"] != float64(5) {
		t.Fatalf("partial share: isError %v, %v", res.IsError, out)
	}
	for _, r := range out["results"].([]any) {
		r := r.(map[string]any)
		errText, _ := r["error"].(string)
		switch {
		case r["file_id"] == "no-such-file":
			if r["ok"] != false || !strings.Contains(errText, `no file "no-such-file"`) {
				t.Errorf("missing file: %v", r)
			}
		case r["email"] == "not-an-email":
			if r["ok"] != false || !strings.Contains(errText, "not an email address") {
				t.Errorf("invalid email: %v", r)
			}
		default:
			if r["ok"] != true || r["role"] != "commenter" || r["permission_id"] == "" || r["file_name"] == "" {
				t.Errorf("valid share: %v", r)
			}
		}
	}
	if text := e2etest.ResultText(res); strings.Count(text, "FAILED") != 5 || strings.Count(text, "shared as commenter") != 4 {
		t.Fatalf("text does not report every share:\n%s", text)
	}
	notes := d.g.Notifications()
	if len(notes) != 4 || notes[0].Message != "For review" || notes[0].Role != "commenter" {
		t.Fatalf("notifications %+v", notes)
	}
	if !hasPermission(d.g.Permissions(b), "user", "carol@example.org", "commenter") {
		t.Fatalf("b.txt permissions %+v", d.g.Permissions(b))
	}

	// When every share fails, the result is a tool error that still lists each reason.
	res = e2etest.Call(t, d.session, "share_drive_files", map[string]any{"file_ids": []string{"gone-1", "gone-2"}, "email_addresses": []string{"bob@example.com"}})
	out = e2etest.Structured(t, res)
	if !res.IsError || out["failed"] != float64(2) || len(out["results"].([]any)) != 2 {
		t.Fatalf("all-failed share: isError %v, %v", res.IsError, out)
	}
	d.mustFail(t, "share_drive_files", map[string]any{"file_ids": []string{a}, "email_addresses": []string{"bob@example.com"}, "role": "owner"}, "role")
}

func TestMakeDriveFilesPublic(t *testing.T) {
	d := startDrive(t)
	a := d.create(t, map[string]any{"file_name": "a.txt", "content": "a"})
	out := d.ok(t, "make_drive_files_public", map[string]any{"file_ids": []string{a}, "role": "commenter"})
	r := out["results"].([]any)[0].(map[string]any)
	if r["public"] != true || !strings.HasPrefix(r["link"].(string), "https://") || !hasPermission(d.g.Permissions(a), "anyone", "", "commenter") {
		t.Fatalf("make public: %v, permissions %+v", out, d.g.Permissions(a))
	}
	out = d.ok(t, "make_drive_files_public", map[string]any{"file_ids": []string{a}, "public": false})
	if r := out["results"].([]any)[0].(map[string]any); r["public"] != false || hasPermission(d.g.Permissions(a), "anyone", "", "commenter") {
		t.Fatalf("make private: %v, permissions %+v", out, d.g.Permissions(a))
	}
	d.mustFail(t, "make_drive_files_public", map[string]any{"file_ids": []string{"gone"}}, `no file "gone"`)
}

func hasPermission(perms []googleemu.Permission, typ, email, role string) bool {
	return slices.ContainsFunc(perms, func(p googleemu.Permission) bool { return p.Type == typ && p.Email == email && p.Role == role })
}

// bait is a loopback server that must never be asked for anything.
type bait struct {
	*httptest.Server
	hits atomic.Int32
}

func newBait(t *testing.T, network, addr string) *bait {
	t.Helper()
	ln, err := net.Listen(network, addr)
	if err != nil {
		t.Fatalf("cannot listen on %s: %v", addr, err)
	}
	b := &bait{}
	b.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b.hits.Add(1)
		w.Write([]byte("internal secret"))
	}))
	b.Listener.Close()
	b.Listener = ln
	b.Start()
	t.Cleanup(b.Close)
	return b
}

// Without --allow-private-urls, fileUrl never reaches loopback, whichever
// way it is spelled, and neither does a redirect; nothing is created.
func TestCreateDriveFile_FileURLNeverReachesLoopback(t *testing.T) {
	d := startDrive(t)
	v4 := newBait(t, "tcp4", "127.0.0.1:0")
	_, port, _ := net.SplitHostPort(v4.Listener.Addr().String())
	redirector := newBait(t, "tcp4", "127.0.0.1:0")
	redirector.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		redirector.hits.Add(1)
		http.Redirect(w, r, v4.URL+"/secret", http.StatusFound)
	})
	urls := []string{
		v4.URL + "/secret",
		"http://localhost:" + port + "/secret",
		redirector.URL + "/redirect",
	}
	baits := []*bait{v4, redirector}
	if ln, err := net.Listen("tcp6", "[::1]:0"); err == nil {
		ln.Close()
		v6 := newBait(t, "tcp6", "[::1]:0")
		urls = append(urls, v6.URL+"/secret")
		baits = append(baits, v6)
	}
	for _, u := range urls {
		text := d.mustFail(t, "create_drive_file", map[string]any{"file_name": "stolen.txt", "fileUrl": u}, "loopback address", "--allow-private-urls")
		if !strings.Contains(text, "nothing was requested") {
			t.Errorf("%s: %q", u, text)
		}
	}
	for _, b := range baits {
		if n := b.hits.Load(); n != 0 {
			t.Fatalf("a loopback server at %s got %d requests", b.URL, n)
		}
	}
	if files := d.g.Files(); len(files) != 0 {
		t.Fatalf("files were created: %v", files)
	}
}

// With --allow-private-urls (the operator's choice), a loopback URL is
// copied into Drive, following a redirect on the way.
func TestCreateDriveFile_FileURLWithPrivateURLsAllowed(t *testing.T) {
	d := startDrive(t, "--allow-private-urls")
	body := []byte(strings.Repeat("quarterly numbers\n", 5000))
	src := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/latest":
			http.Redirect(w, r, "/report-2026.txt", http.StatusFound)
		case "/report-2026.txt":
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			w.Write(body)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(src.Close)
	out := d.ok(t, "create_drive_file", map[string]any{"file_name": "report.txt", "fileUrl": src.URL + "/latest", "folder_path": "Imports"})
	sum := md5.Sum(body)
	if out["md5"] != hex.EncodeToString(sum[:]) || out["size"] != float64(len(body)) {
		t.Fatalf("created %v", out)
	}
	if n, md5sum := e2etest.DriveFileMD5(t, d.g, out["file_id"].(string)); n != int64(len(body)) || md5sum != hex.EncodeToString(sum[:]) {
		t.Fatalf("Drive holds %d bytes with md5 %s", n, md5sum)
	}
	d.mustFail(t, "create_drive_file", map[string]any{"file_name": "x", "fileUrl": src.URL + "/missing"}, "404")
}
