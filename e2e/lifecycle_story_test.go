package e2e

import (
	"crypto/md5"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/drivemcp/drivemcp/internal/e2etest"
)

// A draft's life, as an MCP client drives it through the real binary: save
// it, save it again without duplicating it, file it away, rename it, keep a
// copy, look it over, throw the copy away and then delete it for good.
func TestStory_DraftUpdatedInPlaceFiledCopiedTrashedDeleted(t *testing.T) {
	d := startDrive(t)

	first := d.ok(t, "create_drive_file", map[string]any{"file_name": "draft.md", "content": "v1", "if_exists": "update"})
	id := first["file_id"].(string)
	again := d.ok(t, "create_drive_file", map[string]any{"file_name": "draft.md", "content": "v2", "if_exists": "update"})
	if again["file_id"] != id || again["outcome"] != "updated" {
		t.Fatalf("saving again: %v, want the same file %s updated", again, id)
	}
	same := d.ok(t, "create_drive_file", map[string]any{"file_name": "draft.md", "content": "v2", "if_exists": "skip_unchanged"})
	if same["outcome"] != "skipped_unchanged" {
		t.Fatalf("saving unchanged: %v", same)
	}
	upd := d.ok(t, "update_drive_file", map[string]any{"file_id": id, "content": "v3"})
	if upd["file_id"] != id || upd["md5"] != md5hex("v3") {
		t.Fatalf("update_drive_file: %v", upd)
	}

	moved := d.ok(t, "move_drive_file", map[string]any{"file_id": id, "folder_path": "Drafts/2026"})
	d.ok(t, "rename_drive_file", map[string]any{"file_id": id, "new_name": "final.md"})
	cp := d.ok(t, "copy_drive_file", map[string]any{"file_id": id, "new_name": "final (backup).md"})
	if cp["folder_id"] != moved["folder_id"] {
		t.Fatalf("the copy went to %v, not beside the original in %v", cp["folder_id"], moved["folder_id"])
	}

	meta := d.ok(t, "get_drive_file_metadata", map[string]any{"file_id": id})
	if meta["path"] != "Drafts/2026/final.md" || meta["md5"] != md5hex("v3") {
		t.Fatalf("metadata: %v", meta)
	}

	copyID := cp["file_id"].(string)
	d.ok(t, "trash_drive_files", map[string]any{"file_ids": []string{copyID}})
	if f, _ := d.g.File(copyID); !f.Trashed {
		t.Fatal("the copy is not in the trash")
	}
	res := e2etest.Call(t, d.session, "delete_drive_files", map[string]any{"file_ids": []string{copyID}})
	if !res.IsError || !strings.Contains(e2etest.ResultText(res), "confirm") {
		t.Fatalf("delete without confirm: %q", e2etest.ResultText(res))
	}
	d.ok(t, "delete_drive_files", map[string]any{"file_ids": []string{copyID}, "confirm": true})
	if _, ok := d.g.File(copyID); ok {
		t.Fatal("the copy survived deletion")
	}
	if _, ok := d.g.File(id); !ok {
		t.Fatal("the original went with the copy")
	}
}

func md5hex(s string) string {
	sum := md5.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}
