package googleemu

import (
	"context"
	"errors"
	"strings"
	"testing"

	"google.golang.org/api/drive/v3"
	"google.golang.org/api/option"
)

// Google's sub never changes for an account and is never given to another:
// the same address signs in with the same sub every time.
func TestIdentity_SubIsStablePerAccount(t *testing.T) {
	_, srv := start(t, Options{})
	cfg := oauthConfig(srv.URL, "openid", "email")
	_, a := userinfo(t, srv.URL, login(t, cfg, "ann@example.com").AccessToken)
	_, b := userinfo(t, srv.URL, login(t, cfg, "ann@example.com").AccessToken)
	_, c := userinfo(t, srv.URL, login(t, cfg, "cid@example.com").AccessToken)
	if a["sub"] == "" || a["sub"] != b["sub"] || a["sub"] == c["sub"] {
		t.Fatalf("subs: ann %v then %v, cid %v; want ann's stable and cid's different", a["sub"], b["sub"], c["sub"])
	}
}

// A Workspace address given to a new person is a new Google account: a new
// sub, the old account's tokens dead (invalid_grant), an empty Drive; the
// old account's files are not the new person's.
func TestIdentity_RecycledAddressIsANewAccountWithNewSubAndEmptyDrive(t *testing.T) {
	e, srv := start(t, Options{})
	cfg := oauthConfig(srv.URL, "openid", "email", scopeDriveFile)
	old := login(t, cfg, "rae@example.com")
	_, before := userinfo(t, srv.URL, old.AccessToken)
	ctx := context.Background()
	svc, err := drive.NewService(ctx, optionsFor(srv.URL, cfg.Client(ctx, old))...)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Files.Create(&drive.File{Name: "old-notes.txt"}).Media(strings.NewReader("old")).Do(); err != nil {
		t.Fatal(err)
	}

	if err := e.RecycleEmail("rae@example.com"); err != nil {
		t.Fatalf("RecycleEmail: %v", err)
	}
	if status, _ := userinfo(t, srv.URL, old.AccessToken); status != 401 {
		t.Errorf("the old account's access token: userinfo %d, want 401", status)
	}
	if status, body := refreshForm(t, srv.URL, old.RefreshToken, ""); status != 400 || body["error"] != "invalid_grant" {
		t.Errorf("the old account's refresh token: %d %v, want 400 invalid_grant", status, body)
	}

	fresh := login(t, cfg, "rae@example.com")
	_, after := userinfo(t, srv.URL, fresh.AccessToken)
	if after["sub"] == before["sub"] || after["email"] != "rae@example.com" {
		t.Fatalf("after recycling: sub %v email %v; want a new sub (was %v) at the same address", after["sub"], after["email"], before["sub"])
	}
	svc2, err := drive.NewService(ctx, option.WithEndpoint(srv.URL+"/drive/v3/"), option.WithHTTPClient(cfg.Client(ctx, fresh)))
	if err != nil {
		t.Fatal(err)
	}
	list, err := svc2.Files.List().Do()
	if err != nil || len(list.Files) != 0 {
		t.Fatalf("the new account's Drive: %v %v, want empty", list, err)
	}
	for _, f := range e.Files() {
		if f.Owner == "rae@example.com" {
			t.Errorf("file %q of the old account is still owned by the address", f.Name)
		}
	}
	if err := e.RecycleEmail("nobody@example.com"); !errors.Is(err, ErrUnknownAccount) {
		t.Errorf("recycling an address no one used: %v, want ErrUnknownAccount", err)
	}
}

// An account's address can change (a rename in Workspace): the sub, the
// tokens and the Drive stay the account's; the old address is free.
func TestIdentity_EmailChangeKeepsSubTokensAndDrive(t *testing.T) {
	e, srv := start(t, Options{})
	cfg := oauthConfig(srv.URL, "openid", "email", scopeDriveFile)
	tok := login(t, cfg, "sue@example.com")
	_, before := userinfo(t, srv.URL, tok.AccessToken)
	ctx := context.Background()
	svc, err := drive.NewService(ctx, optionsFor(srv.URL, cfg.Client(ctx, tok))...)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Files.Create(&drive.File{Name: "kept.txt"}).Media(strings.NewReader("k")).Do(); err != nil {
		t.Fatal(err)
	}
	if err := e.ChangeEmail("sue@example.com", "susan@example.com"); err != nil {
		t.Fatalf("ChangeEmail: %v", err)
	}
	_, after := userinfo(t, srv.URL, tok.AccessToken)
	if after["sub"] != before["sub"] || after["email"] != "susan@example.com" {
		t.Fatalf("after the change: %v, want sub %v and the new address", after, before["sub"])
	}
	if status, body := refreshForm(t, srv.URL, tok.RefreshToken, ""); status != 200 {
		t.Errorf("refresh after the change: %d %v, want 200", status, body)
	}
	list, err := svc.Files.List().Do()
	if err != nil || len(list.Files) != 1 || list.Files[0].Name != "kept.txt" {
		t.Fatalf("the account's Drive after the change: %v %v", list, err)
	}
	if err := e.ChangeEmail("susan@example.com", "cid@example.com"); err != nil {
		t.Fatal(err)
	}
	login(t, cfg, "una@example.com")
	if err := e.ChangeEmail("cid@example.com", "una@example.com"); !errors.Is(err, ErrEmailTaken) {
		t.Errorf("changing to an address in use: %v, want ErrEmailTaken", err)
	}
}
