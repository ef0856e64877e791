package safefile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"syscall"
)

// Hidden reports whether a relative path has a component starting with "."
// (other than "." and ".."). Hidden files and folders hold keys and
// credentials (~/.ssh, ~/.aws, a project's .env and .git), so nothing
// drivemcp uploads on someone's say-so may come from one.
func Hidden(rel string) bool {
	for part := range strings.SplitSeq(filepath.ToSlash(rel), "/") {
		if len(part) > 1 && part[0] == '.' && part != ".." {
			return true
		}
	}
	return false
}

// HiddenIn reports whether rel, below r, is hidden by its own name or by
// where its links lead: a visible link (notes.txt -> .env) is judged by
// its target. A path that cannot be resolved inside r (missing, a loop,
// leading out) is not called hidden: opening it through r then fails on
// its own.
func HiddenIn(r *os.Root, rel string) bool {
	if Hidden(rel) {
		return true
	}
	// An absolute link into r (which os.Root will not follow) is judged
	// too, so the refusal names the hidden file rather than an escape.
	target, err := resolveIn(r, rel, true)
	return err == nil && Hidden(target)
}

// maxLinks is how many links ResolveIn follows before calling it a loop;
// os.Root gives up at the same count.
const maxLinks = 255

// ResolveIn is rel with every link resolved, as a clean slash-separated
// path relative to r, or an error if it leads out of r (ErrEscapes), loops
// or does not exist. It reads links one component at a time through r
// (Lstat, Readlink), so it never looks outside r and judges exactly the
// components os.Root would follow.
func ResolveIn(r *os.Root, rel string) (string, error) {
	return resolveIn(r, rel, false)
}

// resolveIn is ResolveIn; with absInside, an absolute link target below
// r.Name() is followed as the path below r it names.
func resolveIn(r *os.Root, rel string, absInside bool) (string, error) {
	todo := strings.Split(filepath.ToSlash(rel), "/")
	var done []string
	links := 0
	for len(todo) > 0 {
		part := todo[0]
		todo = todo[1:]
		switch part {
		case "", ".":
			continue
		case "..":
			// done holds no links, so ".." is its parent.
			if len(done) == 0 {
				return "", fmt.Errorf("%s: %w", rel, ErrEscapes)
			}
			done = done[:len(done)-1]
			continue
		}
		cur := path.Join(append(done, part)...)
		fi, err := r.Lstat(cur)
		if err != nil {
			return "", err
		}
		if fi.Mode()&fs.ModeSymlink == 0 {
			done = append(done, part)
			continue
		}
		if links++; links > maxLinks {
			return "", &fs.PathError{Op: "resolve", Path: rel, Err: syscall.ELOOP}
		}
		target, err := r.Readlink(cur)
		if err != nil {
			return "", err
		}
		if filepath.IsAbs(target) {
			in, err := filepath.Rel(r.Name(), target)
			if !absInside || err != nil || !filepath.IsLocal(in) {
				return "", fmt.Errorf("%s: %w", rel, ErrEscapes)
			}
			target, done = in, nil
		}
		todo = append(strings.Split(filepath.ToSlash(target), "/"), todo...)
	}
	return path.Join(done...), nil
}

// ErrChanged is a file that is not the one judged before it was opened
// (replaced, or a link retargeted, in between).
var ErrChanged = errors.New("the file changed between choosing it and opening it")

// OpenSame opens rel below r for reading and checks that it is the very
// file described by judged (os.SameFile: same device and inode), so that
// a decision made about one file, earlier, is never applied to another:
// a file swapped for a link to a hidden file after a walk chose it is
// refused with ErrChanged. A named pipe swapped in opens without blocking
// and is refused the same way.
func OpenSame(r *os.Root, rel string, judged fs.FileInfo) (*os.File, error) {
	f, err := r.OpenFile(rel, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if !os.SameFile(fi, judged) || !fi.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("%s: %w", rel, ErrChanged)
	}
	return f, nil
}

// HiddenBelow is HiddenIn for a directory given by its path, for callers
// that do not hold it open.
func HiddenBelow(dir, rel string) bool {
	if Hidden(rel) {
		return true
	}
	r, err := os.OpenRoot(dir)
	if err != nil {
		return false // opening anything below it fails the same way
	}
	defer r.Close()
	return HiddenIn(r, rel)
}
