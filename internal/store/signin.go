package store

import (
	"fmt"
	"time"
)

// SignInRows is what a backend read, under its locks, for one sign-in:
// the account stored at the address (Here, if HereExists) and the accounts
// of the same Google subject stored at other addresses, newest first.
type SignInRows struct {
	Here       GoogleAccount
	HereExists bool
	Elsewhere  []GoogleAccount
}

// SignInWrites are the backend's own writes, run inside the same
// transaction: Retire ends everything issued for the account at an address,
// Move renames an account and everything that names it, Write stores the
// result (exists: overwrite the row at its address).
type SignInWrites struct {
	Retire func(email string) error
	Move   func(from, to string) error
	Write  func(a GoogleAccount, exists bool) error
}

// ApplySignIn is the rule behind SignInGoogleAccount, shared by every
// backend so that they cannot decide differently: Google's sub is who an
// account is. Another sub at the address retires the old account (nothing
// of that person's may act for the newcomer); the same sub under older
// addresses moves the newest of them here. update then gets the account
// (or a new one), and its result is written with subject and times set.
// normalize, if set, gives the backend's canonical form of empty values,
// so that what is returned equals what a later read gives.
func ApplySignIn(email, subject string, rows SignInRows, now time.Time, w SignInWrites,
	update func(old GoogleAccount, exists bool) (GoogleAccount, error), normalize func(*GoogleAccount)) (SignIn, error) {
	var res SignIn
	here, hereExists := rows.Here, rows.HereExists
	old, exists := GoogleAccount{Email: email}, false
	switch {
	case hereExists && (here.Subject == subject || here.Subject == "" && len(rows.Elsewhere) == 0):
		old, exists = here, true
	case hereExists:
		// Another person held the address: nothing of theirs may act for
		// the one signing in now.
		if err := w.Retire(email); err != nil {
			return SignIn{}, err
		}
		res.Replaced, res.ReplacedSubject = true, here.Subject
		hereExists = false
	}
	for i, a := range rows.Elsewhere {
		// The same person under an older address: the newest row is the
		// account, and everything that named any of them follows it.
		if !exists && i == 0 {
			old, exists = a, true
			res.MovedFrom = a.Email
		}
		if err := w.Move(a.Email, email); err != nil {
			return SignIn{}, err
		}
	}
	a, err := update(old, exists)
	if err != nil {
		return SignIn{}, err
	}
	if a.Email == "" {
		a.Email = email
	}
	if a.Email != email {
		return SignIn{}, fmt.Errorf("store: the sign-in updater of google account %s returned account %s", email, a.Email)
	}
	a.Subject = subject
	a.UpdatedAt = now
	a.CreatedAt = old.CreatedAt
	if !exists {
		a.CreatedAt = now
	}
	if normalize != nil {
		normalize(&a)
	}
	if err := w.Write(a, hereExists); err != nil {
		return SignIn{}, err
	}
	res.Account = a
	return res, nil
}
