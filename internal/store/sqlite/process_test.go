package sqlite

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/drivemcp/drivemcp/internal/store"
)

// helperEnv names the database a re-executed test binary increments.
const helperEnv = "DRIVEMCP_SQLITE_TEST_INCREMENT_DB"

const helperIncrements = 15

// TestIncrementHelper is not a test: run as a child process by
// TestSeparateProcesses_UpdatesAreSerialized, it increments the counter.
func TestIncrementHelper(t *testing.T) {
	path := os.Getenv(helperEnv)
	if path == "" {
		t.Skip("helper process only")
	}
	s, err := Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for range helperIncrements {
		if _, err := s.UpdateGoogleAccount(t.Context(), "ada@example.com", func(a store.GoogleAccount) (store.GoogleAccount, error) {
			n, err := strconv.Atoi(string(a.SealedToken))
			time.Sleep(time.Millisecond)
			a.SealedToken = []byte(strconv.Itoa(n + 1))
			return a, err
		}); err != nil {
			t.Fatal(err)
		}
	}
}

// Real processes, not two Stores in one: nothing in Go memory is shared, so
// only SQLite's file locks keep the updaters apart.
func TestSeparateProcesses_UpdatesAreSerialized(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	exe, err := os.Executable()
	if err != nil {
		t.Skip(err)
	}
	path := filepath.Join(t.TempDir(), "drivemcp.db")
	s := openAt(t, path)
	if _, err := s.UpsertGoogleAccount(t.Context(), "ada@example.com", func(a store.GoogleAccount, _ bool) (store.GoogleAccount, error) {
		a.SealedToken = []byte("0")
		return a, nil
	}); err != nil {
		t.Fatal(err)
	}

	const processes = 3
	cmds := make([]*exec.Cmd, processes)
	outputs := make([]bytes.Buffer, processes)
	for i := range cmds {
		cmds[i] = exec.CommandContext(t.Context(), exe, "-test.run=^TestIncrementHelper$", "-test.count=1")
		cmds[i].Env = append(os.Environ(), helperEnv+"="+path)
		cmds[i].Stdout, cmds[i].Stderr = &outputs[i], &outputs[i]
		if err := cmds[i].Start(); err != nil {
			t.Fatal(err)
		}
	}
	for i, cmd := range cmds {
		if err := cmd.Wait(); err != nil {
			t.Errorf("process %d: %v\n%s", i, err, outputs[i].String())
		}
	}
	got, err := s.GetGoogleAccount(t.Context(), "ada@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if want := strconv.Itoa(processes * helperIncrements); string(got.SealedToken) != want {
		t.Errorf("counter = %s after %d processes × %d increments, want %s", got.SealedToken, processes, helperIncrements, want)
	}
}
