package sqlite

import (
	"encoding/json"
	"fmt"
	"time"
)

// Times are stored as unix milliseconds, and the zero time as 0 so that a
// row read by hand shows "never" rather than a date in year 1. Instants come
// back in UTC.
func millis(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

func fromMillis(ms int64) time.Time {
	if ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms).UTC()
}

// now is the current time at the precision the database keeps, so what a
// write returns equals what a later read gives.
func now() time.Time { return fromMillis(time.Now().UnixMilli()) }

// String lists are JSON arrays; nil and empty are both stored as [] and read
// back as nil.
func encodeList(list []string) string {
	if len(list) == 0 {
		return "[]"
	}
	b, _ := json.Marshal(list) // a []string always marshals
	return string(b)
}

func decodeList(column, s string) ([]string, error) {
	var list []string
	if err := json.Unmarshal([]byte(s), &list); err != nil {
		return nil, fmt.Errorf("sqlite: column %s does not hold a JSON string list: %w", column, err)
	}
	if len(list) == 0 {
		return nil, nil
	}
	return list, nil
}

// nullBytes stores an empty byte slice as NULL, which reads back as nil.
func nullBytes(b []byte) any {
	if len(b) == 0 {
		return nil
	}
	return b
}

// stamp is the stored form of a time that marks something done (a code
// redeemed, a token revoked). The zero time is refused: stored as 0 it would
// read as "never", leaving the code redeemable or the token live.
func stamp(t time.Time) (int64, error) {
	ms := millis(t)
	if ms == 0 {
		return 0, fmt.Errorf("sqlite: no time given: the zero time would be stored as %q", "never")
	}
	return ms, nil
}
