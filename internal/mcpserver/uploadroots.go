package mcpserver

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/drivemcp/drivemcp/internal/safefile"
)

// UploadRoot is a directory upload_file_to_drive may read (absolute and
// symlink-free) and the accounts that may read it (lower-case emails; none:
// every account the server accepts).
type UploadRoot struct {
	Dir      string
	Accounts []string
}

// rootsFor is the directories email may read. Another account's roots are
// left out entirely, so a call cannot reach them even by a relative path,
// and error messages do not name them.
func (t *tools) rootsFor(email string) []string {
	var dirs []string
	for _, r := range t.UploadRoots {
		if len(r.Accounts) == 0 || slices.Contains(r.Accounts, email) {
			dirs = append(dirs, r.Dir)
		}
	}
	return dirs
}

// errOutsideRoots means a path is not inside any upload root.
var errOutsideRoots = errors.New("outside every upload root")

// errHiddenPath means the path goes through a hidden file or folder (a name
// starting with "."). Those hold keys and credentials (~/.ssh, ~/.aws,
// drivemcp's own ~/.local/share/drivemcp): a tool an assistant calls must
// not be talked into uploading them, even inside an upload root.
var errHiddenPath = errors.New("hidden files and folders are not uploaded")

// openInRoots opens a regular file that lies inside one of roots (absolute,
// symlink-free directories). os.Root does the opening, so a symlink or ".."
// that leads out of the root is refused by the kernel-facing code itself,
// with no window between checking a path and opening it.
func openInRoots(roots []string, name string) (*os.File, error) {
	return inRoots(roots, name, openInRoot)
}

// inRoots finds the root that holds name (absolute, or relative to a root)
// and opens it there with open. Hidden paths are refused, whether named or
// reached through a link; a relative path missing from one root may be in a
// later one.
func inRoots[T any](roots []string, name string, open func(root, rel string) (T, error)) (T, error) {
	var zero T
	if len(roots) == 0 {
		return zero, errOutsideRoots
	}
	var notFound error
	for _, root := range roots {
		rel, ok := relativeTo(root, name)
		if !ok {
			continue
		}
		if safefile.HiddenBelow(root, rel) {
			return zero, errHiddenPath
		}
		v, err := open(root, rel)
		if errors.Is(err, fs.ErrNotExist) && !filepath.IsAbs(name) {
			notFound = err // a relative path may belong to a later root
			continue
		}
		return v, err
	}
	if notFound != nil {
		return zero, notFound
	}
	return zero, errOutsideRoots
}

// relativeTo expresses name relative to root, or says it is not below it.
// Absolute names are compared after resolving symlinks in their directory,
// so /tmp/x and /private/tmp/x agree where /tmp is a link.
func relativeTo(root, name string) (string, bool) {
	if !filepath.IsAbs(name) {
		return filepath.Clean(name), true
	}
	clean := filepath.Clean(name)
	if dir, err := filepath.EvalSymlinks(filepath.Dir(clean)); err == nil {
		clean = filepath.Join(dir, filepath.Base(clean))
	}
	rel, err := filepath.Rel(root, clean)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return "", false
	}
	return rel, true
}

func openInRoot(root, rel string) (*os.File, error) {
	f, err := safefile.OpenRegular(root, rel)
	switch {
	case errors.Is(err, safefile.ErrEscapes):
		return nil, errOutsideRoots
	case errors.Is(err, safefile.ErrNotRegular):
		return nil, fmt.Errorf("%s is not a regular file (directories, devices and pipes cannot be uploaded)", rel)
	}
	return f, err
}
