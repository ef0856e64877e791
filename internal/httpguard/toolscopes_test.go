package httpguard

import "testing"

func TestWritingTool(t *testing.T) {
	for body, want := range map[string]string{
		`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"create_drive_file"}}`: "create_drive_file",
		`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"check_drive_auth"}}`:  "",
		`[{"method":"ping"},{"method":"tools/call","params":{"name":"upload_file_to_drive"}}]`: "upload_file_to_drive",
		`{"jsonrpc":"2.0","id":1,"method":"tools/list"}`:                                       "",
		`not json`: "",
		``:         "",
	} {
		if got := writingTool([]byte(body), func(tool string) bool { return tool == "create_drive_file" || tool == "upload_file_to_drive" }); got != want {
			t.Errorf("%s: got %q, want %q", body, got, want)
		}
	}
}
