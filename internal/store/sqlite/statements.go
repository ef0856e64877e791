package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// statements are the queries of every tool call and token request, prepared
// once per pool. SQLite takes about as long to parse and plan one of these
// lookups as to run it; a *sql.Stmt is prepared on each connection the
// first time it runs there and kept, so that happens once per connection.
// A failed preparation, say because the caller's context ended, is not
// kept: the next call prepares again. Inside a write transaction use
// tx.StmtContext, which takes the write connection's prepared copy.
//
// Only the hot queries are here (BenchmarkHotPaths measures them); the
// others are prepared on every call, which keeps them simple.
type statements struct {
	// On the read pool.
	token, account, client, sessionBinding *sql.Stmt
	// On the write pool.
	redeemCode, tokenToRotate, updateToken, insertToken *sql.Stmt

	all []*sql.Stmt // for close
}

func prepareStatements(ctx context.Context, read, write *sql.DB) (*statements, error) {
	st := &statements{}
	for _, p := range []struct {
		into  **sql.Stmt
		db    *sql.DB
		query string
	}{
		{&st.token, read, selectToken},
		{&st.account, read, selectAccount},
		{&st.client, read, selectClient},
		{&st.sessionBinding, read, selectSessionBinding},
		{&st.redeemCode, write, redeemAuthCode},
		{&st.tokenToRotate, write, selectToken},
		{&st.updateToken, write, updateToken},
		{&st.insertToken, write, insertToken},
	} {
		stmt, err := p.db.PrepareContext(ctx, p.query)
		if err != nil {
			return nil, errors.Join(fmt.Errorf("sqlite: preparing %q: %w", p.query, err), st.close())
		}
		*p.into = stmt
		st.all = append(st.all, stmt)
	}
	return st, nil
}

// close finalizes the statements on every connection they were prepared on.
func (st *statements) close() error {
	var errs []error
	for _, stmt := range st.all {
		errs = append(errs, stmt.Close())
	}
	return errors.Join(errs...)
}
