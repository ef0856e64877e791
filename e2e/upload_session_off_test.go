package e2e

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/drivemcp/drivemcp/internal/e2etest"
)

// Threat: the operator turns uploads off (--read-only, or
// create_upload_session hidden by --disable-tools) and restarts with the
// same keys, yet a URL made before the restart goes on writing into Drive
// for the rest of its hour.
func TestUploadSession_AURLFromBeforeUploadsWereTurnedOffWritesNothing(t *testing.T) {
	g := e2etest.StartGoogle(t)
	db := filepath.Join(t.TempDir(), "db")
	srv := e2etest.StartHTTP(t, e2etest.Config{Binary: binary, DB: db, Google: g})
	alice := connectOAuth(t, srv.BaseURL, e2etest.NewBrowser("alice@example.com"))
	path, sum := e2etest.WriteRandomFile(t, t.TempDir(), "late.bin", 300<<10)
	out := e2etest.Structured(t, e2etest.MustCall(t, alice, "create_upload_session", map[string]any{"file_name": "late.bin", "size": 300 << 10, "md5": sum}))
	url, _ := out["upload_url"].(string)
	_, tokenPath, ok := strings.Cut(url, "/uploads/")
	if !ok {
		t.Fatalf("create_upload_session: %v", out)
	}
	_ = alice.Close()
	srv.Stop()
	for _, off := range [][]string{{"--read-only"}, {"--disable-tools", "create_upload_session"}} {
		srv := e2etest.StartHTTP(t, e2etest.Config{Binary: binary, DB: db, Google: g, ExtraArgs: off})
		status, _, body, err := curlPut(t, srv.BaseURL+"/uploads/"+tokenPath, []string{"-T", path}, nil)
		if err != nil || status != 403 || !strings.Contains(body, "turned off") {
			t.Errorf("%v: a URL from before wrote %d %s %v", off, status, body, err)
		}
		srv.Stop()
	}
	for _, f := range g.Emulator.Files() {
		if f.Name == "late.bin" {
			t.Fatalf("late.bin reached Drive after uploads were turned off")
		}
	}
}
