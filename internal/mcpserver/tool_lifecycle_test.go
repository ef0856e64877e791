package mcpserver

import (
	"crypto/md5"
	"encoding/hex"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/drivemcp/drivemcp/internal/e2etest"
	"github.com/drivemcp/drivemcp/internal/google"
)

func md5hex(s string) string {
	sum := md5.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}

// emuContent reads a file's bytes as the emulator holds them.
func emuContent(t *testing.T, f *fixture, id string) string {
	t.Helper()
	rc, err := f.google.OpenContent(id)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// update_drive_file replaces the content as a new version of the same file:
// the id stays, Drive's version grows, and the md5 is the new bytes'.
func TestUpdateDriveFile_KeepsIDBumpsVersionAndMD5IsTheNewContent(t *testing.T) {
	root := t.TempDir()
	if err := os.WriteFile(filepath.Join(root, "v3.txt"), []byte("third version"), 0o600); err != nil {
		t.Fatal(err)
	}
	f := newFixture(t, Deps{UploadRoots: []UploadRoot{{Dir: root}}})
	created := f.mustCall(t, "create_drive_file", map[string]any{"file_name": "notes.txt", "content": "first"})
	id := created["file_id"].(string)
	before, _ := f.google.File(id)

	out := f.mustCall(t, "update_drive_file", map[string]any{"file_id": id, "content": "second version"})
	if out["file_id"] != id || out["md5"] != md5hex("second version") || out["name"] != "notes.txt" {
		t.Fatalf("update answered %v, want the same id %s with the new md5", out, id)
	}
	after, _ := f.google.File(id)
	if after.Version <= before.Version {
		t.Fatalf("version %d after the update, was %d: want it to grow", after.Version, before.Version)
	}
	if got := emuContent(t, f, id); got != "second version" {
		t.Fatalf("Drive holds %q", got)
	}

	out = f.mustCall(t, "update_drive_file", map[string]any{"file_id": id, "filepath": "v3.txt", "new_name": "notes-v3.txt"})
	if out["file_id"] != id || out["name"] != "notes-v3.txt" || out["md5"] != md5hex("third version") {
		t.Fatalf("update from a local file answered %v", out)
	}
	if n := len(f.google.Files()); n != 1 {
		t.Fatalf("%d files in Drive after two updates, want 1", n)
	}

	// A folder has no content: refused with a sentence, and nothing uploaded.
	folder := f.mustCall(t, "create_drive_folder", map[string]any{"folder_name": "Box"})
	res := f.call(t, "update_drive_file", map[string]any{"file_id": folder["folder_id"], "content": "x"})
	if text := e2etest.ResultText(res); !res.IsError || !strings.Contains(text, "folder") {
		t.Fatalf("updating a folder: %q, want a tool error about the folder", text)
	}
}

// Each if_exists mode of create_drive_file and upload_file_to_drive does
// what its name says, in the folder the upload goes to.
func TestIfExists_NewUpdateSkipUnchangedFailAndDuplicates(t *testing.T) {
	root := t.TempDir()
	if err := os.WriteFile(filepath.Join(root, "a.txt"), []byte("from disk"), 0o600); err != nil {
		t.Fatal(err)
	}
	f := newFixture(t, Deps{UploadRoots: []UploadRoot{{Dir: root}}})
	create := func(content, mode string) map[string]any {
		args := map[string]any{"file_name": "a.txt", "content": content, "folder_path": "Reports"}
		if mode != "" {
			args["if_exists"] = mode
		}
		return f.mustCall(t, "create_drive_file", args)
	}
	first := create("one", "")
	id := first["file_id"].(string)
	if first["outcome"] != "created" {
		t.Fatalf("first upload: %v", first)
	}

	res := f.call(t, "create_drive_file", map[string]any{"file_name": "a.txt", "content": "two", "folder_path": "Reports", "if_exists": "fail"})
	if text := e2etest.ResultText(res); !res.IsError || !strings.Contains(text, id) {
		t.Fatalf("if_exists fail: %q, want an error naming %s", text, id)
	}

	v, _ := f.google.File(id)
	requests := f.google.Stats().Requests
	skipped := create("one", "skip_unchanged")
	if skipped["file_id"] != id || skipped["outcome"] != "skipped_unchanged" {
		t.Fatalf("skip_unchanged with equal content: %v", skipped)
	}
	if after, _ := f.google.File(id); after.Version != v.Version {
		t.Fatalf("an unchanged file was written (version %d → %d)", v.Version, after.Version)
	}
	// The folder path and the one listing of the name, nothing uploaded.
	if n := f.google.Stats().Requests - requests; n > 2 {
		t.Fatalf("skip_unchanged made %d Google requests, want at most 2", n)
	}

	changed := create("two", "skip_unchanged")
	if changed["file_id"] != id || changed["outcome"] != "updated" || emuContent(t, f, id) != "two" {
		t.Fatalf("skip_unchanged with new content: %v", changed)
	}
	updated := create("three", "update")
	if updated["file_id"] != id || updated["outcome"] != "updated" || emuContent(t, f, id) != "three" {
		t.Fatalf("update: %v", updated)
	}
	disk := f.mustCall(t, "upload_file_to_drive", map[string]any{"filepath": "a.txt", "folder_path": "Reports", "if_exists": "update"})
	if disk["file_id"] != id || emuContent(t, f, id) != "from disk" {
		t.Fatalf("upload_file_to_drive if_exists update: %v", disk)
	}

	second := create("four", "new")
	if second["file_id"] == id || second["outcome"] != "created" {
		t.Fatalf("if_exists new: %v, want a second file", second)
	}
	// Two files of that name now: update touches neither and says so.
	res = f.call(t, "create_drive_file", map[string]any{"file_name": "a.txt", "content": "five", "folder_path": "Reports", "if_exists": "update"})
	text := e2etest.ResultText(res)
	if !res.IsError || !strings.Contains(text, id) || !strings.Contains(text, second["file_id"].(string)) {
		t.Fatalf("update with two same-named files: %q, want an error naming both", text)
	}
	if emuContent(t, f, id) != "from disk" || emuContent(t, f, second["file_id"].(string)) != "four" {
		t.Fatal("a file was touched although the name was ambiguous")
	}
	res = f.call(t, "create_drive_file", map[string]any{"file_name": "a.txt", "content": "x", "if_exists": "sometimes"})
	if text := e2etest.ResultText(res); !res.IsError || !strings.Contains(text, "skip_unchanged") {
		t.Fatalf("unknown if_exists: %q", text)
	}
}

// move, rename and copy through the tools, checked in Drive.
func TestMoveRenameCopy_ChangeDriveAsAsked(t *testing.T) {
	f := newFixture(t, Deps{})
	file := f.mustCall(t, "create_drive_file", map[string]any{"file_name": "plan.txt", "content": "plan"})
	id := file["file_id"].(string)

	moved := f.mustCall(t, "move_drive_file", map[string]any{"file_id": id, "folder_path": "Projects/2026"})
	folderID := moved["folder_id"].(string)
	if got, _ := f.google.File(id); len(got.Parents) != 1 || got.Parents[0] != folderID {
		t.Fatalf("after the move the file's parents are %v, want [%s]", got.Parents, folderID)
	}
	renamed := f.mustCall(t, "rename_drive_file", map[string]any{"file_id": id, "new_name": "plan-final.txt"})
	if got, _ := f.google.File(id); got.Name != "plan-final.txt" || renamed["name"] != "plan-final.txt" {
		t.Fatalf("after the rename: %q (%v)", got.Name, renamed)
	}
	copied := f.mustCall(t, "copy_drive_file", map[string]any{"file_id": id, "new_name": "plan-copy.txt", "folder_id": "root"})
	cid := copied["file_id"].(string)
	got, ok := f.google.File(cid)
	if !ok || cid == id || got.Name != "plan-copy.txt" || got.MD5 != md5hex("plan") || got.Parents[0] != f.google.RootFolderID(alice) {
		t.Fatalf("copy: %+v (%v)", got, copied)
	}
	moveBack := f.mustCall(t, "move_drive_file", map[string]any{"file_id": id, "folder_id": "root"})
	if moveBack["folder_id"] != f.google.RootFolderID(alice) && moveBack["folder_id"] != "root" {
		t.Fatalf("move to root: %v", moveBack)
	}
}

// Trash can be undone; permanent deletion needs confirm: true and answers
// per file, one failure not stopping the others.
func TestTrashRestoreDelete_DeleteOnlyWithConfirm(t *testing.T) {
	f := newFixture(t, Deps{})
	a := f.mustCall(t, "create_drive_file", map[string]any{"file_name": "a.txt", "content": "a"})["file_id"].(string)
	b := f.mustCall(t, "create_drive_file", map[string]any{"file_name": "b.txt", "content": "b"})["file_id"].(string)

	out := f.mustCall(t, "trash_drive_files", map[string]any{"file_ids": []string{a, b}})
	if ga, _ := f.google.File(a); !ga.Trashed || out["succeeded"] != float64(2) {
		t.Fatalf("trash: %v", out)
	}
	f.mustCall(t, "trash_drive_files", map[string]any{"file_ids": []string{a}, "restore": true})
	if ga, _ := f.google.File(a); ga.Trashed {
		t.Fatal("restore left the file in the trash")
	}

	before := f.google.Stats().Requests
	res := f.call(t, "delete_drive_files", map[string]any{"file_ids": []string{a, b}})
	if text := e2etest.ResultText(res); !res.IsError || !strings.Contains(text, "confirm") {
		t.Fatalf("delete without confirm: %q", text)
	}
	res = f.call(t, "delete_drive_files", map[string]any{"file_ids": []string{a, b}, "confirm": false})
	if !res.IsError || f.google.Stats().Requests != before || len(f.google.Files()) != 2 {
		t.Fatalf("delete with confirm false reached Google or deleted: %q", e2etest.ResultText(res))
	}
	missing := "1missingFileIdThatDriveDoesNotHave"
	out = f.mustCall(t, "delete_drive_files", map[string]any{"file_ids": []string{a, missing, b}, "confirm": true})
	results := out["results"].([]any)
	if len(results) != 3 || out["succeeded"] != float64(2) || out["failed"] != float64(1) {
		t.Fatalf("delete results: %v", out)
	}
	if r := results[1].(map[string]any); r["ok"] != false || !strings.Contains(r["error"].(string), missing) {
		t.Fatalf("the missing file's result: %v", r)
	}
	if n := len(f.google.Files()); n != 0 {
		t.Fatalf("%d files left after deleting both", n)
	}
}

// get_drive_file_metadata names the file's path, checksum, owner and what
// the account may do with it.
func TestGetDriveFileMetadata_PathCapabilitiesAndChecksum(t *testing.T) {
	f := newFixture(t, Deps{}, google.ScopeDrive)
	id := f.mustCall(t, "create_drive_file", map[string]any{"file_name": "q4.csv", "content": "a,b\n", "folder_path": "Reports/2026"})["file_id"].(string)
	out := f.mustCall(t, "get_drive_file_metadata", map[string]any{"file_id": id})
	caps, _ := out["capabilities"].(map[string]any)
	if out["path"] != "Reports/2026/q4.csv" || out["md5"] != md5hex("a,b\n") || out["size"] != float64(4) ||
		out["trashed"] != false || caps["can_edit"] != true || caps["can_share"] != true || caps["can_download"] != true {
		t.Fatalf("metadata: %v", out)
	}
	if owners, _ := out["owners"].([]any); len(owners) != 1 || owners[0] != alice {
		t.Fatalf("owners: %v", out["owners"])
	}
	if out["created_time"] == "" || out["modified_time"] == "" || out["web_view_link"] == "" {
		t.Fatalf("times and link missing: %v", out)
	}
}

// Arguments that can never succeed are refused before Google is asked.
func TestLifecycleTools_BadArgumentsRefusedBeforeGoogle(t *testing.T) {
	f := newFixture(t, Deps{})
	before := f.google.Stats().Requests
	cases := []struct {
		tool string
		args map[string]any
		want string
	}{
		{"update_drive_file", map[string]any{"file_id": "a/b", "content": "x"}, "file_id"},
		{"update_drive_file", map[string]any{"file_id": "abc"}, "content"},
		{"update_drive_file", map[string]any{"file_id": "abc", "content": "x", "content_base64": "eA=="}, "only one"},
		{"update_drive_file", map[string]any{"file_id": "abc", "content": "x", "new_name": "a\nb"}, "new_name"},
		{"move_drive_file", map[string]any{"file_id": "abc"}, "folder_id"},
		{"move_drive_file", map[string]any{"file_id": "abc", "folder_id": "x", "folder_path": "A"}, "not both"},
		{"rename_drive_file", map[string]any{"file_id": "abc", "new_name": " "}, "new_name"},
		{"copy_drive_file", map[string]any{"file_id": "'x'"}, "file_id"},
		{"trash_drive_files", map[string]any{"file_ids": []string{}}, "file_ids"},
		{"trash_drive_files", map[string]any{"file_ids": []string{"ok", "bad id"}}, "bad id"},
		{"delete_drive_files", map[string]any{"file_ids": []string{"abc"}}, "confirm"},
		{"get_drive_file_metadata", map[string]any{"file_id": ""}, "file_id"},
		{"create_drive_file", map[string]any{"file_name": "a.txt", "fileUrl": "http://127.0.0.1:1/x", "if_exists": "skip_unchanged"}, "skip_unchanged"},
	}
	for _, c := range cases {
		res := f.call(t, c.tool, c.args)
		text := e2etest.ResultText(res)
		if !res.IsError || !strings.Contains(text, c.want) || !strings.HasSuffix(strings.TrimSpace(text), ".") {
			t.Errorf("%s %v: %q, want a tool error about %s that says what to do", c.tool, c.args, text, c.want)
		}
	}
	if n := f.google.Stats().Requests - before; n != 0 {
		t.Fatalf("Google got %d requests for calls that could never succeed", n)
	}
}
