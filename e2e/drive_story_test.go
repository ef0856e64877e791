package e2e

import (
	"strings"
	"testing"

	"github.com/drivemcp/drivemcp/internal/e2etest"
)

// A user's afternoon, as their MCP client sees it: file three reports into
// a folder that does not exist yet, find them again, read one, and share
// it with a colleague.
func TestStory_FileReportsFindThemReadOneShareIt(t *testing.T) {
	d := startDrive(t)

	// "Make me a Reports/2026/Q4 folder."
	folder := d.ok(t, "create_drive_folder", map[string]any{"folder_path": "Reports/2026/Q4"})
	folderID, _ := folder["folder_id"].(string)
	if folderID == "" || folder["created"] != true {
		t.Fatalf("create_drive_folder: %v", folder)
	}

	// "Put these three reports in it." Text, a Google Doc, and a spreadsheet.
	reports := []map[string]any{
		{"file_name": "Q4 revenue.csv", "content": "region,revenue\nnorth,120\nsouth,95\n"},
		{"file_name": "Q4 summary", "content": "# Q4 summary\n\nRevenue grew in the north.", "mime_type": "application/vnd.google-apps.document"},
		{"file_name": "Q4 risks.txt", "content": "Supplier delays in the south."},
	}
	ids := map[string]string{}
	for _, r := range reports {
		r["folder_path"] = "Reports/2026/Q4"
		out := d.ok(t, "create_drive_file", r)
		if out["folder_id"] != folderID {
			t.Fatalf("%s went to %v, not the Q4 folder %s", r["file_name"], out["folder_id"], folderID)
		}
		ids[r["file_name"].(string)] = out["file_id"].(string)
	}

	// "What's in Q4?"
	listing := d.ok(t, "list_drive_items", map[string]any{"folder_id": folderID})
	if names := itemNames(t, listing); len(names) != 3 {
		t.Fatalf("Q4 holds %v, want the three reports", names)
	}

	// "Find my Q4 reports." Free text, as a person would type it.
	found := d.ok(t, "search_drive_files", map[string]any{"query": "Q4"})
	got := map[string]bool{}
	for _, it := range items(t, found) {
		got[it["name"].(string)] = true
	}
	for name := range ids {
		if !got[name] {
			t.Fatalf("search for Q4 missed %q: found %v", name, got)
		}
	}
	// "Which of them mention the south?" A Drive query, narrowed to the folder.
	south := d.ok(t, "search_drive_files", map[string]any{"query": "fullText contains 'south' and '" + folderID + "' in parents"})
	if names := itemNames(t, south); len(names) != 2 {
		t.Fatalf("south found %v, want the revenue table and the risks", names)
	}

	// "Read me the summary."
	read := e2etest.MustCall(t, d.session, "get_drive_file_content", map[string]any{"file_id": ids["Q4 summary"]})
	if text := e2etest.ResultText(read); !strings.Contains(text, "Revenue grew in the north.") || !strings.Contains(text, "Google Doc") {
		t.Fatalf("summary read as %q", text)
	}

	// "Share it with Bob so he can comment."
	shared := d.ok(t, "share_drive_files", map[string]any{
		"file_ids": []string{ids["Q4 summary"]}, "email_addresses": []string{"bob@example.com"},
		"role": "commenter", "message": "Q4 summary for your comments",
	})
	if shared["shared"] != float64(1) || shared["failed"] != float64(0) {
		t.Fatalf("share: %v", shared)
	}
	notes := d.g.Notifications()
	if len(notes) != 1 || notes[0].To != "bob@example.com" || notes[0].FileID != ids["Q4 summary"] || notes[0].Message != "Q4 summary for your comments" {
		t.Fatalf("Bob was told %+v", notes)
	}
	if !hasPermission(d.g.Permissions(ids["Q4 summary"]), "user", "bob@example.com", "commenter") {
		t.Fatalf("summary permissions %+v", d.g.Permissions(ids["Q4 summary"]))
	}
}
