package drive

import (
	"testing"
)

// The one-query walk must not mistake a deeper folder for the top one
// when a path repeats its first name (A/B/A), and must find the whole
// path again, with the same ids, on a second resolve.
func TestResolveFolderPath_RepeatedNamesAreWalkedByParent(t *testing.T) {
	e := newEmulated(t)
	files, err := NewFiles(t.Context(), e.client, e.url+"/drive/v3/", Retry{})
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"A/B/A", "A/A", "B/A"} {
		first, err := files.ResolveFolderPath(t.Context(), path, true)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		again, err := files.ResolveFolderPath(t.Context(), path, false)
		if err != nil {
			t.Fatalf("%s again: %v", path, err)
		}
		if again.Folder.ID != first.Folder.ID || len(again.Created) != 0 {
			t.Fatalf("%s: resolved to %s then %s (created %v)", path, first.Folder.ID, again.Folder.ID, again.Created)
		}
	}
	// A, A/B, A/B/A, A/A, B, B/A: six folders, none twice.
	if n := len(e.emu.Files()); n != 6 {
		t.Fatalf("Drive holds %d folders, want 6: %+v", n, e.emu.Files())
	}
}

// A cached path costs no request, and the account's own rename forgets it.
func TestResolveFolderPath_CacheServesAndForgetsOnRename(t *testing.T) {
	e := newEmulated(t)
	files, err := NewFiles(t.Context(), e.client, e.url+"/drive/v3/", Retry{})
	if err != nil {
		t.Fatal(err)
	}
	files.WithFolderCache(NewFolderCache(DefaultFolderCacheTTL, 16), "alice@example.com")
	first, err := files.ResolveFolderPath(t.Context(), "X/Y", true)
	if err != nil {
		t.Fatal(err)
	}
	before := e.emu.Stats().Requests
	cached, err := files.ResolveFolderPath(t.Context(), "X/Y", true)
	if err != nil || !cached.Cached || cached.Folder.ID != first.Folder.ID {
		t.Fatalf("second resolve: %+v, %v", cached, err)
	}
	if n := e.emu.Stats().Requests - before; n != 0 {
		t.Fatalf("a cached path cost %d requests", n)
	}
	if _, err := files.Rename(t.Context(), first.Folder.ID, "Z"); err != nil {
		t.Fatal(err)
	}
	after, err := files.ResolveFolderPath(t.Context(), "X/Y", true)
	if err != nil || after.Cached || after.Folder.ID == first.Folder.ID {
		t.Fatalf("after the rename X/Y resolved to %+v, %v", after, err)
	}
}
