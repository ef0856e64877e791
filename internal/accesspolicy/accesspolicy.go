// Package accesspolicy decides which Google accounts may use a drivemcp
// server at all (--allow-accounts, --allow-domains). Without a policy every
// account that finishes Google's sign-in is accepted, as before.
//
// The domain rule follows Google's OpenID Connect documentation: to limit
// sign-in to a Google Workspace domain, compare the ID token's (and
// userinfo's) "hd" claim, not the email's domain, because anyone can make a
// consumer Google account with an address at a domain they do not control
// the Workspace of. So a domain rule matches only an account whose hd equals
// the domain and whose email Google verified; consumer accounts (no hd) are
// allowed only by name, with --allow-accounts.
package accesspolicy

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// ErrRefused is what every refusal matches with errors.Is.
var ErrRefused = errors.New("the Google account is not allowed on this server")

// RefusedError says which account was refused and why, for logs and the
// refusal page.
type RefusedError struct {
	Email  string
	Reason string
}

func (e *RefusedError) Error() string {
	return fmt.Sprintf("%s is not allowed on this server: %s", e.Email, e.Reason)
}

func (e *RefusedError) Is(target error) bool { return target == ErrRefused }

// Account is what Google says about the person who signed in.
type Account struct {
	Email         string
	EmailVerified bool
	// HostedDomain is the "hd" claim: the Google Workspace domain, "" for a
	// consumer account.
	HostedDomain string
}

// Policy is an allow-list of accounts and Workspace domains. The nil or
// zero Policy allows every account.
type Policy struct {
	accounts []string
	domains  []string
}

// New builds a policy from the operator's lists, normalised to lower case.
// It refuses entries that could never match, so a typo does not silently
// lock everybody out (or, worse, look like a policy that holds).
func New(accounts, domains []string) (*Policy, error) {
	p := &Policy{}
	var problems []error
	for _, a := range accounts {
		a = normalize(a)
		if !LooksLikeEmail(a) {
			problems = append(problems, fmt.Errorf("%q is not an email address", a))
			continue
		}
		if !slices.Contains(p.accounts, a) {
			p.accounts = append(p.accounts, a)
		}
	}
	for _, d := range domains {
		d = strings.TrimPrefix(normalize(d), "@")
		switch {
		case d == "" || strings.ContainsAny(d, "@/:= ,") || !strings.Contains(d, "."):
			problems = append(problems, fmt.Errorf("%q is not a domain name such as example.com", d))
			continue
		case d == "gmail.com" || d == "googlemail.com":
			// Consumer accounts carry no hd, so this rule could never match.
			problems = append(problems, fmt.Errorf("%s accounts are consumer accounts without a Workspace domain: list each one with --allow-accounts instead", d))
			continue
		}
		if !slices.Contains(p.domains, d) {
			p.domains = append(p.domains, d)
		}
	}
	return p, errors.Join(problems...)
}

// Enabled reports whether the policy restricts anything.
func (p *Policy) Enabled() bool {
	return p != nil && (len(p.accounts) > 0 || len(p.domains) > 0)
}

// Admit decides at sign-in, with everything Google said about the account.
func (p *Policy) Admit(a Account) error {
	if !p.Enabled() {
		return nil
	}
	email := normalize(a.Email)
	if !a.EmailVerified {
		return &RefusedError{Email: email, Reason: "Google has not verified its email address"}
	}
	if slices.Contains(p.accounts, email) {
		return nil
	}
	if hd := normalize(a.HostedDomain); hd != "" && slices.Contains(p.domains, hd) {
		return nil
	}
	return &RefusedError{Email: email, Reason: p.reason(email, a.HostedDomain)}
}

// AdmitStored decides for an account already in the store, of which only
// the email is known: it must be listed, or its email must lie in an
// allowed domain. The hd check was made when the account signed in; an
// account stored before the domain rule existed is judged by its address
// alone.
func (p *Policy) AdmitStored(email string) error {
	if !p.Enabled() {
		return nil
	}
	email = normalize(email)
	if slices.Contains(p.accounts, email) {
		return nil
	}
	if _, domain, ok := strings.Cut(email, "@"); ok && slices.Contains(p.domains, domain) {
		return nil
	}
	return &RefusedError{Email: email, Reason: "the server's operator no longer allows it"}
}

func (p *Policy) reason(email, hd string) string {
	_, domain, _ := strings.Cut(email, "@")
	if slices.Contains(p.domains, domain) && hd == "" {
		return "it is a personal Google account, not one of the " + domain + " Google Workspace"
	}
	return "it is not on the server's list of accounts and domains"
}

// Describe is the policy in words for someone it refused: the domains,
// but not the listed accounts, whose addresses are the operator's to give.
func (p *Policy) Describe() string {
	if !p.Enabled() {
		return "every Google account"
	}
	var parts []string
	if len(p.accounts) > 0 {
		parts = append(parts, "accounts its operator named")
	}
	if len(p.domains) > 0 {
		parts = append(parts, "Google Workspace accounts of "+strings.Join(p.domains, ", "))
	}
	return strings.Join(parts, " and ")
}

// LooksLikeEmail reports whether s has the shape local@domain with no
// characters that could make it a path or a list.
func LooksLikeEmail(s string) bool {
	local, domain, ok := strings.Cut(s, "@")
	return ok && local != "" && domain != "" && !strings.ContainsAny(s, "/\\=, \t:") &&
		!strings.Contains(domain, "@") && strings.Contains(domain, ".")
}

func normalize(s string) string { return strings.ToLower(strings.TrimSpace(s)) }
