package googleemu

import (
	"errors"
	"fmt"
	"slices"
)

// Google identities: an account is its "sub", the address is an attribute.
//
// Google's "OpenID Connect" guide (developers.google.com/identity/openid-connect/openid-connect,
// "An ID token's payload") says of sub: "An identifier for the user, unique
// among all Google accounts and never reused. A Google Account can have
// multiple email addresses at different points in time, but the sub value is
// never changed. Use sub within your application as the unique-identifier key
// for the user." and of email: "This value might not be unique to this user
// and is not suitable for use as a primary key." A Workspace administrator
// can rename a user (same account, new address) or delete a user and give
// the address to someone else (a new account at the old address); these two
// controls let tests play both.

// ErrUnknownAccount means no account has signed in with that address yet.
var ErrUnknownAccount = errors.New("googleemu: no account has that address")

// ErrEmailTaken means the new address already belongs to another account.
var ErrEmailTaken = errors.New("googleemu: the address belongs to another account")

// RecycleEmail deletes the account that holds email and frees the address
// for a new account, as when a Workspace administrator deletes a user and
// later creates another with the same address: the next sign-in as email is
// a new account with a new sub and an empty Drive. The old account's
// authorization codes, access and refresh tokens stop working (refresh
// answers invalid_grant, as for any deleted account), its upload sessions
// end, its files go with it and its shares on others' files are removed.
func (e *Emulator) RecycleEmail(email string) error {
	email, ok := normalizeEmail(email)
	if !ok {
		return fmt.Errorf("googleemu: %q is not an email address", email)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	u, ok := e.users[email]
	if !ok {
		return fmt.Errorf("%w: %s", ErrUnknownAccount, email)
	}
	u.gone = true
	for _, t := range e.accessTokens {
		if t.email == email {
			t.revoked = true
		}
	}
	for _, t := range e.refreshTokens {
		if t.email == email {
			t.revoked = true
		}
	}
	for _, c := range e.codes {
		if c.email == email {
			c.used = true
		}
	}
	for k := range e.grants {
		if k.email == email {
			delete(e.grants, k)
		}
	}
	for id, s := range e.sessions {
		if s.caller.user == u {
			delete(e.sessions, id)
		}
	}
	var owned []*driveFile
	for _, f := range e.files {
		if f.owner == email {
			owned = append(owned, f)
		}
		f.perms = slices.DeleteFunc(f.perms, func(p *permission) bool {
			return p.typ == "user" && p.email == email && p.role != "owner"
		})
	}
	for _, f := range owned {
		if _, still := e.files[f.id]; still {
			e.deleteTreeLocked(f)
		}
	}
	delete(e.users, email)
	e.recycled[email]++
	return nil
}

// ChangeEmail gives the account that holds from the address to instead, as
// when a Workspace administrator renames a user: the sub, the grants, every
// token and the Drive stay the account's; userinfo answers with the new
// address from the next call on, and from is free.
func (e *Emulator) ChangeEmail(from, to string) error {
	from, okFrom := normalizeEmail(from)
	to, okTo := normalizeEmail(to)
	if !okFrom || !okTo {
		return errors.New("googleemu: ChangeEmail needs two email addresses")
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	u, ok := e.users[from]
	if !ok {
		return fmt.Errorf("%w: %s", ErrUnknownAccount, from)
	}
	if _, taken := e.users[to]; taken {
		return fmt.Errorf("%w: %s", ErrEmailTaken, to)
	}
	u.email = to
	e.users[to] = u
	delete(e.users, from)
	if a, ok := e.accounts[from]; ok {
		e.accounts[to] = a
		delete(e.accounts, from)
	}
	for _, t := range e.accessTokens {
		if t.email == from {
			t.email = to
		}
	}
	for _, t := range e.refreshTokens {
		if t.email == from {
			t.email = to
		}
	}
	for _, c := range e.codes {
		if c.email == from {
			c.email = to
		}
	}
	for k, g := range e.grants {
		if k.email == from {
			e.grants[grantKey{to, k.clientID}] = g
			delete(e.grants, k)
		}
	}
	for _, f := range e.files {
		if f.owner == from {
			f.owner = to
		}
		for _, p := range f.perms {
			if p.typ == "user" && p.email == from {
				p.email = to
			}
		}
	}
	return nil
}
