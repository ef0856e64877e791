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
	Scopes       []string
	Problem      string
	Demo         bool
}

type errorPage struct {
	Code        string
	Description string
	Demo        bool
}

const pageStyle = `
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;background:#f1f3f4;margin:0;color:#202124}
main{max-width:440px;margin:48px auto;background:#fff;border:1px solid #dadce0;border-radius:8px;padding:36px 40px}
h1{font-size:24px;font-weight:400;margin:0 0 8px}
p,li{font-size:14px;line-height:1.5}
.demo{background:#fce8e6;border:2px solid #d93025;color:#a50e0e;border-radius:6px;padding:10px 12px;font-weight:600;margin-bottom:20px}
.problem{color:#d93025}
label{display:block;font-size:14px;margin:16px 0 6px}
input[type=email]{width:100%;box-sizing:border-box;font-size:16px;padding:12px;border:1px solid #dadce0;border-radius:4px}
.buttons{display:flex;flex-direction:row-reverse;justify-content:space-between;margin-top:24px}
button{font-size:14px;padding:10px 24px;border-radius:4px;border:0;cursor:pointer}
#submit{background:#1a73e8;color:#fff}
#deny{background:transparent;color:#1a73e8}
code{font-size:12px;word-break:break-all}
`

const pageHead = `<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1">
<style>` + pageStyle + `</style>`

const demoNotice = `{{if .Demo}}<div class="demo" role="alert">This is the drivemcp Google emulator — not Google.
Nothing you type here reaches Google, and no real Drive is touched.</div>{{end}}`

// Allow comes first in the form so that pressing Enter in the email field
// signs in (browsers submit with the first button); CSS shows it on the right.
var loginTemplate = template.Must(template.New("login").Parse(pageHead + `
<title>Sign in – Google Accounts (emulator)</title></head><body><main>
` + demoNotice + `
<h1>Sign in</h1>
<p><code>{{.ClientID}}</code> wants to access your Google Account and will return you to <strong>{{.RedirectHost}}</strong>.</p>
{{if .Scopes}}<p>It asks for:</p><ul>{{range .Scopes}}<li><code>{{.}}</code></li>{{end}}</ul>{{end}}
<form method="post" action="">
<input type="hidden" name="pending" value="{{.PendingID}}">
<label for="email">Email</label>
<input type="email" id="email" name="email" value="{{.Email}}" autocomplete="email" autofocus required>
{{if .Problem}}<p class="problem">{{.Problem}}</p>{{end}}
<div class="buttons">
<button type="submit" id="submit" name="action" value="allow">Allow</button>
<button type="submit" id="deny" name="action" value="deny" formnovalidate>Cancel</button>
</div>
</form>
</main></body></html>`))

var errorTemplate = template.Must(template.New("error").Parse(pageHead + `
<title>Error 400 – Google Accounts (emulator)</title></head><body><main>
` + demoNotice + `
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
