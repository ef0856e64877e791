package legacyimport

import (
	"encoding/json"
	"os"
	"testing"
)

// Every encrypted format of the Python server, as Python's cryptography
// package wrote it (testdata/make_python_fixtures.py): the legacy .enc
// with .auth_encryption_key, the MCP_API_KEY-derived _backup.enc, a server
// envelope and a per_user envelope opened through its OAuth recipient, its
// Google sub read from the Fernet-sealed linkage preferences. The tokens
// are fakes: this proves the formats, the emulator tests prove the import.
func TestRead_OpensEveryFormatPythonWrote(t *testing.T) {
	raw, err := os.ReadFile("testdata/python-2.11/expected.json")
	if err != nil {
		t.Fatal(err)
	}
	var expected map[string]struct {
		Token        string `json:"token"`
		RefreshToken string `json:"refresh_token"`
		ClientID     string `json:"client_id"`
	}
	if err := json.Unmarshal(raw, &expected); err != nil {
		t.Fatal(err)
	}
	files, err := Find([]string{"testdata/python-2.11/checkout"}, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != len(expected) {
		t.Fatalf("found %d files, want %d", len(files), len(expected))
	}
	for _, f := range files {
		want := expected[f.Name]
		got, err := f.Source.Read(f)
		if err != nil {
			t.Errorf("%s: %v", f.Name, err)
			continue
		}
		if got.RefreshToken != want.RefreshToken || got.AccessToken != want.Token || got.ClientID != want.ClientID {
			t.Errorf("%s: read %+v", f.Name, got)
		}
		t.Logf("%s: %s", f.Name, got.Format)
	}
}
