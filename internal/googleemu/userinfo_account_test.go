package googleemu

import "testing"

// Tests sign in consumer and Workspace accounts through Options.Accounts;
// the defaults follow Google (gmail.com: no hd; other domains: their own).
func TestUserinfo_HostedDomainAndVerification(t *testing.T) {
	_, srv := start(t, Options{Accounts: map[string]Account{
		"mallory@example.com": {Consumer: true},
		"sam@example.org":     {HostedDomain: "example.com"},
		"una@example.com":     {EmailUnverified: true},
	}})
	for email, want := range map[string]struct {
		hd       any
		verified bool
	}{
		"alice@example.com":   {"example.com", true},
		"carol@gmail.com":     {nil, true},
		"mallory@example.com": {nil, true},
		"sam@example.org":     {"example.com", true},
		"una@example.com":     {"example.com", false},
	} {
		tok := login(t, oauthConfig(srv.URL, "openid", "email"), email)
		status, info := userinfo(t, srv.URL, tok.AccessToken)
		if status != 200 || info["hd"] != want.hd || info["email_verified"] != want.verified {
			t.Errorf("%s: userinfo = %d %v, want hd %v verified %v", email, status, info, want.hd, want.verified)
		}
	}
}
