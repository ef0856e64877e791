package mcpserver

import (
	"testing"
)

// googleRequests runs call and returns how many requests it sent Google.
func (f *fixture) googleRequests(t *testing.T, call func()) int64 {
	t.Helper()
	before := f.google.Stats().Requests
	call()
	return f.google.Stats().Requests - before
}

// A new folder_path is resolved with one query for all its segments, then
// the missing folders are created: at most 5 requests for RT/A/B and the
// file; the same path a moment later costs only the upload.
func TestUpload_FolderPathResolvedOnceThenCachedForTheNextUpload(t *testing.T) {
	f := newFixture(t, Deps{})
	f.mustCall(t, "check_drive_auth", map[string]any{})
	args := func(name string) map[string]any {
		return map[string]any{"file_name": name, "content": "x", "folder_path": "RT/A/B"}
	}
	var first, second map[string]any
	if n := f.googleRequests(t, func() { first = f.mustCall(t, "create_drive_file", args("one.txt")) }); n > 5 {
		t.Fatalf("the upload into the new path RT/A/B cost %d Google requests, want at most 5", n)
	}
	if n := f.googleRequests(t, func() { second = f.mustCall(t, "create_drive_file", args("two.txt")) }); n != 1 {
		t.Fatalf("the second upload into RT/A/B cost %d Google requests, want 1", n)
	}
	if first["folder_id"] != second["folder_id"] {
		t.Fatalf("the uploads went to folders %v and %v, want the same", first["folder_id"], second["folder_id"])
	}
	if folders := len(f.google.Files()) - 2; folders != 3 {
		t.Fatalf("Drive holds %d folders, want RT, A and B", folders)
	}
}

// An existing path (made by an earlier process, so nothing is cached) is
// found with one query.
func TestUpload_ExistingFolderPathIsOneQuery(t *testing.T) {
	deps, g := fixtureDeps(t, Deps{})
	deps.Stdio = true
	f := connectFixture(t, g, New(deps), nil)
	f.mustCall(t, "create_drive_folder", map[string]any{"folder_path": "RT/A/B"})
	other := connectFixture(t, g, New(deps), nil) // a second server: its cache is empty
	other.mustCall(t, "check_drive_auth", map[string]any{})
	if n := other.googleRequests(t, func() {
		other.mustCall(t, "create_drive_file", map[string]any{"file_name": "x.txt", "content": "x", "folder_path": "RT/A/B"})
	}); n != 2 {
		t.Fatalf("the upload into the existing RT/A/B cost %d Google requests, want 2 (one query, one upload)", n)
	}
	if folders := len(f.google.Files()) - 1; folders != 3 {
		t.Fatalf("Drive holds %d folders, want RT, A and B", folders)
	}
}

// The cache is only a shortcut: a folder deleted in Drive behind its back
// is found missing by the upload's 404 and the path resolved again, not
// reported as a failure.
func TestUpload_FolderDeletedBehindTheCacheIsResolvedAgain(t *testing.T) {
	f := newFixture(t, Deps{})
	first := f.mustCall(t, "create_drive_file", map[string]any{"file_name": "a.txt", "content": "x", "folder_path": "Reports/2026"})
	old, _ := first["folder_id"].(string)
	if !f.google.DeleteFile(old) {
		t.Fatalf("no folder %q to delete", old)
	}
	second := f.mustCall(t, "create_drive_file", map[string]any{"file_name": "b.txt", "content": "x", "folder_path": "Reports/2026"})
	if second["folder_id"] == old || second["folder_id"] == "" {
		t.Fatalf("the second upload went to folder %v, want a new Reports/2026", second["folder_id"])
	}
	file, ok := f.google.File(second["file_id"].(string))
	if !ok || len(file.Parents) != 1 || file.Parents[0] != second["folder_id"] {
		t.Fatalf("Drive has the file as %+v", file)
	}
}

// drivemcp's own moves, renames and trashes change what a path names: the
// cache forgets the account's paths on each.
func TestUpload_FolderRenamedByDrivemcpIsNotUsedForItsOldPath(t *testing.T) {
	f := newFixture(t, Deps{})
	first := f.mustCall(t, "create_drive_file", map[string]any{"file_name": "a.txt", "content": "x", "folder_path": "Old"})
	f.mustCall(t, "rename_drive_file", map[string]any{"file_id": first["folder_id"], "new_name": "New"})
	second := f.mustCall(t, "create_drive_file", map[string]any{"file_name": "b.txt", "content": "x", "folder_path": "Old"})
	if second["folder_id"] == first["folder_id"] {
		t.Fatalf("the upload to Old went into the folder renamed New")
	}
}

// create_drive_folder answers with the folder itself, so it must not take
// a cached one: a folder deleted behind the cache's back is made again.
func TestCreateDriveFolder_FolderDeletedBehindTheCacheIsMadeAgain(t *testing.T) {
	f := newFixture(t, Deps{})
	first := f.mustCall(t, "create_drive_file", map[string]any{"file_name": "a.txt", "content": "x", "folder_path": "Keep/This"})
	old, _ := first["folder_id"].(string)
	f.google.DeleteFile(old)
	out := f.mustCall(t, "create_drive_folder", map[string]any{"folder_path": "Keep/This"})
	if out["folder_id"] == old || out["created"] != true {
		t.Fatalf("create_drive_folder answered %v, want a new Keep/This", out)
	}
	if _, ok := f.google.File(out["folder_id"].(string)); !ok {
		t.Fatalf("folder %v does not exist in Drive", out["folder_id"])
	}
}
