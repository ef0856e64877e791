package authserver

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/oauth2"
)

// consentForm loads a consent page with the given CSRF cookie (none: "")
// and returns the form to post and the cookie the browser then holds.
func (f *fixture) consentForm(t *testing.T, clientID, cookie string) (url.Values, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, f.base+"/oauth/authorize?"+f.authorizeParams(clientID, oauth2.GenerateVerifier()).Encode(), nil)
	if cookie != "" {
		req.AddCookie(&http.Cookie{Name: csrfCookie, Value: cookie})
	}
	resp, err := noFollow.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, c := range resp.Cookies() {
		if c.Name == csrfCookie {
			cookie = c.Value
		}
	}
	return url.Values{"consent_id": {between(string(body), `name="consent_id" value="`, `"`)},
		"csrf": {between(string(body), `name="csrf" value="`, `"`)}, "decision": {"allow"}}, cookie
}

func (f *fixture) postConsent(t *testing.T, form url.Values, cookie string, header map[string]string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, f.base+"/oauth/consent", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.AddCookie(&http.Cookie{Name: csrfCookie, Value: cookie})
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := noFollow.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

// Cookies ignore ports, so another web app on loopback can set
// drivemcp_csrf in the victim's browser to a value it chose, load the
// consent page with that value itself, and so know a matching token. Only
// nonces this server issued count: the planted one is replaced, and a form
// bound to it is refused.
func TestConsent_CSRFNonceChosenByAnotherAppRefused(t *testing.T) {
	f := newFixture(t)
	id := f.registerPublic()
	planted := randomToken(32)
	form, _ := f.consentForm(t, id, planted)
	resp := f.postConsent(t, form, planted, map[string]string{"Origin": f.base})
	if resp.StatusCode != http.StatusForbidden || resp.Header.Get("Location") != "" {
		t.Fatalf("a consent bound to a planted CSRF cookie: %s Location=%q", resp.Status, resp.Header.Get("Location"))
	}
	// The browser's own form, with the nonce the server issued, still works.
	form, cookie := f.consentForm(t, id, "")
	if resp := f.postConsent(t, form, cookie, map[string]string{"Origin": f.base}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("the genuine consent: %s", resp.Status)
	}
}

// A form posted from a sandboxed frame, a data: URL or a file has
// Origin: null; it is another site's page, never drivemcp's own form.
// Likewise a browser that sends no Origin but says the request is
// cross-site (Sec-Fetch-Site).
func TestConsent_OriginNullRefused(t *testing.T) {
	f := newFixture(t)
	id := f.registerPublic()
	for name, header := range map[string]map[string]string{
		"Origin: null":             {"Origin": "null"},
		"no Origin, cross-site":    {"Sec-Fetch-Site": "cross-site"},
		"no Origin, same-site app": {"Sec-Fetch-Site": "same-site"},
	} {
		form, cookie := f.consentForm(t, id, "")
		resp := f.postConsent(t, form, cookie, header)
		if resp.StatusCode != http.StatusForbidden || resp.Header.Get("Location") != "" {
			t.Errorf("%s: %s Location=%q", name, resp.Status, resp.Header.Get("Location"))
		}
	}
	form, cookie := f.consentForm(t, id, "")
	if resp := f.postConsent(t, form, cookie, map[string]string{"Sec-Fetch-Site": "same-origin"}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("a same-origin post without Origin: %s", resp.Status)
	}
}
