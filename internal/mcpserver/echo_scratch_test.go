package mcpserver

import "testing"

func TestEchoDriveAccount_SaysTheAccount(t *testing.T) {
	f := newFixture(t, Deps{})
	out := f.mustCall(t, "echo_drive_account", map[string]any{})
	if out["email"] != alice {
		t.Fatalf("got %v", out)
	}
}
