package authserver

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/drivemcp/drivemcp/internal/e2etest"
	"github.com/drivemcp/drivemcp/internal/identity"
	"github.com/drivemcp/drivemcp/internal/secrets"
	"github.com/drivemcp/drivemcp/internal/store"
)

// TestStore_DatabaseCopyHoldsNoUsableLoginState reads the database file as
// someone holding a backup would, while a consent is pending, while a direct
// login is pending and once it has bound its MCP session: none of the
// consent id, the Google state, the Google PKCE verifier or the session id
// may be there in the clear, or the copy could finish the login or take over
// the session.
func TestStore_DatabaseCopyHoldsNoUsableLoginState(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()

	clientID := f.registerPublic()
	resp, err := http.Get(f.base + "/oauth/authorize?" + f.authorizeParams(clientID, oauth2.GenerateVerifier()).Encode())
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := regexp.MustCompile(`name="consent_id" value="([^"]+)"`).FindSubmatch(page)
	if m == nil {
		t.Fatalf("no consent id on the consent page (%s)", resp.Status)
	}
	consentID := string(m[1])

	const sessionKey = "mcp-session-9f3c1e7a2b"
	googleURL, err := f.srv.StartDirect(ctx, DirectRequest{SessionKey: sessionKey})
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(googleURL)
	if err != nil {
		t.Fatal(err)
	}
	state, challenge := u.Query().Get("state"), u.Query().Get("code_challenge")
	if state == "" || challenge == "" {
		t.Fatalf("Google URL without state or challenge: %s", googleURL)
	}

	pending := databaseCells(t, f.db)
	refuseInTheClear(t, "while the logins are pending", pending, map[string]string{
		"consent id": consentID, "Google state": state, "MCP session id": sessionKey,
	})
	for _, c := range pending {
		if oauth2.S256ChallengeFromVerifier(c.value) == challenge {
			t.Errorf("while the login is pending, %s holds the Google PKCE verifier in the clear", c.where)
		}
	}

	back, err := e2etest.NewBrowser("ada@example.com").Run(ctx, googleURL, f.base+"/oauth2callback")
	if err != nil {
		t.Fatal(err)
	}
	resp, err = http.Get(back.String())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("Google callback: %s", resp.Status)
	}
	// The binding still works through the resolver: only the copy is useless.
	id, err := f.srv.resolver.Resolve(ctx, identity.Call{SessionKey: sessionKey})
	if err != nil || id.Email != "ada@example.com" {
		t.Fatalf("the bound session resolves to %+v, %v; want ada@example.com", id, err)
	}
	refuseInTheClear(t, "once the session is bound", databaseCells(t, f.db), map[string]string{"MCP session id": sessionKey})
}

type cell struct{ where, value string }

// databaseCells returns every value of every table of the SQLite file, read
// through a connection of its own as a copy of the file would be.
func databaseCells(t *testing.T, path string) []cell {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	rows, err := db.QueryContext(ctx, `SELECT name FROM sqlite_master WHERE type = 'table'`)
	if err != nil {
		t.Fatal(err)
	}
	var tables []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			t.Fatal(err)
		}
		tables = append(tables, name)
	}
	rows.Close()
	var cells []cell
	for _, table := range tables {
		rows, err := db.QueryContext(ctx, `SELECT * FROM "`+table+`"`)
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			for i, v := range vals {
				s := fmt.Sprint(v)
				if b, ok := v.([]byte); ok {
					s = string(b)
				}
				cells = append(cells, cell{where: table + "." + cols[i], value: s})
			}
		}
		rows.Close()
	}
	return cells
}

func refuseInTheClear(t *testing.T, when string, cells []cell, secrets map[string]string) {
	t.Helper()
	for _, c := range cells {
		for name, secret := range secrets {
			if strings.Contains(c.value, secret) {
				t.Errorf("%s, %s holds the %s in the clear", when, c.where, name)
			}
		}
	}
}

// A sealed verifier or session id copied to another transaction, or from one
// field to the other, does not open: someone who can write the database
// cannot graft a victim's session onto a login of their own.
func TestLoginSecrets_SealedToTheirTransactionAndField(t *testing.T) {
	s := newFixture(t).srv
	var tx store.AuthTransaction
	verifier, err := s.newGoogleTrip(&tx, "mcp-session-1")
	if err != nil {
		t.Fatal(err)
	}
	if got, err := s.openLoginSecret(sealedVerifierFor, tx.State, tx.SealedVerifier); err != nil || got != verifier {
		t.Fatalf("opening the verifier: %q, %v", got, err)
	}
	if got, err := s.openLoginSecret(sealedSessionIDFor, tx.State, tx.SealedSessionID); err != nil || got != "mcp-session-1" {
		t.Fatalf("opening the session id: %q, %v", got, err)
	}
	if _, err := s.openLoginSecret(sealedSessionIDFor, "another-state", tx.SealedSessionID); !errors.Is(err, secrets.ErrCorrupt) {
		t.Errorf("a session id moved to another transaction: %v; want ErrCorrupt", err)
	}
	if _, err := s.openLoginSecret(sealedVerifierFor, tx.State, tx.SealedSessionID); !errors.Is(err, secrets.ErrCorrupt) {
		t.Errorf("a session id read as the verifier: %v; want ErrCorrupt", err)
	}
}
