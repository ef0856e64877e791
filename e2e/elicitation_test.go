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

// elicitingPerson is a client that declares URL-mode elicitation and a
// person who opens every link it is shown and signs in at Google as email.
type elicitingPerson struct {
	t     *testing.T
	email string
	mu    sync.Mutex
	asked []*mcp.ElicitParams
	b     *e2etest.Browser
}

func newElicitingPerson(t *testing.T, email string) *elicitingPerson {
	return &elicitingPerson{t: t, email: email, b: e2etest.NewBrowser(email)}
}

func (p *elicitingPerson) handle(_ context.Context, req *mcp.ElicitRequest) (*mcp.ElicitResult, error) {
	p.mu.Lock()
	p.asked = append(p.asked, req.Params)
	p.mu.Unlock()
	if req.Params.Mode != "url" || req.Params.URL == "" || req.Params.ElicitationID == "" {
		p.t.Errorf("elicitation = %+v, want mode url with a URL and an id", req.Params)
		return &mcp.ElicitResult{Action: "decline"}, nil
	}
	status, page := signInAt(p.t, p.b, req.Params.URL)
	if status != 200 {
		p.t.Errorf("callback page after the elicited sign-in: %d\n%s", status, page)
	}
	return &mcp.ElicitResult{Action: "accept"}, nil
}

func (p *elicitingPerson) prompts() []*mcp.ElicitParams {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]*mcp.ElicitParams(nil), p.asked...)
}

func startEliciting(t *testing.T, g *e2etest.Google, p *elicitingPerson, extra ...string) *e2etest.StdioServer {
	return e2etest.StartStdio(t, e2etest.Config{Binary: binary, DB: filepath.Join(t.TempDir(), "drivemcp.db"), Google: g,
		Elicit: p.handle, ExtraArgs: extra})
}

// A client that can show a link asks the person to sign in when no account
// is connected; the tool call the model made finishes once they have, with
// no second call.
func TestElicitation_NoAccountSignsInInsideTheToolCall(t *testing.T) {
	g := e2etest.StartGoogle(t)
	p := newElicitingPerson(t, "alice@example.com")
	s := startEliciting(t, g, p)

	e2etest.MustCall(t, s.Session, "create_drive_file", map[string]any{"file_name": "elicited.txt", "content": "hello"})
	if asked := p.prompts(); len(asked) != 1 || !strings.Contains(asked[0].Message, "Google") {
		t.Fatalf("elicitations = %+v, want one sign-in prompt", asked)
	}
	if files := e2etest.FilesNamed(g, "elicited.txt"); len(files) != 1 || files[0].Owner != "alice@example.com" {
		t.Fatalf("files = %+v", files)
	}
	who := e2etest.Structured(t, e2etest.MustCall(t, s.Session, "check_drive_auth", nil))
	if who["email"] != "alice@example.com" || who["method"] != "session" {
		t.Fatalf("check_drive_auth = %v", who)
	}
}

// Google answers invalid_grant after the person removed drivemcp from
// their Google account: the next tool call asks them to consent again,
// for the same account, and then finishes.
func TestElicitation_RevokedGrantReconsentsAndTheCallFinishes(t *testing.T) {
	g := e2etest.StartGoogle(t)
	p := newElicitingPerson(t, "alice@example.com")
	s := startEliciting(t, g, p)
	e2etest.Connect(t, s.Session, "alice@example.com")
	e2etest.MustCall(t, s.Session, "create_drive_file", map[string]any{"file_name": "before.txt", "content": "x"})

	g.RevokeAccess("alice@example.com")
	g.ExpireAccessTokens()
	e2etest.MustCall(t, s.Session, "create_drive_file", map[string]any{"file_name": "after.txt", "content": "y"})
	asked := p.prompts()
	if len(asked) != 1 || !strings.Contains(asked[0].URL, "login_hint=alice%40example.com") || !strings.Contains(asked[0].URL, "prompt=consent") {
		t.Fatalf("elicitations = %+v, want one re-consent for alice", asked)
	}
	if len(e2etest.FilesNamed(g, "after.txt")) != 1 {
		t.Fatal("after.txt did not reach Drive")
	}
	who := e2etest.Structured(t, e2etest.MustCall(t, s.Session, "check_drive_auth", nil))
	if who["needs_reconsent"] == true || who["authenticated"] != true {
		t.Fatalf("check_drive_auth = %v", who)
	}
}

// An account connected for reading only (drive.readonly) and a tool that
// writes: the person is asked to grant a writing scope (step-up), and the
// write happens once they have.
func TestElicitation_ReadOnlyGrantStepsUpForAWritingTool(t *testing.T) {
	g := e2etest.StartGoogle(t)
	p := newElicitingPerson(t, "alice@example.com")
	s := startEliciting(t, g, p, "--drive-scope", "full")
	link := authURLOf(t, e2etest.Structured(t, e2etest.MustCall(t, s.Session, "start_google_auth",
		map[string]any{"user_google_email": "alice@example.com", "scope": "readonly"})))
	if status, page := signInAt(t, e2etest.NewBrowser("alice@example.com"), link); status != 200 {
		t.Fatalf("read-only sign-in: %d\n%s", status, page)
	}

	e2etest.MustCall(t, s.Session, "create_drive_file", map[string]any{"file_name": "stepped-up.txt", "content": "x"})
	asked := p.prompts()
	if len(asked) != 1 || !strings.Contains(asked[0].URL, "auth%2Fdrive") {
		t.Fatalf("elicitations = %+v, want one asking for a writing Drive scope", asked)
	}
	if len(e2etest.FilesNamed(g, "stepped-up.txt")) != 1 {
		t.Fatal("stepped-up.txt did not reach Drive")
	}
}

// A client that declared no URL elicitation keeps today's answer: a tool
// error with what to do, and no request it cannot handle.
func TestElicitation_ClientWithoutTheCapabilityGetsTheLinkInText(t *testing.T) {
	g := e2etest.StartGoogle(t)
	s := e2etest.StartStdio(t, e2etest.Config{Binary: binary, DB: filepath.Join(t.TempDir(), "drivemcp.db"), Google: g})
	res := e2etest.Call(t, s.Session, "create_drive_file", map[string]any{"file_name": "no.txt", "content": "x"})
	if text := e2etest.ResultText(res); !res.IsError || !strings.Contains(text, "start_google_auth") {
		t.Fatalf("create_drive_file: %v %s", res.IsError, text)
	}
	if len(e2etest.FilesNamed(g, "no.txt")) != 0 {
		t.Fatal("a file reached Drive")
	}
}
