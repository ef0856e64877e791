package mcpserver

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/drivemcp/drivemcp/internal/e2etest"
	"github.com/drivemcp/drivemcp/internal/google"
)

const bob = "bob@example.com"

// A file's permissions can be listed, a person's role and expiration
// changed, and their access removed, by permission id or by address; the
// owner cannot be removed, and a second removal says there is nothing left.
func TestPermissions_ListUpdateRemoveThroughTheTools(t *testing.T) {
	f := newFixture(t, Deps{})
	file := f.mustCall(t, "create_drive_file", map[string]any{"file_name": "plan.txt", "content": "plan"})
	fileID := file["file_id"].(string)
	f.mustCall(t, "share_drive_files", map[string]any{"file_ids": []string{fileID}, "email_addresses": []string{bob}, "send_notification": false})

	list := f.mustCall(t, "list_drive_permissions", map[string]any{"file_id": fileID})
	perms := list["permissions"].([]any)
	var roles []string
	bobID := ""
	for _, p := range perms {
		p := p.(map[string]any)
		roles = append(roles, p["email_address"].(string)+"="+p["role"].(string))
		if p["email_address"] == bob {
			bobID = p["permission_id"].(string)
		}
	}
	slices.Sort(roles)
	if !slices.Equal(roles, []string{alice + "=owner", bob + "=reader"}) || bobID == "" {
		t.Fatalf("list_drive_permissions: %v", roles)
	}

	expires := time.Now().Add(48 * time.Hour).UTC().Truncate(time.Second)
	up := f.mustCall(t, "update_drive_permission", map[string]any{"file_id": fileID, "email_address": "Bob@Example.com",
		"role": "writer", "expiration_time": expires.Format(time.RFC3339)})
	if up["role"] != "writer" || up["permission_id"] != bobID || up["expiration_time"] != expires.Format(time.RFC3339) {
		t.Errorf("update_drive_permission: %v", up)
	}
	for _, p := range f.google.Permissions(fileID) {
		if p.Email == bob && (p.Role != "writer" || !p.Expiration.Equal(expires)) {
			t.Errorf("Drive keeps bob as %s until %v, want writer until %v", p.Role, p.Expiration, expires)
		}
	}

	res := f.call(t, "remove_drive_permission", map[string]any{"file_id": fileID, "email_address": alice})
	if txt := e2etest.ResultText(res); !res.IsError || !strings.Contains(txt, "owner") {
		t.Errorf("removing the owner: %q (isError %v)", txt, res.IsError)
	}
	f.mustCall(t, "remove_drive_permission", map[string]any{"file_id": fileID, "permission_id": bobID})
	for _, p := range f.google.Permissions(fileID) {
		if p.Email == bob {
			t.Errorf("bob still has %s after remove_drive_permission", p.Role)
		}
	}
	res = f.call(t, "remove_drive_permission", map[string]any{"file_id": fileID, "email_address": bob})
	if txt := e2etest.ResultText(res); !res.IsError || !strings.Contains(txt, "list_drive_permissions") {
		t.Errorf("removing bob twice: %q (isError %v)", txt, res.IsError)
	}
}

// Arguments that can never work are answered with the fix before Google
// is asked anything.
func TestPermissions_BadArgumentsRefusedBeforeGoogle(t *testing.T) {
	f := newFixture(t, Deps{})
	before := f.google.Stats().Requests
	for _, c := range []struct {
		tool string
		args map[string]any
		want string
	}{
		{"list_drive_permissions", map[string]any{"file_id": "a/b"}, "not a Drive id"},
		{"update_drive_permission", map[string]any{"file_id": "f", "role": "writer"}, "Say whose access"},
		{"update_drive_permission", map[string]any{"file_id": "f", "permission_id": "1", "email_address": bob, "role": "writer"}, "not both"},
		{"update_drive_permission", map[string]any{"file_id": "f", "email_address": "bob", "role": "writer"}, "not an email address"},
		{"update_drive_permission", map[string]any{"file_id": "f", "email_address": bob, "role": "owner"}, `role "owner"`},
		{"update_drive_permission", map[string]any{"file_id": "f", "email_address": bob, "role": "reader", "expiration_time": "tomorrow"}, "RFC 3339"},
		{"update_drive_permission", map[string]any{"file_id": "f", "email_address": bob, "role": "reader", "expiration_time": "2001-01-01T00:00:00Z"}, "in the past"},
		{"update_drive_permission", map[string]any{"file_id": "f", "email_address": bob, "role": "reader",
			"expiration_time": time.Now().AddDate(2, 0, 0).Format(time.RFC3339)}, "a year"},
		{"remove_drive_permission", map[string]any{"file_id": "f"}, "Say whose access"},
		{"list_shared_drives", map[string]any{"page_size": 101}, "from 1 to 100"},
		{"list_drive_items", map[string]any{"drive_id": "x y"}, "not a shared drive id"},
	} {
		res := f.call(t, c.tool, c.args)
		txt := e2etest.ResultText(res)
		if !res.IsError || !strings.Contains(txt, c.want) || !strings.HasSuffix(txt, ".") {
			t.Errorf("%s %v:\n got %q (isError %v)\nwant a sentence containing %q", c.tool, c.args, txt, res.IsError, c.want)
		}
	}
	if n := f.google.Stats().Requests - before; n != 0 {
		t.Errorf("bad arguments sent %d requests to Google", n)
	}
}

// Shared drives are listed; list, search and folder paths work inside one
// (drive_id + folder_path), and what is made there belongs to the drive.
func TestSharedDrives_ListSearchAndFolderPathsInsideOne(t *testing.T) {
	f := newFixture(t, Deps{}, google.ScopeDrive)
	team := f.google.AddSharedDrive("Team", map[string]string{alice: "organizer"})
	f.google.AddSharedDrive("Not mine", map[string]string{bob: "organizer"})

	drives := f.mustCall(t, "list_shared_drives", nil)["shared_drives"].([]any)
	if len(drives) != 1 || drives[0].(map[string]any)["id"] != team || drives[0].(map[string]any)["name"] != "Team" {
		t.Fatalf("list_shared_drives: %v", drives)
	}
	folder := f.mustCall(t, "create_drive_folder", map[string]any{"drive_id": team, "folder_path": "Reports/2026"})
	again := f.mustCall(t, "create_drive_folder", map[string]any{"drive_id": team, "folder_path": "Reports/2026"})
	if again["folder_id"] != folder["folder_id"] || again["created"] != false {
		t.Errorf("the same path twice: %v then %v", folder, again)
	}
	file := f.mustCall(t, "create_drive_file", map[string]any{"file_name": "q1.txt", "content": "quarterly numbers",
		"drive_id": team, "folder_path": "Reports/2026"})
	got, _ := f.google.File(file["file_id"].(string))
	if got.DriveID != team || !slices.Equal(got.Parents, []string{folder["folder_id"].(string)}) {
		t.Errorf("file in drive %q under %v, want drive %s under %s", got.DriveID, got.Parents, team, folder["folder_id"])
	}
	top := f.mustCall(t, "list_drive_items", map[string]any{"drive_id": team})["items"].([]any)
	if len(top) != 1 || top[0].(map[string]any)["name"] != "Reports" {
		t.Errorf("list_drive_items drive_id: %v", top)
	}
	hits := f.mustCall(t, "search_drive_files", map[string]any{"query": "q1", "drive_id": team})["items"].([]any)
	if len(hits) != 1 || hits[0].(map[string]any)["id"] != file["file_id"] {
		t.Errorf("search in the shared drive: %v", hits)
	}
	// Reading and sharing a shared-drive item work too: every call says supportsAllDrives.
	read := e2etest.MustCall(t, f.session, "get_drive_file_content", map[string]any{"file_id": file["file_id"]})
	if !strings.Contains(e2etest.ResultText(read), "quarterly numbers") {
		t.Errorf("get_drive_file_content in a shared drive: %q", e2etest.ResultText(read))
	}
	f.mustCall(t, "list_drive_permissions", map[string]any{"file_id": file["file_id"]})
	mine := f.mustCall(t, "list_drive_items", nil)["items"].([]any)
	if len(mine) != 0 {
		t.Errorf("My Drive shows the shared drive's items: %v", mine)
	}
}

// With only drive.file, Drive does not list shared drives; the tool says
// how to get a grant that does.
func TestSharedDrives_DriveFileGrantSaysHowToSeeThem(t *testing.T) {
	f := newFixture(t, Deps{})
	res := f.call(t, "list_shared_drives", nil)
	if txt := e2etest.ResultText(res); !res.IsError || !strings.Contains(txt, `scope: "readonly"`) {
		t.Errorf("list_shared_drives with drive.file: %q (isError %v)", txt, res.IsError)
	}
}

// --read-only registers no tool that needs a writing scope; --tools and
// --disable-tools narrow the list further.
func TestReadOnly_ExposesNoWritingTool(t *testing.T) {
	names := func(d Deps) []string {
		t.Helper()
		f := newFixture(t, d)
		res, err := f.session.ListTools(context.Background(), nil)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, tool := range res.Tools {
			out = append(out, tool.Name)
		}
		slices.Sort(out)
		return out
	}
	ro := names(Deps{ReadOnly: true})
	for _, n := range ro {
		if toolNeedsWrite[n] && !signInTools[n] {
			t.Errorf("--read-only exposes %s, which writes", n)
		}
	}
	if !slices.Contains(ro, "list_drive_permissions") || !slices.Contains(ro, "start_google_auth") {
		t.Errorf("--read-only lost a reading or sign-in tool: %v", ro)
	}
	only := names(Deps{EnabledTools: []string{"search_drive_files", "check_drive_auth"}})
	if !slices.Equal(only, []string{"check_drive_auth", "search_drive_files"}) {
		t.Errorf("--tools search_drive_files,check_drive_auth: %v", only)
	}
	without := names(Deps{DisabledTools: []string{"remove_drive_permission"}})
	if slices.Contains(without, "remove_drive_permission") || !slices.Contains(without, "list_drive_permissions") {
		t.Errorf("--disable-tools remove_drive_permission: %v", without)
	}
}
