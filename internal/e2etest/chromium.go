package e2etest

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/drivemcp/drivemcp/internal/loopback"
)

// ChromiumPath is where Debian's chromium package installs the browser;
// `make test` installs it when it is missing.
const ChromiumPath = "/usr/bin/chromium"

// actionTimeout bounds one step a person takes (a page load, a click).
const actionTimeout = 20 * time.Second

// Chromium is a real headless Chromium, driven over the DevTools protocol,
// for the tests that must see what a person sees: rendered pages, cookies
// that survive a restart, frame-busting headers the browser enforces.
// Every request it makes is checked: anything but loopback is refused and
// fails the test, so a test can never reach the Internet.
type Chromium struct {
	// Artifacts is the directory screenshots are written to.
	Artifacts string

	t      testing.TB
	ctx    context.Context // the tab
	stop   func()
	output *lockedBuffer

	mu      sync.Mutex
	refused []string
	pages   []Load
	console []string // the pages' console messages and uncaught exceptions
	closed  bool
}

// Load is one document (a page or a frame) the browser requested, and the
// response it got, redirects included.
type Load struct {
	Method string
	URL    string
	Status int64
	Header http.Header
	Frame  string // the frame id; the top frame's id is the tab's
}

// NewChromium starts Chromium with profile as its user-data directory (a
// fresh t.TempDir() for a new person; the same directory again to be the
// same person after a browser restart). A missing browser fails the test
// rather than skipping it: these are the only tests that see the pages as a
// person does, and a skip would let CI pass without ever looking.
func NewChromium(t testing.TB, profile string) *Chromium {
	t.Helper()
	if _, err := os.Stat(ChromiumPath); err != nil {
		t.Fatalf("Chromium is required for the browser tests and is missing (%v).\n"+
			"Install it with: apt-get update && apt-get install -y --no-install-recommends chromium chromium-driver\n"+
			"(`make test` does this on a fresh machine.)", err)
	}
	c := &Chromium{Artifacts: "artifacts", t: t, output: &lockedBuffer{}}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(ChromiumPath),
		chromedp.UserDataDir(profile),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true), // containers and CI run as root
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-default-browser-check", true),
		chromedp.Flag("disable-dev-shm-usage", true), // /dev/shm is 64 MB in containers
		chromedp.Flag("password-store", "basic"),     // no keyring prompt; cookies still persist
		chromedp.Flag("hide-scrollbars", true),
		chromedp.Flag("mute-audio", true),
		// A second fence behind the request check below: names other than
		// loopback do not resolve, so even the browser's own background
		// traffic cannot leave the machine.
		chromedp.Flag("host-resolver-rules", "MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1"),
		chromedp.WindowSize(1000, 800),
		chromedp.CombinedOutput(c.output),
	)
	tab, cancelTab := chromedp.NewContext(allocCtx)
	c.ctx = tab
	c.stop = func() {
		closeCtx, cancel := context.WithTimeout(tab, 10*time.Second)
		defer cancel()
		// A graceful close writes the cookie store to the profile, as a
		// person quitting the browser would.
		_ = chromedp.Cancel(closeCtx)
		cancelTab()
		cancelAlloc()
	}
	if err := chromedp.Do(tab); err != nil { // starts the browser, with no deadline
		c.stop()
		t.Fatalf("starting Chromium: %v\n%s", err, c.output)
	}
	if err := c.watch(); err != nil {
		c.stop()
		t.Fatalf("setting up Chromium: %v\n%s", err, c.output)
	}
	t.Cleanup(func() {
		if t.Failed() {
			c.Screenshot("failed-" + sanitize(t.Name()))
		}
		c.Close()
	})
	return c
}

// watch records every document load and holds every request until it is
// known to go to loopback; others are failed and reported.
func (c *Chromium) watch() error {
	err := chromedp.Listen(c.ctx, func(ev any) {
		c.mu.Lock()
		defer c.mu.Unlock()
		switch ev := ev.(type) {
		case *network.EventRequestWillBeSent:
			if ev.RedirectResponse != nil && ev.Type == network.ResourceTypeDocument {
				c.recordResponse(ev.RedirectResponse, string(ev.FrameID))
			}
			if ev.Type == network.ResourceTypeDocument {
				c.pages = append(c.pages, Load{Method: ev.Request.Method, URL: ev.Request.URL, Frame: string(ev.FrameID)})
			}
		case *network.EventResponseReceived:
			if ev.Type == network.ResourceTypeDocument {
				c.recordResponse(ev.Response, string(ev.FrameID))
			}
		}
	})
	if err != nil {
		return err
	}
	console := chromedp.Console(c.ctx)
	go func() {
		for m, err := range console {
			if err != nil {
				return
			}
			c.mu.Lock()
			c.console = append(c.console, m.String())
			c.mu.Unlock()
		}
	}()
	paused := chromedp.Events(c.ctx, fetch.RequestPaused)
	go func() {
		for ev, err := range paused {
			if err != nil {
				return
			}
			if isLoopbackURL(ev.Request.URL) {
				_, _ = chromedp.Call(c.ctx, fetch.ContinueRequest, fetch.ContinueRequestParams{RequestID: ev.RequestID})
				continue
			}
			c.mu.Lock()
			c.refused = append(c.refused, ev.Request.URL)
			c.mu.Unlock()
			_, _ = chromedp.Call(c.ctx, fetch.FailRequest, fetch.FailRequestParams{RequestID: ev.RequestID, ErrorReason: network.ErrorReasonBlockedByClient})
		}
	}()
	_, err = chromedp.Call(c.ctx, fetch.Enable, fetch.EnableParams{Patterns: []*fetch.RequestPattern{{URLPattern: "*"}}})
	return err
}

// recordResponse attaches a response to the latest load of its URL.
func (c *Chromium) recordResponse(r *network.Response, frame string) {
	h := http.Header{}
	for k, v := range r.Headers {
		for _, line := range strings.Split(fmt.Sprint(v), "\n") {
			h.Add(k, line)
		}
	}
	for i := len(c.pages) - 1; i >= 0; i-- {
		if c.pages[i].URL == r.URL && c.pages[i].Header == nil {
			c.pages[i].Status, c.pages[i].Header = r.Status, h
			return
		}
	}
	c.pages = append(c.pages, Load{URL: r.URL, Status: r.Status, Header: h, Frame: frame})
}

// isLoopbackURL reports whether u goes to this machine. Schemes that are
// not the network (about:, data:, chrome-error:) are the browser's own.
func isLoopbackURL(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil {
		return false
	}
	if u.Scheme != "http" && u.Scheme != "https" && u.Scheme != "ws" && u.Scheme != "wss" {
		return true
	}
	return loopback.IsHost(u.Hostname())
}

// Do runs steps in the tab, each page-sized step bounded by a timeout.
func (c *Chromium) Do(steps ...chromedp.Action[chromedp.Void]) error {
	ctx, cancel := context.WithTimeout(c.ctx, actionTimeout)
	defer cancel()
	return chromedp.Do(ctx, steps...)
}

// Must runs steps and fails the test if one fails. Like t.Fatal, call it
// only from the test's own goroutine.
func (c *Chromium) Must(steps ...chromedp.Action[chromedp.Void]) {
	c.t.Helper()
	if err := c.Do(steps...); err != nil {
		loc, _ := c.Location()
		c.t.Fatalf("in the browser (at %s): %v", loc, err)
	}
}

// Text returns the visible text of the element that sel names.
func (c *Chromium) Text(sel chromedp.CSS) (string, error) {
	ctx, cancel := context.WithTimeout(c.ctx, actionTimeout)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Text(sel))
	return strings.TrimSpace(s), err
}

// MustText is Text that fails the test.
func (c *Chromium) MustText(sel chromedp.CSS) string {
	c.t.Helper()
	s, err := c.Text(sel)
	if err != nil {
		loc, _ := c.Location()
		c.t.Fatalf("reading %s (at %s): %v", sel, loc, err)
	}
	return s
}

// Has reports whether the current page has an element matching sel, without waiting.
func (c *Chromium) Has(sel string) bool {
	ctx, cancel := context.WithTimeout(c.ctx, actionTimeout)
	defer cancel()
	ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](fmt.Sprintf("document.querySelector(%q) !== null", sel)))
	return err == nil && ok
}

// HasXPath is Has for an XPath expression, for pages (such as a
// JavaScript app's) whose elements are known only by their text.
func (c *Chromium) HasXPath(xpath string) bool {
	ctx, cancel := context.WithTimeout(c.ctx, actionTimeout)
	defer cancel()
	ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](fmt.Sprintf(
		"document.evaluate(%q, document, null, XPathResult.FIRST_ORDERED_NODE_TYPE, null).singleNodeValue !== null", xpath)))
	return err == nil && ok
}

// Location is the URL of the page the tab shows.
func (c *Chromium) Location() (string, error) {
	ctx, cancel := context.WithTimeout(c.ctx, 5*time.Second)
	defer cancel()
	return chromedp.Run(ctx, chromedp.Location())
}

// Loads lists every document the browser requested so far, in order.
func (c *Chromium) Loads() []Load {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Load(nil), c.pages...)
}

// Look is how a screenshot is taken: the viewport and the colour scheme.
type Look struct {
	Name          string
	Width, Height int64
	Mobile        bool
	Dark          bool
}

var (
	// Desktop is a laptop window in the light scheme.
	Desktop = Look{Name: "", Width: 1000, Height: 800}
	// PhoneDark is a small phone in the dark scheme.
	PhoneDark = Look{Name: "-phone-dark", Width: 390, Height: 844, Mobile: true, Dark: true}
)

// Screenshot saves the whole current page as Artifacts/name.png, as each
// look given (Desktop if none). Failures are reported but do not stop the
// test: screenshots are for people, the assertions are elsewhere.
func (c *Chromium) Screenshot(name string, looks ...Look) {
	c.t.Helper()
	if len(looks) == 0 {
		looks = []Look{Desktop}
	}
	if err := os.MkdirAll(c.Artifacts, 0o755); err != nil {
		c.t.Errorf("screenshot %s: %v", name, err)
		return
	}
	for _, look := range looks {
		png, err := c.capture(look)
		if err == nil {
			path := filepath.Join(c.Artifacts, name+look.Name+".png")
			if err = os.WriteFile(path, png, 0o644); err == nil {
				c.t.Logf("screenshot: %s", path)
				continue
			}
		}
		c.t.Errorf("screenshot %s%s: %v", name, look.Name, err)
	}
}

func (c *Chromium) capture(look Look) ([]byte, error) {
	ctx, cancel := context.WithTimeout(c.ctx, actionTimeout)
	defer cancel()
	scheme := "light"
	if look.Dark {
		scheme = "dark"
	}
	var opts []chromedp.EmulateViewportOption
	if look.Mobile {
		opts = append(opts, chromedp.EmulateMobile, chromedp.EmulateScale(2))
	}
	if err := chromedp.Do(ctx,
		chromedp.EmulateViewport(look.Width, look.Height, opts...),
		chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
			_, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
				Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}},
			})
			return err
		}),
	); err != nil {
		return nil, err
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	// Back to the default look, so the steps that follow see a desktop.
	resetErr := chromedp.Do(ctx, chromedp.EmulateViewport(Desktop.Width, Desktop.Height),
		chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
			_, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{})
			return err
		}))
	return png, errors.Join(err, resetErr)
}

// Close quits the browser gracefully (its profile keeps the cookies) and
// fails the test if it ever tried to leave loopback.
func (c *Chromium) Close() {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	c.closed = true
	c.mu.Unlock()
	c.stop()
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.refused) > 0 {
		c.t.Errorf("the browser tried to load %d non-loopback URLs (refused): %s", len(c.refused), strings.Join(c.refused, ", "))
	}
	if c.t.Failed() {
		c.t.Logf("chromium output:\n%s", c.output)
		// A page's own script (a browser-based client) says why it stopped here.
		if len(c.console) > 0 {
			c.t.Logf("the pages' console:\n%s", strings.Join(c.console, "\n"))
		}
	}
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

func sanitize(s string) string { return unsafeName.ReplaceAllString(s, "_") }

// Frame is what a child frame of the current page shows.
type Frame struct {
	URL string
	// UnreachableURL is set when the browser did not show the document it
	// loaded (a network error, or the page refused to be framed).
	UnreachableURL string
	// HasElement reports whether the selector given to Frame matched in
	// the frame's document.
	HasElement bool
}

// Frame finds the child frame whose name is name and looks for sel in its
// document, in an isolated world (the page's own scripts and CSP play no part).
func (c *Chromium) Frame(name, sel string) (Frame, error) {
	ctx, cancel := context.WithTimeout(c.ctx, actionTimeout)
	defer cancel()
	tree, err := chromedp.Call(ctx, page.GetFrameTree, cdp.Empty{})
	if err != nil {
		return Frame{}, err
	}
	var found *cdp.Frame
	var walk func(*page.FrameTree)
	walk = func(ft *page.FrameTree) {
		if ft == nil {
			return
		}
		if ft.Frame.Name == name && ft.Frame.ParentID != "" {
			found = ft.Frame
		}
		for _, child := range ft.ChildFrames {
			walk(child)
		}
	}
	walk(tree.FrameTree)
	if found == nil {
		return Frame{}, fmt.Errorf("no frame named %q in this page", name)
	}
	f := Frame{URL: found.URL, UnreachableURL: found.UnreachableURL}
	world, err := chromedp.Call(ctx, page.CreateIsolatedWorld, page.CreateIsolatedWorldParams{FrameID: found.ID, WorldName: "e2e"})
	if err != nil {
		return f, fmt.Errorf("entering frame %q: %w", name, err)
	}
	res, err := chromedp.Call(ctx, runtime.Evaluate, runtime.EvaluateParams{
		Expression: fmt.Sprintf("document.querySelector(%q) !== null", sel), ContextID: world.ExecutionContextID, ReturnByValue: new(true),
	})
	if err != nil {
		return f, err
	}
	if res.ExceptionDetails != nil {
		return f, fmt.Errorf("in frame %q: %s", name, res.ExceptionDetails.Text)
	}
	f.HasElement = string(res.Result.Value) == "true"
	return f, nil
}

// Texts reads the visible text of each selector on the current page.
func (c *Chromium) Texts(sels ...string) ([]string, error) {
	out := make([]string, len(sels))
	for i, sel := range sels {
		s, err := c.Text(chromedp.CSS(sel))
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", sel, err)
		}
		out[i] = s
	}
	return out, nil
}

// TakeRefused returns the non-loopback URLs the browser was refused since
// the last call, and forgets them (for a test that tries on purpose).
func (c *Chromium) TakeRefused() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	r := c.refused
	c.refused = nil
	return r
}
