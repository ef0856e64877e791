// Package web renders the few HTML pages people see in their browser: the
// consent page of the OAuth flow, the "connected" page after a direct
// Google login, and error pages. Templates are embedded and self-contained
// (no external assets, no script), so the pages work on a machine without
// network, leak nothing to third parties, and fit a strict CSP.
package web

import (
	"bytes"
	"embed"
	"html/template"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/drivemcp/drivemcp/internal/loopback"
)

//go:embed templates/*.html
var files embed.FS

// Pages renders drivemcp's HTML pages.
type Pages struct {
	t *template.Template
}

// NewPages parses the embedded templates.
func NewPages() *Pages {
	funcs := template.FuncMap{"initial": initial, "onThisComputer": onThisComputer}
	return &Pages{t: template.Must(template.New("pages").Funcs(funcs).ParseFS(files, "templates/*.html"))}
}

// initial is the letter shown in place of a logo for clients without one.
func initial(name string) string {
	r, _ := utf8.DecodeRuneInString(strings.TrimSpace(name))
	if r == utf8.RuneError || !unicode.IsPrint(r) {
		return "?"
	}
	return string(unicode.ToUpper(r))
}

// onThisComputer reports whether a redirect host is loopback, i.e. an
// application running on the person's own machine.
func onThisComputer(host string) bool {
	h, _, err := net.SplitHostPort(host)
	if err != nil {
		h = strings.Trim(host, "[]")
	}
	return loopback.IsHost(h)
}

// Connected is the page shown when a Google account has been connected.
type Connected struct {
	Email string
	// Via names what the login was for, e.g. "your MCP session".
	Via string
	// Client is the MCP client's name as it introduced itself (its
	// clientInfo), if known; the page then says which application to go back to.
	Client string
	// Scopes says in plain words what the grant lets drivemcp do (optional).
	Scopes []string
	// Note is an optional extra sentence (e.g. the account differs from the
	// one the user said they would use).
	Note string
}

// Error is an error page: what happened, what to do, and a reference that
// matches the server's log line.
type Error struct {
	Status    int
	Title     string
	Message   string
	NextStep  string
	Reference string
	// ReturnURL, if set, is a link back to the application (its verified
	// redirect URI carrying an OAuth error), so the person reads the page
	// first and the application is not left waiting; ReturnText labels it.
	ReturnURL  template.URL
	ReturnText string
}

// Consent is the page where a person approves an MCP client.
type Consent struct {
	ClientName string
	ClientID   string
	// LogoURI is shown only for a verified client, from the host that
	// identifies it; the page's CSP then allows images from that origin only.
	LogoURI string
	// ClientHost is the host of a verified client's metadata document URL,
	// shown beside the name: it, not the name, says who asks.
	ClientHost   string
	RedirectHost string
	Scopes       []string // plain-words descriptions
	ConsentID    string
	CSRF         string
	Action       string
	// Verified is true for clients identified by a metadata document at an
	// https URL they control; self-registered names are unverified claims.
	Verified bool
	// Remember pre-ticks "remember my answer": the browser carries a
	// remembered answer that was not used because the navigation came from
	// another page.
	Remember bool
}

// RenderConsent writes the consent page.
func (p *Pages) RenderConsent(w http.ResponseWriter, data Consent) {
	imgSrc := "'none'"
	if u, err := url.Parse(data.LogoURI); err == nil && data.LogoURI != "" && u.Scheme == "https" && u.Host != "" {
		imgSrc = "https://" + u.Host
	} else {
		data.LogoURI = ""
	}
	// Same-origin, not no-referrer: with no-referrer a browser sends
	// "Origin: null" on the form's POST, which the consent endpoint must
	// refuse (sandboxed frames and data: pages send it too). Other origins,
	// Google included, still get no referrer.
	p.render(w, http.StatusOK, "consent.html", data, imgSrc, "same-origin")
}

// RenderConnected writes the connected page.
func (p *Pages) RenderConnected(w http.ResponseWriter, data Connected) {
	p.render(w, http.StatusOK, "connected.html", data, "'none'", "no-referrer")
}

// RenderError writes an error page with its status.
func (p *Pages) RenderError(w http.ResponseWriter, data Error) {
	if data.Status == 0 {
		data.Status = http.StatusBadRequest
	}
	p.render(w, data.Status, "error.html", data, "'none'", "no-referrer")
}

// render writes a page; imgSrc is the CSP source list for its images and
// referrer its Referrer-Policy.
func (p *Pages) render(w http.ResponseWriter, status int, name string, data any, imgSrc, referrer string) {
	var buf bytes.Buffer
	if err := p.t.ExecuteTemplate(&buf, name, data); err != nil {
		// Templates are fixed at build time; a failure is a bug, not input.
		slog.Error("rendering page", "page", name, "err", err)
		http.Error(w, "internal error rendering page", http.StatusInternalServerError)
		return
	}
	securityHeaders(w.Header(), imgSrc)
	w.Header().Set("Referrer-Policy", referrer)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// SecurityHeaders forbids framing (clickjacking of consent), sniffing and
// referrer leaks of codes in URLs, and any script or style from elsewhere.
// No page loads an image but the consent page's verified logo.
func SecurityHeaders(h http.Header) { securityHeaders(h, "'none'") }

func securityHeaders(h http.Header, imgSrc string) {
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src "+imgSrc+"; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-store")
}
