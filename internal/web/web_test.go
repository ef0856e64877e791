package web

import (
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

func render(t *testing.T, f func(w http.ResponseWriter)) (*httptest.ResponseRecorder, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	f(rec)
	return rec, rec.Body.String()
}

func mustContain(t *testing.T, page string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(page, w) {
			t.Errorf("page lacks %s", w)
		}
	}
}

// The ids the browser tests and the scripted browser rely on.
func TestConsent_FormKeepsItsContract(t *testing.T) {
	p := NewPages()
	rec, page := render(t, func(w http.ResponseWriter) {
		p.RenderConsent(w, Consent{ClientName: "Inspector", ClientID: "mcp_abc", RedirectHost: "127.0.0.1:6274",
			Scopes: []string{"Upload files"}, ConsentID: "cid", CSRF: "tok", Action: "http://127.0.0.1:8080/oauth/consent"})
	})
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d", rec.Code)
	}
	mustContain(t, page,
		`<form id="consent" method="post" action="http://127.0.0.1:8080/oauth/consent">`,
		`name="consent_id" value="cid"`, `name="csrf" value="tok"`,
		`id="allow" name="decision" value="allow"`, `id="deny" name="decision" value="deny"`,
		`id="remember" name="remember"`, `<label class="check" for="remember">`,
		`id="redirect-host">127.0.0.1:6274<`, `id="client-name">Inspector<`,
		`An application on this computer.`, `Name not verified`, `<html lang="en">`,
	)
	if strings.Contains(page, "<img") {
		t.Error("a logo without LogoURI")
	}
}

// A client chooses its own name and logo: both are data, never markup, and
// the page loads nothing but an https logo.
func TestConsent_ClientControlledFieldsAreEscaped(t *testing.T) {
	p := NewPages()
	_, page := render(t, func(w http.ResponseWriter) {
		p.RenderConsent(w, Consent{ClientName: `<script>alert(1)</script>Evil`, LogoURI: "https://example.com/logo.png",
			RedirectHost: "evil.example", Verified: true, ClientID: "https://evil.example/client.json"})
	})
	if strings.Contains(page, "<script>") {
		t.Fatal("client name rendered as markup")
	}
	mustContain(t, page, `&lt;script&gt;`, `src="https://example.com/logo.png"`, `Identified by its own web address`)
	if strings.Contains(page, "An application on this computer") {
		t.Error("a remote redirect host called local")
	}
	if n := len(regexp.MustCompile(`(src|href)=`).FindAllString(page, -1)); n != 1 {
		t.Errorf("page references %d URLs, want only the logo", n)
	}
}

func TestConnected_ShowsAccountAndNextStep(t *testing.T) {
	p := NewPages()
	_, page := render(t, func(w http.ResponseWriter) {
		p.RenderConnected(w, Connected{Email: "a@example.com", Via: "your assistant's session", Client: "Claude", Note: "Heads up."})
	})
	mustContain(t, page, `id="account">a@example.com<`, `<strong>Claude</strong>`, `Go back to Claude`, `You can close this window.`, `Heads up.`)
}

func TestError_ReferenceAndHeaders(t *testing.T) {
	p := NewPages()
	rec, page := render(t, func(w http.ResponseWriter) {
		p.RenderError(w, Error{Title: "Sign-in link expired", Message: "It took too long.", NextStep: "Start again.", Reference: "ref123"})
	})
	if rec.Code != http.StatusBadRequest {
		t.Errorf("default status %d, want 400", rec.Code)
	}
	mustContain(t, page, `id="message">It took too long.<`, `id="reference">ref123<`, `Start again.`)
	h := rec.Header()
	if h.Get("X-Frame-Options") != "DENY" || !strings.Contains(h.Get("Content-Security-Policy"), "frame-ancestors 'none'") {
		t.Errorf("framing not forbidden: %v", h)
	}
	if h.Get("Cache-Control") != "no-store" || h.Get("Referrer-Policy") != "no-referrer" {
		t.Errorf("headers: %v", h)
	}
}

func TestInitialAndLoopback(t *testing.T) {
	for in, want := range map[string]string{"claude": "C", " évian": "É", "": "?"} {
		if got := initial(in); got != want {
			t.Errorf("initial(%q) = %q, want %q", in, got, want)
		}
	}
	for host, want := range map[string]bool{"127.0.0.1:80": true, "[::1]:9": true, "localhost:3000": true, "localhost": true, "example.com": false, "10.0.0.1:80": false, "com.example.app:": false} {
		if got := onThisComputer(host); got != want {
			t.Errorf("onThisComputer(%q) = %v", host, got)
		}
	}
}

// The consent page loads no image but a verified logo, and then only from
// the logo's origin; its form's POST must carry a real Origin, so its
// Referrer-Policy is same-origin (no-referrer makes browsers send "null").
func TestConsent_ImagesOnlyFromTheLogoOriginAndOriginKept(t *testing.T) {
	p := NewPages()
	for logo, want := range map[string]string{
		"":                                "img-src 'none';",
		"https://app.example.com/l.png":   "img-src https://app.example.com;",
		"http://app.example.com/l.png":    "img-src 'none';",
		"javascript:alert(1)":             "img-src 'none';",
		"https://app.example.com:8443/lg": "img-src https://app.example.com:8443;",
	} {
		rec, page := render(t, func(w http.ResponseWriter) {
			p.RenderConsent(w, Consent{ClientName: "App", LogoURI: logo, Verified: true, ClientHost: "app.example.com"})
		})
		if csp := rec.Header().Get("Content-Security-Policy"); !strings.Contains(csp, want) {
			t.Errorf("logo %q: CSP %q, want %s", logo, csp, want)
		}
		if want == "img-src 'none';" && strings.Contains(page, "<img") {
			t.Errorf("logo %q rendered", logo)
		}
		if rp := rec.Header().Get("Referrer-Policy"); rp != "same-origin" {
			t.Errorf("consent Referrer-Policy %q", rp)
		}
	}
}
