package mcpserver

import (
	"net/http"
	"strings"
	"sync"
	"testing"
)

// fieldsRecorder records the fields parameter of every Drive metadata
// request (not downloads, not uploads).
type fieldsRecorder struct {
	mu     sync.Mutex
	fields []string
}

func (r *fieldsRecorder) RoundTrip(req *http.Request) (*http.Response, error) {
	if strings.HasPrefix(req.URL.Path, "/drive/v3/files") && req.URL.Query().Get("alt") != "media" {
		r.mu.Lock()
		r.fields = append(r.fields, req.Method+" "+req.URL.Query().Get("fields"))
		r.mu.Unlock()
	}
	return http.DefaultTransport.RoundTrip(req)
}

func (r *fieldsRecorder) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.fields
	r.fields = nil
	return out
}

// Drive answers with what it is asked for, and every field asked costs it
// work: reading a file's text asks for the metadata the tool shows, and
// sharing asks for the name that labels the answer and the permission's id.
func TestDriveCalls_AskOnlyForTheFieldsTheToolUses(t *testing.T) {
	rec := &fieldsRecorder{}
	f := newFixture(t, Deps{Transport: rec})
	created := f.mustCall(t, "create_drive_file", map[string]any{"file_name": "a.txt", "content": "hello"})
	rec.take()

	f.mustCall(t, "get_drive_file_content", map[string]any{"file_id": created["file_id"]})
	if got, want := rec.take(), []string{"GET id,name,mimeType,size,modifiedTime,webViewLink"}; strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("get_drive_file_content asked Drive for %q, want %q", got, want)
	}

	f.google.SeedFile("bob@example.com", "x", "x") // bob exists at Google
	f.mustCall(t, "share_drive_files", map[string]any{"file_ids": []string{created["file_id"].(string)}, "email_addresses": []string{"bob@example.com"}, "send_notification": false})
	if got, want := rec.take(), []string{"GET id,name", "POST id"}; strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("share_drive_files asked Drive for %q, want %q", got, want)
	}
}
