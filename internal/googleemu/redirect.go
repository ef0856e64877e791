package googleemu

import (
	"net"
	"net/url"
	"slices"
	"strconv"
)

// ClientType is the application type an OAuth client was created with in
// the Google Cloud console; it decides which redirect URIs Google accepts.
type ClientType string

const (
	// ClientWeb is a "Web application" client (the "web" key of its client
	// secrets JSON).
	ClientWeb ClientType = "web"
	// ClientInstalled is a "Desktop app" client (the "installed" key).
	ClientInstalled ClientType = "installed"
)

// Registration is an OAuth client as registered in the Google Cloud console.
type Registration struct {
	Secret string
	Type   ClientType
	// RedirectURIs are a web client's "Authorized redirect URIs". Desktop
	// clients register none: they may use any loopback port.
	RedirectURIs []string
}

// allowsRedirect applies Google's rules for the client's type.
//
// Web application clients follow "Using OAuth 2.0 for Web Server
// Applications" (developers.google.com/identity/protocols/oauth2/web-server,
// "redirect_uri"): the value must exactly match one of the authorized
// redirect URIs configured in the console, scheme, case and trailing slash
// included, or Google answers redirect_uri_mismatch.
//
// Desktop app clients follow "OAuth 2.0 for Mobile & Desktop Apps"
// (developers.google.com/identity/protocols/oauth2/native-app, "Loopback IP
// address"): http://127.0.0.1:port or http://[::1]:port, where port is the
// one the app listens on at that moment, any port, as RFC 8252 §7.3
// requires of the authorization server. The emulator also refuses port 0
// and a missing port, which no listener can have: a client that sends one
// has not built the URI from its real listener.
func (r Registration) allowsRedirect(raw string) bool {
	if r.Type == ClientWeb {
		return slices.Contains(r.RedirectURIs, raw)
	}
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "http" || u.User != nil {
		return false
	}
	ip := net.ParseIP(u.Hostname())
	if ip == nil || !ip.IsLoopback() || (ip.To4() != nil && !ip.Equal(net.IPv4(127, 0, 0, 1))) {
		return false
	}
	port, err := strconv.Atoi(u.Port())
	return err == nil && port > 0 && port < 65536
}

// mismatch is the sentence of Google's "Error 400: redirect_uri_mismatch" page.
func (r Registration) mismatch(raw string) string {
	if r.Type == ClientWeb {
		return "You can't sign in to this app because it doesn't comply with Google's OAuth 2.0 policy. " +
			"The redirect URI in the request, " + raw + ", does not match the ones authorized for the OAuth client."
	}
	return "The redirect URI in the request, " + raw + ", is not a loopback IP address with the port the app listens on " +
		"(http://127.0.0.1:PORT or http://[::1]:PORT), which a Desktop app client must use."
}
