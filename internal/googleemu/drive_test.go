package googleemu

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"google.golang.org/api/drive/v3"
	"google.golang.org/api/googleapi"
)

func apiCode(t *testing.T, err error) int {
	t.Helper()
	var ge *googleapi.Error
	if !errors.As(err, &ge) {
		t.Fatalf("error %v is not a *googleapi.Error", err)
	}
	return ge.Code
}

func md5hex(b []byte) string {
	s := md5.Sum(b)
	return hex.EncodeToString(s[:])
}

// payload returns n deterministic, non-repeating-looking bytes.
func payload(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + i/251)
	}
	return b
}

const fullFileFields = "id,name,mimeType,parents,size,md5Checksum,webViewLink,trashed,owners,permissionIds,createdTime,modifiedTime"

func TestDrive_CreateMultipartAndDownload(t *testing.T) {
	e, srv := start(t, Options{})
	svc := driveFor(t, srv, "alice@example.com")
	content := []byte("hello, drive\n")

	f, err := svc.Files.Create(&drive.File{Name: "hello.txt"}).
		Media(bytes.NewReader(content), googleapi.ContentType("text/plain")).
		Fields(fullFileFields).Do()
	if err != nil {
		t.Fatal(err)
	}
	if f.Name != "hello.txt" || f.MimeType != "text/plain" || f.Size != int64(len(content)) || f.Md5Checksum != md5hex(content) {
		t.Fatalf("created %+v", f)
	}
	if f.WebViewLink != "https://drive.google.com/file/d/"+f.Id+"/view" || len(f.Owners) != 1 || f.Owners[0].EmailAddress != "alice@example.com" {
		t.Errorf("links/owners: %q %+v", f.WebViewLink, f.Owners)
	}
	if len(f.Parents) != 1 || f.Parents[0] != e.RootFolderID("alice@example.com") {
		t.Errorf("parents = %v, want the root folder", f.Parents)
	}
	if got := e.Stats().UploadBytesReceived; got < int64(len(content)) {
		t.Errorf("UploadBytesReceived = %d", got)
	}

	resp, err := svc.Files.Get(f.Id).Download()
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !bytes.Equal(got, content) {
		t.Fatalf("downloaded %q", got)
	}

	// Ranges are honoured.
	call := svc.Files.Get(f.Id)
	call.Header().Set("Range", "bytes=7-11")
	resp, err = call.Download()
	if err != nil {
		t.Fatal(err)
	}
	got, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusPartialContent || string(got) != "drive" {
		t.Fatalf("range download: %d %q", resp.StatusCode, got)
	}

	// Without fields, Drive answers with its short default.
	short, err := svc.Files.Get(f.Id).Do()
	if err != nil {
		t.Fatal(err)
	}
	if short.Id != f.Id || short.Name != "hello.txt" || short.Md5Checksum != "" || short.Size != 0 {
		t.Errorf("default fields returned %+v", short)
	}
}

func TestDrive_ResumableUploadWithSmallChunks(t *testing.T) {
	for _, size := range []int{1 << 20, 1<<20 + 12345} { // exact multiple ends with `bytes */N`
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			e, srv := start(t, Options{})
			svc := driveFor(t, srv, "alice@example.com")
			content := payload(size)
			var progress []int64
			f, err := svc.Files.Create(&drive.File{Name: "big.bin"}).
				Media(bytes.NewReader(content), googleapi.ChunkSize(256*1024), googleapi.ContentType("application/octet-stream")).
				ProgressUpdater(func(cur, _ int64) { progress = append(progress, cur) }).
				Fields("id,size,md5Checksum").Do()
			if err != nil {
				t.Fatal(err)
			}
			if f.Size != int64(size) || f.Md5Checksum != md5hex(content) {
				t.Fatalf("size %d md5 %s, want %d %s", f.Size, f.Md5Checksum, size, md5hex(content))
			}
			if len(progress) < 4 {
				t.Errorf("progress callbacks %v: the upload was not chunked", progress)
			}
			rc, err := e.OpenContent(f.Id)
			if err != nil {
				t.Fatal(err)
			}
			stored, _ := io.ReadAll(rc)
			rc.Close()
			if !bytes.Equal(stored, content) {
				t.Fatal("stored bytes differ")
			}
		})
	}
}

func TestDrive_FoldersListPagingAndQueries(t *testing.T) {
	_, srv := start(t, Options{})
	svc := driveFor(t, srv, "alice@example.com")
	folder, err := svc.Files.Create(&drive.File{Name: "Reports", MimeType: mimeFolder}).Fields("id,mimeType,webViewLink").Do()
	if err != nil {
		t.Fatal(err)
	}
	if folder.WebViewLink != "https://drive.google.com/drive/folders/"+folder.Id {
		t.Errorf("folder link %q", folder.WebViewLink)
	}
	for i := range 7 {
		_, err := svc.Files.Create(&drive.File{Name: fmt.Sprintf("report %d.txt", i), Parents: []string{folder.Id}}).
			Media(strings.NewReader("q"), googleapi.ContentType("text/plain")).Do()
		if err != nil {
			t.Fatal(err)
		}
	}
	if _, err := svc.Files.Create(&drive.File{Name: "Bob's notes.txt"}).Media(strings.NewReader("x")).Do(); err != nil {
		t.Fatal(err)
	}

	q := fmt.Sprintf("'%s' in parents and trashed = false and mimeType != '%s'", folder.Id, mimeFolder)
	var names []string
	pages := 0
	err = svc.Files.List().Q(q).PageSize(3).OrderBy("name desc").Fields("nextPageToken,files(id,name)").
		Pages(t.Context(), func(l *drive.FileList) error {
			pages++
			for _, f := range l.Files {
				names = append(names, f.Name)
			}
			return nil
		})
	if err != nil {
		t.Fatal(err)
	}
	if pages != 3 || len(names) != 7 || names[0] != "report 6.txt" || names[6] != "report 0.txt" {
		t.Fatalf("%d pages: %v", pages, names)
	}

	l, err := svc.Files.List().Q(`name = 'Bob\'s notes.txt'`).Do()
	if err != nil {
		t.Fatal(err)
	}
	if len(l.Files) != 1 || l.Files[0].Name != "Bob's notes.txt" {
		t.Fatalf("escaped name query: %+v", l.Files)
	}
	l, err = svc.Files.List().Q("'root' in parents").OrderBy("folder,name").Do()
	if err != nil {
		t.Fatal(err)
	}
	if len(l.Files) != 2 || l.Files[0].Id != folder.Id {
		t.Fatalf("root listing: %+v", l.Files)
	}

	l, err = svc.Files.List().Q("fullText contains 'q'").Do()
	if err != nil || len(l.Files) != 7 {
		t.Fatalf("fullText over content: %v %d files", err, len(l.Files))
	}

	_, err = svc.Files.List().Q("name = unquoted").Do()
	if code := apiCode(t, err); code != 400 {
		t.Fatalf("bad q: %d", code)
	}
}

func TestDrive_UpdateMoveRenameTrashDelete(t *testing.T) {
	e, srv := start(t, Options{})
	svc := driveFor(t, srv, "alice@example.com")
	a, _ := svc.Files.Create(&drive.File{Name: "A", MimeType: mimeFolder}).Do()
	b, _ := svc.Files.Create(&drive.File{Name: "B", MimeType: mimeFolder}).Do()
	f, err := svc.Files.Create(&drive.File{Name: "doc.txt", Parents: []string{a.Id}}).Media(strings.NewReader("x")).Do()
	if err != nil {
		t.Fatal(err)
	}
	moved, err := svc.Files.Update(f.Id, &drive.File{Name: "renamed.txt"}).AddParents(b.Id).RemoveParents(a.Id).Fields("name,parents").Do()
	if err != nil {
		t.Fatal(err)
	}
	if moved.Name != "renamed.txt" || len(moved.Parents) != 1 || moved.Parents[0] != b.Id {
		t.Fatalf("after move: %+v", moved)
	}
	// Drive allows one parent only.
	_, err = svc.Files.Update(f.Id, &drive.File{}).AddParents(a.Id).Do()
	if code := apiCode(t, err); code != 403 {
		t.Fatalf("second parent: %d, want 403", code)
	}
	// A folder cannot go inside itself.
	_, err = svc.Files.Update(a.Id, &drive.File{}).AddParents(a.Id).RemoveParents("root").Do()
	if code := apiCode(t, err); code != 400 {
		t.Fatalf("cycle: %d, want 400", code)
	}
	if _, err := svc.Files.Update(f.Id, &drive.File{Trashed: true}).Do(); err != nil {
		t.Fatal(err)
	}
	if got, _ := e.File(f.Id); !got.Trashed {
		t.Fatal("not trashed")
	}
	l, _ := svc.Files.List().Q("trashed = true").Do()
	if len(l.Files) != 1 {
		t.Fatalf("trashed listing: %+v", l.Files)
	}

	if err := svc.Files.Delete(b.Id).Do(); err != nil {
		t.Fatal(err)
	}
	if _, ok := e.File(f.Id); ok {
		t.Fatal("deleting a folder left its child")
	}
	_, err = svc.Files.Get(b.Id).Do()
	if code := apiCode(t, err); code != 404 {
		t.Fatalf("get after delete: %d", code)
	}
	var ge *googleapi.Error
	errors.As(err, &ge)
	if ge.Message != "File not found: "+b.Id+"." || len(ge.Errors) != 1 || ge.Errors[0].Reason != "notFound" {
		t.Errorf("404 error = %+v", ge)
	}
}

func TestDrive_VisibilityBetweenUsersAndPermissions(t *testing.T) {
	e, srv := start(t, Options{})
	alice := driveFor(t, srv, "alice@example.com")
	bob := driveFor(t, srv, "bob@example.com")
	f, _ := alice.Files.Create(&drive.File{Name: "secret.txt"}).Media(strings.NewReader("s")).Do()

	_, err := bob.Files.Get(f.Id).Do()
	if code := apiCode(t, err); code != 404 {
		t.Fatalf("bob sees alice's file: %d", code)
	}
	p, err := alice.Permissions.Create(f.Id, &drive.Permission{Type: "user", Role: "reader", EmailAddress: "Bob@example.com"}).
		EmailMessage("have a look").Do()
	if err != nil {
		t.Fatal(err)
	}
	if p.Id == "" || p.Role != "reader" || p.Type != "user" {
		t.Fatalf("permission %+v", p)
	}
	if n := e.Notifications(); len(n) != 1 || n[0].To != "bob@example.com" || n[0].Message != "have a look" {
		t.Errorf("notifications %+v", n)
	}
	if _, err := bob.Files.Get(f.Id).Do(); err != nil {
		t.Fatalf("bob after sharing: %v", err)
	}
	l, _ := bob.Files.List().Q("sharedWithMe = true").Do()
	if len(l.Files) != 1 {
		t.Fatalf("sharedWithMe: %+v", l.Files)
	}
	_, err = bob.Files.Update(f.Id, &drive.File{Name: "mine"}).Do()
	if code := apiCode(t, err); code != 403 {
		t.Fatalf("reader renamed: %d", code)
	}

	_, err = alice.Permissions.Create(f.Id, &drive.Permission{Type: "user", Role: "reader", EmailAddress: "not an email"}).Do()
	if code := apiCode(t, err); code != 400 {
		t.Fatalf("invalid email: %d", code)
	}
	anyone, err := alice.Permissions.Create(f.Id, &drive.Permission{Type: "anyone", Role: "reader"}).Do()
	if err != nil {
		t.Fatal(err)
	}
	perms, err := alice.Permissions.List(f.Id).Fields("permissions(id,type,role,emailAddress)").Do()
	if err != nil || len(perms.Permissions) != 3 {
		t.Fatalf("list permissions: %v %+v", err, perms)
	}
	got, err := alice.Permissions.Get(f.Id, anyone.Id).Fields("id,type,allowFileDiscovery").Do()
	if err != nil || got.Type != "anyone" {
		t.Fatalf("get permission: %v %+v", err, got)
	}
	if err := alice.Permissions.Delete(f.Id, anyone.Id).Do(); err != nil {
		t.Fatal(err)
	}
	if err := alice.Permissions.Delete(f.Id, p.Id).Do(); err != nil {
		t.Fatal(err)
	}
	_, err = bob.Files.Get(f.Id).Do()
	if code := apiCode(t, err); code != 404 {
		t.Fatalf("bob after unsharing: %d", code)
	}

	// Ownership moves only when asked for explicitly.
	_, err = alice.Permissions.Create(f.Id, &drive.Permission{Type: "user", Role: "owner", EmailAddress: "bob@example.com"}).Do()
	if code := apiCode(t, err); code != 403 {
		t.Fatalf("owner without transferOwnership: %d", code)
	}
	if _, err := alice.Permissions.Create(f.Id, &drive.Permission{Type: "user", Role: "owner", EmailAddress: "bob@example.com"}).
		TransferOwnership(true).Do(); err != nil {
		t.Fatal(err)
	}
	if snap, _ := e.File(f.Id); snap.Owner != "bob@example.com" {
		t.Fatalf("owner after transfer: %s", snap.Owner)
	}
	if err := alice.Files.Delete(f.Id).Do(); apiCode(t, err) != 403 {
		t.Fatal("the previous owner could delete")
	}
}

func TestDrive_ScopesLimitAccess(t *testing.T) {
	_, srv := start(t, Options{Clients: map[string]string{DemoClientID: DemoClientSecret, "other-client": "other-secret"}})
	app := driveFor(t, srv, "alice@example.com", scopeDriveFile)
	f, _ := app.Files.Create(&drive.File{Name: "by-app.txt"}).Media(strings.NewReader("a")).Do()

	// Another client with drive.file does not see the first client's files.
	cfg := oauthConfig(srv.URL, scopeDriveFile)
	cfg.ClientID, cfg.ClientSecret = "other-client", "other-secret"
	tok := login(t, cfg, "alice@example.com")
	other, _ := drive.NewService(t.Context(), optionsFor(srv.URL, cfg.Client(t.Context(), tok))...)
	_, err := other.Files.Get(f.Id).Do()
	if code := apiCode(t, err); code != 404 {
		t.Fatalf("other drive.file client: %d, want 404", code)
	}

	ro := driveFor(t, srv, "alice@example.com", scopeDriveReadonly)
	if _, err := ro.Files.Get(f.Id).Do(); err != nil {
		t.Fatalf("drive.readonly get: %v", err)
	}
	_, err = ro.Files.Create(&drive.File{Name: "x", MimeType: mimeFolder}).Do()
	if code := apiCode(t, err); code != 403 {
		t.Fatalf("drive.readonly write: %d, want 403", code)
	}
	var ge *googleapi.Error
	errors.As(err, &ge)
	if ge.Errors[0].Reason != "insufficientPermissions" {
		t.Errorf("reason %q", ge.Errors[0].Reason)
	}
}

func TestDrive_ExportAndAbout(t *testing.T) {
	_, srv := start(t, Options{})
	svc := driveFor(t, srv, "alice.smith@example.com")
	doc, err := svc.Files.Create(&drive.File{Name: "Notes", MimeType: mimeDocument}).
		Media(strings.NewReader("Meeting notes"), googleapi.ContentType("text/plain")).Fields("id,mimeType,webViewLink,md5Checksum").Do()
	if err != nil {
		t.Fatal(err)
	}
	if doc.MimeType != mimeDocument || doc.Md5Checksum != "" || !strings.HasPrefix(doc.WebViewLink, "https://docs.google.com/document/d/") {
		t.Fatalf("doc %+v", doc)
	}
	resp, err := svc.Files.Export(doc.Id, "text/plain").Download()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != "Meeting notes" {
		t.Fatalf("export %q", b)
	}
	_, err = svc.Files.Get(doc.Id).Download()
	if code := apiCode(t, err); code != 403 {
		t.Fatalf("alt=media on a Doc: %d", code)
	}
	bin, _ := svc.Files.Create(&drive.File{Name: "x.bin"}).Media(strings.NewReader("12345")).Do()
	_, err = svc.Files.Export(bin.Id, "text/plain").Download()
	var ge *googleapi.Error
	if !errors.As(err, &ge) || ge.Code != 403 || ge.Errors[0].Reason != "fileNotExportable" {
		t.Fatalf("export binary: %v", err)
	}

	about, err := svc.About.Get().Fields("user,storageQuota").Do()
	if err != nil {
		t.Fatal(err)
	}
	if about.User.EmailAddress != "alice.smith@example.com" || about.User.DisplayName != "Alice Smith" ||
		about.StorageQuota.Usage != int64(len("Meeting notes")+5) || about.StorageQuota.Limit == 0 {
		t.Fatalf("about %+v %+v", about.User, about.StorageQuota)
	}
	_, err = svc.About.Get().Do()
	if code := apiCode(t, err); code != 400 {
		t.Fatalf("about without fields: %d, want 400", code)
	}
}

func TestDrive_UnauthenticatedIsGoogleStyle401(t *testing.T) {
	_, srv := start(t, Options{})
	req, _ := http.NewRequest("GET", srv.URL+"/drive/v3/files", nil)
	req.Header.Set("Authorization", "Bearer ya29.bogus")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	err = googleapi.CheckResponse(&http.Response{StatusCode: resp.StatusCode, Body: io.NopCloser(bytes.NewReader(body)), Header: resp.Header})
	var ge *googleapi.Error
	if !errors.As(err, &ge) || ge.Code != 401 || ge.Errors[0].Reason != "authError" ||
		!strings.Contains(string(body), `"UNAUTHENTICATED"`) || resp.Header.Get("WWW-Authenticate") == "" {
		t.Fatalf("401 = %s %v", body, resp.Header)
	}
}

func TestDrive_UpdateContentResumable(t *testing.T) {
	e, srv := start(t, Options{})
	svc := driveFor(t, srv, "alice@example.com")
	f, _ := svc.Files.Create(&drive.File{Name: "v.bin"}).Media(strings.NewReader("v1")).Do()
	content := payload(600 * 1024)
	got, err := svc.Files.Update(f.Id, &drive.File{}).Media(bytes.NewReader(content), googleapi.ChunkSize(256*1024)).
		Fields("md5Checksum,size").Do()
	if err != nil {
		t.Fatal(err)
	}
	if got.Md5Checksum != md5hex(content) || got.Size != int64(len(content)) {
		t.Fatalf("after update %+v", got)
	}
	if snap, _ := e.File(f.Id); snap.MD5 != md5hex(content) {
		t.Fatalf("File() md5 %s", snap.MD5)
	}
}

// drive.file reaches only the files its client created, as at Google: a
// file the person made in Drive is "not found" to a drive.file token, and
// a token that adds drive.readonly may read it but still not change it.
func TestDrive_DriveFileReachesOnlyTheAppsFiles(t *testing.T) {
	e, srv := start(t, Options{})
	secret := e.SeedFile("olga@example.com", "diary.txt", "dear diary")
	fileOnly := driveFor(t, srv, "olga@example.com", scopeDriveFile)
	_, err := fileOnly.Files.Get(secret).Do()
	var ge *googleapi.Error
	if !errors.As(err, &ge) || ge.Code != 404 || ge.Message != "File not found: "+secret+"." {
		t.Fatalf("drive.file get of a file no app created: %v; want 404 File not found", err)
	}
	both := driveFor(t, srv, "olga@example.com", scopeDriveFile, scopeDriveReadonly)
	if _, err := both.Files.Get(secret).Do(); err != nil {
		t.Fatalf("drive.readonly read: %v", err)
	}
	_, err = both.Permissions.Create(secret, &drive.Permission{Type: "anyone", Role: "reader"}).Do()
	if !errors.As(err, &ge) || ge.Code != 403 {
		t.Fatalf("drive.file + drive.readonly sharing a file no app created: %v; want 403", err)
	}
	if len(e.Permissions(secret)) != 1 {
		t.Fatal("the file was shared")
	}
}
