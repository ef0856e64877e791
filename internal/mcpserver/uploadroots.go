package mcpserver

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// errOutsideRoots means a path is not inside any upload root.
var errOutsideRoots = errors.New("outside every upload root")

// openInRoots opens a regular file that lies inside one of roots (absolute,
// symlink-free directories). os.Root does the opening, so a symlink or ".."
// that leads out of the root is refused by the kernel-facing code itself,
// with no window between checking a path and opening it.
func openInRoots(roots []string, name string) (*os.File, error) {
	if len(roots) == 0 {
		return nil, errOutsideRoots
	}
	var notFound error
	for _, root := range roots {
		rel, ok := relativeTo(root, name)
		if !ok {
			continue
		}
		f, err := openInRoot(root, rel)
		if errors.Is(err, fs.ErrNotExist) && !filepath.IsAbs(name) {
			notFound = err // a relative path may belong to a later root
			continue
		}
		return f, err
	}
	if notFound != nil {
		return nil, notFound
	}
	return nil, errOutsideRoots
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
	r, err := os.OpenRoot(root)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	f, err := r.Open(rel)
	if err != nil {
		if strings.Contains(err.Error(), "path escapes from parent") {
			return nil, errOutsideRoots
		}
		return nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("%s is not a regular file (directories, devices and pipes cannot be uploaded)", rel)
	}
	return f, nil
}
