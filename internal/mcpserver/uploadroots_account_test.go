package mcpserver

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/drivemcp/drivemcp/internal/e2etest"
)

// An account the server accepts, but that an upload root does not name,
// cannot read that root's files: not by absolute path, not by a relative
// one, and the refusal does not even name the root.
func TestUploadFile_AccountScopedRootRefusesOtherAccounts(t *testing.T) {
	bobs, shared := realTempDir(t), realTempDir(t)
	secret := filepath.Join(bobs, "bob-salary.txt")
	if err := os.WriteFile(secret, []byte("bob's salary"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(shared, "minutes.txt"), []byte("minutes"), 0o600); err != nil {
		t.Fatal(err)
	}
	f := newFixture(t, Deps{UploadRoots: []UploadRoot{
		{Dir: bobs, Accounts: []string{"bob@example.com"}},
		{Dir: shared, Accounts: []string{"bob@example.com", alice}},
	}})
	for _, path := range []string{secret, "bob-salary.txt"} {
		res := f.call(t, "upload_file_to_drive", map[string]any{"filepath": path})
		text := e2etest.ResultText(res)
		if !res.IsError || strings.Contains(strings.ReplaceAll(text, path, ""), bobs) {
			t.Errorf("alice uploading %s from bob's root: error=%v %q", path, res.IsError, text)
		}
	}
	for _, file := range f.google.Files() {
		if file.Name == "bob-salary.txt" {
			t.Fatal("bob's file reached alice's Drive")
		}
	}
	// The root both may read still works for alice.
	f.mustCall(t, "upload_file_to_drive", map[string]any{"filepath": filepath.Join(shared, "minutes.txt")})
}

func realTempDir(t *testing.T) string {
	t.Helper()
	d, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return d
}
