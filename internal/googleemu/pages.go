package googleemu

import (
	"bytes"
	"html/template"
	"net/http"
)

// The two HTML pages a person sees: the sign-in/consent page and the error
// page for requests that cannot be redirected. They are self-contained (no
// external assets) so the emulator works offline.

type loginPage struct {
	PendingID    string
	Email        string
	ClientID     string
	RedirectHost string
	Scopes       []scopeChoice
	Problem      string
	Demo         bool
}

type errorPage struct {
	Code        string
	Description string
	Demo        bool
}

const pageStyle = `
:root{--fg:#202124;--muted:#5f6368;--bg:#f1f3f4;--card:#fff;--line:#dadce0;--blue:#1a73e8;--on-blue:#fff;--link:#1a73e8;--red:#d93025;--demo-bg:#fce8e6;--demo-fg:#a50e0e}
@media (prefers-color-scheme:dark){:root{--fg:#e8eaed;--muted:#9aa0a6;--bg:#202124;--card:#292a2d;--line:#5f6368;--blue:#8ab4f8;--on-blue:#202124;--link:#8ab4f8;--red:#f28b82;--demo-bg:#3c1f1e;--demo-fg:#f6aea9}}
*{box-sizing:border-box}
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;background:var(--bg);margin:0;color:var(--fg)}
main{max-width:448px;margin:48px auto;background:var(--card);border:1px solid var(--line);border-radius:8px;padding:36px 40px}
.brand{font-size:14px;color:var(--muted);margin:0 0 16px}
.brand b{font-weight:500;color:var(--fg)}
h1{font-size:24px;font-weight:400;margin:0 0 8px}
p,li{font-size:14px;line-height:1.5}
ul{padding-left:20px}
li small{display:block;color:var(--muted);font-size:12px;overflow-wrap:anywhere}
.demo{background:var(--demo-bg);border:2px solid var(--red);color:var(--demo-fg);border-radius:6px;padding:10px 12px;font-weight:600;margin-bottom:20px}
.problem{color:var(--red)}
label{display:block;font-size:14px;margin:16px 0 6px}
ul.scopes{list-style:none;padding-left:0}
label.scope{display:inline;margin:0}
input[type=checkbox]{width:18px;height:18px;vertical-align:middle;margin:0 8px 0 0}
input[type=email]{width:100%;font-size:16px;padding:12px;border:1px solid var(--line);border-radius:4px;background:var(--card);color:var(--fg)}
.buttons{display:flex;flex-direction:row-reverse;justify-content:space-between;align-items:center;margin-top:24px}
button{font:inherit;font-size:14px;font-weight:500;min-height:40px;padding:10px 24px;border-radius:4px;border:0;cursor:pointer}
#submit{background:var(--blue);color:var(--on-blue)}
#deny{background:transparent;color:var(--link)}
button:focus-visible,input:focus-visible{outline:3px solid var(--blue);outline-offset:2px}
code{font-size:12px;overflow-wrap:anywhere}
@media (max-width:480px){main{margin:0;border:0;border-radius:0;padding:24px 20px;min-height:100vh}}
`

const pageHead = `<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="color-scheme" content="light dark">
<style>` + pageStyle + `</style>`

const demoNotice = `{{if .Demo}}<div class="demo" role="alert">This is the drivemcp Google emulator — not Google.
Nothing you type here reaches Google, and no real Drive is touched.</div>{{end}}`

// brand says whose page this is without claiming to be Google.
const brand = `<p class="brand"><b>Google Accounts</b> · emulator</p>`

// scopeWords says what a scope allows the way Google's consent screen does.
func scopeWords(scope string) string {
	switch scope {
	case "openid":
		return "Associate you with your personal info on Google"
	case "email", "https://www.googleapis.com/auth/userinfo.email":
		return "See your primary Google Account email address"
	case "profile", "https://www.googleapis.com/auth/userinfo.profile":
		return "See your personal info, including any personal info you've made publicly available"
	case "https://www.googleapis.com/auth/drive.file":
		return "See, edit, create and delete only the specific Google Drive files you use with this app"
	case "https://www.googleapis.com/auth/drive.readonly":
		return "See and download all your Google Drive files"
	case "https://www.googleapis.com/auth/drive":
		return "See, edit, create and delete all of your Google Drive files"
	}
	return ""
}

var pageFuncs = template.FuncMap{"scopeWords": scopeWords}

// Allow comes first in the form so that pressing Enter in the email field
// signs in (browsers submit with the first button); CSS shows it on the right.
var loginTemplate = template.Must(template.New("login").Funcs(pageFuncs).Parse(pageHead + `
<title>Sign in – Google Accounts (emulator)</title></head><body><main>
` + demoNotice + brand + `
<h1>Sign in</h1>
<p><code>{{.ClientID}}</code> wants to access your Google Account and will return you to <strong>{{.RedirectHost}}</strong>.</p>
<form method="post" action="">
{{if .Scopes}}<p>It asks to:</p><ul class="scopes">{{range .Scopes}}<li>{{if .Optional}}<label class="scope"><input type="checkbox" name="scope" value="{{.Scope}}"{{if .Checked}} checked{{end}}> {{scopeWords .Scope}}</label>{{else}}{{scopeWords .Scope}}{{end}}<small><code>{{.Scope}}</code></small></li>{{end}}</ul>{{end}}
<input type="hidden" name="pending" value="{{.PendingID}}">
<label for="email">Email</label>
<input type="email" id="email" name="email" value="{{.Email}}" autocomplete="email" autofocus required{{if .Problem}} aria-invalid="true" aria-describedby="problem"{{end}}>
{{if .Problem}}<p class="problem" id="problem">{{.Problem}}</p>{{end}}
<div class="buttons">
<button type="submit" id="submit" name="action" value="allow">Allow</button>
<button type="submit" id="deny" name="action" value="deny" formnovalidate>Cancel</button>
</div>
</form>
</main></body></html>`))

var errorTemplate = template.Must(template.New("error").Parse(pageHead + `
<title>Error 400 – Google Accounts (emulator)</title></head><body><main>
` + demoNotice + brand + `
<h1>Access blocked: authorization error</h1>
<p><strong>Error 400: {{.Code}}</strong></p>
<p>{{.Description}}</p>
<p>The application sent an authorization request this server cannot return an answer to. Ask its developer to check the client id and redirect URI.</p>
</main></body></html>`))

func (e *Emulator) renderLogin(w http.ResponseWriter, status int, p loginPage) {
	p.Demo = e.demo
	renderPage(w, status, loginTemplate, p)
}

func (e *Emulator) renderAuthError(w http.ResponseWriter, pe authPageError) {
	renderPage(w, http.StatusBadRequest, errorTemplate, errorPage{Code: pe.code, Description: pe.description, Demo: e.demo})
}

func renderPage(w http.ResponseWriter, status int, t *template.Template, data any) {
	var buf bytes.Buffer
	if err := t.Execute(&buf, data); err != nil {
		http.Error(w, "googleemu: rendering page: "+err.Error(), http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Frame-Options", "DENY")
	// No form-action: browsers apply it to the redirect that follows the
	// submit, which goes to the client's redirect_uri on another origin.
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; frame-ancestors 'none'")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}
