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
	"strings"
	"unicode"
	"unicode/utf8"
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
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
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
}

// Consent is the page where a person approves an MCP client.
type Consent struct {
	ClientName   string
	ClientID     string
	LogoURI      string // only an https logo from the client's metadata
	RedirectHost string
	Scopes       []string // plain-words descriptions
	ConsentID    string
	CSRF         string
	Action       string
	// Verified is true for clients identified by a metadata document at an
	// https URL they control; self-registered names are unverified claims.
	Verified bool
}

// RenderConsent writes the consent page.
func (p *Pages) RenderConsent(w http.ResponseWriter, data Consent) {
	p.render(w, http.StatusOK, "consent.html", data)
}

// RenderConnected writes the connected page.
func (p *Pages) RenderConnected(w http.ResponseWriter, data Connected) {
	p.render(w, http.StatusOK, "connected.html", data)
}

// RenderError writes an error page with its status.
func (p *Pages) RenderError(w http.ResponseWriter, data Error) {
	if data.Status == 0 {
		data.Status = http.StatusBadRequest
	}
	p.render(w, data.Status, "error.html", data)
}

func (p *Pages) render(w http.ResponseWriter, status int, name string, data any) {
	var buf bytes.Buffer
	if err := p.t.ExecuteTemplate(&buf, name, data); err != nil {
		// Templates are fixed at build time; a failure is a bug, not input.
		slog.Error("rendering page", "page", name, "err", err)
		http.Error(w, "internal error rendering page", http.StatusInternalServerError)
		return
	}
	SecurityHeaders(w.Header())
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// SecurityHeaders forbids framing (clickjacking of consent), sniffing and
// referrer leaks of codes in URLs, and any script or style from elsewhere.
func SecurityHeaders(h http.Header) {
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src https: data:; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-store")
}
