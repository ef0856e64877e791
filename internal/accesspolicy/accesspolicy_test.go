package accesspolicy

import (
	"errors"
	"testing"
)

func TestAdmit_DomainRuleNeedsTheWorkspaceNotJustTheAddress(t *testing.T) {
	p, err := New([]string{"Carol@Gmail.com"}, []string{"@Example.com"})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		a    Account
		ok   bool
	}{
		{"workspace member", Account{Email: "alice@example.com", EmailVerified: true, HostedDomain: "example.com"}, true},
		{"workspace member, secondary address", Account{Email: "alice@example.org", EmailVerified: true, HostedDomain: "example.com"}, true},
		{"consumer account with an address at the domain", Account{Email: "mallory@example.com", EmailVerified: true}, false},
		{"another workspace", Account{Email: "eve@example.com", EmailVerified: true, HostedDomain: "evil.com"}, false},
		{"unverified workspace address", Account{Email: "alice@example.com", HostedDomain: "example.com"}, false},
		{"named account", Account{Email: "CAROL@gmail.com", EmailVerified: true}, true},
		{"unnamed consumer account", Account{Email: "dave@gmail.com", EmailVerified: true}, false},
	} {
		err := p.Admit(c.a)
		if (err == nil) != c.ok {
			t.Errorf("%s: Admit = %v, want ok=%v", c.name, err, c.ok)
		}
		if err != nil && !errors.Is(err, ErrRefused) {
			t.Errorf("%s: %v does not match ErrRefused", c.name, err)
		}
	}
}

func TestAdmitStored_ByNameOrAddressDomain(t *testing.T) {
	p, _ := New([]string{"carol@gmail.com"}, []string{"example.com"})
	for email, ok := range map[string]bool{"carol@gmail.com": true, "alice@example.com": true, "dave@gmail.com": false, "x@sub.example.com": false} {
		if err := p.AdmitStored(email); (err == nil) != ok {
			t.Errorf("AdmitStored(%s) = %v, want ok=%v", email, err, ok)
		}
	}
}

func TestNoPolicyAdmitsEveryone(t *testing.T) {
	var nilPolicy *Policy
	empty, _ := New(nil, nil)
	for _, p := range []*Policy{nilPolicy, empty} {
		if p.Enabled() || p.Admit(Account{Email: "a@b.c"}) != nil || p.AdmitStored("a@b.c") != nil {
			t.Fatal("a policy without entries refused an account")
		}
	}
}

func TestNew_RefusesEntriesThatCouldNeverMatch(t *testing.T) {
	for _, c := range []struct{ accounts, domains []string }{
		{[]string{"alice"}, nil},
		{[]string{"/srv/x"}, nil},
		{nil, []string{"gmail.com"}},
		{nil, []string{"a@example.com"}},
		{nil, []string{"localhost"}},
	} {
		if _, err := New(c.accounts, c.domains); err == nil {
			t.Errorf("New(%q, %q) accepted an entry that can never match", c.accounts, c.domains)
		}
	}
}
