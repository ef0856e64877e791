// Package safefile opens files that someone else may have placed: a
// regular file below a directory, never a named pipe that would block the
// open forever, never a device, never a symlink or ".." that leads out of
// the directory. Upload roots and the import of the older server's
// credential files both open files this way.
package safefile

import (
	"errors"
	"fmt"
	"io"
	"os"
	"syscall"
)

// ErrEscapes is a path (through "..", or a symlink) that leads out of the
// directory it was to be opened in.
var ErrEscapes = errors.New("the path leads out of its directory")

// ErrNotRegular is a directory, device, named pipe or socket.
var ErrNotRegular = errors.New("not a regular file")

// ErrTooLarge is a file over the size a caller accepts.
var ErrTooLarge = errors.New("file too large")

// OpenRegular opens rel, a path below root, for reading. os.Root does the
// opening, so a symlink or ".." that leads out of root is refused by the
// kernel-facing code itself, with no window between a check and the open.
func OpenRegular(root, rel string) (*os.File, error) {
	r, err := os.OpenRoot(root)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	// O_NONBLOCK: opening a named pipe for reading would otherwise wait for a
	// writer forever; this way it opens at once and is refused below as not
	// a regular file. Regular files ignore the flag.
	f, err := r.OpenFile(rel, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		if esc := rootEscape(r); esc != nil && errors.Is(err, esc) {
			return nil, fmt.Errorf("%s: %w", rel, ErrEscapes)
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
		return nil, fmt.Errorf("%s: %w", rel, ErrNotRegular)
	}
	return f, nil
}

// ReadRegular reads all of rel below root, refusing (not truncating) a
// file of more than limit bytes.
func ReadRegular(root, rel string, limit int64) ([]byte, error) {
	f, err := OpenRegular(root, rel)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	raw, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(raw)) > limit {
		return nil, fmt.Errorf("%s: %w (more than %d bytes)", rel, ErrTooLarge, limit)
	}
	return raw, nil
}

// ErrNotDir is a path that names something other than a directory.
var ErrNotDir = errors.New("not a directory")

// OpenDir opens rel, a directory below root, as an os.Root of its own, so
// that everything later read through it stays inside it: a symlink or ".."
// that leads out is refused (ErrEscapes) whenever it is used.
func OpenDir(root, rel string) (*os.Root, error) {
	r, err := os.OpenRoot(root)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	fi, err := r.Stat(rel)
	if err == nil && !fi.IsDir() {
		return nil, fmt.Errorf("%s: %w", rel, ErrNotDir)
	}
	if err == nil {
		var sub *os.Root
		if sub, err = r.OpenRoot(rel); err == nil {
			return sub, nil
		}
	}
	if esc := rootEscape(r); esc != nil && errors.Is(err, esc) {
		return nil, fmt.Errorf("%s: %w", rel, ErrEscapes)
	}
	return nil, err
}

// rootEscape is os.Root's own error for a path that leads out of it, which
// the os package does not export: a Root refuses an absolute path with it
// before any system call, so asking for "/" yields the very error value to
// compare with errors.Is, and no error text is ever read.
func rootEscape(r *os.Root) error {
	f, err := r.Open("/")
	if err == nil {
		f.Close() // not on any platform Go supports; nothing to compare then
		return nil
	}
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
