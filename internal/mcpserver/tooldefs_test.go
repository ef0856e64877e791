package mcpserver

import (
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// toolTraits is what a tool does, as its annotations must say it, and
// whether a token must be able to write to call it.
type toolTraits struct {
	readOnly, destructive, idempotent, openWorld bool
	needsWrite                                   bool
}

// wantTraits is every tool's behaviour, written down from its handler. A
// tool added without a row here fails the tests below, so its annotations
// and its scope are decided on purpose.
var wantTraits = map[string]toolTraits{
	// Starts a login (a pending login is recorded, a new link each call);
	// a read-only connection must be able to ask for more scope with it.
	"start_google_auth": {},
	"check_drive_auth":  {readOnly: true, idempotent: true},
	// revoke deletes the stored grant; signing out twice leaves the same
	// state. Only revoke needs a writing scope, which the handler checks.
	"sign_out": {destructive: true, idempotent: true},
	// Each call may make another file (Drive allows equal names);
	// if_exists update overwrites a same-named file's content.
	"upload_file_to_drive": {destructive: true, needsWrite: true},
	// fileUrl reaches any http(s) address on the web.
	"create_drive_file":      {destructive: true, openWorld: true, needsWrite: true},
	"create_drive_folder":    {needsWrite: true},
	"list_drive_items":       {readOnly: true, idempotent: true},
	"search_drive_files":     {readOnly: true, idempotent: true},
	"get_drive_file_content": {readOnly: true, idempotent: true},
	// Shares reach other people; giving a role again changes nothing.
	"share_drive_files": {idempotent: true, openWorld: true, needsWrite: true},
	// Opens files to anyone with the link, and public: false takes link
	// access away again.
	"make_drive_files_public": {destructive: true, idempotent: true, openWorld: true, needsWrite: true},
	// The file lifecycle. update overwrites content and may fetch fileUrl;
	// trash and delete remove files; a copy is another file each call.
	"update_drive_file":       {destructive: true, idempotent: true, openWorld: true, needsWrite: true},
	"move_drive_file":         {idempotent: true, needsWrite: true},
	"rename_drive_file":       {idempotent: true, needsWrite: true},
	"copy_drive_file":         {needsWrite: true},
	"trash_drive_files":       {destructive: true, idempotent: true, needsWrite: true},
	"delete_drive_files":      {destructive: true, idempotent: true, needsWrite: true},
	"get_drive_file_metadata": {readOnly: true, idempotent: true},
	// Permissions and shared drives. Lowering a role or removing access
	// takes it away from someone (destructive, open world); doing it again
	// changes nothing.
	"list_drive_permissions":  {readOnly: true, idempotent: true},
	"update_drive_permission": {destructive: true, idempotent: true, openWorld: true, needsWrite: true},
	"remove_drive_permission": {destructive: true, idempotent: true, openWorld: true, needsWrite: true},
	"list_shared_drives":      {readOnly: true, idempotent: true},
	// Writes the user's disk (overwrite may replace a file there), never
	// Drive: a read-only Drive scope is enough.
	"download_drive_file": {destructive: true, idempotent: true},
	// Replaces same-named files' content (update, skip_unchanged); a
	// second run with nothing changed changes nothing.
	"upload_folder_to_drive": {destructive: true, idempotent: true, needsWrite: true},
	// Upload sessions: creating one makes a file (if_exists update
	// replaces one's content), a new session per call; the status only reads.
	"create_upload_session": {destructive: true, needsWrite: true},
	"get_upload_status":     {readOnly: true, idempotent: true},
}

// Every tool says, in all four annotations, whether it only reads, whether
// it may destroy, whether calling it again changes anything, and whether
// it reaches beyond the user's own Drive and account; a client decides
// from them what to ask the user to confirm.
func TestToolAnnotations_EveryToolDeclaresAllFourHints(t *testing.T) {
	tools := listTools(t)
	if len(tools) != len(wantTraits) {
		t.Errorf("tools/list has %d tools, wantTraits %d: give every new tool a row", len(tools), len(wantTraits))
	}
	for _, tool := range tools {
		want, ok := wantTraits[tool.Name]
		if !ok {
			t.Errorf("tool %s is not in wantTraits: decide its annotations and scope there", tool.Name)
			continue
		}
		a := tool.Annotations
		if a == nil || a.DestructiveHint == nil || a.OpenWorldHint == nil {
			t.Errorf("tool %s lacks annotations (destructiveHint and openWorldHint must be set; readOnlyHint and idempotentHint default to false): %+v", tool.Name, a)
			continue
		}
		got := toolTraits{a.ReadOnlyHint, *a.DestructiveHint, a.IdempotentHint, *a.OpenWorldHint, want.needsWrite}
		if got != want {
			t.Errorf("tool %s annotations %+v, want %+v", tool.Name, got, want)
		}
	}
}

// A read-only token is refused exactly the tools that change Drive, and
// that is read from each tool's definition: a tool registered without a
// definition in toolDefinitions, or whose annotations say it writes when
// it does not, fails here instead of slipping past the scope check.
func TestToolScopes_DerivedFromEachToolsDefinition(t *testing.T) {
	defined := map[string]*mcp.Tool{}
	for _, d := range toolDefinitions {
		defined[d.Name] = d
	}
	for _, tool := range listTools(t) {
		d, ok := defined[tool.Name]
		if !ok {
			t.Errorf("tool %s is registered but not in toolDefinitions, so the scope check cannot see it", tool.Name)
			continue
		}
		if tool.Annotations == nil || d.Annotations == nil || !sameAnnotations(tool.Annotations, d.Annotations) {
			t.Errorf("tool %s is listed with annotations %+v, defined with %+v", tool.Name, tool.Annotations, d.Annotations)
		}
		if got, want := toolNeedsWrite[tool.Name], wantTraits[tool.Name].needsWrite; got != want {
			t.Errorf("tool %s: needs a writing scope %v, want %v", tool.Name, got, want)
		}
		if got, want := NeedsWriteScope(tool.Name), wantTraits[tool.Name].needsWrite; got != want {
			t.Errorf("tool %s: the HTTP step-up check says writing %v, want %v", tool.Name, got, want)
		}
	}
}

func sameAnnotations(a, b *mcp.ToolAnnotations) bool {
	eq := func(x, y *bool) bool { return (x == nil) == (y == nil) && (x == nil || *x == *y) }
	return a.ReadOnlyHint == b.ReadOnlyHint && a.IdempotentHint == b.IdempotentHint && a.Title == b.Title &&
		eq(a.DestructiveHint, b.DestructiveHint) && eq(a.OpenWorldHint, b.OpenWorldHint)
}
