package e2e

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/drivemcp/drivemcp/internal/googleemu"
)

// A team lead's morning, over the real binary: find the team's shared
// drive, file the plan there by path, give a contractor access until
// Friday, raise it, take it away again, and close the plan's public link.
func TestStory_WorkInASharedDriveAndManageWhoHasAccess(t *testing.T) {
	d := startDrive(t, "--drive-scope", "full")
	team := d.g.AddSharedDrive("Team", map[string]string{"alice@example.com": "organizer"})

	// "Which shared drives am I in?"
	drives := d.ok(t, "list_shared_drives", nil)["shared_drives"].([]any)
	if len(drives) != 1 || drives[0].(map[string]any)["id"] != team {
		t.Fatalf("list_shared_drives: %v", drives)
	}
	// "Put the plan in Team under Plans/2027."
	plan := d.ok(t, "create_drive_file", map[string]any{"file_name": "plan.md", "content": "# 2027", "drive_id": team, "folder_path": "Plans/2027"})
	planID := plan["file_id"].(string)
	if f, _ := d.g.File(planID); f.DriveID != team {
		t.Fatalf("the plan landed in drive %q, not the shared drive %s", f.DriveID, team)
	}
	if hits := itemNames(t, d.ok(t, "search_drive_files", map[string]any{"query": "plan", "drive_id": team})); !slices.Contains(hits, "plan.md") {
		t.Fatalf("search in Team found %v", hits)
	}

	// A file of her own, shared with a contractor and by link.
	brief := d.create(t, map[string]any{"file_name": "brief.txt", "content": "brief"})
	d.ok(t, "share_drive_files", map[string]any{"file_ids": []string{brief}, "email_addresses": []string{"carol@example.com"}, "send_notification": false})
	d.ok(t, "make_drive_files_public", map[string]any{"file_ids": []string{brief}})

	// "Let Carol edit it until the end of the week."
	friday := time.Now().Add(72 * time.Hour).UTC().Truncate(time.Second).Format(time.RFC3339)
	up := d.ok(t, "update_drive_permission", map[string]any{"file_id": brief, "email_address": "carol@example.com", "role": "writer", "expiration_time": friday})
	if up["role"] != "writer" || up["expiration_time"] != friday {
		t.Fatalf("update_drive_permission: %v", up)
	}
	// "Who has access now?"
	var who []string
	for _, p := range d.ok(t, "list_drive_permissions", map[string]any{"file_id": brief})["permissions"].([]any) {
		p := p.(map[string]any)
		who = append(who, p["type"].(string)+":"+p["role"].(string))
	}
	slices.Sort(who)
	if !slices.Equal(who, []string{"anyone:reader", "user:owner", "user:writer"}) {
		t.Fatalf("list_drive_permissions: %v", who)
	}
	// "Take Carol off it, and close the link."
	d.ok(t, "remove_drive_permission", map[string]any{"file_id": brief, "email_address": "carol@example.com"})
	d.ok(t, "make_drive_files_public", map[string]any{"file_ids": []string{brief}, "public": false})
	if perms := d.g.Permissions(brief); len(perms) != 1 || perms[0].Role != "owner" {
		t.Fatalf("after removing Carol and the link: %+v", perms)
	}
	d.mustFail(t, "remove_drive_permission", map[string]any{"file_id": brief, "email_address": "carol@example.com"}, "list_drive_permissions")
}

// An operator who wants an assistant that can only look: --read-only lists
// no tool that changes Drive, and reading still works. download_drive_file
// stays: it reads Drive and writes only the user's own disk (or hands out a
// link), so it needs no writing scope.
func TestStory_ReadOnlyServerOffersNoWritingTool(t *testing.T) {
	d := startDrive(t, "--read-only", "--disable-tools", "list_shared_drives")
	res, err := d.session.ListTools(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, tool := range res.Tools {
		names = append(names, tool.Name)
		if !tool.Annotations.ReadOnlyHint && tool.Name != "start_google_auth" && tool.Name != "sign_out" && tool.Name != "download_drive_file" {
			t.Errorf("--read-only offers %s, which writes", tool.Name)
		}
	}
	if slices.Contains(names, "list_shared_drives") || !slices.Contains(names, "search_drive_files") || !slices.Contains(names, "download_drive_file") {
		t.Errorf("tools: %v", names)
	}
	d.ok(t, "search_drive_files", map[string]any{"query": "anything"})
	// A client that calls a writing tool anyway meets "unknown tool".
	if _, err := d.session.CallTool(context.Background(), &mcp.CallToolParams{Name: "create_drive_file",
		Arguments: map[string]any{"file_name": "x.txt", "content": "x"}}); err == nil {
		t.Error("--read-only ran create_drive_file")
	}
	if n := len(d.g.Files()); n != 0 {
		t.Errorf("--read-only server made %d files", n)
	}
}

// A misspelt tool name in --disable-tools stops the server at start, rather
// than leaving exposed the tool the operator meant to hide.
func TestServe_UnknownToolNameIsRefusedAtStart(t *testing.T) {
	cmd := exec.Command(binary, "serve", "--stdio", "--db", filepath.Join(t.TempDir(), "db"),
		"--google-endpoint", "http://127.0.0.1:1", "--google-client-id", googleemu.DemoClientID, "--google-client-secret", googleemu.DemoClientSecret,
		"--disable-tools", "remove_drive_permision")
	cmd.Env = append(os.Environ(), "HOME="+t.TempDir())
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "--disable-tools") || !strings.Contains(string(out), "remove_drive_permision") {
		t.Fatalf("serve --disable-tools with a typo: err %v, output %s", err, out)
	}
}
