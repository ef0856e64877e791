package e2e

import (
	"context"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/drivemcp/drivemcp/internal/e2etest"
)

// The MCP revisions a client may speak: at 2025-11-25 drivemcp asks during
// the call (elicitation/create), at 2026-07-28 it answers input_required
// and the client calls again. The go-sdk client handles both.
var elicitationRevisions = []string{"2025-11-25", "2026-07-28"}

func urlElicitingClient(p *elicitingPerson) *mcp.ClientOptions {
	return &mcp.ClientOptions{ElicitationHandler: p.handle,
		Capabilities: &mcp.ClientCapabilities{Elicitation: &mcp.ElicitationCapabilities{URL: &mcp.URLElicitationCapabilities{}}}}
}

func mustSpeak(t *testing.T, s *mcp.ClientSession, rev string) {
	t.Helper()
	if got := s.InitializeResult().ProtocolVersion; got != rev {
		t.Fatalf("the session speaks %s, want %s", got, rev)
	}
}

// Over HTTP with an OAuth token: the person removed drivemcp from their
// Google account, Google answers invalid_grant, and the next tool call
// shows them a re-consent link for the same account; the call finishes as
// that account, at either revision.
func TestElicitation_OverHTTPAnOAuthTokensRevokedGrantReconsentsAsTheSameAccount(t *testing.T) {
	for _, rev := range elicitationRevisions {
		t.Run(rev, func(t *testing.T) {
			g := e2etest.StartGoogle(t)
			srv := e2etest.StartHTTP(t, e2etest.Config{Binary: binary, DB: filepath.Join(t.TempDir(), "db"), Google: g})
			p := newElicitingPerson(t, "carol@example.com")
			s := connectOAuthWith(t, srv.BaseURL, e2etest.NewBrowser("carol@example.com"), nil, urlElicitingClient(p),
				&mcp.ClientSessionOptions{ProtocolVersion: rev})
			mustSpeak(t, s, rev)
			e2etest.MustCall(t, s, "create_drive_file", map[string]any{"file_name": "before.txt", "content": "x"})

			g.RevokeAccess("carol@example.com")
			g.ExpireAccessTokens()
			e2etest.MustCall(t, s, "create_drive_file", map[string]any{"file_name": "after.txt", "content": "y"})
			asked := p.prompts()
			if len(asked) != 1 || !strings.Contains(asked[0].URL, "login_hint=carol%40example.com") || !strings.Contains(asked[0].URL, "prompt=consent") {
				t.Fatalf("elicitations = %+v, want one re-consent for carol", asked)
			}
			if files := e2etest.FilesNamed(g, "after.txt"); len(files) != 1 || files[0].Owner != "carol@example.com" {
				t.Fatalf("after.txt in Drive: %+v", files)
			}
			who := e2etest.Structured(t, e2etest.MustCall(t, s, "check_drive_auth", nil))
			if who["email"] != "carol@example.com" || who["method"] != "oauth" || who["needs_reconsent"] == true {
				t.Fatalf("check_drive_auth = %v", who)
			}
		})
	}
}

// An OAuth token granted only drive.readonly by its client, and a tool that
// writes: the step-up is the client's own (403 insufficient_scope, the
// client logs in again for both scopes), never an elicitation, because the
// token, not drivemcp's grant at Google, is what lacks the scope.
func TestElicitation_OverHTTPAReadOnlyTokenStepsUpThroughItsClientNotByElicitation(t *testing.T) {
	g := e2etest.StartGoogle(t)
	srv := e2etest.StartHTTP(t, e2etest.Config{Binary: binary, DB: filepath.Join(t.TempDir(), "db"), Google: g,
		ExtraArgs: []string{"--drive-scope", "full"}})
	browser := e2etest.NewBrowser("dora@example.com")
	p := newElicitingPerson(t, "dora@example.com")
	first := true
	s := connectOAuthWith(t, srv.BaseURL, browser, func(discovered []string) []string {
		if first {
			first = false
			return []string{"drive.readonly"}
		}
		return discovered
	}, urlElicitingClient(p), &mcp.ClientSessionOptions{ProtocolVersion: "2025-11-25"})

	e2etest.MustCall(t, s, "create_drive_file", map[string]any{"file_name": "stepped-up.txt", "content": "w"})
	if asked := p.prompts(); len(asked) != 0 {
		t.Fatalf("elicitations = %+v, want none: the token steps up through its client", asked)
	}
	logins := 0
	for _, u := range browser.Visited {
		if strings.Contains(u, "/oauth/authorize?") {
			logins++
		}
	}
	if logins != 2 || len(e2etest.FilesNamed(g, "stepped-up.txt")) != 1 {
		t.Fatalf("client logins = %d (want the first and one step-up), files = %+v", logins, e2etest.FilesNamed(g, "stepped-up.txt"))
	}
}

// completions records notifications/elicitation/complete.
type completions struct {
	mu  sync.Mutex
	ids []string
}

func (c *completions) handle(_ context.Context, req *mcp.ElicitationCompleteNotificationRequest) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.ids = append(c.ids, req.Params.ElicitationID)
}

func (c *completions) seen() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.ids...)
}

// At 2025-11-25 drivemcp asks during the call (elicitation/create, mode
// url) and, once Google's callback has taken the login, tells the client
// with notifications/elicitation/complete naming the same elicitation,
// before the call's result.
func TestElicitation_At20251125TheServerAsksDuringTheCallAndSaysWhenItIsComplete(t *testing.T) {
	g := e2etest.StartGoogle(t)
	p := newElicitingPerson(t, "alice@example.com")
	done := &completions{}
	s := e2etest.StartStdio(t, e2etest.Config{Binary: binary, DB: filepath.Join(t.TempDir(), "drivemcp.db"), Google: g,
		Elicit: p.handle, ElicitComplete: done.handle, ProtocolVersion: "2025-11-25"})
	mustSpeak(t, s.Session, "2025-11-25")

	e2etest.MustCall(t, s.Session, "create_drive_file", map[string]any{"file_name": "asked.txt", "content": "hello"})
	asked := p.prompts()
	if len(asked) != 1 {
		t.Fatalf("elicitations = %+v, want one", asked)
	}
	// The notification is sent before the result, on the same stream, so
	// the client has read it by the time the call returned.
	if ids := done.seen(); len(ids) != 1 || ids[0] != asked[0].ElicitationID {
		t.Fatalf("elicitation/complete for %q, want one for %q", ids, asked[0].ElicitationID)
	}
	if files := e2etest.FilesNamed(g, "asked.txt"); len(files) != 1 || files[0].Owner != "alice@example.com" {
		t.Fatalf("files = %+v", files)
	}
}

// decliner is a person who is shown the sign-in and says no.
type decliner struct {
	mu    sync.Mutex
	links []string
}

func (d *decliner) handle(_ context.Context, req *mcp.ElicitRequest) (*mcp.ElicitResult, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.links = append(d.links, req.Params.URL)
	return &mcp.ElicitResult{Action: "decline"}, nil
}

// A person who declines the sign-in: the tool answers as it does for a
// client that cannot be asked (what to do, with start_google_auth), no file
// is made, and the session stays signed out.
func TestElicitation_DeclinedSignInAnswersTheUsualSentenceAndBindsNothing(t *testing.T) {
	for _, rev := range elicitationRevisions {
		t.Run(rev, func(t *testing.T) {
			g := e2etest.StartGoogle(t)
			d := &decliner{}
			s := e2etest.StartStdio(t, e2etest.Config{Binary: binary, DB: filepath.Join(t.TempDir(), "drivemcp.db"), Google: g,
				Elicit: d.handle, ProtocolVersion: rev})
			mustSpeak(t, s.Session, rev)

			res := e2etest.Call(t, s.Session, "create_drive_file", map[string]any{"file_name": "declined.txt", "content": "x"})
			if text := e2etest.ResultText(res); !res.IsError || !strings.Contains(text, "start_google_auth") {
				t.Fatalf("create_drive_file after a decline: %v %s", res.IsError, text)
			}
			d.mu.Lock()
			links := len(d.links)
			d.mu.Unlock()
			if links != 1 {
				t.Fatalf("the person was asked %d times, want once", links)
			}
			if len(e2etest.FilesNamed(g, "declined.txt")) != 0 {
				t.Fatal("a file reached Drive")
			}
			if who := e2etest.Structured(t, e2etest.MustCall(t, s.Session, "check_drive_auth", nil)); who["authenticated"] == true {
				t.Fatalf("check_drive_auth after a decline = %v", who)
			}
		})
	}
}
