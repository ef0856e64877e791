package googleemu

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"
	"google.golang.org/api/drive/v3"
	"google.golang.org/api/googleapi"
)

// These tests hold the emulator to Google's own description of Drive: the
// discovery document that ships with Google's Go client
// (google.golang.org/api/drive/v3/drive-api.json), read from the module
// cache at test time, never copied into this repository. A field the
// emulator invents, or sends with the wrong JSON type, fails here.

// discovery is the parts of a discovery document the checks read.
type discovery struct {
	Schemas   map[string]*schema `json:"schemas"`
	Resources map[string]struct {
		Methods map[string]struct {
			MediaUpload struct {
				MaxSize   string `json:"maxSize"`
				Protocols map[string]struct {
					Path string `json:"path"`
				} `json:"protocols"`
			} `json:"mediaUpload"`
		} `json:"methods"`
	} `json:"resources"`
}

type schema struct {
	Ref                  string             `json:"$ref"`
	Type                 string             `json:"type"`
	Format               string             `json:"format"`
	Properties           map[string]*schema `json:"properties"`
	Items                *schema            `json:"items"`
	AdditionalProperties *schema            `json:"additionalProperties"`
}

// driveDiscovery reads Drive v3's discovery document from the module cache
// of the google.golang.org/api version this module requires.
func driveDiscovery(t *testing.T) *discovery {
	t.Helper()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "google.golang.org/api").Output()
	if err != nil {
		t.Fatalf("finding google.golang.org/api in the module cache: %v", err)
	}
	b, err := os.ReadFile(filepath.Join(strings.TrimSpace(string(out)), "drive", "v3", "drive-api.json"))
	if err != nil {
		t.Fatalf("Drive's discovery document: %v", err)
	}
	var d discovery
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatal(err)
	}
	return &d
}

// conform reports every way v (decoded JSON) departs from schema s.
func (d *discovery) conform(path string, v any, s *schema) []string {
	if s.Ref != "" {
		ref, ok := d.Schemas[s.Ref]
		if !ok {
			return []string{path + ": unknown schema " + s.Ref}
		}
		s = ref
	}
	bad := func(want string) []string {
		return []string{fmt.Sprintf("%s: %T %v, Drive's schema says %s", path, v, v, want)}
	}
	switch s.Type {
	case "string":
		str, ok := v.(string)
		if !ok {
			return bad("string")
		}
		if s.Format == "int64" {
			if _, err := strconv.ParseInt(str, 10, 64); err != nil {
				return bad("an int64 in a string")
			}
		}
	case "boolean":
		if _, ok := v.(bool); !ok {
			return bad("boolean")
		}
	case "integer", "number":
		if _, ok := v.(float64); !ok {
			return bad(s.Type)
		}
	case "array":
		list, ok := v.([]any)
		if !ok {
			return bad("array")
		}
		var out []string
		for i, item := range list {
			out = append(out, d.conform(fmt.Sprintf("%s[%d]", path, i), item, s.Items)...)
		}
		return out
	case "object":
		m, ok := v.(map[string]any)
		if !ok {
			return bad("object")
		}
		var out []string
		for k, val := range m {
			p := s.Properties[k]
			if p == nil {
				p = s.AdditionalProperties
			}
			if p == nil {
				out = append(out, fmt.Sprintf("%s.%s: not in Drive's schema", path, k))
				continue
			}
			out = append(out, d.conform(path+"."+k, val, p)...)
		}
		return out
	}
	return nil
}

// getJSON fetches a Drive URL as the token's user and decodes the body.
func getJSON(t *testing.T, url, token string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	return resp.StatusCode, m
}

// Every field the emulator returns for a File, a FileList, About and a
// PermissionList exists in Drive's discovery schema with the right type.
func TestContract_ResourcesMatchDrivesDiscoverySchema(t *testing.T) {
	d := driveDiscovery(t)
	_, srv := start(t, Options{})
	tok := login(t, oauthConfig(srv.URL), "alice@example.com")
	token := tok.AccessToken
	client := oauthConfig(srv.URL).Client(t.Context(), tok)
	alice, err := drive.NewService(t.Context(), optionsFor(srv.URL, client)...)
	if err != nil {
		t.Fatal(err)
	}
	bin, err := alice.Files.Create(&drive.File{Name: "a.pdf"}).Media(strings.NewReader("%PDF-1.4"), googleapi.ContentType("application/pdf")).Do()
	if err != nil {
		t.Fatal(err)
	}
	doc, err := alice.Files.Create(&drive.File{Name: "Notes", MimeType: mimeDocument}).Media(strings.NewReader("# hi"), googleapi.ContentType("text/markdown")).Do()
	if err != nil {
		t.Fatal(err)
	}
	folder, err := alice.Files.Create(&drive.File{Name: "F", MimeType: mimeFolder}).Do()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := alice.Permissions.Create(bin.Id, &drive.Permission{Type: "anyone", Role: "reader"}).Do(); err != nil {
		t.Fatal(err)
	}
	base := srv.URL + "/drive/v3"
	for _, c := range []struct{ url, schema string }{
		{base + "/files/" + bin.Id + "?fields=*", "File"},
		{base + "/files/" + doc.Id + "?fields=*", "File"},
		{base + "/files/" + folder.Id + "?fields=*", "File"},
		{base + "/files?fields=*", "FileList"},
		{base + "/about?fields=*", "About"},
		{base + "/files/" + bin.Id + "/permissions?fields=*", "PermissionList"},
	} {
		status, body := getJSON(t, c.url, token)
		if status != http.StatusOK {
			t.Errorf("GET %s: %d %v", c.url, status, body)
			continue
		}
		for _, p := range d.conform(c.schema, body, &schema{Ref: c.schema}) {
			t.Error(p)
		}
	}
	// Docs Editors files have no md5Checksum, in Drive's words "only
	// applicable to files with binary content in Google Drive".
	if _, body := getJSON(t, base+"/files/"+doc.Id+"?fields=*", token); body["md5Checksum"] != nil {
		t.Errorf("a Google Doc has md5Checksum %v", body["md5Checksum"])
	}
	if _, body := getJSON(t, base+"/files/"+bin.Id+"?fields=*", token); body["md5Checksum"] == nil {
		t.Error("a binary file lacks md5Checksum")
	}
}

// The upload paths and the size limit the emulator serves are the ones
// Drive's discovery document gives files.create.
func TestContract_UploadEndpointsAreDrivesMediaUpload(t *testing.T) {
	d := driveDiscovery(t)
	create := d.Resources["files"].Methods["create"].MediaUpload
	if got := create.Protocols["simple"].Path; got != "/upload/drive/v3/files" {
		t.Errorf("Drive's simple upload path is %q; the emulator and drivemcp use /upload/drive/v3/files", got)
	}
	_, srv := start(t, Options{})
	tok := login(t, oauthConfig(srv.URL), "alice@example.com")
	_, about := getJSON(t, srv.URL+"/drive/v3/about?fields=maxUploadSize", tok.AccessToken)
	if about["maxUploadSize"] != create.MaxSize {
		t.Errorf("about.maxUploadSize %v, Drive's files.create maxSize %s", about["maxUploadSize"], create.MaxSize)
	}
	// The resumable protocol's headers: the session URI comes back in
	// Location, and an incomplete session answers 308 with a Range.
	u := newRawUpload(t, srv)
	s := u.start("r.bin", 2*kib256)
	if !strings.Contains(s, "upload_id=") {
		t.Errorf("session URI %q has no upload_id", s)
	}
	resp, _ := u.chunk(s, payload(kib256), 0, strconv.Itoa(2*kib256))
	if resp.StatusCode != http.StatusPermanentRedirect || resp.Header.Get("Range") != fmt.Sprintf("bytes=0-%d", kib256-1) {
		t.Errorf("incomplete session: %d Range %q, want 308 bytes=0-%d", resp.StatusCode, resp.Header.Get("Range"), kib256-1)
	}
}

// Every error the emulator sends decodes, through Google's own client,
// into a googleapi.Error with the status, a message and errors[].reason;
// any details carry their @type, as google.rpc.Status details do.
func TestContract_ErrorBodiesDecodeIntoGoogleapiError(t *testing.T) {
	e, srv := start(t, Options{})
	svc := driveFor(t, srv, "alice@example.com")
	calls := map[string]func() error{
		"notFound": func() error { _, err := svc.Files.Get("1nope").Do(); return err },
		"invalid":  func() error { _, err := svc.Files.List().PageSize(5000).Do(); return err },
		"required": func() error { _, err := svc.About.Get().Do(); return err },
		"conversion": func() error {
			_, err := svc.Files.Create(&drive.File{Name: "x", MimeType: mimeSpreadsheet}).Media(strings.NewReader("x"), googleapi.ContentType("text/plain")).Do()
			return err
		},
		"rateLimit": func() error {
			e.InjectFault(Fault{PathPrefix: "/drive/v3/files", Status: http.StatusForbidden, Reason: "userRateLimitExceeded"})
			_, err := svc.Files.List().Do()
			return err
		},
	}
	for name, call := range calls {
		err := call()
		var gerr *googleapi.Error
		if !errors.As(err, &gerr) {
			t.Errorf("%s: %v is not a googleapi.Error", name, err)
			continue
		}
		if gerr.Code < 400 || gerr.Message == "" || len(gerr.Errors) == 0 || gerr.Errors[0].Reason == "" {
			t.Errorf("%s: %+v lacks a code, message or errors[].reason", name, gerr)
		}
		for _, det := range gerr.Details {
			if m, ok := det.(map[string]any); !ok || m["@type"] == nil {
				t.Errorf("%s: detail %v has no @type", name, det)
			}
		}
	}
	// An OAuth 401 too: Drive's 401 carries reason authError.
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/drive/v3/files", nil)
	req.Header.Set("Authorization", "Bearer dead")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	gerr, ok := googleapi.CheckResponse(resp).(*googleapi.Error)
	resp.Body.Close()
	if !ok || gerr.Code != 401 || len(gerr.Errors) == 0 || gerr.Errors[0].Reason != "authError" || resp.Header.Get("WWW-Authenticate") == "" {
		t.Errorf("dead token: %+v, want 401 authError with WWW-Authenticate", gerr)
	}
}

// x/oauth2 reads the emulator's token responses as it reads Google's: with
// a refresh token on the first offline consent, an expiry and the scope;
// a refresh answers without a refresh token (Google does not rotate them)
// and the client keeps the one it had.
func TestContract_TokenResponsesParseWithXOAuth2(t *testing.T) {
	_, srv := start(t, Options{})
	cfg := oauthConfig(srv.URL)
	tok := login(t, cfg, "alice@example.com")
	if tok.AccessToken == "" || tok.RefreshToken == "" || tok.Expiry.IsZero() || !strings.EqualFold(tok.TokenType, "Bearer") {
		t.Fatalf("first offline consent: %+v", tok)
	}
	if scope, _ := tok.Extra("scope").(string); scope == "" {
		t.Error("no scope in the token response")
	}
	// The raw refresh response has no refresh_token.
	form := strings.NewReader("grant_type=refresh_token&refresh_token=" + tok.RefreshToken +
		"&client_id=" + cfg.ClientID + "&client_secret=" + cfg.ClientSecret)
	resp, err := http.Post(srv.URL+"/token", "application/x-www-form-urlencoded", form)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var body map[string]any
	if err := json.Unmarshal(raw, &body); err != nil || body["refresh_token"] != nil || body["access_token"] == nil || body["expires_in"] == nil {
		t.Errorf("refresh response %s: want access_token and expires_in, no refresh_token", raw)
	}
	fresh, err := cfg.TokenSource(t.Context(), &oauth2.Token{RefreshToken: tok.RefreshToken}).Token()
	if err != nil || fresh.RefreshToken != tok.RefreshToken || fresh.AccessToken == tok.AccessToken {
		t.Errorf("x/oauth2 refresh: %+v %v", fresh, err)
	}
	// An error from the token endpoint is an RFC 6749 body x/oauth2 reads.
	_, err = cfg.TokenSource(t.Context(), &oauth2.Token{RefreshToken: "1//bogus"}).Token()
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) || re.ErrorCode != "invalid_grant" {
		t.Errorf("bogus refresh token: %v, want invalid_grant", err)
	}
}

// Shared drives, their items and expiring permissions render as Drive's
// discovery document describes them.
func TestContract_SharedDriveResourcesMatchDrivesDiscoverySchema(t *testing.T) {
	d := driveDiscovery(t)
	e, srv := start(t, Options{})
	cfg := oauthConfig(srv.URL, "openid", "email", scopeDrive)
	tok := login(t, cfg, "alice@example.com")
	alice, err := drive.NewService(t.Context(), optionsFor(srv.URL, cfg.Client(t.Context(), tok))...)
	if err != nil {
		t.Fatal(err)
	}
	id := e.AddSharedDrive("Team", map[string]string{"alice@example.com": "organizer"})
	f, err := alice.Files.Create(&drive.File{Name: "a.txt", Parents: []string{id}}).SupportsAllDrives(true).Media(strings.NewReader("a")).Do()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := alice.Permissions.Create(f.Id, &drive.Permission{Type: "user", Role: "reader", EmailAddress: "bob@example.com",
		ExpirationTime: "2099-01-01T00:00:00Z"}).SupportsAllDrives(true).Do(); err == nil {
		t.Error("an expiration more than a year ahead was accepted")
	}
	mine, err := alice.Files.Create(&drive.File{Name: "b.txt"}).Media(strings.NewReader("b")).Do()
	if err != nil {
		t.Fatal(err)
	}
	p, err := alice.Permissions.Create(mine.Id, &drive.Permission{Type: "user", Role: "reader", EmailAddress: "bob@example.com"}).SendNotificationEmail(false).Do()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := alice.Permissions.Update(mine.Id, p.Id, &drive.Permission{ExpirationTime: time.Now().Add(time.Hour).UTC().Format(time.RFC3339)}).Do(); err != nil {
		t.Fatal(err)
	}
	base := srv.URL + "/drive/v3"
	for _, c := range []struct{ url, schema string }{
		{base + "/drives?fields=*", "DriveList"},
		{base + "/files/" + f.Id + "?fields=*&supportsAllDrives=true", "File"},
		{base + "/files?fields=*&corpora=drive&driveId=" + id + "&includeItemsFromAllDrives=true&supportsAllDrives=true", "FileList"},
		{base + "/files/" + mine.Id + "/permissions?fields=*", "PermissionList"},
	} {
		status, body := getJSON(t, c.url, tok.AccessToken)
		if status != http.StatusOK {
			t.Errorf("GET %s: %d %v", c.url, status, body)
			continue
		}
		for _, p := range d.conform(c.schema, body, &schema{Ref: c.schema}) {
			t.Error(p)
		}
	}
}
