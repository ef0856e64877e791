package mcpserver

import (
	"strings"
	"testing"

	"github.com/drivemcp/drivemcp/internal/e2etest"
	"github.com/drivemcp/drivemcp/internal/google"
)

// Google's granular consent lets a person sign in with the Drive box
// unticked: the account is connected with the sign-in scopes only. Every
// Drive tool must then say that, and what to do, before asking Google;
// check_drive_auth shows the scopes Google granted.
func TestTools_AccountWithDriveBoxUntickedSaysLeaveItTicked(t *testing.T) {
	deps, g := fixtureDeps(t, Deps{})
	const nodrive = "nodrive@example.com"
	signIn(t, deps.Grants.Upstream(), deps.Grants, nodrive, google.LoginScopes())
	f := connectFixture(t, g, New(deps), nil)

	before := g.Stats().Requests
	for _, c := range []struct {
		tool string
		args map[string]any
	}{
		{"create_drive_file", map[string]any{"file_name": "x.txt", "content": "x"}},
		{"list_drive_items", map[string]any{}},
	} {
		c.args["user_google_email"] = nodrive
		res := f.call(t, c.tool, c.args)
		text := e2etest.ResultText(res)
		if !res.IsError || !strings.Contains(text, "leave the Google Drive box ticked") ||
			!strings.Contains(text, "start_google_auth") || !strings.Contains(text, nodrive) {
			t.Errorf("%s: %v %s", c.tool, res.IsError, text)
		}
	}
	if after := g.Stats().Requests; after != before {
		t.Errorf("%d requests reached Google for an account without Drive access", after-before)
	}

	res := f.call(t, "check_drive_auth", map[string]any{"user_google_email": nodrive})
	out := e2etest.Structured(t, res)
	text := e2etest.ResultText(res)
	scopes, _ := out["scopes"].([]any)
	if len(scopes) == 0 || strings.Contains(text, "drive.file") || !strings.Contains(text, "leave the Google Drive box ticked") {
		t.Fatalf("check_drive_auth: %v\n%s", out, text)
	}
}
