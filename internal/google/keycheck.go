package google

import (
	"context"
	"fmt"
	"slices"
	"strings"
)

// MissingKeyError says that some accounts' grants were sealed with keys the
// configured --secret-key does not hold: with a mistyped or replaced key
// every such account would fail on its first tool call, after retries, with
// nothing pointing at the key.
type MissingKeyError struct {
	KeyIDs   []string // the ids (secrets.KeyID) of the keys that are missing
	Accounts []string // the accounts whose grants need them
}

func (e *MissingKeyError) Error() string {
	return fmt.Sprintf("the database holds Google grants of %d account(s) (%s) sealed with key id %s, which --secret-key does not contain: "+
		"give the key that sealed them (several keys go comma-separated, the newest first), or remove those accounts with drivemcp accounts revoke",
		len(e.Accounts), strings.Join(e.Accounts, ", "), strings.Join(e.KeyIDs, ", "))
}

// CheckKeys reports a *MissingKeyError if any stored grant was sealed with a
// key this server's keyring lacks.
func (g *Grants) CheckKeys(ctx context.Context) error {
	accounts, err := g.store.ListGoogleAccounts(ctx)
	if err != nil {
		return fmt.Errorf("listing accounts to check the secret key: %w", err)
	}
	var missing MissingKeyError
	for _, a := range accounts {
		if len(a.SealedToken) == 0 {
			continue
		}
		if id, ok := g.keys.SealedBy(a.SealedToken); !ok {
			missing.Accounts = append(missing.Accounts, a.Email)
			if id != "" && !slices.Contains(missing.KeyIDs, id) {
				missing.KeyIDs = append(missing.KeyIDs, id)
			}
		}
	}
	if len(missing.Accounts) == 0 {
		return nil
	}
	return &missing
}
