package drive

import (
	"errors"
	"fmt"
	"testing"
)

func TestSplitFolderPath(t *testing.T) {
	tests := []struct {
		in   string
		want []string
		ok   bool
	}{
		{"Reports/2026/Q4", []string{"Reports", "2026", "Q4"}, true},
		{"/Reports//2026/ ", []string{"Reports", "2026"}, true},
		{" Bob's files / a\\b ", []string{"Bob's files", `a\b`}, true},
		{"", nil, false},
		{" / // ", nil, false},
		{"a/../b", nil, false},
		{"./a", nil, false},
	}
	for _, tt := range tests {
		got, err := SplitFolderPath(tt.in)
		if (err == nil) != tt.ok || fmt.Sprint(got) != fmt.Sprint(tt.want) {
			t.Errorf("SplitFolderPath(%q) = %q, %v", tt.in, got, err)
		}
		if err != nil && !errors.Is(err, ErrInvalidArgument) {
			t.Errorf("SplitFolderPath(%q) error %v is not ErrInvalidArgument", tt.in, err)
		}
	}
}

func TestResolveFolderPath_CreatesWhatIsMissingOnce(t *testing.T) {
	d := newDrive(t)
	existing := d.folder(t, "Reports", "")
	fp, err := d.files.ResolveFolderPath(t.Context(), "Reports/2026/Q4", true)
	if err != nil {
		t.Fatal(err)
	}
	if fp.Path != "Reports/2026/Q4" || fmt.Sprint(fp.Created) != "[Reports/2026 Reports/2026/Q4]" || fp.Folder.Name != "Q4" || !fp.Folder.IsFolder() {
		t.Fatalf("first resolve = %+v", fp)
	}
	again, err := d.files.ResolveFolderPath(t.Context(), "/Reports/2026/Q4/", false)
	if err != nil || again.Folder.ID != fp.Folder.ID || len(again.Created) != 0 {
		t.Fatalf("second resolve = %+v, %v; want the same folder, nothing created", again, err)
	}
	mid, err := d.files.ResolveFolderPath(t.Context(), "Reports", false)
	if err != nil || mid.Folder.ID != existing.ID {
		t.Fatalf("Reports resolved to %+v, %v; want the existing %s", mid.Folder, err, existing.ID)
	}
	if n := len(d.emu.Files()); n != 3 {
		t.Fatalf("%d files in Drive, want 3 folders", n)
	}
}

func TestResolveFolderPath_TakesTheOldestOfTwins(t *testing.T) {
	d := newDrive(t)
	first := d.folder(t, "Twin", "")
	d.folder(t, "Twin", "")
	fp, err := d.files.ResolveFolderPath(t.Context(), "Twin", true)
	if err != nil || fp.Folder.ID != first.ID {
		t.Fatalf("resolved %+v, %v; want the oldest twin %s", fp.Folder, err, first.ID)
	}
}

func TestResolveFolderPath_QuotesNames(t *testing.T) {
	d := newDrive(t)
	path := `Bob's "files"/back\slash`
	fp, err := d.files.ResolveFolderPath(t.Context(), path, true)
	if err != nil {
		t.Fatal(err)
	}
	again, err := d.files.ResolveFolderPath(t.Context(), path, false)
	if err != nil || again.Folder.ID != fp.Folder.ID || again.Folder.Name != `back\slash` {
		t.Fatalf("resolve again = %+v, %v", again.Folder, err)
	}
}

func TestResolveFolderPath_WithoutCreateMissingIsNotFound(t *testing.T) {
	d := newDrive(t)
	d.folder(t, "Reports", "")
	_, err := d.files.ResolveFolderPath(t.Context(), "Reports/2027", false)
	if !errors.Is(err, ErrNotFound) {
		t.Fatalf("resolve = %v, want ErrNotFound", err)
	}
	if n := len(d.emu.Files()); n != 1 {
		t.Fatalf("%d files, want only Reports", n)
	}
}

func TestResolveFolderPath_FileOfTheSameNameIsNotAFolder(t *testing.T) {
	d := newDrive(t)
	d.put(t, "Reports", "text/plain", "", []byte("not a folder"))
	fp, err := d.files.ResolveFolderPath(t.Context(), "Reports", true)
	if err != nil || !fp.Folder.IsFolder() || len(fp.Created) != 1 {
		t.Fatalf("resolve = %+v, %v; want a new folder beside the file", fp, err)
	}
}
