package googleemu

import (
	"strings"
	"testing"

	"google.golang.org/api/drive/v3"
)

// Drive's "Search query terms" finds a file by one of its app properties,
// and "Add custom file properties" keeps them private to the app that set
// them: an uploader that tags its uploads can find an upload whose answer
// it never heard, and nobody else's tags get in the way.
func TestDrive_AppPropertiesFindTheTaggedFileForItsOwnAppOnly(t *testing.T) {
	_, srv := start(t, Options{Clients: map[string]string{DemoClientID: DemoClientSecret, "other-app": "other-secret"}})
	svc := driveFor(t, srv, "alice@example.com", "openid", "email", scopeDrive)
	tagged, err := svc.Files.Create(&drive.File{Name: "a.txt", AppProperties: map[string]string{"drivemcpUpload": "t1"}}).
		Media(strings.NewReader("hello")).Fields("id,appProperties").Do()
	if err != nil {
		t.Fatal(err)
	}
	if tagged.AppProperties["drivemcpUpload"] != "t1" {
		t.Fatalf("appProperties came back as %v", tagged.AppProperties)
	}
	if _, err := svc.Files.Create(&drive.File{Name: "b.txt", AppProperties: map[string]string{"drivemcpUpload": "t2"}}).Do(); err != nil {
		t.Fatal(err)
	}
	list, err := svc.Files.List().Q(`appProperties has { key='drivemcpUpload' and value='t1' } and trashed = false`).Fields("files(id)").Do()
	if err != nil {
		t.Fatal(err)
	}
	if len(list.Files) != 1 || list.Files[0].Id != tagged.Id {
		t.Fatalf("the query found %v, want only %s", list.Files, tagged.Id)
	}
	// Another app of the same user sees the file (drive scope) but
	// neither the tag nor a match on it.
	cfg := oauthConfig(srv.URL, "openid", "email", scopeDrive)
	cfg.ClientID, cfg.ClientSecret = "other-app", "other-secret"
	tok := login(t, cfg, "alice@example.com")
	other, err := drive.NewService(t.Context(), optionsFor(srv.URL, cfg.Client(t.Context(), tok))...)
	if err != nil {
		t.Fatal(err)
	}
	seen, err := other.Files.Get(tagged.Id).Fields("id,appProperties").Do()
	if err != nil {
		t.Fatal(err)
	}
	if len(seen.AppProperties) != 0 {
		t.Fatalf("another app sees appProperties %v", seen.AppProperties)
	}
	if list, err := other.Files.List().Q(`appProperties has { key='drivemcpUpload' and value='t1' }`).Fields("files(id)").Do(); err != nil || len(list.Files) != 0 {
		t.Fatalf("another app's query found %v (%v), want nothing", list, err)
	}
	for _, bad := range []string{
		`appProperties = 'x'`,
		`appProperties has { key='k' }`,
		`appProperties has { key='k' and value='v'`,
	} {
		if _, err := svc.Files.List().Q(bad).Do(); err == nil {
			t.Errorf("query %q was accepted; Drive refuses it", bad)
		}
	}
}
