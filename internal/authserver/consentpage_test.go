package authserver

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/oauth2"
)

func (f *fixture) consentPage(t *testing.T, clientID string) (*http.Response, string) {
	t.Helper()
	q := f.authorizeParams(clientID, oauth2.GenerateVerifier())
	resp, err := noFollow.Get(f.base + "/oauth/authorize?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("consent page: %s %s", resp.Status, body)
	}
	return resp, string(body)
}

// A self-registered client chooses its logo_uri: loading it would let the
// client's server see every consent page view (a tracking pixel), and put
// pictures of someone else's brand next to an unverified name. No image is
// loaded for such a client, and the page's CSP allows none.
func TestConsent_UnverifiedClientLogoNeverLoaded(t *testing.T) {
	f := newFixture(t)
	resp, out := f.postJSON("/oauth/register", map[string]any{"client_name": "Google Drive", "redirect_uris": []string{testRedirect},
		"logo_uri": "https://tracker.example/pixel.png", "token_endpoint_auth_method": "none"})
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("register: %s %v", resp.Status, out)
	}
	resp, page := f.consentPage(t, out["client_id"].(string))
	if strings.Contains(page, "tracker.example") || strings.Contains(page, "<img") {
		t.Errorf("the consent page of an unverified client loads its logo")
	}
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "img-src 'none'") {
		t.Errorf("CSP lets the page load images: %q", csp)
	}
}

// A client identified by a metadata document at an https URL is known by
// that URL's host: the page shows it next to the name, where a person
// reads it, and a logo only from that same host (the CSP allows no other).
func TestConsent_MetadataDocumentHostShownNextToName(t *testing.T) {
	f := newFixture(t)
	h := newMetadataHost(t)
	docs, _ := h.documents(t)
	f.srv.cimd = docs
	u, _ := url.Parse(h.URL)
	for name, c := range map[string]struct {
		logo     string
		wantLogo bool
	}{
		"logo on the document's host": {h.URL + "/logo.png", true},
		"logo on another host":        {"https://tracker.example/pixel.png", false},
	} {
		path := "/" + strings.ReplaceAll(name, " ", "-") + ".json"
		id := h.URL + path
		h.handle(path, serveDocument(metadataDocument(id, map[string]any{"redirect_uris": []string{testRedirect}, "logo_uri": c.logo})))
		resp, page := f.consentPage(t, id)
		head := page[:strings.Index(page, `id="dest-label"`)]
		if !strings.Contains(head, `id="client-host">`+u.Host+`<`) {
			t.Errorf("%s: the document's host %s is not shown next to the name", name, u.Host)
		}
		csp := resp.Header.Get("Content-Security-Policy")
		if c.wantLogo {
			if !strings.Contains(page, `src="`+c.logo+`"`) || !strings.Contains(csp, "img-src https://"+u.Host+";") {
				t.Errorf("%s: logo or CSP: %q", name, csp)
			}
		} else if strings.Contains(page, "<img") || !strings.Contains(csp, "img-src 'none'") {
			t.Errorf("%s: a logo from another host is loaded (CSP %q)", name, csp)
		}
	}
}
