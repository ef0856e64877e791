package metrics

import (
	"context"
	"time"

	"github.com/drivemcp/drivemcp/internal/store"
)

// Store times every call of st. With a nil Metrics it returns st itself.
func (m *Metrics) Store(st store.Store) store.Store {
	if m == nil {
		return st
	}
	return &timedStore{st: st, m: m}
}

type timedStore struct {
	st store.Store
	m  *Metrics
}

func (s *timedStore) done(op string, start time.Time) { s.m.StoreOperation(op, time.Since(start)) }

func (s *timedStore) GetGoogleAccount(ctx context.Context, email string) (store.GoogleAccount, error) {
	defer s.done("get_google_account", time.Now())
	return s.st.GetGoogleAccount(ctx, email)
}

func (s *timedStore) ListGoogleAccounts(ctx context.Context) ([]store.GoogleAccount, error) {
	defer s.done("list_google_accounts", time.Now())
	return s.st.ListGoogleAccounts(ctx)
}

func (s *timedStore) UpsertGoogleAccount(ctx context.Context, email string, update func(store.GoogleAccount, bool) (store.GoogleAccount, error)) (store.GoogleAccount, error) {
	defer s.done("upsert_google_account", time.Now())
	return s.st.UpsertGoogleAccount(ctx, email, update)
}

func (s *timedStore) UpdateGoogleAccount(ctx context.Context, email string, update func(store.GoogleAccount) (store.GoogleAccount, error)) (store.GoogleAccount, error) {
	defer s.done("update_google_account", time.Now())
	return s.st.UpdateGoogleAccount(ctx, email, update)
}

func (s *timedStore) DeleteGoogleAccount(ctx context.Context, email string) error {
	defer s.done("delete_google_account", time.Now())
	return s.st.DeleteGoogleAccount(ctx, email)
}

func (s *timedStore) CreateAuthTransaction(ctx context.Context, tx store.AuthTransaction) error {
	defer s.done("create_auth_transaction", time.Now())
	return s.st.CreateAuthTransaction(ctx, tx)
}

func (s *timedStore) TakeAuthTransaction(ctx context.Context, state string, now time.Time) (store.AuthTransaction, error) {
	defer s.done("take_auth_transaction", time.Now())
	return s.st.TakeAuthTransaction(ctx, state, now)
}

func (s *timedStore) AuthTransactionPending(ctx context.Context, state string, now time.Time) (bool, error) {
	defer s.done("auth_transaction_pending", time.Now())
	return s.st.AuthTransactionPending(ctx, state, now)
}

func (s *timedStore) BindSession(ctx context.Context, b store.SessionBinding) error {
	defer s.done("bind_session", time.Now())
	return s.st.BindSession(ctx, b)
}

func (s *timedStore) GetSessionBinding(ctx context.Context, id string, now time.Time) (store.SessionBinding, error) {
	defer s.done("get_session_binding", time.Now())
	return s.st.GetSessionBinding(ctx, id, now)
}

func (s *timedStore) DeleteSessionBinding(ctx context.Context, id string) error {
	defer s.done("delete_session_binding", time.Now())
	return s.st.DeleteSessionBinding(ctx, id)
}

func (s *timedStore) DeleteExpired(ctx context.Context, now time.Time) error {
	defer s.done("delete_expired", time.Now())
	return s.st.DeleteExpired(ctx, now)
}

func (s *timedStore) Ping(ctx context.Context) error {
	defer s.done("ping", time.Now())
	return s.st.Ping(ctx)
}

func (s *timedStore) Close() error { return s.st.Close() }

func (s *timedStore) CreateClient(ctx context.Context, c store.Client) error {
	defer s.done("create_client", time.Now())
	return s.st.CreateClient(ctx, c)
}

func (s *timedStore) GetClient(ctx context.Context, id string) (store.Client, error) {
	defer s.done("get_client", time.Now())
	return s.st.GetClient(ctx, id)
}

func (s *timedStore) CreateAuthCode(ctx context.Context, c store.AuthCode) error {
	defer s.done("create_auth_code", time.Now())
	return s.st.CreateAuthCode(ctx, c)
}

func (s *timedStore) RedeemAuthCode(ctx context.Context, hash string, now time.Time, issue store.IssueFunc) (store.AuthCode, error) {
	defer s.done("redeem_auth_code", time.Now())
	return s.st.RedeemAuthCode(ctx, hash, now, issue)
}

func (s *timedStore) CreateTokens(ctx context.Context, tokens ...store.Token) error {
	defer s.done("create_tokens", time.Now())
	return s.st.CreateTokens(ctx, tokens...)
}

func (s *timedStore) GetToken(ctx context.Context, hash string) (store.Token, error) {
	defer s.done("get_token", time.Now())
	return s.st.GetToken(ctx, hash)
}

func (s *timedStore) RotateRefreshToken(ctx context.Context, hash string, rotate func(store.Token) (store.Token, []store.Token, error)) error {
	defer s.done("rotate_refresh_token", time.Now())
	return s.st.RotateRefreshToken(ctx, hash, rotate)
}

func (s *timedStore) RevokeToken(ctx context.Context, hash string, now time.Time) error {
	defer s.done("revoke_token", time.Now())
	return s.st.RevokeToken(ctx, hash, now)
}

func (s *timedStore) RevokeFamily(ctx context.Context, family string, now time.Time) error {
	defer s.done("revoke_family", time.Now())
	return s.st.RevokeFamily(ctx, family, now)
}

func (s *timedStore) SignInGoogleAccount(ctx context.Context, email, subject string, update func(store.GoogleAccount, bool) (store.GoogleAccount, error)) (store.SignIn, error) {
	defer s.done("sign_in_google_account", time.Now())
	return s.st.SignInGoogleAccount(ctx, email, subject, update)
}
