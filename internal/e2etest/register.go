package e2etest

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"testing"
)

// RegisterClient registers an OAuth client at base by dynamic client
// registration (RFC 7591) with the given metadata, as an MCP client does,
// and returns its id and (for a confidential client) its secret. Anything
// but 201 with a client id fails the test with the server's answer.
func RegisterClient(tb testing.TB, base string, metadata map[string]any) (id, secret string) {
	tb.Helper()
	body, err := json.Marshal(metadata)
	if err != nil {
		tb.Fatalf("registration metadata: %v", err)
	}
	resp, err := http.Post(base+"/oauth/register", "application/json", bytes.NewReader(body))
	if err != nil {
		tb.Fatalf("registering a client at %s: %v", base, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatalf("registering a client at %s: reading the answer: %v", base, err)
	}
	var out struct {
		ClientID     string `json:"client_id"`
		ClientSecret string `json:"client_secret"`
	}
	if resp.StatusCode != http.StatusCreated || json.Unmarshal(raw, &out) != nil || out.ClientID == "" {
		tb.Fatalf("registering a client at %s: %s\n%s", base, resp.Status, raw)
	}
	return out.ClientID, out.ClientSecret
}
