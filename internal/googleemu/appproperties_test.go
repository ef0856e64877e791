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
	_, srv := start(t, Options{})
	svc := driveFor(t, srv, "alice@example.com")
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
