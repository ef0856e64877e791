package e2etest

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"time"

	"golang.org/x/net/html"
)

// Browser plays a person at the consent and Google sign-in pages, without a
// real browser: it follows redirects, fills the forms it knows and submits
// them, carrying cookies like a browser. The Chromium tests drive the real
// thing; this one keeps the protocol tests fast.
type Browser struct {
	Email    string // typed into the Google emulator's sign-in page
	Deny     bool   // press Deny on the consent page
	Remember bool   // tick "remember my answer"
	// Untick lists scopes to untick on Google's consent page (its granular
	// consent boxes), by full scope URL or by the name after the last "/"
	// (e.g. "drive.file"); every other box is left ticked, as a person
	// who just presses Allow does.
	Untick []string
	// From is the origin of the page that sends the browser to Run's start
	// URL (a link or script on another site); "" means the person opened it
	// themselves. It decides the Sec-Fetch-Site header the browser sends.
	From string
	// NoFetchMetadata plays a browser that sends no Sec-Fetch-* headers.
	NoFetchMetadata bool
	// Visited lists every URL the browser loaded, for assertions.
	Visited []string
	client  *http.Client
}

// NewBrowser makes a browser with an empty cookie jar.
func NewBrowser(email string) *Browser {
	jar, _ := cookiejar.New(nil)
	return &Browser{Email: email, client: &http.Client{
		Jar: jar, Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// Run opens start and acts until the browser is sent to a URL beginning
// with stop (the client's redirect URI), which it returns without loading.
func (b *Browser) Run(ctx context.Context, start, stop string) (*url.URL, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, start, nil)
	if err != nil {
		return nil, err
	}
	nav := navigation{initiator: b.From}
	for step := 0; step < 12; step++ {
		b.Visited = append(b.Visited, req.URL.String())
		b.fetchMetadata(req, &nav)
		resp, err := b.client.Do(req)
		if err != nil {
			return nil, err
		}
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
		if loc := resp.Header.Get("Location"); resp.StatusCode >= 300 && resp.StatusCode < 400 && loc != "" {
			next, err := req.URL.Parse(loc)
			if err != nil {
				return nil, err
			}
			if strings.HasPrefix(next.String(), stop) {
				return next, nil
			}
			req, err = http.NewRequestWithContext(ctx, http.MethodGet, next.String(), nil)
			if err != nil {
				return nil, err
			}
			continue
		}
		if resp.StatusCode != http.StatusOK {
			return nil, fmt.Errorf("%s answered %s: %s", req.URL, resp.Status, pageText(body))
		}
		next, err := b.submit(ctx, req.URL, body)
		if err != nil {
			return nil, fmt.Errorf("on %s: %w", req.URL, err)
		}
		nav = navigation{initiator: origin(req.URL)}
		req = next
	}
	return nil, fmt.Errorf("no redirect to %s after 12 pages", stop)
}

// Open loads one URL in this browser, with its cookies, without following
// a redirect: for a test that stops a flow midway and resumes it by hand.
// It leaves Visited alone, so it may run on several goroutines at once.
func (b *Browser) Open(ctx context.Context, rawURL string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return nil, err
	}
	b.fetchMetadata(req, &navigation{initiator: b.From})
	return b.client.Do(req)
}

func (b *Browser) fetchMetadata(req *http.Request, nav *navigation) {
	if !b.NoFetchMetadata {
		req.Header.Set("Sec-Fetch-Site", nav.site(req.URL))
	}
}

// navigation computes Sec-Fetch-Site as a browser does (Fetch Metadata
// Request Headers, §2.1): "none" for a navigation the person started, kept
// across its redirects; otherwise the furthest any URL of the redirect
// chain has been from the initiator's origin.
type navigation struct {
	initiator string // "" for the person's own navigation
	worst     string
}

func (n *navigation) site(u *url.URL) string {
	if n.initiator == "" {
		return "none"
	}
	here := "same-origin"
	if o := origin(u); o != n.initiator {
		here = "cross-site"
		// A site ignores ports: another port of the same host is same-site.
		if i, err := url.Parse(n.initiator); err == nil && i.Scheme == u.Scheme && i.Hostname() == u.Hostname() {
			here = "same-site"
		}
	}
	rank := map[string]int{"": 0, "same-origin": 1, "same-site": 2, "cross-site": 3}
	if rank[here] > rank[n.worst] {
		n.worst = here
	}
	return n.worst
}

func origin(u *url.URL) string { return u.Scheme + "://" + u.Host }

// submit fills the page's form as a person would.
func (b *Browser) submit(ctx context.Context, page *url.URL, body []byte) (*http.Request, error) {
	f, err := parseForm(body)
	if err != nil {
		return nil, err
	}
	switch {
	case f.id == "consent":
		f.values.Set("decision", "allow")
		if b.Deny {
			f.values.Set("decision", "deny")
		}
		if b.Remember {
			f.values.Set("remember", "1")
		}
	case f.hasField["email"]:
		f.values.Set("email", b.Email)
		f.values.Set("action", "allow")
		var kept []string
		for _, sc := range f.values["scope"] {
			if !b.unticks(sc) {
				kept = append(kept, sc)
			}
		}
		f.values["scope"] = kept
	default:
		return nil, fmt.Errorf("a page with a form this browser does not know: %s", pageText(body))
	}
	action, err := page.Parse(f.action)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, action.String(), strings.NewReader(f.values.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", page.Scheme+"://"+page.Host)
	return req, nil
}

// unticks reports whether the person unticks scope's box.
func (b *Browser) unticks(scope string) bool {
	for _, u := range b.Untick {
		if scope == u || strings.HasSuffix(scope, "/"+u) {
			return true
		}
	}
	return false
}

type form struct {
	id, action string
	values     url.Values
	hasField   map[string]bool
}

// parseForm reads the first form of a page and its hidden inputs.
func parseForm(page []byte) (*form, error) {
	doc, err := html.Parse(strings.NewReader(string(page)))
	if err != nil {
		return nil, err
	}
	var f *form
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			switch n.Data {
			case "form":
				if f == nil {
					f = &form{id: attr(n, "id"), action: attr(n, "action"), values: url.Values{}, hasField: map[string]bool{}}
				}
			case "input":
				if f != nil && attr(n, "name") != "" {
					f.hasField[attr(n, "name")] = true
					switch attr(n, "type") {
					case "hidden":
						f.values.Set(attr(n, "name"), attr(n, "value"))
					case "checkbox":
						// A browser posts a box only while it is ticked.
						if hasAttr(n, "checked") {
							f.values.Add(attr(n, "name"), attr(n, "value"))
						}
					}
				}
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	if f == nil {
		return nil, fmt.Errorf("no form on the page: %s", pageText(page))
	}
	return f, nil
}

func attr(n *html.Node, name string) string {
	for _, a := range n.Attr {
		if a.Key == name {
			return a.Val
		}
	}
	return ""
}

func hasAttr(n *html.Node, name string) bool {
	for _, a := range n.Attr {
		if a.Key == name {
			return true
		}
	}
	return false
}

// pageText is a page shortened for error messages.
func pageText(body []byte) string {
	s := string(body)
	if len(s) > 600 {
		s = s[:600] + "…"
	}
	return s
}
