package postgres

import (
	"errors"
	"time"
)

// Times are kept to the millisecond, the precision the store contract
// promises and the sqlite backend keeps, so that both backends agree on
// every expiry comparison. The zero time is stored as NULL and instants come
// back in UTC.
func dbTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	ms := instant(t)
	return &ms
}

func fromDB(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.UTC()
}

// instant is t as a query compares it: at millisecond precision, and the
// zero time as itself (year 1), not as NULL, which compares as unknown.
func instant(t time.Time) time.Time { return t.Truncate(time.Millisecond).UTC() }

// now is the current time at the precision the database keeps, so what a
// write returns equals what a later read gives.
func now() time.Time { return instant(time.Now()) }

// stamp is the stored form of a time that marks something done (a code
// redeemed, a token revoked). The zero time is refused: stored as NULL it
// would read as "never", leaving the code redeemable or the token live.
func stamp(t time.Time) (time.Time, error) {
	if t.IsZero() {
		return time.Time{}, errors.New(`no time given: the zero time would be stored as "never"`)
	}
	return instant(t), nil
}

// String lists are text[]; nil is stored as '{}' (pgx would send NULL), and
// an empty list reads back as nil.
func dbList(list []string) []string {
	if list == nil {
		return []string{}
	}
	return list
}

func fromList(list []string) []string {
	if len(list) == 0 {
		return nil
	}
	return list
}

// dbBytes stores an empty byte slice as NULL, which reads back as nil.
func dbBytes(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return b
}
