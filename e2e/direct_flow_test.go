package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/drivemcp/drivemcp/internal/e2etest"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// A user connects Google with start_google_auth over stdio, then uploads a
// 20 MiB file without ever naming their account again.
func TestDirectFlow_UploadWithoutEmail(t *testing.T) {
	g := e2etest.StartGoogle(t)
	root := t.TempDir()
	s := e2etest.StartStdio(t, e2etest.Config{Binary: binary, DB: filepath.Join(t.TempDir(), "drivemcp.db"), UploadRoots: []string{root}, Google: g})

	before := e2etest.Call(t, s.Session, "check_drive_auth", nil)
	if before.IsError || e2etest.Structured(t, before)["authenticated"] != false {
		t.Fatalf("before login check_drive_auth = %s", e2etest.ResultText(before))
	}
	path, wantMD5 := e2etest.WriteRandomFile(t, root, "report.bin", 20<<20)
	early := e2etest.Call(t, s.Session, "upload_file_to_drive", map[string]any{"filepath": path})
	if !early.IsError || !strings.Contains(e2etest.ResultText(early), "start_google_auth") {
		t.Fatalf("upload before login should explain how to sign in, got: %s", e2etest.ResultText(early))
	}

	e2etest.Connect(t, s.Session, "alice@example.com")

	who := e2etest.Structured(t, e2etest.MustCall(t, s.Session, "check_drive_auth", nil))
	if who["email"] != "alice@example.com" || who["method"] != "session" {
		t.Fatalf("check_drive_auth after login = %v", who)
	}

	// The client asks for progress, as an assistant showing a bar would.
	var progressCalls atomic.Int64
	var lastProgress atomic.Int64
	var finished sync.Once
	allSent := make(chan struct{}) // closed by the notification that reports every byte
	params := &mcp.CallToolParams{Name: "upload_file_to_drive", Arguments: map[string]any{"filepath": path}}
	params.SetProgressToken("upload-1")
	res := s.CallWithProgress(t, params, func(p *mcp.ProgressNotificationParams) {
		progressCalls.Add(1)
		// The client may handle notifications concurrently: keep the highest.
		for v := int64(p.Progress); ; {
			old := lastProgress.Load()
			if v <= old || lastProgress.CompareAndSwap(old, v) {
				break
			}
		}
		if int64(p.Progress) == 20<<20 {
			finished.Do(func() { close(allSent) })
		}
	})
	if res.IsError {
		t.Fatalf("upload failed: %s", e2etest.ResultText(res))
	}
	out := e2etest.Structured(t, res)
	if out["md5"] != wantMD5 || out["size"] != float64(20<<20) || out["account"] != "alice@example.com" {
		t.Fatalf("upload result = %v, want md5 %s", out, wantMD5)
	}
	files := e2etest.FilesNamed(g, "report.bin")
	if len(files) != 1 {
		t.Fatalf("Drive has %d files named report.bin, want 1", len(files))
	}
	if files[0].Owner != "alice@example.com" {
		t.Fatalf("file owner = %q", files[0].Owner)
	}
	if n, sum := e2etest.DriveFileMD5(t, g, files[0].ID); n != 20<<20 || sum != wantMD5 {
		t.Fatalf("Drive holds %d bytes with md5 %s, want %d and %s", n, sum, 20<<20, wantMD5)
	}
	// Notifications travel beside the result and may be handled after it.
	select {
	case <-allSent:
	case <-time.After(5 * time.Second):
	}
	if progressCalls.Load() == 0 || lastProgress.Load() != 20<<20 {
		t.Fatalf("progress: %d notifications, highest %d, want the last at %d", progressCalls.Load(), lastProgress.Load(), 20<<20)
	}
}

// Two 503s and a dropped connection in the middle of the upload: the
// uploader resumes where Drive stopped, so one file with the right bytes
// arrives and little is sent twice.
func TestDirectFlow_UploadSurvivesFaults(t *testing.T) {
	g := e2etest.StartGoogle(t)
	root := t.TempDir()
	s := e2etest.StartStdio(t, e2etest.Config{Binary: binary, DB: filepath.Join(t.TempDir(), "drivemcp.db"), UploadRoots: []string{root}, Google: g})
	e2etest.Connect(t, s.Session, "alice@example.com")
	const size = 20 << 20
	path, wantMD5 := e2etest.WriteRandomFile(t, root, "flaky.bin", size)

	g.InjectFault(e2etest.FaultStatus("PUT", "/upload/drive/v3/files", 503, 2))
	g.InjectFault(e2etest.FaultDrop("PUT", "/upload/drive/v3/files", 7<<20))
	res := e2etest.MustCall(t, s.Session, "upload_file_to_drive", map[string]any{"filepath": path})
	if got := e2etest.Structured(t, res)["md5"]; got != wantMD5 {
		t.Fatalf("md5 = %v, want %s", got, wantMD5)
	}
	files := e2etest.FilesNamed(g, "flaky.bin")
	if len(files) != 1 {
		t.Fatalf("Drive has %d files named flaky.bin, want exactly 1", len(files))
	}
	if n, sum := e2etest.DriveFileMD5(t, g, files[0].ID); n != size || sum != wantMD5 {
		t.Fatalf("Drive holds %d bytes md5 %s", n, sum)
	}
	if sent := g.Stats().UploadBytesReceived; sent > size*3/2 {
		t.Fatalf("sent %d bytes for a %d-byte file: more than 1.5x", sent, size)
	}
}

// A restarted server on the same database still knows the account: no new
// consent is needed.
func TestDirectFlow_RestartKeepsAccount(t *testing.T) {
	g := e2etest.StartGoogle(t)
	root := t.TempDir()
	db := filepath.Join(t.TempDir(), "drivemcp.db")
	first := e2etest.StartStdio(t, e2etest.Config{Binary: binary, DB: db, UploadRoots: []string{root}, Google: g})
	e2etest.Connect(t, first.Session, "alice@example.com")
	first.Close()

	g.ExpireAccessTokens() // the restarted server must also refresh on its own
	second := e2etest.StartStdio(t, e2etest.Config{Binary: binary, DB: db, UploadRoots: []string{root}, Google: g})
	who := e2etest.Structured(t, e2etest.MustCall(t, second.Session, "check_drive_auth", nil))
	if who["email"] != "alice@example.com" {
		t.Fatalf("after restart check_drive_auth = %v", who)
	}
	e2etest.MustCall(t, second.Session, "create_drive_file", map[string]any{"file_name": "after-restart.txt", "content": "still here"})
	files := e2etest.FilesNamed(g, "after-restart.txt")
	if len(files) != 1 || files[0].Owner != "alice@example.com" {
		t.Fatalf("files = %+v", files)
	}
	if g.Stats().TokenRequests["refresh_token"] < 1 {
		t.Fatalf("expired Google token was not refreshed: %v", g.Stats().TokenRequests)
	}
}

// Paths that lead out of the upload root, by "..", by an absolute path or by
// a symlink, are refused with a clear message and nothing reaches Drive.
func TestUploadRoots_EscapesRefused(t *testing.T) {
	g := e2etest.StartGoogle(t)
	root := t.TempDir()
	outside := t.TempDir()
	secret, _ := e2etest.WriteRandomFile(t, outside, "secret.txt", 100)
	if err := os.Symlink(secret, filepath.Join(root, "link.txt")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(root, "linkdir")); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(root, "sub"), 0o700); err != nil {
		t.Fatal(err)
	}
	s := e2etest.StartStdio(t, e2etest.Config{Binary: binary, DB: filepath.Join(t.TempDir(), "drivemcp.db"), UploadRoots: []string{root}, Google: g})
	e2etest.Connect(t, s.Session, "alice@example.com")

	rel, err := filepath.Rel(root, secret)
	if err != nil {
		t.Fatal(err)
	}
	for name, path := range map[string]string{
		"dot-dot relative":        rel,
		"absolute outside":        secret,
		"dot-dot inside absolute": filepath.Join(root, "sub", "..", "..", filepath.Base(outside), "secret.txt"),
		"symlink to file":         filepath.Join(root, "link.txt"),
		"symlinked directory":     filepath.Join(root, "linkdir", "secret.txt"),
		"relative via symlink":    "linkdir/secret.txt",
	} {
		t.Run(name, func(t *testing.T) {
			res := e2etest.Call(t, s.Session, "upload_file_to_drive", map[string]any{"filepath": path})
			if !res.IsError || !strings.Contains(e2etest.ResultText(res), "outside the directories") {
				t.Fatalf("upload of %s: error=%v %s", path, res.IsError, e2etest.ResultText(res))
			}
		})
	}
	if n := len(g.Files()); n > 1 { // only alice's root folder may exist
		for _, f := range g.Files() {
			if f.MimeType != "application/vnd.google-apps.folder" {
				t.Fatalf("a file reached Drive: %+v", f)
			}
		}
	}
}

// An explicit user_google_email can never reach another account than the
// one the session signed in as.
func TestDirectFlow_OtherUsersEmailRefused(t *testing.T) {
	g := e2etest.StartGoogle(t)
	s := e2etest.StartStdio(t, e2etest.Config{Binary: binary, DB: filepath.Join(t.TempDir(), "drivemcp.db"), Google: g})
	e2etest.Connect(t, s.Session, "alice@example.com")
	for tool, args := range map[string]map[string]any{
		"check_drive_auth":     {},
		"create_drive_file":    {"file_name": "x.txt", "content": "x"},
		"upload_file_to_drive": {"filepath": "x.txt"},
		"sign_out":             {"revoke": true},
	} {
		args["user_google_email"] = "bob@example.com"
		res := e2etest.Call(t, s.Session, tool, args)
		if !res.IsError || !strings.Contains(e2etest.ResultText(res), "names another account") {
			t.Fatalf("%s as bob: error=%v %s", tool, res.IsError, e2etest.ResultText(res))
		}
	}
	if len(e2etest.FilesNamed(g, "x.txt")) != 0 {
		t.Fatal("a file was created despite the refusal")
	}
	// alice is still signed in: the refused sign_out did nothing.
	if who := e2etest.Structured(t, e2etest.MustCall(t, s.Session, "check_drive_auth", nil)); who["email"] != "alice@example.com" {
		t.Fatalf("after refused calls check_drive_auth = %v", who)
	}
}
