package e2etest

import (
	"context"
	"fmt"
	"html/template"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
)

// RedirectReceiver plays an MCP client's redirect URI on loopback, as
// desktop clients do: it records the query the browser brings back and
// shows a page saying the browser can be closed.
type RedirectReceiver struct {
	// URL is the redirect URI to register: http://127.0.0.1:PORT/callback.
	URL string
	got chan url.Values
}

// StartRedirectReceiver listens on a free loopback port until the test ends.
func StartRedirectReceiver(t testing.TB) *RedirectReceiver {
	t.Helper()
	r := &RedirectReceiver{got: make(chan url.Values, 8)}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /callback", func(w http.ResponseWriter, req *http.Request) {
		q := req.URL.Query()
		select {
		case r.got <- q:
		default:
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		result := "signed in"
		if e := q.Get("error"); e != "" {
			result = "the authorization server answered " + e
		}
		_ = receiverPage.Execute(w, result)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	r.URL = srv.URL + "/callback"
	return r
}

var receiverPage = template.Must(template.New("done").Parse(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>done</title></head>
<body><h1 id="done">done</h1><p id="result">{{.}}</p><p>You can close this window.</p></body></html>`))

// Wait returns the query of the next visit to the redirect URI.
func (r *RedirectReceiver) Wait(ctx context.Context) (url.Values, error) {
	select {
	case q := <-r.got:
		return q, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("the browser never came back to %s: %w", r.URL, ctx.Err())
	}
}

// StartFramingSite serves, on its own loopback port (so another origin
// than drivemcp), a page at "/" that puts each of frames in an iframe with
// the id and name "frame0", "frame1", … It plays a site trying to clickjack.
func StartFramingSite(t testing.TB, frames ...string) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_ = framingPage.Execute(w, frames)
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/"
}

var framingPage = template.Must(template.New("framer").Parse(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>a site that frames others</title></head>
<body><h1>Win a prize!</h1>{{range $i, $src := .}}
<iframe id="frame{{$i}}" name="frame{{$i}}" src="{{$src}}" width="600" height="500" title="frame {{$i}}"></iframe>{{end}}
</body></html>`))

// StartFrameablePage serves, on its own loopback port, a page with a form
// whose id is formID and no framing protection: the control that proves a
// test can see into a cross-origin frame when the browser allows it.
func StartFrameablePage(t testing.TB, formID string) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><html lang="en"><head><title>frameable</title></head><body><form id=%q><button>ok</button></form></body></html>`, formID)
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/"
}
