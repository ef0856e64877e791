package googleemu

import (
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"google.golang.org/api/drive/v3"
	"google.golang.org/api/googleapi"
)

// Drive's about.importFormats: text/plain becomes a Doc only; Sheets come
// from CSV and TSV; Markdown and HTML become Docs.
func TestAbout_ImportFormatsAreDrivesImportMap(t *testing.T) {
	_, srv := start(t, Options{})
	svc := driveFor(t, srv, "alice@example.com")
	about, err := svc.About.Get().Fields("importFormats,exportFormats").Do()
	if err != nil {
		t.Fatal(err)
	}
	for src, want := range map[string][]string{
		"text/plain":                {mimeDocument},
		"text/markdown":             {mimeDocument},
		"text/html":                 {mimeDocument},
		"text/csv":                  {mimeSpreadsheet},
		"text/tab-separated-values": {mimeSpreadsheet},
	} {
		if got := about.ImportFormats[src]; !slices.Equal(got, want) {
			t.Errorf("importFormats[%s] = %v, want %v", src, got, want)
		}
	}
	if len(about.ExportFormats[mimeSpreadsheet]) == 0 {
		t.Error("no exportFormats for Sheets")
	}
}

// Drive refuses to turn media into a Google type its import map does not
// list for it (text/plain into a Sheet), with a 400 the Go client decodes;
// LenientImports lets it through.
func TestUpload_GoogleRefusesConversionNotInImportFormats(t *testing.T) {
	for _, lenient := range []bool{false, true} {
		_, srv := start(t, Options{LenientImports: lenient})
		svc := driveFor(t, srv, "alice@example.com")
		_, err := svc.Files.Create(&drive.File{Name: "Budget", MimeType: mimeSpreadsheet}).
			Media(strings.NewReader("a,b\n"), googleapi.ContentType("text/plain")).Do()
		var gerr *googleapi.Error
		switch {
		case lenient && err != nil:
			t.Errorf("lenient: %v", err)
		case !lenient && (!errors.As(err, &gerr) || gerr.Code != http.StatusBadRequest || len(gerr.Errors) == 0 || gerr.Errors[0].Reason != "badRequest"):
			t.Errorf("multipart text/plain → Sheet: %v, want Drive's 400 badRequest", err)
		}
		// A resumable session is refused when it starts, before any byte.
		u := newRawUpload(t, srv)
		resp, body := u.must("POST", srv.URL+"/upload/drive/v3/files?uploadType=resumable", map[string]string{
			"Content-Type": "application/json; charset=UTF-8", "X-Upload-Content-Type": "text/plain"},
			[]byte(`{"name":"Budget","mimeType":"`+mimeSpreadsheet+`"}`))
		if want := map[bool]int{false: http.StatusBadRequest, true: http.StatusOK}[lenient]; resp.StatusCode != want {
			t.Errorf("lenient %v: resumable text/plain → Sheet: %d %s, want %d", lenient, resp.StatusCode, body, want)
		}
		f, err := svc.Files.Create(&drive.File{Name: "Budget", MimeType: mimeSpreadsheet}).
			Media(strings.NewReader("a,b\n"), googleapi.ContentType("text/csv")).Fields("id,mimeType,md5Checksum").Do()
		if err != nil || f.MimeType != mimeSpreadsheet {
			t.Fatalf("text/csv → Sheet: %+v %v", f, err)
		}
		// Google Workspace files have no md5Checksum.
		if f.Md5Checksum != "" {
			t.Errorf("a Sheet has md5Checksum %q", f.Md5Checksum)
		}
	}
}

// A session request that carries a dead access token is refused with 401
// before anything is read; the session keeps its bytes.
func TestResumable_DeadTokenOnSessionIsRefusedWith401(t *testing.T) {
	for _, lax := range []bool{false, true} {
		e, srv := start(t, Options{UploadSessionsIgnoreAuthorization: lax})
		u := newRawUpload(t, srv)
		s := u.start("a.bin", 2*kib256)
		if resp, _ := u.chunk(s, payload(kib256), 0, "*"); resp.StatusCode != http.StatusPermanentRedirect {
			t.Fatalf("first chunk: %d", resp.StatusCode)
		}
		e.ExpireAccessTokens()
		resp, body := u.status(s, "*")
		want := http.StatusUnauthorized
		if lax {
			want = http.StatusPermanentRedirect
		}
		if resp.StatusCode != want {
			t.Fatalf("lax %v: status query with a dead token: %d %s, want %d", lax, resp.StatusCode, body, want)
		}
	}
}

// Refresh tokens of an app in Google's "Testing" status expire after 7
// days with invalid_grant, which x/oauth2 reports as a RetrieveError; the
// default (a published app) keeps them.
func TestToken_GoogleTestingModeRefreshTokenExpiresAfterSevenDays(t *testing.T) {
	for _, maxAge := range []time.Duration{0, 7 * 24 * time.Hour} {
		e, srv := start(t, Options{RefreshTokenMaxAge: maxAge})
		cfg := oauthConfig(srv.URL)
		tok := login(t, cfg, "alice@example.com")
		refresh := func() error {
			_, err := cfg.TokenSource(t.Context(), &oauth2.Token{RefreshToken: tok.RefreshToken}).Token()
			return err
		}
		if err := refresh(); err != nil {
			t.Fatalf("maxAge %v: a fresh refresh token refused: %v", maxAge, err)
		}
		e.mu.Lock()
		e.now = func() time.Time { return time.Now().Add(7*24*time.Hour + time.Minute) }
		e.mu.Unlock()
		err := refresh()
		var re *oauth2.RetrieveError
		switch {
		case maxAge == 0 && err != nil:
			t.Errorf("a published app's 7-day-old refresh token refused: %v", err)
		case maxAge > 0 && (!errors.As(err, &re) || re.ErrorCode != "invalid_grant"):
			t.Errorf("a Testing app's 7-day-old refresh token: %v, want invalid_grant", err)
		}
	}
}
