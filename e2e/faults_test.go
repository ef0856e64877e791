package e2e

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/drivemcp/drivemcp/internal/e2etest"
	"github.com/drivemcp/drivemcp/internal/googleemu"
)

// Google misbehaving, as an MCP client meets it: the real binary over
// stdio, alice connected, and the emulator failing on purpose.

// Google's token endpoint fails while drivemcp renews alice's access: her
// call fails with a sentence that says what happened and that nothing was
// lost, she stays connected, and once Google is back the same stored grant
// works, with no new consent.
func TestFaults_TokenEndpointDownFailsTheCallButKeepsTheGrant(t *testing.T) {
	for name, fault := range map[string]googleemu.Fault{
		"500":                {PathPrefix: "/token", Status: 500, Times: 1000},
		"dropped connection": {PathPrefix: "/token", DropAfterBytes: 1, Times: 1000},
	} {
		t.Run(name, func(t *testing.T) {
			// drivemcp retries the refresh on Google's schedule before it
			// gives up; short waits keep the test quick.
			d := startDrive(t, "--google-max-backoff", "20ms")
			d.create(t, map[string]any{"file_name": "before.txt", "content": "x"})
			d.g.ExpireAccessTokens() // the next Drive call is refused, so drivemcp refreshes
			d.g.InjectFault(fault)
			d.mustFail(t, "list_drive_items", nil, "token endpoint", "alice@example.com", "stored grant is unchanged")

			who := d.ok(t, "check_drive_auth", nil)
			if who["authenticated"] != true || who["needs_reconsent"] == true {
				t.Fatalf("after a failed refresh check_drive_auth = %v", who)
			}
			d.g.ClearFaults()
			listing := d.ok(t, "list_drive_items", nil)
			if names := itemNames(t, listing); len(names) != 1 || names[0] != "before.txt" {
				t.Fatalf("after Google came back alice sees %v", names)
			}
			d.create(t, map[string]any{"file_name": "after.txt", "content": "y"})
			if n := d.g.Stats().TokenRequests["authorization_code"]; n != 1 {
				t.Fatalf("%d consents: the grant was not kept", n)
			}
		})
	}
}

// A short outage of the token endpoint in the middle of an upload is
// ridden out: the uploader retries, and one file arrives.
func TestFaults_TokenEndpointBlipDuringAnUploadIsRiddenOut(t *testing.T) {
	d := startDrive(t)
	path, wantMD5 := e2etest.WriteRandomFile(t, d.root, "blip.bin", 3<<20)
	d.g.ExpireAccessTokens()
	d.g.InjectFault(googleemu.Fault{PathPrefix: "/token", Status: 503, Times: 2})
	out := d.ok(t, "upload_file_to_drive", map[string]any{"filepath": path})
	if out["md5"] != wantMD5 {
		t.Fatalf("upload = %v", out)
	}
	if files := e2etest.FilesNamed(d.g, "blip.bin"); len(files) != 1 {
		t.Fatalf("Drive has %d files named blip.bin", len(files))
	}
}

// Google answers invalid_grant (alice revoked drivemcp, or changed her
// password): calls fail at once with the way out, check_drive_auth says the
// account needs consent again, and a new consent repairs it.
func TestFaults_InvalidGrantAsksForConsentAgain(t *testing.T) {
	d := startDrive(t)
	path, _ := e2etest.WriteRandomFile(t, d.root, "after-revoke.bin", 1<<20)
	d.g.ExpireAccessTokens()
	d.g.InjectFault(googleemu.Fault{PathPrefix: "/token", Status: 400, Reason: "invalid_grant"})

	start := time.Now()
	d.mustFail(t, "upload_file_to_drive", map[string]any{"filepath": path}, "start_google_auth", "force")
	if took := time.Since(start); took > 3*time.Second {
		t.Fatalf("the upload took %v to give up: it retried an invalid_grant", took)
	}
	d.mustFail(t, "list_drive_items", nil, "start_google_auth", "force")
	who := d.ok(t, "check_drive_auth", nil)
	if who["authenticated"] != false || who["needs_reconsent"] != true || !strings.Contains(who["message"].(string), "start_google_auth") {
		t.Fatalf("check_drive_auth after invalid_grant = %v", who)
	}
	if n := len(e2etest.FilesNamed(d.g, "after-revoke.bin")); n != 0 {
		t.Fatalf("%d files were created without a grant", n)
	}

	res := d.ok(t, "start_google_auth", map[string]any{"user_google_email": "alice@example.com", "force": true})
	if status, page := e2etest.Consent(t, res["auth_url"].(string)); status != 200 || !strings.Contains(page, "alice@example.com") {
		t.Fatalf("re-consent: %d %s", status, page)
	}
	if who := d.ok(t, "check_drive_auth", nil); who["authenticated"] != true {
		t.Fatalf("after re-consent check_drive_auth = %v", who)
	}
	d.ok(t, "upload_file_to_drive", map[string]any{"filepath": path})
}

// A gibibyte goes up while Drive fails about every 100 MiB: connections cut
// mid-transfer, 5xx and 429 answers (one with Retry-After), and a status
// query that fails too. The upload resumes each time from what Drive
// confirmed, sends almost nothing twice, and makes one file with the
// right bytes.
func TestFaults_OneGiBUploadThroughAFaultEvery100MiB(t *testing.T) {
	const size = 1 << 30
	g := e2etest.StartGoogleOnDisk(t, t.TempDir())
	root := t.TempDir()
	s := e2etest.StartStdio(t, e2etest.Config{Binary: binary, DB: filepath.Join(t.TempDir(), "drivemcp.db"), UploadRoots: []string{root}, Google: g})
	e2etest.Connect(t, s.Session, "alice@example.com")
	path, wantMD5 := e2etest.WriteRandomFile(t, root, "gigabyte.bin", size)

	// After every failure the uploader asks the session where it stands (a
	// PUT without a body) before it sends again; pass lets that query
	// through, so each fault below lands on the request it is meant for.
	const upload = "/upload/drive/v3/files"
	pass := googleemu.Fault{Method: "PUT", PathPrefix: upload, Latency: time.Nanosecond}
	cut := googleemu.Fault{Method: "PUT", PathPrefix: upload, DropAfterBytes: 100 << 20}
	status := func(code int, retryAfter time.Duration) googleemu.Fault {
		return googleemu.Fault{Method: "PUT", PathPrefix: upload, Status: code, RetryAfter: retryAfter}
	}
	script := []googleemu.Fault{
		cut, pass, status(503, 0), status(503, 0), pass, // the query after the 503 fails too
		cut, pass, status(429, time.Second), pass,
		cut, pass, status(500, 0), pass,
		cut, pass, cut, pass, status(502, 0), pass,
		cut, pass, cut, pass, status(503, 0), pass,
		cut, pass, cut, pass, cut, pass, // 1000 MiB confirmed; the rest goes through
	}
	g.InjectFault(googleemu.Fault{Method: "POST", PathPrefix: upload, Status: 503}) // starting the session fails once
	for _, f := range script {
		g.InjectFault(f)
	}

	start := time.Now()
	out := e2etest.Structured(t, e2etest.MustCall(t, s.Session, "upload_file_to_drive", map[string]any{"filepath": path}))
	took := time.Since(start)
	if out["md5"] != wantMD5 || out["size"] != float64(size) {
		t.Fatalf("upload = %v, want md5 %s", out, wantMD5)
	}
	files := e2etest.FilesNamed(g, "gigabyte.bin")
	if len(files) != 1 {
		t.Fatalf("Drive has %d files named gigabyte.bin, want 1", len(files))
	}
	if n, sum := e2etest.DriveFileMD5(t, g, files[0].ID); n != size || sum != wantMD5 {
		t.Fatalf("Drive holds %d bytes with md5 %s", n, sum)
	}
	faults := 1 // the session start
	for _, f := range script {
		if f.Latency == 0 {
			faults++
		}
	}
	sent := g.Stats().UploadBytesReceived
	ratio := float64(sent) / size
	t.Logf("1 GiB through %d faults: %.3f× the file's bytes reached Drive, in %v (%.0f MiB/s)",
		faults, ratio, took.Round(time.Millisecond), size/took.Seconds()/(1<<20))
	if ratio > 1.05 {
		t.Fatalf("Drive received %d bytes for a %d-byte file: %.2f×", sent, size, ratio)
	}
	if strings.Count(s.Stderr(), `"msg":"uploaded"`) != 1 || !strings.Contains(s.Stderr(), `"retries":`) {
		t.Fatalf("the server did not log one upload with its retries")
	}
}

// Drive forgot the upload session (it expired, or Drive lost it: 404). The
// uploader starts a new session from the first byte; the old one, never
// finished, leaves nothing behind, so there is still one file.
func TestFaults_ExpiredUploadSessionStartsOverAndMakesOneFile(t *testing.T) {
	d := startDrive(t)
	const size = 20 << 20
	path, wantMD5 := e2etest.WriteRandomFile(t, d.root, "expired.bin", size)
	d.g.InjectFault(googleemu.Fault{Method: "PUT", PathPrefix: "/upload/drive/v3/files", DropAfterBytes: 8 << 20})
	d.g.InjectFault(googleemu.Fault{Method: "PUT", PathPrefix: "/upload/drive/v3/files", Status: 404, Reason: "notFound"})
	out := d.ok(t, "upload_file_to_drive", map[string]any{"filepath": path})
	if out["md5"] != wantMD5 {
		t.Fatalf("upload = %v", out)
	}
	files := e2etest.FilesNamed(d.g, "expired.bin")
	if len(files) != 1 {
		t.Fatalf("Drive has %d files named expired.bin, want 1", len(files))
	}
	if n, sum := e2etest.DriveFileMD5(t, d.g, files[0].ID); n != size || sum != wantMD5 {
		t.Fatalf("Drive holds %d bytes with md5 %s", n, sum)
	}
	// The 8 MiB the lost session had, then the whole file again.
	if sent := d.g.Stats().UploadBytesReceived; sent < size+8<<20 || sent > size+9<<20 {
		t.Fatalf("Drive received %d bytes, want the lost 8 MiB and the file once more", sent)
	}
}
