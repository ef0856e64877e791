package mcpserver

import (
	"context"
	"crypto/md5"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/drivemcp/drivemcp/internal/e2etest"
	"github.com/drivemcp/drivemcp/internal/googleemu"
)

// folderTree writes a project under an upload root: nested folders, a
// hidden file, a hidden folder and a symlink leading out of the root.
func folderTree(t *testing.T) (root string) {
	t.Helper()
	root = t.TempDir()
	outside := t.TempDir()
	write := func(rel, content string) {
		p := filepath.Join(root, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("proj/a.txt", "alpha")
	write("proj/b.csv", "x,y\n1,2\n")
	write("proj/docs/c.md", "# c")
	write("proj/docs/deep/d.txt", "delta")
	write("proj/.env", "SECRET=1")
	write("proj/.git/config", "[core]")
	if err := os.WriteFile(filepath.Join(outside, "secret.txt"), []byte("not yours"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(outside, "secret.txt"), filepath.Join(root, "proj", "link.txt")); err != nil {
		t.Fatal(err)
	}
	return root
}

func filesByOutcome(out map[string]any) map[string]string {
	got := map[string]string{}
	for _, f := range out["files"].([]any) {
		m := f.(map[string]any)
		got[m["path"].(string)] = m["outcome"].(string)
	}
	return got
}

func driveNames(g *e2etest.Google) map[string]googleemu.File {
	byName := map[string]googleemu.File{}
	for _, f := range g.Files() {
		byName[f.Name] = f
	}
	return byName
}

// A tree with nested folders is mirrored into Drive; the hidden file, the
// hidden folder and the symlink out of the upload root are skipped and
// listed, and none of their bytes reach Google.
func TestUploadFolder_NestedTreeMirroredHiddenAndEscapingSymlinkSkipped(t *testing.T) {
	root := folderTree(t)
	f := newFixture(t, Deps{UploadRoots: []UploadRoot{{Dir: root}}})
	out := f.mustCall(t, "upload_folder_to_drive", map[string]any{"local_path": "proj", "folder_path": "Backups/proj"})
	want := map[string]string{"a.txt": "uploaded", "b.csv": "uploaded", "docs/c.md": "uploaded", "docs/deep/d.txt": "uploaded"}
	if got := filesByOutcome(out); !mapsEqual(got, want) {
		t.Fatalf("files: %v, want %v", got, want)
	}
	if out["uploaded"].(float64) != 4 || out["failed"].(float64) != 0 {
		t.Fatalf("summary: %v", out)
	}
	skipped := map[string]string{}
	for _, s := range out["skipped"].([]any) {
		m := s.(map[string]any)
		skipped[m["path"].(string)] = m["reason"].(string)
	}
	for _, p := range []string{".env", ".git", "link.txt"} {
		if skipped[p] == "" {
			t.Errorf("%s not listed as skipped: %v", p, skipped)
		}
	}
	if !strings.Contains(skipped["link.txt"], "symbolic link") {
		t.Errorf("link.txt skipped for %q", skipped["link.txt"])
	}
	names := driveNames(f.google)
	for _, n := range []string{".env", "config", "link.txt", ".git"} {
		if _, ok := names[n]; ok {
			t.Errorf("%s reached Drive", n)
		}
	}
	// The folders nest as locally, each made once.
	docs, deep, d := names["docs"], names["deep"], names["d.txt"]
	if len(deep.Parents) != 1 || deep.Parents[0] != docs.ID || d.Parents[0] != deep.ID || docs.Parents[0] != names["proj"].ID {
		t.Fatalf("folders do not nest as the local tree: docs %v deep %v d %v", docs, deep, d)
	}
	if _, sum := e2etest.DriveFileMD5(t, f.google, d.ID); sum != fmt.Sprintf("%x", md5.Sum([]byte("delta"))) {
		t.Fatalf("d.txt in Drive has md5 %s, not the local file's", sum)
	}
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// A second run with nothing changed uploads nothing and costs one listing
// per folder; a third, after one file changed, updates exactly that file,
// keeping its id.
func TestUploadFolder_SecondRunUploadsNothingThirdUpdatesOnlyTheChangedFile(t *testing.T) {
	root := folderTree(t)
	f := newFixture(t, Deps{UploadRoots: []UploadRoot{{Dir: root}}})
	args := map[string]any{"local_path": filepath.Join(root, "proj"), "folder_path": "proj"}
	f.mustCall(t, "upload_folder_to_drive", args)
	before := len(f.google.Files())
	ids := map[string]string{}
	for n, file := range driveNames(f.google) {
		ids[n] = file.ID
	}

	bytesBefore, reqBefore := f.google.Stats().UploadBytesReceived, f.google.Stats().Requests
	out := f.mustCall(t, "upload_folder_to_drive", args)
	if out["skipped_unchanged"].(float64) != 4 || out["uploaded"].(float64) != 0 || out["updated"].(float64) != 0 {
		t.Fatalf("second run: %v", out)
	}
	if n := f.google.Stats().UploadBytesReceived - bytesBefore; n != 0 {
		t.Fatalf("second run sent %d bytes", n)
	}
	// folder_path (one lookup) + one listing per folder (proj, docs, deep).
	if n := f.google.Stats().Requests - reqBefore; n > 4 {
		t.Fatalf("second run made %d Google requests, want at most 4 (one per folder and the path)", n)
	}

	if err := os.WriteFile(filepath.Join(root, "proj", "docs", "c.md"), []byte("# c, changed"), 0o600); err != nil {
		t.Fatal(err)
	}
	out = f.mustCall(t, "upload_folder_to_drive", args)
	want := map[string]string{"a.txt": "skipped_unchanged", "b.csv": "skipped_unchanged", "docs/c.md": "updated", "docs/deep/d.txt": "skipped_unchanged"}
	if got := filesByOutcome(out); !mapsEqual(got, want) {
		t.Fatalf("third run: %v, want %v", got, want)
	}
	if len(f.google.Files()) != before {
		t.Fatalf("the update made a new file: %d files, were %d", len(f.google.Files()), before)
	}
	c := driveNames(f.google)["c.md"]
	if c.ID != ids["c.md"] || c.Size != int64(len("# c, changed")) {
		t.Fatalf("c.md after update: %+v (id was %s)", c, ids["c.md"])
	}
}

// if_exists fail names the existing file; where Drive holds two of the
// name, no mode but new touches either, and the run says so.
func TestUploadFolder_IfExistsFailNamesTheFileAndDuplicatesTouchNone(t *testing.T) {
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "p"), 0o700); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"one.txt", "two.txt"} {
		if err := os.WriteFile(filepath.Join(root, "p", n), []byte("new "+n), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	f := newFixture(t, Deps{UploadRoots: []UploadRoot{{Dir: root}}})
	first := f.mustCall(t, "create_drive_file", map[string]any{"file_name": "one.txt", "content": "old", "folder_path": "p"})
	f.mustCall(t, "create_drive_file", map[string]any{"file_name": "two.txt", "content": "old", "folder_path": "p"})
	f.mustCall(t, "create_drive_file", map[string]any{"file_name": "two.txt", "content": "older", "folder_path": "p"})
	before := len(f.google.Files())

	res := f.call(t, "upload_folder_to_drive", map[string]any{"local_path": "p", "folder_path": "p", "if_exists": "fail"})
	text := e2etest.ResultText(res)
	if !strings.Contains(text, first["file_id"].(string)) {
		t.Fatalf("fail mode does not name the existing file's id %s: %s", first["file_id"], text)
	}
	res = f.call(t, "upload_folder_to_drive", map[string]any{"local_path": "p", "folder_path": "p", "if_exists": "update"})
	text = e2etest.ResultText(res)
	if !strings.Contains(text, "2 files named") {
		t.Fatalf("duplicates not reported: %s", text)
	}
	got := filesByOutcome(e2etest.Structured(t, res))
	if got["two.txt"] != "failed" || got["one.txt"] != "updated" {
		t.Fatalf("outcomes %v", got)
	}
	if len(f.google.Files()) != before {
		t.Fatalf("files were created")
	}
	for _, file := range e2etest.FilesNamed(f.google, "two.txt") {
		if file.Size == int64(len("new two.txt")) {
			t.Fatalf("a duplicate was updated: %+v", file)
		}
	}
}

// Arguments that can never succeed are refused with the fix, before Google.
func TestUploadFolder_BadArgumentsRefusedBeforeGoogle(t *testing.T) {
	root := folderTree(t)
	f := newFixture(t, Deps{UploadRoots: []UploadRoot{{Dir: root}}})
	before := f.google.Stats().Requests
	cases := []struct {
		args map[string]any
		want string
	}{
		{map[string]any{"local_path": ""}, "local_path"},
		{map[string]any{"local_path": "proj", "concurrency": 17}, "concurrency"},
		{map[string]any{"local_path": "proj", "concurrency": 0}, "concurrency"},
		{map[string]any{"local_path": "proj", "if_exists": "overwrite"}, "if_exists"},
		{map[string]any{"local_path": "proj", "folder_id": "a", "folder_path": "b"}, "folder_id"},
		{map[string]any{"local_path": "proj/a.txt"}, "not a folder"},
		{map[string]any{"local_path": "proj/.git"}, "hidden"},
		{map[string]any{"local_path": "/etc"}, "outside"},
		{map[string]any{"local_path": "nope"}, "no folder"},
	}
	for _, c := range cases {
		res := f.call(t, "upload_folder_to_drive", c.args)
		text := e2etest.ResultText(res)
		if !res.IsError || !strings.Contains(text, c.want) || !strings.HasSuffix(text, ".") {
			t.Errorf("%v: %q, want a tool error about %s that says what to do", c.args, text, c.want)
		}
	}
	if n := f.google.Stats().Requests - before; n != 0 {
		t.Fatalf("Google got %d requests for calls that could never succeed", n)
	}
}

// Progress is told by bytes, with the files done in each message, and
// reaches the total.
func TestUploadFolder_ProgressByBytesAndFiles(t *testing.T) {
	root := folderTree(t)
	deps, _ := fixtureDeps(t, Deps{UploadRoots: []UploadRoot{{Dir: root}}})
	deps.Stdio = true
	server := New(deps)
	ct, st := mcp.NewInMemoryTransports()
	if _, err := server.Connect(t.Context(), st, nil); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var got []*mcp.ProgressNotificationParams
	client := mcp.NewClient(&mcp.Implementation{Name: "test", Version: "1"}, &mcp.ClientOptions{
		ProgressNotificationHandler: func(_ context.Context, r *mcp.ProgressNotificationClientRequest) {
			mu.Lock()
			got = append(got, r.Params)
			mu.Unlock()
		},
	})
	session, err := client.Connect(t.Context(), ct, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { session.Close() })
	params := &mcp.CallToolParams{Name: "upload_folder_to_drive", Arguments: map[string]any{"local_path": "proj"}}
	params.SetProgressToken("p1")
	res, err := session.CallTool(t.Context(), params)
	if err != nil || res.IsError {
		t.Fatalf("upload: %v %s", err, e2etest.ResultText(res))
	}
	total := float64(len("alpha") + len("x,y\n1,2\n") + len("# c") + len("delta"))
	for range 100 {
		mu.Lock()
		done := len(got) > 0 && got[len(got)-1].Progress >= total
		mu.Unlock()
		if done {
			break
		}
		if err := session.Ping(t.Context(), nil); err != nil {
			t.Fatal(err)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) == 0 {
		t.Fatal("no progress notifications")
	}
	last := got[len(got)-1]
	if last.Progress != total || last.Total != total || !strings.Contains(last.Message, "4 of 4 files") {
		t.Fatalf("last notification %+v, want %v bytes and 4 of 4 files", last, total)
	}
	for i := 1; i < len(got); i++ {
		if got[i].Progress <= got[i-1].Progress {
			t.Fatalf("progress did not grow: %v then %v", got[i-1].Progress, got[i].Progress)
		}
	}
}
