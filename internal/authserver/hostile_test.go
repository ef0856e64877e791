package authserver

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/drivemcp/drivemcp/internal/e2etest"
	"github.com/drivemcp/drivemcp/internal/store"
)

// hostileRequest is one malformed or malicious request to a login endpoint.
type hostileRequest struct {
	name        string // the attack
	method      string // default GET
	path        string // with its query
	contentType string
	body        string
	header      map[string]string
	basic       []string // user, password for HTTP Basic
	want        hostileAnswer
}

// hostileAnswer is what a safe answer looks like.
type hostileAnswer struct {
	status int
	// code is the RFC error: the JSON body's "error", or for a redirect to
	// the client the "error" parameter.
	code string
	page bool // an HTML error page (no redirect)
}

// jsonError is an RFC 6749 §5.2 / RFC 7591 §3.2.2 error body.
func jsonError(status int, code string) hostileAnswer {
	return hostileAnswer{status: status, code: code}
}

// errorPage is an HTML page for the person: no redirect anywhere.
func errorPage(status int) hostileAnswer {
	return hostileAnswer{status: status, page: true}
}

// backToClient is an RFC 6749 §4.1.2.1 error sent to the registered redirect URI.
func backToClient(code string) hostileAnswer {
	return hostileAnswer{status: http.StatusFound, code: code}
}

// plainStatus checks the status alone.
func plainStatus(status int) hostileAnswer {
	return hostileAnswer{status: status}
}

// hostileTarget holds the credentials and artefacts the attacks replay,
// forge or misuse.
type hostileTarget struct {
	f                *fixture
	public           string // a public client
	other            string // another public client
	confidential     string
	secret           string // the confidential client's
	verifier         string // PKCE verifier of every fresh code below
	spentCode        string // already redeemed
	freshCodes       []string
	access, refresh  string // the public client's tokens
	otherAccess      string // the other client's access token
	replayedCallback string // a Google callback already delivered once
	consentID        string // a consent page's id (not a Google state)
	answeredConsent  string // a consent form already posted once (Allow)
	answeredCookie   string // the CSRF cookie of the browser that posted it
	foreignToken     string // an access token for another resource

	// forwardedCallback is a Google callback of a login approved in one
	// browser, to be delivered by another (login CSRF).
	forwardedCallback string
}

func newHostileTarget(t *testing.T) *hostileTarget {
	f := newFixture(t)
	h := &hostileTarget{f: f}
	h.public, _ = f.register("none")
	h.other, _ = f.register("none")
	h.confidential, h.secret = f.register("client_secret_basic")
	h.access, h.refresh = f.tokens(h.public, "alice@example.com")
	h.otherAccess, _ = f.tokens(h.other, "bob@example.com")

	h.verifier = oauth2.GenerateVerifier()
	h.spentCode = f.login(h.public, h.verifier, "alice@example.com")
	if status, out := f.exchange(h.public, h.spentCode, h.verifier, nil); status != http.StatusOK {
		t.Fatalf("redeeming the code to replay: %d %v", status, out)
	}
	for range 4 {
		h.freshCodes = append(h.freshCodes, f.login(h.public, h.verifier, "alice@example.com"))
	}

	// A callback delivered once: the browser stops at Google's redirect back
	// to us, the test delivers it, and the attack delivers it again.
	browser := e2etest.NewBrowser("alice@example.com")
	back, err := browser.Run(context.Background(),
		f.base+"/oauth/authorize?"+f.authorizeParams(h.public, h.verifier).Encode(), f.base+"/oauth2callback")
	if err != nil {
		t.Fatal(err)
	}
	resp, err := browser.Open(context.Background(), back.String())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("first delivery of the callback: %s", resp.Status)
	}
	h.replayedCallback = back.RequestURI()
	forwarded, err := e2etest.NewBrowser("alice@example.com").Run(context.Background(),
		f.base+"/oauth/authorize?"+f.authorizeParams(h.public, h.verifier).Encode(), f.base+"/oauth2callback")
	if err != nil {
		t.Fatal(err)
	}
	h.forwardedCallback = forwarded.RequestURI()

	resp, err = http.Get(f.base + "/oauth/authorize?" + f.authorizeParams(h.public, h.verifier).Encode())
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if h.consentID = between(string(page), `name="consent_id" value="`, `"`); h.consentID == "" {
		t.Fatalf("no consent id on the consent page: %s", page)
	}

	// A consent form answered once, replayed by the same browser.
	h.answeredConsent, h.answeredCookie = h.answerConsent(t)

	h.foreignToken = "dmcp_at_" + randomToken(32)
	now := time.Now()
	if err := f.srv.store.CreateTokens(context.Background(), store.Token{
		Hash: hashToken(h.foreignToken), Kind: store.AccessToken, FamilyID: "foreign", ClientID: h.public, Email: "alice@example.com",
		Resource: "https://other-server.example/mcp", Scopes: []string{"drive.file"}, CreatedAt: now, ExpiresAt: now.Add(time.Hour),
	}); err != nil {
		t.Fatal(err)
	}
	return h
}

// answerConsent loads a consent page, allows it, and returns the form and
// the CSRF cookie that were accepted.
func (h *hostileTarget) answerConsent(t *testing.T) (form, cookie string) {
	t.Helper()
	resp, err := http.Get(h.f.base + "/oauth/authorize?" + h.f.authorizeParams(h.public, h.verifier).Encode())
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, c := range resp.Cookies() {
		if c.Name == csrfCookie {
			cookie = c.Value
		}
	}
	form = url.Values{"consent_id": {between(string(page), `name="consent_id" value="`, `"`)},
		"csrf": {between(string(page), `name="csrf" value="`, `"`)}, "decision": {"allow"}}.Encode()
	req, _ := http.NewRequest(http.MethodPost, h.f.base+"/oauth/consent", strings.NewReader(form))
	req.Header.Set("Content-Type", formType)
	req.AddCookie(&http.Cookie{Name: csrfCookie, Value: cookie})
	resp, err = noFollow.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || cookie == "" {
		t.Fatalf("answering the consent page: %s", resp.Status)
	}
	return form, cookie
}

// authorize is a valid authorization request for the public client, changed.
func (h *hostileTarget) authorize(change func(q url.Values)) string {
	q := h.f.authorizeParams(h.public, h.verifier)
	change(q)
	return "/oauth/authorize?" + q.Encode()
}

// authorizeRaw appends raw query text to a valid request without
// client_id and redirect_uri, so a case can repeat or mangle them.
func (h *hostileTarget) authorizeRaw(raw string) string {
	q := h.f.authorizeParams(h.public, h.verifier)
	q.Del("client_id")
	q.Del("redirect_uri")
	return "/oauth/authorize?" + q.Encode() + "&" + raw
}

func (h *hostileTarget) redirectTo(uri string) string {
	return h.authorize(func(q url.Values) { q.Set("redirect_uri", uri) })
}

func form(kv ...string) string {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Add(kv[i], kv[i+1])
	}
	return v.Encode()
}

func registration(redirects ...string) string {
	raw, _ := json.Marshal(map[string]any{"client_name": "Hostile", "redirect_uris": redirects, "token_endpoint_auth_method": "none"})
	return string(raw)
}

const formType = "application/x-www-form-urlencoded"

// TestHostileRequests sends every login endpoint malformed and malicious
// requests. Each must be answered quickly with the error the RFCs name and
// a 4xx status, and none may redirect anywhere but a registered redirect URI.
func TestHostileRequests(t *testing.T) {
	h := newHostileTarget(t)
	twoMB := strings.Repeat("a", 2<<20)
	deepJSON := strings.Repeat("[", 20000) + strings.Repeat("]", 20000)
	code := func(i int) string { return h.freshCodes[i] }
	redeem := func(code string, extra ...string) string {
		return form(append([]string{"grant_type", "authorization_code", "code", code, "code_verifier", h.verifier, "client_id", h.public}, extra...)...)
	}

	cases := []hostileRequest{
		// Dynamic client registration (RFC 7591).
		{name: "register: body is not JSON", method: "POST", path: "/oauth/register", contentType: "application/json", body: "redirect_uris=x",
			want: jsonError(400, errInvalidClientMetadata)},
		{name: "register: JSON array instead of an object", method: "POST", path: "/oauth/register", contentType: "application/json", body: `["https://app.example/cb"]`,
			want: jsonError(400, errInvalidClientMetadata)},
		{name: "register: JSON null", method: "POST", path: "/oauth/register", contentType: "application/json", body: `null`,
			want: jsonError(400, errInvalidRedirectURI)},
		{name: "register: two JSON documents in one body", method: "POST", path: "/oauth/register", contentType: "application/json", body: registration(testRedirect) + registration("https://evil.example/cb"),
			want: jsonError(400, errInvalidClientMetadata)},
		{name: "register: deeply nested JSON", method: "POST", path: "/oauth/register", contentType: "application/json", body: deepJSON,
			want: jsonError(400, errInvalidClientMetadata)},
		{name: "register: text/plain content type", method: "POST", path: "/oauth/register", contentType: "text/plain", body: registration(testRedirect),
			want: jsonError(415, errInvalidClientMetadata)},
		{name: "register: form-encoded body", method: "POST", path: "/oauth/register", contentType: formType, body: form("redirect_uris", testRedirect),
			want: jsonError(415, errInvalidClientMetadata)},
		{name: "register: no content type", method: "POST", path: "/oauth/register", body: registration(testRedirect),
			want: jsonError(415, errInvalidClientMetadata)},
		{name: "register: 2 MB body", method: "POST", path: "/oauth/register", contentType: "application/json", body: `{"client_name":"` + twoMB + `"}`,
			want: jsonError(413, errInvalidClientMetadata)},
		{name: "register: redirect_uris is a string", method: "POST", path: "/oauth/register", contentType: "application/json", body: `{"redirect_uris":"` + testRedirect + `"}`,
			want: jsonError(400, errInvalidClientMetadata)},
		{name: "register: javascript: redirect URI", method: "POST", path: "/oauth/register", contentType: "application/json", body: registration("javascript:alert(document.domain)//"),
			want: jsonError(400, errInvalidRedirectURI)},
		{name: "register: mixed-case JaVaScRiPt: redirect URI", method: "POST", path: "/oauth/register", contentType: "application/json", body: registration("JaVaScRiPt:alert(1)"),
			want: jsonError(400, errInvalidRedirectURI)},
		{name: "register: data: redirect URI", method: "POST", path: "/oauth/register", contentType: "application/json", body: registration("data:text/html,<script>alert(1)</script>"),
			want: jsonError(400, errInvalidRedirectURI)},
		{name: "register: RTL override in the redirect host", method: "POST", path: "/oauth/register", contentType: "application/json", body: registration("https://evil\u202egro.elpmaxe.example/cb"),
			want: jsonError(400, errInvalidRedirectURI)},
		{name: "register: percent-encoded RTL override in the redirect host", method: "POST", path: "/oauth/register", contentType: "application/json", body: registration("https://evil%E2%80%AEgro.elpmaxe.example/cb"),
			want: jsonError(400, errInvalidRedirectURI)},
		{name: "register: homoglyph redirect host (Cyrillic a in apple)", method: "POST", path: "/oauth/register", contentType: "application/json", body: registration("https://\u0430pple.com/cb"),
			want: jsonError(400, errInvalidRedirectURI)},
		{name: "register: percent-encoded homoglyph redirect host", method: "POST", path: "/oauth/register", contentType: "application/json", body: registration("https://%D0%B0pple.com/cb"),
			want: jsonError(400, errInvalidRedirectURI)},
		{name: "register: percent-encoded control character in the host", method: "POST", path: "/oauth/register", contentType: "application/json", body: registration("https://app%0d.example/cb"),
			want: jsonError(400, errInvalidRedirectURI)},
		{name: "register: raw CRLF in the redirect URI", method: "POST", path: "/oauth/register", contentType: "application/json", body: registration("https://app.example/cb\r\nLocation: https://evil.example"),
			want: jsonError(400, errInvalidRedirectURI)},
		{name: "register: zero-width space in a private-use redirect", method: "POST", path: "/oauth/register", contentType: "application/json", body: `{"application_type":"native","redirect_uris":["com.example.app\u200b:/cb"]}`,
			want: jsonError(400, errInvalidRedirectURI)},
		{name: "register: plain http to a public host", method: "POST", path: "/oauth/register", contentType: "application/json", body: registration("http://evil.example/cb"),
			want: jsonError(400, errInvalidRedirectURI)},
		{name: "register: http to localhost.evil.example", method: "POST", path: "/oauth/register", contentType: "application/json", body: registration("http://localhost.evil.example/cb"),
			want: jsonError(400, errInvalidRedirectURI)},
		{name: "register: userinfo @ trick", method: "POST", path: "/oauth/register", contentType: "application/json", body: registration("https://app.example@evil.example/cb"),
			want: jsonError(400, errInvalidRedirectURI)},
		{name: "register: backslash trick", method: "POST", path: "/oauth/register", contentType: "application/json", body: registration(`https://evil.example\@app.example/cb`),
			want: jsonError(400, errInvalidRedirectURI)},
		{name: "register: protocol-relative //evil", method: "POST", path: "/oauth/register", contentType: "application/json", body: registration("//evil.example/cb"),
			want: jsonError(400, errInvalidRedirectURI)},
		{name: "register: https:evil without slashes", method: "POST", path: "/oauth/register", contentType: "application/json", body: registration("https:evil.example"),
			want: jsonError(400, errInvalidRedirectURI)},
		{name: "register: fragment in the redirect URI", method: "POST", path: "/oauth/register", contentType: "application/json", body: registration("https://app.example/cb#frag"),
			want: jsonError(400, errInvalidRedirectURI)},
		{name: "register: web client with a private-use scheme", method: "POST", path: "/oauth/register", contentType: "application/json", body: `{"application_type":"web","redirect_uris":["com.example.app:/cb"]}`,
			want: jsonError(400, errInvalidRedirectURI)},
		{name: "register: 21 redirect URIs", method: "POST", path: "/oauth/register", contentType: "application/json", body: registration(strings.Split(strings.Repeat(testRedirect+" ", 21), " ")[:21]...),
			want: jsonError(400, errInvalidRedirectURI)},
		{name: "register: implicit grant", method: "POST", path: "/oauth/register", contentType: "application/json", body: `{"redirect_uris":["` + testRedirect + `"],"grant_types":["implicit"]}`,
			want: jsonError(400, errInvalidClientMetadata)},
		{name: "register: javascript: logo_uri", method: "POST", path: "/oauth/register", contentType: "application/json", body: `{"redirect_uris":["` + testRedirect + `"],"logo_uri":"javascript:alert(1)"}`,
			want: jsonError(400, errInvalidClientMetadata)},
		{name: "register: GET instead of POST", path: "/oauth/register",
			want: jsonError(405, errInvalidRequest)},
		{name: "register: IDN host in its punycode form is fine", method: "POST", path: "/oauth/register", contentType: "application/json", body: registration("https://xn--bcher-kva.example/cb"),
			want: plainStatus(201)},

		// The authorization endpoint: until client and redirect URI are
		// verified, an error page and never a redirect.
		{name: "authorize: unknown client_id", path: h.authorize(func(q url.Values) { q.Set("client_id", "mcp_forged") }),
			want: errorPage(400)},
		{name: "authorize: no client_id", path: h.authorize(func(q url.Values) { q.Del("client_id") }),
			want: errorPage(400)},
		{name: "authorize: client_id repeated", path: h.authorizeRaw("client_id=" + h.public + "&client_id=" + h.other + "&redirect_uri=" + url.QueryEscape(testRedirect)),
			want: errorPage(400)},
		{name: "authorize: redirect_uri repeated, the second one evil", path: h.authorizeRaw("client_id=" + h.public + "&redirect_uri=" + url.QueryEscape(testRedirect) + "&redirect_uri=https%3A%2F%2Fevil.example%2Fcb"),
			want: errorPage(400)},
		{name: "authorize: client_id of 10 KB", path: h.authorize(func(q url.Values) { q.Set("client_id", "mcp_"+strings.Repeat("x", 10<<10)) }),
			want: errorPage(400)},
		{name: "authorize: client_id naming a loopback metadata document (SSRF)", path: h.authorize(func(q url.Values) { q.Set("client_id", h.f.base+"/.well-known/oauth-authorization-server") }),
			want: errorPage(400)},
		{name: "authorize: client_id naming the cloud metadata service (SSRF)", path: h.authorize(func(q url.Values) { q.Set("client_id", "https://169.254.169.254/latest/meta-data/client.json") }),
			want: errorPage(400)},
		{name: "authorize: open redirect to another host", path: h.redirectTo("https://evil.example/callback"),
			want: errorPage(400)},
		{name: "authorize: open redirect //evil (protocol-relative)", path: h.redirectTo("//evil.example/callback"),
			want: errorPage(400)},
		{name: "authorize: open redirect https:evil", path: h.redirectTo("https:evil.example"),
			want: errorPage(400)},
		{name: "authorize: open redirect with backslashes", path: h.redirectTo(`http://127.0.0.1:51234\@evil.example/callback`),
			want: errorPage(400)},
		{name: "authorize: open redirect with an @ userinfo trick", path: h.redirectTo("http://127.0.0.1:51234@evil.example/callback"),
			want: errorPage(400)},
		{name: "authorize: open redirect to a lookalike loopback host", path: h.redirectTo("http://127.0.0.1.evil.example:51234/callback"),
			want: errorPage(400)},
		{name: "authorize: javascript: redirect_uri", path: h.redirectTo("javascript:alert(document.cookie)"),
			want: errorPage(400)},
		{name: "authorize: data: redirect_uri", path: h.redirectTo("data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg=="),
			want: errorPage(400)},
		{name: "authorize: RTL override in redirect_uri", path: h.redirectTo("http://127.0.0.1:51234/\u202ekcabllac"),
			want: errorPage(400)},
		{name: "authorize: homoglyph path in redirect_uri", path: h.redirectTo("http://127.0.0.1:51234/c\u0430llback"),
			want: errorPage(400)},
		{name: "authorize: IDN host in redirect_uri", path: h.redirectTo("https://b\u00fccher.example/callback"),
			want: errorPage(400)},
		{name: "authorize: percent-encoded CRLF in redirect_uri (header injection)", path: h.redirectTo(testRedirect + "%0d%0aSet-Cookie:%20x=1"),
			want: errorPage(400)},
		{name: "authorize: percent-encoded path that decodes to the registered one", path: h.redirectTo("http://127.0.0.1:51234/%63allback"),
			want: errorPage(400)},
		{name: "authorize: encoded slash in the path", path: h.redirectTo("http://127.0.0.1:51234/callback%2F..%2Fevil"),
			want: errorPage(400)},
		{name: "authorize: dot segments in the path", path: h.redirectTo("http://127.0.0.1:51234/callback/../evil"),
			want: errorPage(400)},
		{name: "authorize: extra query on the redirect_uri", path: h.redirectTo(testRedirect + "?next=https://evil.example"),
			want: errorPage(400)},
		{name: "authorize: 2 MB query string", path: h.authorize(func(q url.Values) { q.Set("login_hint", twoMB) }),
			want: plainStatus(http.StatusRequestHeaderFieldsTooLarge)},
		{name: "authorize: POST instead of GET", method: "POST", path: h.authorize(func(url.Values) {}), contentType: formType,
			want: errorPage(405)},

		// After the redirect URI is verified, errors go back to the client.
		{name: "authorize: PKCE missing", path: h.authorize(func(q url.Values) { q.Del("code_challenge"); q.Del("code_challenge_method") }),
			want: backToClient(errInvalidRequest)},
		{name: "authorize: PKCE downgrade to plain", path: h.authorize(func(q url.Values) { q.Set("code_challenge_method", "plain") }),
			want: backToClient(errInvalidRequest)},
		{name: "authorize: PKCE method missing", path: h.authorize(func(q url.Values) { q.Del("code_challenge_method") }),
			want: backToClient(errInvalidRequest)},
		{name: "authorize: code_challenge too short to be a SHA-256", path: h.authorize(func(q url.Values) { q.Set("code_challenge", "abc") }),
			want: backToClient(errInvalidRequest)},
		{name: "authorize: implicit flow (response_type=token)", path: h.authorize(func(q url.Values) { q.Set("response_type", "token") }),
			want: backToClient(errUnsupportedResponseType)},
		{name: "authorize: token for another resource", path: h.authorize(func(q url.Values) { q.Set("resource", "https://evil.example/mcp") }),
			want: backToClient(errInvalidTarget)},
		{name: "authorize: scope the server does not offer", path: h.authorize(func(q url.Values) { q.Set("scope", "https://mail.google.com/") }),
			want: backToClient(errInvalidScope)},
		{name: "authorize: state repeated", path: h.authorize(func(q url.Values) { q.Add("state", "second") }),
			want: backToClient(errInvalidRequest)},
		{name: "authorize: state that is not UTF-8", path: h.authorize(func(q url.Values) { q.Set("state", "\xff\xfe") }),
			want: backToClient(errInvalidRequest)},
		{name: "authorize: NUL byte in login_hint", path: h.authorize(func(q url.Values) { q.Set("login_hint", "alice@example.com\x00admin") }),
			want: backToClient(errInvalidRequest)},
		{name: "authorize: state of 4 KB", path: h.authorize(func(q url.Values) { q.Set("state", strings.Repeat("s", 4<<10)) }),
			want: backToClient(errInvalidRequest)},

		// The token endpoint.
		{name: "token: JSON body", method: "POST", path: "/oauth/token", contentType: "application/json", body: `{"grant_type":"authorization_code"}`,
			want: jsonError(400, errInvalidRequest)},
		{name: "token: no content type", method: "POST", path: "/oauth/token", body: redeem(h.spentCode),
			want: jsonError(400, errInvalidRequest)},
		{name: "token: 2 MB body", method: "POST", path: "/oauth/token", contentType: formType, body: "grant_type=authorization_code&code=" + twoMB,
			want: jsonError(400, errInvalidRequest)},
		{name: "token: grant_type repeated", method: "POST", path: "/oauth/token", contentType: formType, body: redeem(h.spentCode, "grant_type", "refresh_token"),
			want: jsonError(400, errInvalidRequest)},
		{name: "token: client_id repeated with another client", method: "POST", path: "/oauth/token", contentType: formType, body: redeem(h.spentCode, "client_id", h.other),
			want: jsonError(400, errInvalidRequest)},
		{name: "token: parameters in the URL query", method: "POST", path: "/oauth/token?code=" + h.spentCode, contentType: formType, body: form("grant_type", "authorization_code", "client_id", h.public),
			want: jsonError(400, errInvalidRequest)},
		{name: "token: NUL byte in a parameter", method: "POST", path: "/oauth/token", contentType: formType, body: redeem("abc\x00def"),
			want: jsonError(400, errInvalidRequest)},
		{name: "token: parameter that is not UTF-8", method: "POST", path: "/oauth/token", contentType: formType, body: "grant_type=authorization_code&client_id=" + h.public + "&code=%ff%fe",
			want: jsonError(400, errInvalidRequest)},
		{name: "token: malformed percent-encoding", method: "POST", path: "/oauth/token", contentType: formType, body: "grant_type=%zz&client_id=" + h.public,
			want: jsonError(400, errInvalidRequest)},
		{name: "token: unknown client", method: "POST", path: "/oauth/token", contentType: formType, body: form("grant_type", "authorization_code", "code", "x", "code_verifier", h.verifier, "client_id", "mcp_forged"),
			want: jsonError(401, errInvalidClient)},
		{name: "token: no client authentication at all", method: "POST", path: "/oauth/token", contentType: formType, body: form("grant_type", "authorization_code", "code", "x"),
			want: jsonError(401, errInvalidClient)},
		{name: "token: confidential client with a wrong secret", method: "POST", path: "/oauth/token", contentType: formType, body: form("grant_type", "authorization_code", "code", "x", "client_id", h.confidential, "client_secret", "mcps_guess"),
			want: jsonError(401, errInvalidClient)},
		{name: "token: confidential client posing as public (no secret)", method: "POST", path: "/oauth/token", contentType: formType, body: form("grant_type", "authorization_code", "code", "x", "client_id", h.confidential),
			want: jsonError(401, errInvalidClient)},
		{name: "token: Basic credentials that are not form-encoded", method: "POST", path: "/oauth/token", contentType: formType, body: form("grant_type", "authorization_code", "code", "x"), basic: []string{h.confidential, "%zz"},
			want: jsonError(401, errInvalidClient)},
		{name: "token: Basic and a form secret at once", method: "POST", path: "/oauth/token", contentType: formType, body: form("grant_type", "authorization_code", "code", "x", "client_secret", h.secret), basic: []string{h.confidential, h.secret},
			want: jsonError(400, errInvalidRequest)},
		{name: "token: Basic for one client, client_id of another", method: "POST", path: "/oauth/token", contentType: formType, body: form("grant_type", "authorization_code", "code", "x", "client_id", h.public), basic: []string{h.confidential, h.secret},
			want: jsonError(400, errInvalidRequest)},
		{name: "token: Basic header that is not base64", method: "POST", path: "/oauth/token", contentType: formType, body: form("grant_type", "authorization_code", "code", "x"), header: map[string]string{"Authorization": "Basic !!!not-base64!!!"},
			want: jsonError(401, errInvalidClient)},
		{name: "token: password grant", method: "POST", path: "/oauth/token", contentType: formType, body: form("grant_type", "password", "username", "alice", "password", "x", "client_id", h.public),
			want: jsonError(400, errUnsupportedGrantType)},
		{name: "token: client_credentials grant", method: "POST", path: "/oauth/token", contentType: formType, body: form("grant_type", "client_credentials", "client_id", h.public),
			want: jsonError(400, errUnsupportedGrantType)},
		{name: "token: no grant_type", method: "POST", path: "/oauth/token", contentType: formType, body: form("client_id", h.public),
			want: jsonError(400, errInvalidRequest)},
		{name: "token: replayed authorization code", method: "POST", path: "/oauth/token", contentType: formType, body: redeem(h.spentCode),
			want: jsonError(400, errInvalidGrant)},
		{name: "token: forged authorization code", method: "POST", path: "/oauth/token", contentType: formType, body: redeem(randomToken(32)),
			want: jsonError(400, errInvalidGrant)},
		{name: "token: PKCE verifier missing", method: "POST", path: "/oauth/token", contentType: formType, body: form("grant_type", "authorization_code", "code", code(0), "client_id", h.public),
			want: jsonError(400, errInvalidRequest)},
		{name: "token: PKCE verifier of another login", method: "POST", path: "/oauth/token", contentType: formType, body: form("grant_type", "authorization_code", "code", code(0), "client_id", h.public, "code_verifier", oauth2.GenerateVerifier()),
			want: jsonError(400, errInvalidGrant)},
		{name: "token: PKCE verifier equal to the challenge (plain downgrade)", method: "POST", path: "/oauth/token", contentType: formType, body: form("grant_type", "authorization_code", "code", code(1), "client_id", h.public, "code_verifier", s256(h.verifier)),
			want: jsonError(400, errInvalidGrant)},
		{name: "token: code stolen by another client", method: "POST", path: "/oauth/token", contentType: formType, body: form("grant_type", "authorization_code", "code", code(2), "client_id", h.other, "code_verifier", h.verifier),
			want: jsonError(400, errInvalidGrant)},
		{name: "token: code redeemed for another resource", method: "POST", path: "/oauth/token", contentType: formType, body: redeem(code(3), "resource", "https://evil.example/mcp"),
			want: jsonError(400, errInvalidTarget)},
		{name: "token: refresh for another resource", method: "POST", path: "/oauth/token", contentType: formType, body: form("grant_type", "refresh_token", "refresh_token", h.refresh, "client_id", h.public, "resource", "https://evil.example/mcp"),
			want: jsonError(400, errInvalidTarget)},
		{name: "token: refresh asking for a wider scope", method: "POST", path: "/oauth/token", contentType: formType, body: form("grant_type", "refresh_token", "refresh_token", h.refresh, "client_id", h.public, "scope", "drive"),
			want: jsonError(400, errInvalidScope)},
		{name: "token: refresh token of another client", method: "POST", path: "/oauth/token", contentType: formType, body: form("grant_type", "refresh_token", "refresh_token", h.refresh, "client_id", h.other),
			want: jsonError(400, errInvalidGrant)},
		{name: "token: access token presented as a refresh token", method: "POST", path: "/oauth/token", contentType: formType, body: form("grant_type", "refresh_token", "refresh_token", h.access, "client_id", h.public),
			want: jsonError(400, errInvalidGrant)},
		{name: "token: forged refresh token", method: "POST", path: "/oauth/token", contentType: formType, body: form("grant_type", "refresh_token", "refresh_token", "dmcp_rt_"+randomToken(32), "client_id", h.public),
			want: jsonError(400, errInvalidGrant)},
		{name: "token: GET instead of POST", path: "/oauth/token?" + redeem(h.spentCode),
			want: jsonError(405, errInvalidRequest)},

		// Revocation (RFC 7009).
		{name: "revoke: no token", method: "POST", path: "/oauth/revoke", contentType: formType, body: form("client_id", h.public),
			want: jsonError(400, errInvalidRequest)},
		{name: "revoke: token repeated", method: "POST", path: "/oauth/revoke", contentType: formType, body: form("client_id", h.public, "token", h.refresh, "token", h.otherAccess),
			want: jsonError(400, errInvalidRequest)},
		{name: "revoke: JSON body", method: "POST", path: "/oauth/revoke", contentType: "application/json", body: `{"token":"x"}`,
			want: jsonError(400, errInvalidRequest)},
		{name: "revoke: 2 MB body", method: "POST", path: "/oauth/revoke", contentType: formType, body: "client_id=" + h.public + "&token=" + twoMB,
			want: jsonError(400, errInvalidRequest)},
		{name: "revoke: unknown client", method: "POST", path: "/oauth/revoke", contentType: formType, body: form("client_id", "mcp_forged", "token", h.otherAccess),
			want: jsonError(401, errInvalidClient)},
		{name: "revoke: another client's token (answered 200, untouched)", method: "POST", path: "/oauth/revoke", contentType: formType, body: form("client_id", h.public, "token", h.otherAccess),
			want: plainStatus(200)},
		{name: "revoke: forged token (answered 200, RFC 7009 §2.2)", method: "POST", path: "/oauth/revoke", contentType: formType, body: form("client_id", h.public, "token", randomToken(32)),
			want: plainStatus(200)},
		{name: "revoke: GET instead of POST", path: "/oauth/revoke?token=x",
			want: jsonError(405, errInvalidRequest)},

		// The Google callback.
		{name: "callback: forged state", path: "/oauth2callback?" + form("state", randomToken(32), "code", "4/forged"),
			want: errorPage(400)},
		{name: "callback: forged state carrying a Google error", path: "/oauth2callback?" + form("state", randomToken(32), "error", "access_denied"),
			want: errorPage(400)},
		{name: "callback: replayed state and code", path: h.replayedCallback,
			want: errorPage(400)},
		{name: "callback: a Google login approved in another browser (login CSRF)", path: h.forwardedCallback,
			want: errorPage(400)},
		{name: "callback: a consent id passed off as a Google state", path: "/oauth2callback?" + form("state", h.consentID, "code", "4/forged"),
			want: errorPage(400)},
		{name: "callback: no state", path: "/oauth2callback?code=4/forged",
			want: errorPage(400)},
		{name: "callback: state of 10 KB", path: "/oauth2callback?" + form("state", strings.Repeat("s", 10<<10), "code", "x"),
			want: errorPage(400)},
		{name: "callback: state that is not UTF-8", path: "/oauth2callback?state=%ff%fe&code=x",
			want: errorPage(400)},
		{name: "callback: POST instead of GET", method: "POST", path: "/oauth2callback", contentType: formType, body: form("state", "x", "code", "y"),
			want: errorPage(405)},

		// The consent form.
		{name: "consent: forged CSRF token", method: "POST", path: "/oauth/consent", contentType: formType, body: form("consent_id", h.consentID, "csrf", randomToken(32), "decision", "allow"),
			header: map[string]string{"Cookie": csrfCookie + "=" + randomToken(32)}, want: errorPage(403)},
		{name: "consent: posted from another site", method: "POST", path: "/oauth/consent", contentType: formType, body: form("consent_id", h.consentID, "decision", "allow"),
			header: map[string]string{"Origin": "https://evil.example"}, want: errorPage(403)},
		{name: "consent: replayed Allow (same browser, same form)", method: "POST", path: "/oauth/consent", contentType: formType, body: h.answeredConsent,
			header: map[string]string{"Cookie": csrfCookie + "=" + h.answeredCookie}, want: errorPage(400)},
		{name: "consent: 2 MB form", method: "POST", path: "/oauth/consent", contentType: formType, body: "consent_id=" + twoMB,
			want: errorPage(400)},

		// The protected resource.
		{name: "mcp: token issued for another resource", method: "POST", path: "/mcp", contentType: "application/json", body: "{}",
			header: map[string]string{"Authorization": "Bearer " + h.foreignToken}, want: plainStatus(401)},
		{name: "mcp: refresh token used as a bearer token", method: "POST", path: "/mcp", contentType: "application/json", body: "{}",
			header: map[string]string{"Authorization": "Bearer " + h.refresh}, want: plainStatus(401)},
		{name: "mcp: bearer token of 10 KB", method: "POST", path: "/mcp", contentType: "application/json", body: "{}",
			header: map[string]string{"Authorization": "Bearer dmcp_at_" + strings.Repeat("A", 10<<10)}, want: plainStatus(401)},
		{name: "mcp: token in the query string", method: "POST", path: "/mcp?access_token=" + h.access, contentType: "application/json", body: "{}",
			want: plainStatus(401)},
	}
	if len(cases) < 60 {
		t.Fatalf("only %d hostile requests", len(cases))
	}

	client := &http.Client{Timeout: 5 * time.Second, CheckRedirect: noFollow.CheckRedirect}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			method := c.method
			if method == "" {
				method = http.MethodGet
			}
			var body io.Reader
			if c.body != "" {
				body = strings.NewReader(c.body)
			}
			req, err := http.NewRequest(method, h.f.base+c.path, body)
			if err != nil {
				t.Fatal(err)
			}
			if c.contentType != "" {
				req.Header.Set("Content-Type", c.contentType)
			}
			for k, v := range c.header {
				req.Header.Set(k, v)
			}
			if c.basic != nil {
				req.SetBasicAuth(c.basic[0], c.basic[1])
			}
			start := time.Now()
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			raw, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
			resp.Body.Close()
			if took := time.Since(start); took > time.Second {
				t.Errorf("answered after %s", took)
			}
			checkHostileAnswer(t, resp, raw, c.want)
		})
	}

	// The one attack that answers 200 must also have changed nothing.
	if resp, who := h.f.callMCP(h.otherAccess); resp.StatusCode != http.StatusOK || who != "bob@example.com" {
		t.Errorf("a client revoked another client's token: %s %q", resp.Status, who)
	}
}

func checkHostileAnswer(t *testing.T, resp *http.Response, raw []byte, want hostileAnswer) {
	t.Helper()
	if resp.StatusCode >= 500 {
		t.Fatalf("server error %s: %s", resp.Status, raw)
	}
	loc := resp.Header.Get("Location")
	if loc != "" && !strings.HasPrefix(loc, testRedirect+"?") {
		t.Fatalf("redirected to an unregistered URI: %q", loc)
	}
	if resp.StatusCode != want.status {
		t.Fatalf("status %s, want %d: %.300s", resp.Status, want.status, raw)
	}
	switch {
	case want.status == http.StatusFound:
		u, err := url.Parse(loc)
		if err != nil {
			t.Fatal(err)
		}
		if got := u.Query().Get("error"); got != want.code {
			t.Errorf("error=%q, want %q (%s)", got, want.code, loc)
		}
	case want.page:
		if loc != "" || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
			t.Errorf("want an error page, got %s Location=%q", resp.Header.Get("Content-Type"), loc)
		}
	case want.code != "":
		var out struct {
			Error string `json:"error"`
		}
		if err := json.Unmarshal(raw, &out); err != nil || out.Error != want.code {
			t.Errorf("error %q, want %q: %.300s", out.Error, want.code, raw)
		}
	}
}

// The consent page shows where the answer goes: a redirect host that only
// looks like another (homoglyphs, right-to-left overrides, IDN written in
// Unicode) is refused wherever a redirect URI comes in, registration and
// metadata documents alike.
func TestRedirectURI_LookalikeHostsRefused(t *testing.T) {
	for name, uri := range map[string]string{
		"RTL override":                  "https://evil\u202egro.elpmaxe.example/cb",
		"percent-encoded RTL override":  "https://evil%E2%80%AEgro.elpmaxe.example/cb",
		"Cyrillic a in apple":           "https://\u0430pple.com/cb",
		"percent-encoded Cyrillic a":    "https://%D0%B0pple.com/cb",
		"IDN written in Unicode":        "https://b\u00fccher.example/cb",
		"fullwidth full stop":           "https://app\uff0eexample/cb",
		"native app, lookalike host":    "com.example.app://\u0430pple.com/cb",
		"Cyrillic a in a loopback path": "http://127.0.0.1/c\u0430llback",
	} {
		if _, err := checkRedirectURI(uri, ""); err == nil {
			t.Errorf("registration accepted %s: %q", name, uri)
		}
		if _, err := parseClientMetadata(lookalikeDocID, lookalikeDoc(uri)); err == nil {
			t.Errorf("a metadata document may list %s: %q", name, uri)
		}
	}
	for _, uri := range []string{"https://xn--bcher-kva.example/cb", "https://app.example/caf%C3%A9", "http://[::1]:8080/cb"} {
		if _, err := checkRedirectURI(uri, ""); err != nil {
			t.Errorf("registration refused %q: %v", uri, err)
		}
		if _, err := parseClientMetadata(lookalikeDocID, lookalikeDoc(uri)); err != nil {
			t.Errorf("metadata document refused %q: %s", uri, err)
		}
	}
}

const lookalikeDocID = "https://app.example/client.json"

// lookalikeDoc is a metadata document listing one redirect URI.
func lookalikeDoc(uri string) []byte {
	doc, _ := json.Marshal(map[string]any{"client_id": lookalikeDocID, "client_name": "lookalike", "redirect_uris": []string{uri}})
	return doc
}

// Only a loopback redirect URI's port may differ from the registered one
// (RFC 8252 §7.3); everything else is compared as written.
func TestRedirectMatches_OnlyTheLoopbackPortMayDiffer(t *testing.T) {
	const reg = "http://127.0.0.1:51234/callback"
	for requested, want := range map[string]bool{
		reg:                                      true,
		"http://127.0.0.1:6000/callback":         true,
		"http://127.0.0.1/callback":              true,
		"http://127.0.0.1:6000/%63allback":       false, // decodes to the same path, is not the same URI
		"http://127.0.0.1:6000/callback%2F":      false,
		"http://127.0.0.1:6000/callback/":        false,
		"http://127.0.0.1:6000/Callback":         false,
		"http://127.0.0.1:6000/callback?x=1":     false,
		"http://127.0.0.1:6000/callback#x":       false,
		"http://127.0.0.1:6000/callback#":        false,
		"http://localhost:6000/callback":         false,
		"http://[::1]:6000/callback":             false,
		"https://127.0.0.1:6000/callback":        false,
		"http://x@127.0.0.1:6000/callback":       false,
		"http://127.0.0.1.evil.example/callback": false,
		"http:127.0.0.1/callback":                false,
	} {
		if got := redirectMatches(reg, requested); got != want {
			t.Errorf("redirectMatches(%q, %q) = %v, want %v", reg, requested, got, want)
		}
	}
	if redirectMatches("https://app.example/cb", "https://app.example:8443/cb") {
		t.Error("the port of a non-loopback redirect URI may vary")
	}
}
