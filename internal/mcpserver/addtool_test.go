package mcpserver

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/drivemcp/drivemcp/internal/typedtool"
)

// toolOutputOf is the output type of a tool handler.
func toolOutputOf[In, Out any](mcp.ToolHandlerFor[In, Out]) reflect.Type {
	return reflect.TypeFor[Out]()
}

// allToolOutputs are the output types of every drivemcp tool.
func allToolOutputs() map[string]reflect.Type {
	var tl *tools // handlers are only looked at, never called
	return map[string]reflect.Type{
		"start_google_auth":       toolOutputOf(tl.startGoogleAuth),
		"check_drive_auth":        toolOutputOf(tl.checkDriveAuth),
		"sign_out":                toolOutputOf(tl.signOut),
		"upload_file_to_drive":    toolOutputOf(tl.uploadFile),
		"create_drive_file":       toolOutputOf(tl.createFile),
		"create_drive_folder":     toolOutputOf(tl.createDriveFolder),
		"list_drive_items":        toolOutputOf(tl.listDriveItems),
		"search_drive_files":      toolOutputOf(tl.searchDriveFiles),
		"get_drive_file_content":  toolOutputOf(tl.getDriveFileContent),
		"share_drive_files":       toolOutputOf(tl.shareDriveFiles),
		"make_drive_files_public": toolOutputOf(tl.makeDriveFilesPublic),
		"update_drive_file":       toolOutputOf(tl.updateDriveFile),
		"move_drive_file":         toolOutputOf(tl.moveDriveFile),
		"rename_drive_file":       toolOutputOf(tl.renameDriveFile),
		"copy_drive_file":         toolOutputOf(tl.copyDriveFile),
		"trash_drive_files":       toolOutputOf(tl.trashDriveFiles),
		"delete_drive_files":      toolOutputOf(tl.deleteDriveFiles),
		"get_drive_file_metadata": toolOutputOf(tl.getDriveFileMetadata),
		"list_drive_permissions":  toolOutputOf(tl.listDrivePermissions),
		"update_drive_permission": toolOutputOf(tl.updateDrivePermission),
		"remove_drive_permission": toolOutputOf(tl.removeDrivePermission),
		"list_shared_drives":      toolOutputOf(tl.listSharedDrives),
		"download_drive_file":     toolOutputOf(tl.downloadDriveFile),
		"upload_folder_to_drive":  toolOutputOf(tl.uploadFolderToDrive),
		"create_upload_session":   toolOutputOf(tl.createUploadSession),
		"get_upload_status":       toolOutputOf(tl.getUploadStatus),
	}
}

// Every drivemcp tool's output skips validation, which is what makes
// skipping worth having. (A tool whose output does not is slower, not
// broken: its outputs are validated as before.)
func TestSchemaExact_EveryToolOutput(t *testing.T) {
	outputs := allToolOutputs()
	if n := len(listToolsRaw(t, New(Deps{}))); n != len(outputs) {
		t.Fatalf("New lists %d tools, this test knows %d: add the new ones to allToolOutputs", n, len(outputs))
	}
	for name, typ := range outputs {
		if !typedtool.Exact(typ) {
			t.Errorf("%s: its output %v is validated on every call; see typedtool.Exact", name, typ)
		}
	}
}

// Every drivemcp tool is listed, byte for byte, as mcp.AddTool lists it
// given the portable schemas (typedtool.Options.SDK, the switch back to
// the go-sdk's adapter): the schemas come from the same types by the same
// rules.
func TestAddTool_ListsWhatTheSDKWould(t *testing.T) {
	var tl *tools // handlers are only registered here, never called
	handlers := map[string]func(s *mcp.Server, tool *mcp.Tool){
		"start_google_auth":       sdkRegistrar(tl.startGoogleAuth),
		"check_drive_auth":        sdkRegistrar(tl.checkDriveAuth),
		"sign_out":                sdkRegistrar(tl.signOut),
		"upload_file_to_drive":    sdkRegistrar(tl.uploadFile),
		"create_drive_file":       sdkRegistrar(tl.createFile),
		"create_drive_folder":     sdkRegistrar(tl.createDriveFolder),
		"list_drive_items":        sdkRegistrar(tl.listDriveItems),
		"search_drive_files":      sdkRegistrar(tl.searchDriveFiles),
		"get_drive_file_content":  sdkRegistrar(tl.getDriveFileContent),
		"share_drive_files":       sdkRegistrar(tl.shareDriveFiles),
		"make_drive_files_public": sdkRegistrar(tl.makeDriveFilesPublic),
		"update_drive_file":       sdkRegistrar(tl.updateDriveFile),
		"move_drive_file":         sdkRegistrar(tl.moveDriveFile),
		"rename_drive_file":       sdkRegistrar(tl.renameDriveFile),
		"copy_drive_file":         sdkRegistrar(tl.copyDriveFile),
		"trash_drive_files":       sdkRegistrar(tl.trashDriveFiles),
		"delete_drive_files":      sdkRegistrar(tl.deleteDriveFiles),
		"get_drive_file_metadata": sdkRegistrar(tl.getDriveFileMetadata),
		"list_drive_permissions":  sdkRegistrar(tl.listDrivePermissions),
		"update_drive_permission": sdkRegistrar(tl.updateDrivePermission),
		"remove_drive_permission": sdkRegistrar(tl.removeDrivePermission),
		"list_shared_drives":      sdkRegistrar(tl.listSharedDrives),
		"download_drive_file":     sdkRegistrar(tl.downloadDriveFile),
		"upload_folder_to_drive":  sdkRegistrar(tl.uploadFolderToDrive),
		"create_upload_session":   sdkRegistrar(tl.createUploadSession),
		"get_upload_status":       sdkRegistrar(tl.getUploadStatus),
	}
	listed := listToolsRaw(t, New(Deps{}))
	if len(listed) != len(handlers) {
		t.Fatalf("New lists %d tools, this test knows %d: add the new ones to it", len(listed), len(handlers))
	}
	for _, raw := range listed {
		var tool mcp.Tool
		if err := json.Unmarshal(raw, &tool); err != nil {
			t.Fatal(err)
		}
		register, ok := handlers[tool.Name]
		if !ok {
			t.Fatalf("tool %s is not in this test: add it", tool.Name)
		}
		tool.InputSchema, tool.OutputSchema = nil, nil // inferred again from the handler's types
		sdkServer := mcp.NewServer(&mcp.Implementation{Name: "sdk", Version: "1"}, nil)
		register(sdkServer, &tool)
		if want := listToolsRaw(t, sdkServer)[0]; string(raw) != string(want) {
			t.Errorf("%s lists\n%s\nmcp.AddTool lists\n%s", tool.Name, raw, want)
		}
	}
}

func sdkRegistrar[In, Out any](h mcp.ToolHandlerFor[In, Out]) func(*mcp.Server, *mcp.Tool) {
	return func(s *mcp.Server, tool *mcp.Tool) {
		typedtool.Add(s, tool, h, typedtool.Options{SDK: true})
	}
}

// serveStateless serves s as `drivemcp serve --stateless` does, so that a
// test can send requests as raw JSON and read the raw answer.
func serveStateless(t *testing.T, s *mcp.Server) func(method, params string) []byte {
	h := mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return s },
		&mcp.StreamableHTTPOptions{Stateless: true, JSONResponse: true})
	return func(method, params string) []byte {
		t.Helper()
		req := httptest.NewRequest(http.MethodPost, "/mcp",
			strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"`+method+`","params":`+params+`}`))
		req.Header = http.Header{"Content-Type": {"application/json"}, "Accept": {"application/json, text/event-stream"},
			"Mcp-Protocol-Version": {"2025-06-18"}}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec.Body.Bytes()
	}
}

// listToolsRaw is s's tools/list answer, each tool as it went over the wire.
func listToolsRaw(t *testing.T, s *mcp.Server) []json.RawMessage {
	t.Helper()
	body := serveStateless(t, s)("tools/list", "{}")
	var a struct {
		Result struct{ Tools []json.RawMessage }
	}
	if err := json.Unmarshal(body, &a); err != nil || len(a.Result.Tools) == 0 {
		t.Fatalf("tools/list: %v: %s", err, body)
	}
	return a.Result.Tools
}
