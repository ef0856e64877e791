package googleemu

import (
	"io"
	"strings"
	"testing"

	"google.golang.org/api/drive/v3"
)

// files.copy makes a new file with the same bytes, named "Copy of …" unless
// a name is given, in the source's folder unless parents are given; a
// folder cannot be copied.
func TestDrive_CopyKeepsBytesNewIDAndRefusesFolders(t *testing.T) {
	e, srv := start(t, Options{})
	svc := driveFor(t, srv, "alice@example.com")
	dir, _ := svc.Files.Create(&drive.File{Name: "A", MimeType: mimeFolder}).Do()
	src, err := svc.Files.Create(&drive.File{Name: "plan.txt", Parents: []string{dir.Id}}).Media(strings.NewReader("plan")).Do()
	if err != nil {
		t.Fatal(err)
	}
	cp, err := svc.Files.Copy(src.Id, &drive.File{}).Fields("id,name,parents,md5Checksum,version").Do()
	if err != nil {
		t.Fatal(err)
	}
	if cp.Id == src.Id || cp.Name != "Copy of plan.txt" || len(cp.Parents) != 1 || cp.Parents[0] != dir.Id || cp.Md5Checksum == "" {
		t.Fatalf("copy: %+v", cp)
	}
	named, err := svc.Files.Copy(src.Id, &drive.File{Name: "mine.txt", Parents: []string{"root"}}).Fields("id,name,parents").Do()
	if err != nil || named.Name != "mine.txt" || named.Parents[0] != e.RootFolderID("alice@example.com") {
		t.Fatalf("named copy: %v %+v", err, named)
	}
	rc, _ := e.OpenContent(named.Id)
	b, _ := io.ReadAll(rc)
	rc.Close()
	if string(b) != "plan" {
		t.Fatalf("copy holds %q", b)
	}
	_, err = svc.Files.Copy(dir.Id, &drive.File{}).Do()
	if code := apiCode(t, err); code != 403 {
		t.Fatalf("copying a folder: %d, want 403", code)
	}
}

// Only the owner may trash a file; a writer it was shared with gets
// insufficientFilePermissions. Trashing a folder trashes what is inside it,
// and restoring it restores them.
func TestDrive_TrashOnlyByOwnerAndFolderTrashCascades(t *testing.T) {
	e, srv := start(t, Options{})
	alice := driveFor(t, srv, "alice@example.com", scopeDrive)
	bob := driveFor(t, srv, "bob@example.com", scopeDrive)
	dir, _ := alice.Files.Create(&drive.File{Name: "A", MimeType: mimeFolder}).Do()
	f, _ := alice.Files.Create(&drive.File{Name: "in.txt", Parents: []string{dir.Id}}).Media(strings.NewReader("x")).Do()
	if _, err := alice.Permissions.Create(f.Id, &drive.Permission{Type: "user", Role: "writer", EmailAddress: "bob@example.com"}).Do(); err != nil {
		t.Fatal(err)
	}
	_, err := bob.Files.Update(f.Id, &drive.File{Trashed: true}).Do()
	if code := apiCode(t, err); code != 403 {
		t.Fatalf("a writer trashed the owner's file: %d, want 403", code)
	}
	if _, err := bob.Files.Update(f.Id, &drive.File{Name: "renamed.txt"}).Do(); err != nil {
		t.Fatalf("a writer may still rename: %v", err)
	}
	if _, err := alice.Files.Update(dir.Id, &drive.File{Trashed: true}).Do(); err != nil {
		t.Fatal(err)
	}
	if got, _ := e.File(f.Id); !got.Trashed {
		t.Fatal("trashing the folder left its file outside the trash")
	}
	got, err := alice.Files.Get(f.Id).Fields("trashed,explicitlyTrashed").Do()
	if err != nil || !got.Trashed || got.ExplicitlyTrashed {
		t.Fatalf("the file inside: %v %+v, want trashed but not explicitly", err, got)
	}
	restore := &drive.File{Trashed: false, ForceSendFields: []string{"Trashed"}}
	if _, err := alice.Files.Update(dir.Id, restore).Do(); err != nil {
		t.Fatal(err)
	}
	if got, _ := e.File(f.Id); got.Trashed {
		t.Fatal("restoring the folder left its file in the trash")
	}

	// The strictness can be switched off for tests that need a writer to trash.
	e.SetTrashByWriters(true)
	if _, err := bob.Files.Update(f.Id, &drive.File{Trashed: true}).Do(); err != nil {
		t.Fatalf("with SetTrashByWriters(true): %v", err)
	}
}

// capabilities says what the caller may do with the file.
func TestDrive_CapabilitiesFollowTheCallersRole(t *testing.T) {
	_, srv := start(t, Options{})
	alice := driveFor(t, srv, "alice@example.com", scopeDrive)
	bob := driveFor(t, srv, "bob@example.com", scopeDrive)
	f, _ := alice.Files.Create(&drive.File{Name: "x.txt"}).Media(strings.NewReader("x")).Do()
	if _, err := alice.Permissions.Create(f.Id, &drive.Permission{Type: "user", Role: "reader", EmailAddress: "bob@example.com"}).Do(); err != nil {
		t.Fatal(err)
	}
	own, err := alice.Files.Get(f.Id).Fields("capabilities").Do()
	if err != nil || own.Capabilities == nil || !own.Capabilities.CanEdit || !own.Capabilities.CanShare || !own.Capabilities.CanTrash || !own.Capabilities.CanDelete {
		t.Fatalf("owner's capabilities: %v %+v", err, own.Capabilities)
	}
	read, err := bob.Files.Get(f.Id).Fields("capabilities").Do()
	if err != nil || read.Capabilities.CanEdit || read.Capabilities.CanTrash || !read.Capabilities.CanDownload || !read.Capabilities.CanCopy {
		t.Fatalf("reader's capabilities: %v %+v", err, read.Capabilities)
	}
}
