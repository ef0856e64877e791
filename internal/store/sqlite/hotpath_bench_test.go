package sqlite

import (
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/drivemcp/drivemcp/internal/store"
)

// BenchmarkHotPaths measures the store calls a tool call and the token
// endpoint make on every request, one at a time on a small database:
//
//	go test -run '^$' -bench HotPaths -benchmem ./internal/store/sqlite/
//
// Besides ns/op it reports cpu-ns/op, this process's CPU time per call
// (the garbage collector's included): on two shared cores the wall time
// moves with other jobs, the CPU time much less.
func BenchmarkHotPaths(b *testing.B) {
	// Cancellable, as a request's context is: the driver then watches it
	// during every statement.
	ctx := b.Context()
	s, err := Open(ctx, filepath.Join(b.TempDir(), "drivemcp.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	now := time.Now()

	const email = "ada@example.com"
	if _, err := s.UpsertGoogleAccount(ctx, email, func(a store.GoogleAccount, _ bool) (store.GoogleAccount, error) {
		a.Subject = "1234567890"
		a.Scopes = []string{"openid", "email", "https://www.googleapis.com/auth/drive.file"}
		a.SealedToken = make([]byte, 400) // about the size of a sealed Google token
		return a, nil
	}); err != nil {
		b.Fatal(err)
	}
	client := store.Client{
		ID: "mcp_client", Name: "Bench", RedirectURIs: []string{"http://127.0.0.1:33418/callback"},
		GrantTypes: []string{"authorization_code", "refresh_token"}, ResponseTypes: []string{"code"},
		TokenEndpointAuthMethod: "none", ApplicationType: "native", CreatedAt: now,
	}
	if err := s.CreateClient(ctx, client); err != nil {
		b.Fatal(err)
	}
	if err := s.BindSession(ctx, store.SessionBinding{SessionID: "session", Email: email,
		CreatedAt: now, ExpiresAt: now.Add(time.Hour)}); err != nil {
		b.Fatal(err)
	}
	token := func(hash string, kind store.TokenKind) store.Token {
		return store.Token{Hash: hash, Kind: kind, FamilyID: "family", ClientID: client.ID, Email: email,
			Resource: "https://drive.example.com/mcp", Scopes: []string{"drive.upload", "drive.read"},
			CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
	}
	if err := s.CreateTokens(ctx, token("access", store.AccessToken)); err != nil {
		b.Fatal(err)
	}
	// The write benchmarks need new keys on every run of a sub-benchmark
	// (-count runs each several times on the same database).
	seq := 0
	next := func() string { seq++; return strconv.Itoa(seq) }

	b.Run("GetToken", func(b *testing.B) {
		loop(b, nil, func() {
			if _, err := s.GetToken(ctx, "access"); err != nil {
				b.Fatal(err)
			}
		})
	})
	b.Run("GetGoogleAccount", func(b *testing.B) {
		loop(b, nil, func() {
			if _, err := s.GetGoogleAccount(ctx, email); err != nil {
				b.Fatal(err)
			}
		})
	})
	b.Run("GetClient", func(b *testing.B) {
		loop(b, nil, func() {
			if _, err := s.GetClient(ctx, client.ID); err != nil {
				b.Fatal(err)
			}
		})
	})
	b.Run("GetSessionBinding", func(b *testing.B) {
		loop(b, nil, func() {
			if _, err := s.GetSessionBinding(ctx, "session", now); err != nil {
				b.Fatal(err)
			}
		})
	})
	// The token endpoint's writes: each op issues a pair, as
	// grant_type=authorization_code does after redeeming its code.
	b.Run("CreateTokens", func(b *testing.B) {
		loop(b, nil, func() {
			n := next()
			if err := s.CreateTokens(ctx, token("create-access-"+n, store.AccessToken),
				token("create-refresh-"+n, store.RefreshToken)); err != nil {
				b.Fatal(err)
			}
		})
	})
	b.Run("RedeemAuthCode", func(b *testing.B) {
		var hash string
		loop(b, func() {
			hash = "code-" + next()
			if err := s.CreateAuthCode(ctx, store.AuthCode{Hash: hash, ClientID: client.ID,
				RedirectURI: client.RedirectURIs[0], Email: email, FamilyID: hash,
				CreatedAt: now, ExpiresAt: now.Add(time.Minute)}); err != nil {
				b.Fatal(err)
			}
		}, func() {
			if _, err := s.RedeemAuthCode(ctx, hash, now, nil); err != nil {
				b.Fatal(err)
			}
		})
	})
	// grant_type=refresh_token: each op spends the refresh token the one
	// before issued.
	b.Run("RotateRefreshToken", func(b *testing.B) {
		current := "rotate-refresh-" + next()
		if err := s.CreateTokens(ctx, token(current, store.RefreshToken)); err != nil {
			b.Fatal(err)
		}
		loop(b, nil, func() {
			n := next()
			refresh := token("rotate-refresh-"+n, store.RefreshToken)
			if err := s.RotateRefreshToken(ctx, current, func(old store.Token) (store.Token, []store.Token, error) {
				old.RotatedAt, old.Successor = now, []byte("sealed pair")
				return old, []store.Token{token("rotate-access-"+n, store.AccessToken), refresh}, nil
			}); err != nil {
				b.Fatal(err)
			}
			current = refresh.Hash
		})
	})
}

// loop runs op b.N times, each after setup (if any), which is not measured,
// and reports cpu-ns/op.
func loop(b *testing.B, setup, op func()) {
	var cpu time.Duration
	start := processCPU()
	for b.Loop() {
		if setup != nil {
			b.StopTimer()
			setup()
			b.StartTimer()
			start = processCPU()
		}
		op()
		if setup != nil {
			cpu += processCPU() - start
		}
	}
	if setup == nil {
		cpu = processCPU() - start
	}
	if cpu > 0 {
		b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/op")
	}
}
