package googleemu

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/oauth2"
)

// FuzzContentRange: parseContentRange never panics, and what it accepts is
// a range a handler can act on: 0 ≤ first ≤ last, inside the total when one
// is given, and written back the same way it parses again.
func FuzzContentRange(f *testing.F) {
	for _, seed := range []string{
		"bytes 0-262143/*", "bytes 0-262143/1000000", "bytes 262144-524287/524288", "bytes */*", "bytes */0", "bytes */524288",
		"bytes 0-0/1", "bytes 5-4/10", "bytes 0-9/5", "bytes -1-5/10", "bytes 0--1/*", "bytes +0-+9/+10", "bytes 0-9/-1",
		"bytes 0-9223372036854775807/*", "bytes 9223372036854775807-9223372036854775807/*", "bytes 0-9223372036854775808/*",
		"bytes 0-1", "bytes=0-1/2", "BYTES 0-1/2", "  bytes   0-1/2  ", "bytes 0-1/2/3", "bytes 0x0-0x1/2", "bytes 1e3-2e3/*",
		"bytes 0-1,5-6/10", "bytes \u0660-\u0661/2", "", "bytes ", "bytes /", "bytes -/*",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, h string) {
		cr, err := parseContentRange(h)
		if err != nil {
			return
		}
		if cr.total < -1 {
			t.Fatalf("%q: total %d", h, cr.total)
		}
		if cr.query {
			if again, err := parseContentRange(fmt.Sprintf("bytes */%s", totalText(cr.total))); err != nil || again != cr {
				t.Fatalf("%q parsed as %+v, written back as %+v (%v)", h, cr, again, err)
			}
			return
		}
		if cr.first < 0 || cr.last < cr.first || (cr.total >= 0 && cr.last >= cr.total) {
			t.Fatalf("%q accepted as the impossible range %+v", h, cr)
		}
		again, err := parseContentRange(fmt.Sprintf("bytes %d-%d/%s", cr.first, cr.last, totalText(cr.total)))
		if err != nil || again != cr {
			t.Fatalf("%q parsed as %+v, written back as %+v (%v)", h, cr, again, err)
		}
	})
}

func totalText(total int64) string {
	if total < 0 {
		return "*"
	}
	return strconv.FormatInt(total, 10)
}

// FuzzResumableChunk sends one hostile chunk (any Content-Range, any body)
// to a resumable session, optionally after a first 256 KiB chunk was
// committed. The emulator answers 308, 200 or 400 and nothing else; bytes
// it acknowledged are never lost; it never holds more than the declared
// length; and a finished file holds exactly the bytes that were sent for it.
func FuzzResumableChunk(f *testing.F) {
	for _, seed := range []struct {
		contentRange string
		declared     int64
		prefill      bool
		body         string
	}{
		{"bytes 0-4/5", 5, false, "hello"},
		{"bytes 0-4/*", -1, false, "hello"},
		{"bytes 0-4/5", -1, false, "hello"},
		{"", 5, false, "hello"},
		{"", -1, false, "hello"},
		{"bytes */0", 0, false, ""},
		{"bytes */*", -1, true, ""},
		{"bytes */262144", -1, true, ""},
		{"bytes 262144-262148/262149", 262149, true, "world"},
		{"bytes 0-262148/262149", -1, true, strings.Repeat("x", 262149)},
		{"bytes 262140-262148/262149", -1, true, "overlapxx"},
		{"bytes 262145-262149/262150", -1, true, "gap!!"},
		{"bytes 0-4/5", 4, false, "hello"},
		{"bytes 0-9/10", -1, false, "short"},
		{"bytes 0-1/2", -1, false, "too long"},
		{"bytes 0-9223372036854775807/*", -1, false, ""},
		{"bytes 0-9223372036854775807/*", -1, true, "x"},
		{"bytes 0-262143/*", -1, false, "not a whole chunk"},
		{"bytes 0-0/1", 1, true, "x"},
	} {
		f.Add(seed.contentRange, seed.declared, seed.prefill, []byte(seed.body))
	}
	e, err := New(Options{})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { e.Close() })
	token := emulatorToken(f, e)
	prefill := bytes.Repeat([]byte{0xA5}, uploadChunkQuanta)

	f.Fuzz(func(t *testing.T, contentRange string, declared int64, withPrefill bool, body []byte) {
		if len(body) > 300<<10 || len(contentRange) > 200 {
			return
		}
		do := func(method, target string, header map[string]string, body []byte) *httptest.ResponseRecorder {
			req := httptest.NewRequest(method, target, bytes.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+token)
			for k, v := range header {
				req.Header[k] = []string{v}
			}
			rec := httptest.NewRecorder()
			e.ServeHTTP(rec, req)
			return rec
		}
		start := map[string]string{"Content-Type": "application/json", "X-Upload-Content-Type": "application/octet-stream"}
		if declared < 0 || declared > 1<<20 {
			declared = -1
		} else {
			start["X-Upload-Content-Length"] = strconv.FormatInt(declared, 10)
		}
		rec := do("POST", "/upload/drive/v3/files?uploadType=resumable", start, []byte(`{"name":"fuzz.bin"}`))
		if rec.Code != http.StatusOK {
			t.Fatalf("starting a session: %d %s", rec.Code, rec.Body)
		}
		loc, err := url.Parse(rec.Header().Get("Location"))
		if err != nil {
			t.Fatal(err)
		}
		session := loc.RequestURI()
		var committed int64
		sent := []byte{}
		if withPrefill && (declared < 0 || declared >= int64(len(prefill))) {
			total := "*"
			if declared >= 0 {
				total = strconv.FormatInt(declared, 10)
			}
			rec := do("PUT", session, map[string]string{"Content-Range": fmt.Sprintf("bytes 0-%d/%s", len(prefill)-1, total)}, prefill)
			if rec.Code != http.StatusPermanentRedirect && rec.Code != http.StatusOK {
				t.Fatalf("the first chunk: %d %s", rec.Code, rec.Body)
			}
			if rec.Code == http.StatusOK { // declared == 256 KiB: done
				return
			}
			committed = int64(len(prefill))
			sent = prefill
		}

		header := map[string]string{}
		if contentRange != "" {
			header["Content-Range"] = contentRange
		}
		rec = do("PUT", session, header, body)
		switch rec.Code {
		case http.StatusOK, http.StatusPermanentRedirect, http.StatusBadRequest:
		default:
			t.Fatalf("Content-Range %q with %d bytes: %d %s", contentRange, len(body), rec.Code, rec.Body)
		}

		// Where does the session stand? A status query says.
		rec = do("PUT", session, map[string]string{"Content-Range": "bytes */*"}, nil)
		switch rec.Code {
		case http.StatusPermanentRedirect:
			now := int64(0)
			if r := rec.Header().Get("Range"); r != "" {
				var last int64
				if _, err := fmt.Sscanf(r, "bytes=0-%d", &last); err != nil {
					t.Fatalf("Range %q", r)
				}
				now = last + 1
			}
			if now < committed {
				t.Fatalf("Content-Range %q: acknowledged bytes lost (%d, then %d)", contentRange, committed, now)
			}
			if declared >= 0 && now > declared {
				t.Fatalf("Content-Range %q: %d bytes held, %d declared", contentRange, now, declared)
			}
		case http.StatusOK:
			var file struct {
				ID string `json:"id"`
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &file); err != nil || file.ID == "" {
				t.Fatalf("finished session answered %s", rec.Body)
			}
			content := fileContent(t, e, file.ID)
			if declared >= 0 && int64(len(content)) != declared {
				t.Fatalf("Content-Range %q: a file of %d bytes, %d declared", contentRange, len(content), declared)
			}
			if !bytes.HasPrefix(content, sent) {
				t.Fatalf("Content-Range %q: the file lost its first chunk", contentRange)
			}
			rest := content[len(sent):]
			first := committed
			if cr, err := parseContentRange(contentRange); err == nil && !cr.query {
				first = cr.first
			}
			skip := committed - first
			if len(rest) > 0 && (skip < 0 || skip+int64(len(rest)) > int64(len(body)) || !bytes.Equal(rest, body[skip:skip+int64(len(rest))])) {
				t.Fatalf("Content-Range %q: the file holds bytes that were not sent at their place", contentRange)
			}
		default:
			t.Fatalf("status query: %d %s", rec.Code, rec.Body)
		}
	})
}

func fileContent(t *testing.T, e *Emulator, id string) []byte {
	t.Helper()
	rc, err := e.OpenContent(id)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// emulatorToken logs alice in at e (authorization code with PKCE) and
// returns a Drive access token.
func emulatorToken(tb testing.TB, e *Emulator) string {
	tb.Helper()
	srv := httptest.NewServer(e)
	defer srv.Close()
	cfg := oauthConfig(srv.URL)
	verifier := oauth2.GenerateVerifier()
	resp, err := noRedirect.Get(cfg.AuthCodeURL("st", oauth2.S256ChallengeOption(verifier), oauth2.SetAuthURLParam("login_hint", "alice@example.com")))
	if err != nil {
		tb.Fatal(err)
	}
	resp.Body.Close()
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || loc.Query().Get("code") == "" {
		tb.Fatalf("authorize: %s %q", resp.Status, resp.Header.Get("Location"))
	}
	tok, err := cfg.Exchange(context.Background(), loc.Query().Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		tb.Fatal(err)
	}
	return tok.AccessToken
}
