package authserver

import (
	"net/http"
	"testing"
)

// Google gave alice's Workspace address to a new person (a new sub): as
// soon as drivemcp sees the new sub at a sign-in, the MCP tokens issued to
// the old account stop working, at once on this replica, and the new
// person's own login works.
func TestIdentity_AddressRecycledToANewGoogleAccountRevokesTheOldAccountsMCPTokens(t *testing.T) {
	f := newFixture(t)
	clientID := f.registerPublic()
	oldAccess, oldRefresh := f.tokens(clientID, "alice@example.com")
	if resp, who := f.callMCP(oldAccess); resp.StatusCode != http.StatusOK || who != "alice@example.com" {
		t.Fatalf("before: %d %q", resp.StatusCode, who)
	}

	if err := f.google.RecycleEmail("alice@example.com"); err != nil {
		t.Fatal(err)
	}
	newAccess, _ := f.tokens(clientID, "alice@example.com")

	if resp, _ := f.callMCP(oldAccess); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("the old account's access token after the address changed hands: %d, want 401", resp.StatusCode)
	}
	if status, out := f.refresh(clientID, oldRefresh); status != http.StatusBadRequest || out["error"] != "invalid_grant" {
		t.Errorf("the old account's refresh token: %d %v, want invalid_grant", status, out)
	}
	if resp, who := f.callMCP(newAccess); resp.StatusCode != http.StatusOK || who != "alice@example.com" {
		t.Errorf("the new account's token: %d %q", resp.StatusCode, who)
	}
}

// An administrator renamed sue to susan (same sub): the MCP client's token
// keeps working with no new login, and once drivemcp sees the new address
// at any sign-in, the token acts as the account under its new address.
func TestIdentity_EmailChangedUnderTheSameSubKeepsTheMCPTokenWorking(t *testing.T) {
	f := newFixture(t)
	clientID := f.registerPublic()
	access, refresh := f.tokens(clientID, "sue@example.com")
	if err := f.google.ChangeEmail("sue@example.com", "susan@example.com"); err != nil {
		t.Fatal(err)
	}
	if resp, who := f.callMCP(access); resp.StatusCode != http.StatusOK || who != "sue@example.com" {
		t.Fatalf("right after the rename: %d %q", resp.StatusCode, who)
	}

	other := f.registerPublic()
	f.tokens(other, "susan@example.com") // the renamed account signs in somewhere

	if resp, who := f.callMCP(access); resp.StatusCode != http.StatusOK || who != "susan@example.com" {
		t.Errorf("the first client's token after drivemcp saw the new address: %d %q, want it to act as susan@example.com", resp.StatusCode, who)
	}
	status, out := f.refresh(clientID, refresh)
	if status != http.StatusOK {
		t.Fatalf("refreshing the first client's token: %d %v", status, out)
	}
	if resp, who := f.callMCP(out["access_token"].(string)); resp.StatusCode != http.StatusOK || who != "susan@example.com" {
		t.Errorf("after a refresh: %d %q", resp.StatusCode, who)
	}
	if _, err := f.srv.store.GetGoogleAccount(t.Context(), "sue@example.com"); err == nil {
		t.Errorf("the old address still has an account row")
	}
}
