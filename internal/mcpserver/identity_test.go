package mcpserver

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/drivemcp/drivemcp/internal/e2etest"
	"github.com/drivemcp/drivemcp/internal/google"
)

// filesOwnedBy counts the emulator's files (root folders aside) whose owner
// is email.
func filesOwnedBy(f *fixture, email string) int {
	n := 0
	for _, file := range f.google.Files() {
		if file.Owner == email {
			n++
		}
	}
	return n
}

// Google gave alice's Workspace address to a new person. The stdio session
// that the old alice connected must not write a byte into the new person's
// Drive once drivemcp has seen the new account sign in (checked in the
// emulator's files); after connecting again, the session works as the new
// person.
func TestIdentity_AddressRecycledToANewGoogleAccount_StdioBindingCannotWriteIntoTheNewDrive(t *testing.T) {
	deps, g := fixtureDeps(t, Deps{})
	deps.Stdio = true
	f := connectFixture(t, g, New(deps), nil)
	if err := deps.Resolver.Bind(context.Background(), stdioSessionKey, alice, time.Hour); err != nil {
		t.Fatal(err)
	}
	f.mustCall(t, "create_drive_file", map[string]any{"file_name": "old-alice.txt", "content": "mine"})

	if err := g.RecycleEmail(alice); err != nil {
		t.Fatal(err)
	}
	signIn(t, deps.Grants.Upstream(), deps.Grants, alice, google.LoginScopes(google.ScopeDriveFile))

	res := f.call(t, "create_drive_file", map[string]any{"file_name": "crossed.txt", "content": "not yours"})
	if !res.IsError {
		t.Fatalf("the old account's session wrote after the address changed hands: %v", e2etest.ResultText(res))
	}
	if msg := e2etest.ResultText(res); !strings.Contains(msg, "no longer holds "+alice) || !strings.Contains(msg, "start_google_auth") {
		t.Errorf("error = %q, want it to say the address changed hands and to connect again", msg)
	}
	if n := filesOwnedBy(f, alice); n != 0 {
		t.Fatalf("%d files in the new account's Drive, want none", n)
	}

	// The person now at the address connects this session: it works for them.
	if err := deps.Resolver.Bind(context.Background(), stdioSessionKey, alice, time.Hour); err != nil {
		t.Fatal(err)
	}
	f.mustCall(t, "create_drive_file", map[string]any{"file_name": "new-alice.txt", "content": "hers"})
	if n := filesOwnedBy(f, alice); n != 1 {
		t.Errorf("%d files in the new account's Drive, want 1", n)
	}
}
