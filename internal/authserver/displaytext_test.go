package authserver

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// A client name is cut by characters, not bytes: a name written in a
// script of two-byte letters keeps its full 100 characters on the consent
// page, like one in ASCII.
func TestRegister_ClientNameCutByCharactersNotBytes(t *testing.T) {
	s := &Server{}
	name := strings.Repeat("é", 100)
	c, oe := s.validateRegistration(registrationRequest{
		RedirectURIs: []string{"https://app.example.com/cb"}, TokenEndpointAuthMethod: "none", ClientName: name,
	})
	if oe != nil {
		t.Fatalf("registration refused: %v", oe)
	}
	if c.Name != name {
		t.Errorf("client name of 100 two-byte characters kept as %d characters: %q", utf8.RuneCountInString(c.Name), c.Name)
	}
}

// A value quoted back in an error is cut short without splitting a
// character: half a UTF-8 sequence would show as U+FFFD, or break a
// client that decodes the JSON error strictly.
func TestRegister_QuotedValueNeverSplitsACharacter(t *testing.T) {
	s := &Server{}
	bad := "a" + strings.Repeat("é", 60)
	_, oe := s.validateRegistration(registrationRequest{
		RedirectURIs: []string{"https://app.example.com/cb"}, TokenEndpointAuthMethod: "none", GrantTypes: []string{bad},
	})
	if oe == nil {
		t.Fatal("grant type " + bad + " accepted")
	}
	msg := oe.Description
	if strings.ContainsRune(msg, utf8.RuneError) || !utf8.ValidString(msg) {
		t.Errorf("error quotes a split character: %q", msg)
	}
	if !strings.Contains(msg, `"a`+strings.Repeat("é", 39)+`…"`) {
		t.Errorf("error should quote the first 40 characters and an ellipsis: %q", msg)
	}
}
