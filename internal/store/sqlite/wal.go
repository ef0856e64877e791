package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"modernc.org/sqlite"
)

// sqliteBusy is SQLite's primary result code SQLITE_BUSY.
const sqliteBusy = 5

// enableWAL switches the file to WAL mode, which then sticks to the file.
// Switching needs an exclusive lock, and when two connections that both read
// the file want it, SQLite fails one at once (SQLITE_BUSY) instead of letting
// the busy handler wait, to avoid a deadlock. So processes that open a new
// file together retry here, once, rather than on every pooled connection.
func enableWAL(ctx context.Context, path string) error {
	db, err := sql.Open("sqlite", dsn(path, false, ""))
	if err != nil {
		return err
	}
	defer db.Close()
	deadline := time.Now().Add(busyTimeout)
	for delay := time.Millisecond; ; delay = min(2*delay, 100*time.Millisecond) {
		var mode string
		err := db.QueryRowContext(ctx, "PRAGMA journal_mode = WAL").Scan(&mode)
		if err == nil {
			if !strings.EqualFold(mode, "wal") {
				return fmt.Errorf("cannot use WAL mode (SQLite kept journal mode %q); put the database on a local filesystem", mode)
			}
			return nil
		}
		if !isBusy(err) || time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(delay):
		}
	}
}

func isBusy(err error) bool {
	var se *sqlite.Error
	return errors.As(err, &se) && se.Code()&0xff == sqliteBusy
}
