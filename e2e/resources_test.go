package e2e

import (
	"context"
	"encoding/base64"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/drivemcp/drivemcp/internal/e2etest"
)

// A person's Drive as MCP resources, through the real binary over stdio:
// the client lists the account's files, reads a text file and a binary one
// (details, no base64), finds the gdrive:///{file_id} template, subscribes
// to a file and hears notifications/resources/updated after a second
// client renames it. The poll interval is shortened (an emulator allows it)
// so the story does not wait a minute.
func TestResources_ListReadSubscribeAndHearAnotherClientsChange(t *testing.T) {
	g := e2etest.StartGoogle(t)
	cfg := e2etest.Config{Binary: binary, DB: filepath.Join(t.TempDir(), "drivemcp.db"), Google: g,
		ExtraArgs: []string{"--resource-poll-interval", "200ms"}}
	first := e2etest.StartStdio(t, cfg)
	e2etest.Connect(t, first.Session, "alice@example.com")
	ctx := context.Background()
	create := func(args map[string]any) string {
		id, _ := e2etest.Structured(t, e2etest.MustCall(t, first.Session, "create_drive_file", args))["file_id"].(string)
		if id == "" {
			t.Fatalf("create_drive_file %v gave no id", args)
		}
		return id
	}
	notes := create(map[string]any{"file_name": "notes.txt", "content": "first draft"})
	photo := create(map[string]any{"file_name": "photo.png", "content_base64": base64.StdEncoding.EncodeToString(append([]byte("\x89PNG\r\n\x1a\n"), make([]byte, 2048)...))})

	list, err := first.Session.ListResources(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	var uris []string
	for _, r := range list.Resources {
		uris = append(uris, r.URI)
	}
	if !slices.Contains(uris, "gdrive:///"+notes) || !slices.Contains(uris, "gdrive:///"+photo) {
		t.Fatalf("resources/list %v lacks the two files", uris)
	}
	tmpl, err := first.Session.ListResourceTemplates(ctx, nil)
	if err != nil || len(tmpl.ResourceTemplates) == 0 || tmpl.ResourceTemplates[0].URITemplate != "gdrive:///{file_id}" {
		t.Fatalf("resources/templates/list: %v, %v; want gdrive:///{file_id} first", tmpl, err)
	}
	text, err := first.Session.ReadResource(ctx, &mcp.ReadResourceParams{URI: "gdrive:///" + notes})
	if err != nil || text.Contents[0].Text != "first draft" {
		t.Fatalf("read notes.txt: %v, %v", text, err)
	}
	bin, err := first.Session.ReadResource(ctx, &mcp.ReadResourceParams{URI: "gdrive:///" + photo})
	if err != nil || len(bin.Contents[0].Blob) != 0 || !strings.Contains(bin.Contents[0].Text, "download_drive_file") {
		t.Fatalf("read photo.png: %+v, %v; want its details and download_drive_file, no blob", bin, err)
	}

	if err := first.Session.Subscribe(ctx, &mcp.SubscribeParams{URI: "gdrive:///" + notes}); err != nil {
		t.Fatal(err)
	}
	// Another MCP client, another process, the same person, renames the
	// file; the first client's subscription hears of it. (Subscribe
	// returns before the server has subscribed: keep renaming until it has.)
	second := e2etest.StartStdio(t, cfg)
	deadline := time.After(30 * time.Second)
	for i := 0; ; i++ {
		e2etest.MustCall(t, second.Session, "rename_drive_file", map[string]any{"file_id": notes, "new_name": "notes-" + string(rune('a'+i%26)) + ".txt"})
		select {
		case uri := <-first.Updated:
			if uri != "gdrive:///"+notes {
				t.Fatalf("updated %q; want gdrive:///%s", uri, notes)
			}
			return
		case <-time.After(time.Second):
		case <-deadline:
			t.Fatalf("no notifications/resources/updated after another client renamed the file\nstderr:\n%s", first.Stderr())
		}
	}
}
