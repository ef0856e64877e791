package googleemu

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"google.golang.org/api/drive/v3"
	"google.golang.org/api/googleapi"
)

func googleErr(err error) (int, string) {
	var g *googleapi.Error
	if !errors.As(err, &g) {
		return 0, ""
	}
	reason := ""
	if len(g.Errors) > 0 {
		reason = g.Errors[0].Reason
	}
	return g.Code, reason
}

// A request that does not say supportsAllDrives=true meets Drive's
// "not found" for items in a shared drive, and files.list's shared-drive
// parameters are held to Drive's rules.
func TestSharedDrives_ItemsOnlyForRequestsThatSupportAllDrives(t *testing.T) {
	e, srv := start(t, Options{})
	alice := driveFor(t, srv, "alice@example.com", scopeDrive)
	id := e.AddSharedDrive("Team", map[string]string{"alice@example.com": "organizer"})

	f, err := alice.Files.Create(&drive.File{Name: "plan.txt", Parents: []string{id}}).SupportsAllDrives(true).
		Media(strings.NewReader("plan")).Fields("id,driveId,owners").Do()
	if err != nil {
		t.Fatal(err)
	}
	if f.DriveId != id || len(f.Owners) != 0 {
		t.Errorf("a file in a shared drive: driveId %q owners %v; want %q and none", f.DriveId, f.Owners, id)
	}
	if _, err := alice.Files.Get(f.Id).Do(); err == nil {
		t.Error("files.get without supportsAllDrives found a shared-drive item")
	} else if code, _ := googleErr(err); code != http.StatusNotFound {
		t.Errorf("files.get without supportsAllDrives: %v, want 404", err)
	}
	if _, err := alice.Files.Get(f.Id).SupportsAllDrives(true).Do(); err != nil {
		t.Errorf("files.get with supportsAllDrives: %v", err)
	}
	list, err := alice.Files.List().Do()
	if err != nil || len(list.Files) != 0 {
		t.Errorf("files.list without includeItemsFromAllDrives: %v %v, want nothing", list, err)
	}
	list, err = alice.Files.List().Corpora("drive").DriveId(id).SupportsAllDrives(true).IncludeItemsFromAllDrives(true).Do()
	if err != nil || len(list.Files) != 1 || list.Files[0].Id != f.Id {
		t.Errorf("files.list corpora=drive: %v %v, want plan.txt", list, err)
	}
	for name, call := range map[string]*drive.FilesListCall{
		"driveId without corpora=drive":          alice.Files.List().DriveId(id).SupportsAllDrives(true).IncludeItemsFromAllDrives(true),
		"corpora=drive without driveId":          alice.Files.List().Corpora("drive").SupportsAllDrives(true).IncludeItemsFromAllDrives(true),
		"corpora=allDrives without include":      alice.Files.List().Corpora("allDrives").SupportsAllDrives(true),
		"corpora=drive of a drive one is not in": alice.Files.List().Corpora("drive").DriveId("0Anone").SupportsAllDrives(true).IncludeItemsFromAllDrives(true),
	} {
		if _, err := call.Do(); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	bob := driveFor(t, srv, "bob@example.com", scopeDrive)
	if _, err := bob.Files.Get(f.Id).SupportsAllDrives(true).Do(); err == nil {
		t.Error("someone who is not a member of the shared drive read its file")
	}
	drives, err := alice.Drives.List().Do()
	if err != nil || len(drives.Drives) != 1 || drives.Drives[0].Name != "Team" {
		t.Errorf("drives.list: %v %v", drives, err)
	}
	if d, err := bob.Drives.List().Do(); err != nil || len(d.Drives) != 0 {
		t.Errorf("drives.list of a non-member: %v %v", d, err)
	}
	narrow := driveFor(t, srv, "alice@example.com", scopeDriveFile)
	if _, err := narrow.Drives.List().Do(); err == nil {
		t.Error("drives.list with drive.file: accepted; Drive gives it only drive and drive.readonly")
	}
}

// permissions.update changes the role and expiration time; expiration
// times follow the Permission resource's three restrictions, and an expired
// permission grants nothing and is no longer listed.
func TestPermissions_UpdateAndExpirationAsDriveRestrictsThem(t *testing.T) {
	e, srv := start(t, Options{})
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	e.SetClock(func() time.Time { return now })
	alice := driveFor(t, srv, "alice@example.com", scopeDrive)
	bob := driveFor(t, srv, "bob@example.com", scopeDrive)
	f, err := alice.Files.Create(&drive.File{Name: "a.txt"}).Media(strings.NewReader("a")).Do()
	if err != nil {
		t.Fatal(err)
	}
	p, err := alice.Permissions.Create(f.Id, &drive.Permission{Type: "user", Role: "reader", EmailAddress: "bob@example.com"}).SendNotificationEmail(false).Do()
	if err != nil {
		t.Fatal(err)
	}
	link, err := alice.Permissions.Create(f.Id, &drive.Permission{Type: "anyone", Role: "reader"}).Do()
	if err != nil {
		t.Fatal(err)
	}
	in := func(d time.Duration) string { return now.Add(d).Format(time.RFC3339) }
	for _, c := range []struct {
		name, perm, expires string
		reason              string
	}{
		{"in the past", p.Id, in(-time.Hour), "expirationDatesMustBeInTheFuture"},
		{"over a year ahead", p.Id, in(367 * 24 * time.Hour), "expirationDateTooFarInFuture"},
		{"on a link", link.Id, in(time.Hour), "cannotSetExpirationOnAnyoneOrDomain"},
	} {
		_, err := alice.Permissions.Update(f.Id, c.perm, &drive.Permission{ExpirationTime: c.expires}).Do()
		if _, reason := googleErr(err); reason != c.reason {
			t.Errorf("expiration %s: %v, want reason %s", c.name, err, c.reason)
		}
	}
	up, err := alice.Permissions.Update(f.Id, p.Id, &drive.Permission{Role: "writer", ExpirationTime: in(30 * time.Minute)}).Fields("id,role,expirationTime").Do()
	if err != nil || up.Role != "writer" || up.ExpirationTime != "2026-06-01T12:30:00.000Z" {
		t.Fatalf("update: %+v %v", up, err)
	}
	if _, err := alice.Permissions.Update(f.Id, p.Id, &drive.Permission{EmailAddress: "eve@example.com"}).Do(); err == nil {
		t.Error("update changed the grantee")
	}
	if err := alice.Permissions.Delete(f.Id, link.Id).Do(); err != nil {
		t.Fatal(err)
	}
	if _, err := bob.Files.Get(f.Id).Do(); err != nil {
		t.Fatalf("bob before expiry: %v", err)
	}
	now = now.Add(45 * time.Minute) // within the access token's hour
	if _, err := bob.Files.Get(f.Id).Do(); err == nil {
		t.Error("bob still reads the file after his permission expired")
	}
	list, err := alice.Permissions.List(f.Id).Do()
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range list.Permissions {
		if q.Id == p.Id {
			t.Error("an expired permission is still listed")
		}
	}
}

// The strict shared-drive and expiration rules can be switched off by tests
// that want the older, friendlier emulator.
func TestSharedDrivesAndExpirations_LenientOptionsSwitchTheRulesOff(t *testing.T) {
	e, srv := start(t, Options{LenientSharedDrives: true, LenientExpirations: true})
	alice := driveFor(t, srv, "alice@example.com", scopeDrive)
	id := e.AddSharedDrive("Team", map[string]string{"alice@example.com": "organizer"})
	f, err := alice.Files.Create(&drive.File{Name: "a.txt", Parents: []string{id}}).SupportsAllDrives(true).Media(strings.NewReader("a")).Do()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := alice.Files.Get(f.Id).Do(); err != nil {
		t.Errorf("lenient: files.get without supportsAllDrives: %v", err)
	}
	if _, err := alice.Files.List().DriveId(id).Do(); err != nil {
		t.Errorf("lenient: driveId without corpora: %v", err)
	}
	mine, err := alice.Files.Create(&drive.File{Name: "b.txt"}).Media(strings.NewReader("b")).Do()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := alice.Permissions.Create(mine.Id, &drive.Permission{Type: "anyone", Role: "reader", ExpirationTime: "2001-01-01T00:00:00Z"}).Do(); err != nil {
		t.Errorf("lenient: an expiration in the past on a link: %v", err)
	}
}
