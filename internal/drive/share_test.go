package drive

import (
	"errors"
	"testing"

	"github.com/drivemcp/drivemcp/internal/googleemu"
)

func TestShare_EachPairOnItsOwn(t *testing.T) {
	d := newDrive(t)
	a := d.put(t, "a.txt", "text/plain", "", []byte("a"))
	b := d.put(t, "b.txt", "text/plain", "", []byte("b"))
	results := d.files.Share(t.Context(), []string{a.ID, "no-such-file", b.ID},
		[]string{"bob@example.com", "not an email", "carol@example.org"}, RoleCommenter, true, "Have a look")
	if len(results) != 9 {
		t.Fatalf("%d results, want 3 files × 3 emails", len(results))
	}
	for _, r := range results {
		switch {
		case r.FileID == "no-such-file":
			if !errors.Is(r.Err, ErrNotFound) {
				t.Errorf("%s/%s: %v, want ErrNotFound", r.FileID, r.Email, r.Err)
			}
		case r.Email == "not an email":
			if !errors.Is(r.Err, ErrInvalidArgument) {
				t.Errorf("%s/%s: %v, want ErrInvalidArgument", r.FileID, r.Email, r.Err)
			}
		default:
			if r.Err != nil || r.PermissionID == "" || r.File.Name == "" || r.Role != RoleCommenter {
				t.Errorf("%s/%s: %+v", r.FileID, r.Email, r)
			}
		}
	}
	notes := d.emu.Notifications()
	if len(notes) != 4 {
		t.Fatalf("%d notifications, want 4: %+v", len(notes), notes)
	}
	for _, n := range notes {
		if n.Message != "Have a look" || n.Role != "commenter" {
			t.Errorf("notification %+v", n)
		}
	}
	if !hasPermission(d.emu.Permissions(b.ID), "user", "carol@example.org", "commenter") {
		t.Fatalf("b.txt permissions: %+v", d.emu.Permissions(b.ID))
	}
}

func TestShare_WithoutNotification(t *testing.T) {
	d := newDrive(t)
	a := d.put(t, "a.txt", "text/plain", "", []byte("a"))
	r := d.files.Share(t.Context(), []string{a.ID}, []string{"bob@example.com"}, RoleReader, false, "ignored")
	if r[0].Err != nil || len(d.emu.Notifications()) != 0 {
		t.Fatalf("share = %+v, notifications %v", r, d.emu.Notifications())
	}
}

func TestCheckEmail(t *testing.T) {
	for _, ok := range []string{"bob@example.com", "a.b+c@sub.example.co.uk"} {
		if err := CheckEmail(ok); err != nil {
			t.Errorf("CheckEmail(%q) = %v", ok, err)
		}
	}
	for _, bad := range []string{"", "bob", "bob@", "@example.com", "Bob <bob@example.com>", "bob@localhost", "bob@example.com.", "a b@example.com"} {
		if err := CheckEmail(bad); !errors.Is(err, ErrInvalidArgument) {
			t.Errorf("CheckEmail(%q) = %v, want ErrInvalidArgument", bad, err)
		}
	}
}

func TestSetPublic_OpensAndClosesTheLink(t *testing.T) {
	d := newDrive(t)
	a := d.put(t, "a.txt", "text/plain", "", []byte("a"))
	d.files.Share(t.Context(), []string{a.ID}, []string{"bob@example.com"}, RoleReader, false, "")

	results := d.files.SetPublic(t.Context(), []string{a.ID, "missing"}, true, RoleReader)
	if len(results) != 2 || results[0].Err != nil || !results[0].Public || results[0].File.WebViewLink == "" {
		t.Fatalf("SetPublic = %+v", results)
	}
	if !errors.Is(results[1].Err, ErrNotFound) || results[1].Public {
		t.Fatalf("missing file: %+v", results[1])
	}
	if !hasPermission(d.emu.Permissions(a.ID), "anyone", "", "reader") {
		t.Fatalf("permissions after SetPublic: %+v", d.emu.Permissions(a.ID))
	}
	for _, p := range d.emu.Permissions(a.ID) {
		if p.AllowFileDiscovery {
			t.Fatalf("the link is discoverable: %+v", p)
		}
	}

	results = d.files.SetPublic(t.Context(), []string{a.ID}, false, "")
	if results[0].Err != nil || results[0].Public {
		t.Fatalf("SetPublic(false) = %+v", results)
	}
	perms := d.emu.Permissions(a.ID)
	if hasPermission(perms, "anyone", "", "reader") || !hasPermission(perms, "user", "bob@example.com", "reader") {
		t.Fatalf("after closing the link: %+v; want bob's share kept", perms)
	}
}

func hasPermission(perms []googleemu.Permission, typ, email, role string) bool {
	for _, p := range perms {
		if p.Type == typ && p.Email == email && p.Role == role {
			return true
		}
	}
	return false
}
