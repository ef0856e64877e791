package secrets

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"
)

// errKeyFileEmpty is a key file caught between creation and its first write
// (only possible where hard links are unsupported; see createKeyFile).
var errKeyFileEmpty = errors.New("secrets: key file is empty")

// LoadOrCreateKeyFile returns the key stored in base64 at path, creating the
// file (mode 0600, parent directory 0700) with a fresh random key if it does
// not exist. Processes that start at once agree on one key: the file appears
// whole, and only the first creator's file is kept.
func LoadOrCreateKeyFile(path string) ([]byte, error) {
	// Each pass either returns or loses a race to another process; a few
	// passes absorb even a pathological create/delete race.
	const attempts = 50
	var lastErr error
	for range attempts {
		key, err := readKeyFile(path)
		switch {
		case err == nil:
			return key, nil
		case errors.Is(err, errKeyFileEmpty):
			lastErr = err
			time.Sleep(10 * time.Millisecond)
			continue
		case !errors.Is(err, fs.ErrNotExist):
			return nil, err
		}
		key, err = createKeyFile(path)
		if errors.Is(err, fs.ErrExist) {
			lastErr = err
			continue // another process created it first: use theirs
		}
		return key, err
	}
	if errors.Is(lastErr, errKeyFileEmpty) {
		return nil, fmt.Errorf("secrets: key file %s is empty; delete it to create a new key (every user then signs in to Google again)", path)
	}
	return nil, fmt.Errorf("secrets: key file %s keeps appearing and disappearing: %w", path, lastErr)
}

func readKeyFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		return nil, fmt.Errorf("secrets: reading key file: %w", err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("secrets: reading key file: %w", err)
	}
	if !info.Mode().IsRegular() {
		return nil, fmt.Errorf("secrets: key file %s is not a regular file", path)
	}
	// Windows has no Unix permission bits to check; its ACLs are the user's.
	if perm := info.Mode().Perm(); runtime.GOOS != "windows" && perm&0o077 != 0 {
		return nil, fmt.Errorf("secrets: key file %s is accessible to other users (mode %#o); run: chmod 600 %s", path, perm, path)
	}
	data, err := io.ReadAll(io.LimitReader(f, 1024))
	if err != nil {
		return nil, fmt.Errorf("secrets: reading key file %s: %w", path, err)
	}
	if strings.TrimSpace(string(data)) == "" {
		return nil, fmt.Errorf("%w: %s", errKeyFileEmpty, path)
	}
	key, err := decodeKey(string(data))
	if err != nil {
		return nil, fmt.Errorf("secrets: the key in %s %w; restore the file from a backup, or delete it to start over (every user then signs in to Google again)", path, err)
	}
	return key, nil
}

// createKeyFile writes a new key to path unless a file is already there, in
// which case the error matches fs.ErrExist.
func createKeyFile(path string) ([]byte, error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("secrets: creating key file directory: %w", err)
	}
	key := make([]byte, KeySize)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("secrets: generating key: %w", err)
	}
	content := []byte(base64.StdEncoding.EncodeToString(key) + "\n")

	// Write the whole file under a temporary name, then link it into place:
	// link fails if the name exists, so a second process never replaces the
	// first one's key, and nobody sees a half-written file.
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*") // mode 0600
	if err != nil {
		return nil, fmt.Errorf("secrets: creating key file: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := writeAndClose(tmp, content); err != nil {
		return nil, fmt.Errorf("secrets: writing key file: %w", err)
	}
	linkErr := os.Link(tmp.Name(), path)
	switch {
	case linkErr == nil:
		syncDir(dir)
		return key, nil
	case errors.Is(linkErr, fs.ErrExist):
		return nil, linkErr
	}

	// Some filesystems (FAT, some network mounts) have no hard links.
	// O_EXCL still picks one winner; readers wait out the moment the
	// file is empty.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		if errors.Is(err, fs.ErrExist) {
			return nil, err
		}
		return nil, fmt.Errorf("secrets: creating key file: %w (after link: %v)", err, linkErr)
	}
	if err := writeAndClose(f, content); err != nil {
		os.Remove(path)
		return nil, fmt.Errorf("secrets: writing key file: %w", err)
	}
	syncDir(dir)
	return key, nil
}

func writeAndClose(f *os.File, content []byte) error {
	_, err := f.Write(content)
	if err == nil {
		err = f.Sync()
	}
	return errors.Join(err, f.Close())
}

// syncDir makes the new directory entry durable, so a crash cannot lose the
// key after tokens sealed with it were stored. Best effort: not every
// platform can sync a directory.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		_ = d.Close()
	}
}
