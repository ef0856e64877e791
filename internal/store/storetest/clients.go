package storetest

import (
	"errors"
	"testing"

	"github.com/drivemcp/drivemcp/internal/store"
)

var clientTests = []test{
	{name: "FieldsRoundTrip", run: testClientRoundTrip},
	{name: "PublicClientHasNoSecret", run: testPublicClient},
	{name: "DuplicateIDIsRefused", run: testDuplicateClient},
	{name: "GetUnknownIsNotFound", run: testGetUnknownClient},
}

func confidentialClient(id string) store.Client {
	secret := make([]byte, 32) // a SHA-256, with a NUL and a high byte in it
	for i := range secret {
		secret[i] = byte(i * 37)
	}
	return store.Client{
		ID:         id,
		SecretHash: secret,
		Name:       "Claude Desktop ✓ \"quoted\"",
		// Order is kept: the first redirect URI is the default one.
		RedirectURIs:            []string{"https://claude.ai/api/mcp/auth_callback", "http://127.0.0.1:33418/callback?x=1&y=two"},
		GrantTypes:              []string{"refresh_token", "authorization_code"},
		ResponseTypes:           []string{"code"},
		TokenEndpointAuthMethod: "client_secret_basic",
		ApplicationType:         "web",
		Scope:                   "drive.read drive.upload",
		ClientURI:               "https://claude.ai",
		LogoURI:                 "https://claude.ai/logo.png",
		CreatedAt:               at,
	}
}

func mustCreateClient(t *testing.T, s store.Store, c store.Client) {
	t.Helper()
	if err := s.CreateClient(t.Context(), c); err != nil {
		t.Fatalf("CreateClient(%s): %v", c.ID, err)
	}
}

func mustGetClient(t *testing.T, s store.Store, id string) store.Client {
	t.Helper()
	got, err := s.GetClient(t.Context(), id)
	if err != nil {
		t.Fatalf("GetClient(%s): %v", id, err)
	}
	return got
}

func testClientRoundTrip(t *testing.T, s store.Store) {
	want := confidentialClient("mcp_confidential")
	mustCreateClient(t, s, want)
	if d := clientDiff(mustGetClient(t, s, want.ID), want); d != "" {
		t.Errorf("Get: %s", d)
	}
}

func testPublicClient(t *testing.T, s store.Store) {
	for _, want := range []store.Client{
		{ID: "mcp_nil", TokenEndpointAuthMethod: "none", ApplicationType: "native",
			RedirectURIs: []string{"http://127.0.0.1/cb"}, CreatedAt: at},
		{ID: "mcp_empty", SecretHash: []byte{}, RedirectURIs: []string{}, GrantTypes: []string{}, CreatedAt: at},
	} {
		mustCreateClient(t, s, want)
		got := mustGetClient(t, s, want.ID)
		if d := clientDiff(got, want); d != "" {
			t.Errorf("%s: %s", want.ID, d)
		}
		// A public client must not come back with a secret, even an
		// empty one that some check might compare against.
		if len(got.SecretHash) != 0 {
			t.Errorf("%s: SecretHash = %x, want none", want.ID, got.SecretHash)
		}
	}
}

// Registration must never overwrite a client: an attacker picking a known id
// would take over its redirect URIs.
func testDuplicateClient(t *testing.T, s store.Store) {
	first := confidentialClient("mcp_taken")
	mustCreateClient(t, s, first)
	second := confidentialClient("mcp_taken")
	second.SecretHash = nil
	second.RedirectURIs = []string{"https://attacker.example/cb"}
	if err := s.CreateClient(t.Context(), second); !errors.Is(err, store.ErrAlreadyExists) {
		t.Errorf("second create with the same id: err = %v, want ErrAlreadyExists", err)
	}
	if d := clientDiff(mustGetClient(t, s, first.ID), first); d != "" {
		t.Errorf("the refused create changed the stored client: %s", d)
	}
}

func testGetUnknownClient(t *testing.T, s store.Store) {
	mustCreateClient(t, s, confidentialClient("mcp_known"))
	for _, id := range []string{"mcp_unknown", "MCP_KNOWN", ""} {
		if got, err := s.GetClient(t.Context(), id); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("GetClient(%q) = %+v, %v; want ErrNotFound", id, got, err)
		}
	}
}
