package config

import (
	"slices"
	"strings"
	"testing"
)

// --read-only asks Google for drive.readonly (and refuses to be combined
// with --drive-scope full); --tools and --disable-tools are comma lists.
func TestReadOnly_AsksGoogleForDriveReadonly(t *testing.T) {
	c, err := ParseServe(append(append([]string{}, client...), "--read-only", "--tools", "search_drive_files,list_drive_items",
		"--disable-tools", "list_drive_items"), env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if !c.ReadOnly || c.DriveScope != ScopeReadonly {
		t.Errorf("--read-only: ReadOnly %v, drive scope %q; want true, readonly", c.ReadOnly, c.DriveScope)
	}
	if !slices.Equal(c.Tools, []string{"search_drive_files", "list_drive_items"}) || !slices.Equal(c.DisableTools, []string{"list_drive_items"}) {
		t.Errorf("tools %v, disabled %v", c.Tools, c.DisableTools)
	}
	c, err = ParseServe(client, env(map[string]string{"DRIVEMCP_READ_ONLY": "yes"}))
	if err != nil || c.DriveScope != ScopeReadonly {
		t.Errorf("DRIVEMCP_READ_ONLY=yes: %v, scope %q", err, c.DriveScope)
	}
	_, err = ParseServe(append(append([]string{}, client...), "--read-only", "--drive-scope", "full"), env(nil))
	if err == nil || !strings.Contains(err.Error(), "--read-only") {
		t.Errorf("--read-only with --drive-scope full: %v, want an error naming --read-only", err)
	}
}
