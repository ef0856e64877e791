package googleemu

import (
	"net/http"
	"strings"
	"testing"

	"google.golang.org/api/drive/v3"
	"google.golang.org/api/googleapi"
)

// The changes feed answers as Drive's discovery document describes
// StartPageToken and ChangeList, lists a file changed after the token once,
// and then nothing from the newStartPageToken it gave.
func TestContract_ChangesFeedMatchesDrivesDiscoverySchema(t *testing.T) {
	d := driveDiscovery(t)
	_, srv := start(t, Options{})
	tok := login(t, oauthConfig(srv.URL), "alice@example.com")
	alice, err := drive.NewService(t.Context(), optionsFor(srv.URL, oauthConfig(srv.URL).Client(t.Context(), tok))...)
	if err != nil {
		t.Fatal(err)
	}
	base := srv.URL + "/drive/v3"
	status, body := getJSON(t, base+"/changes/startPageToken", tok.AccessToken)
	if status != http.StatusOK {
		t.Fatalf("startPageToken: %d %v", status, body)
	}
	for _, p := range d.conform("StartPageToken", body, &schema{Ref: "StartPageToken"}) {
		t.Error(p)
	}
	start, _ := body["startPageToken"].(string)
	f, err := alice.Files.Create(&drive.File{Name: "a.txt"}).Media(strings.NewReader("one"), googleapi.ContentType("text/plain")).Do()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := alice.Files.Update(f.Id, &drive.File{Name: "b.txt"}).Do(); err != nil {
		t.Fatal(err)
	}
	status, body = getJSON(t, base+"/changes?fields=*&pageToken="+start, tok.AccessToken)
	if status != http.StatusOK {
		t.Fatalf("changes.list: %d %v", status, body)
	}
	for _, p := range d.conform("ChangeList", body, &schema{Ref: "ChangeList"}) {
		t.Error(p)
	}
	list, err := alice.Changes.List(start).Do()
	if err != nil {
		t.Fatal(err)
	}
	if len(list.Changes) != 1 || list.Changes[0].FileId != f.Id || list.Changes[0].File.Name != "b.txt" || list.NewStartPageToken == "" {
		t.Fatalf("changes since %s: %+v (want the one file, once, renamed)", start, list)
	}
	again, err := alice.Changes.List(list.NewStartPageToken).Do()
	if err != nil || len(again.Changes) != 0 {
		t.Fatalf("changes since newStartPageToken: %+v, %v (want none)", again, err)
	}
}

// changes.list needs a pageToken it gave out, and shows a caller only the
// files it can see.
func TestChanges_RefusesUnknownTokenAndHidesOthersFiles(t *testing.T) {
	_, srv := start(t, Options{})
	atok := login(t, oauthConfig(srv.URL), "alice@example.com")
	btok := login(t, oauthConfig(srv.URL), "bob@example.com")
	alice, _ := drive.NewService(t.Context(), optionsFor(srv.URL, oauthConfig(srv.URL).Client(t.Context(), atok))...)
	bob, _ := drive.NewService(t.Context(), optionsFor(srv.URL, oauthConfig(srv.URL).Client(t.Context(), btok))...)
	st, err := bob.Changes.GetStartPageToken().Do()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := alice.Files.Create(&drive.File{Name: "private.txt"}).Media(strings.NewReader("x"), googleapi.ContentType("text/plain")).Do(); err != nil {
		t.Fatal(err)
	}
	list, err := bob.Changes.List(st.StartPageToken).Do()
	if err != nil || len(list.Changes) != 0 {
		t.Fatalf("bob sees %+v, %v: want no change to alice's private file", list, err)
	}
	for _, bad := range []string{"", "0", "999999", "x"} {
		status, _ := getJSON(t, srv.URL+"/drive/v3/changes?pageToken="+bad, btok.AccessToken)
		if status != http.StatusBadRequest {
			t.Errorf("pageToken %q: %d, want 400", bad, status)
		}
	}
}
