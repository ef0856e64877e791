package e2e

import (
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/drivemcp/drivemcp/internal/e2etest"
)

// A client the person allowed only to read cannot write by spelling the
// JSON-RPC message so that the scope check and the SDK read different
// tools: case-variant keys ("Name", "METHOD", "Params") and duplicates.
// The account's Google grant can write (another client was allowed to),
// so only drivemcp's scope check stands between the call and Drive.
func TestHostileMCP_ReadOnlyTokenCannotSmuggleAWrite(t *testing.T) {
	g := e2etest.StartGoogle(t)
	srv := e2etest.StartHTTP(t, e2etest.Config{Binary: binary, DB: filepath.Join(t.TempDir(), "db"), Google: g,
		ExtraArgs: []string{"--drive-scope", "full"}})
	hostileLoginScoped(t, srv.BaseURL, "mallory@example.com", "drive") // the Google grant now writes
	c := hostileLoginScoped(t, srv.BaseURL, "mallory@example.com", "drive.readonly")
	h := c.headers()
	for name, body := range map[string]string{
		"plain":                     `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"create_drive_file","arguments":{"file_name":"plain.txt","content":"x"}}}`,
		"case-variant Name":         `{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"create_drive_file","Name":"check_drive_auth","arguments":{"file_name":"name.txt","content":"x"}}}`,
		"case-variant METHOD":       `{"jsonrpc":"2.0","id":3,"method":"tools/call","METHOD":"ping","params":{"name":"create_drive_file","arguments":{"file_name":"method.txt","content":"x"}}}`,
		"case-variant Params":       `{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"create_drive_file","arguments":{"file_name":"params.txt","content":"x"}},"Params":{"name":"check_drive_auth"}}`,
		"make public, Name variant": `{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"make_drive_files_public","Name":"check_drive_auth","arguments":{"file_ids":["x"]}}}`,
	} {
		t.Run(name, func(t *testing.T) {
			status, _, out := c.post(t, h, body)
			if status == http.StatusForbidden {
				return // the step-up challenge
			}
			if status != http.StatusOK {
				t.Fatalf("%d %.300s", status, out)
			}
			if msg := readRPCMessage(t, out); msg.Result == nil || !msg.Result.IsError || !strings.Contains(out, "scope") {
				t.Fatalf("a read-only token ran a writing tool: %.300s", out)
			}
		})
	}
	if files := g.Emulator.Files(); len(files) > 0 {
		for _, f := range files {
			if f.MimeType != "application/vnd.google-apps.folder" {
				t.Fatalf("a read-only token created %q", f.Name)
			}
		}
	}
}
