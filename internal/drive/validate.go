package drive

import (
	"fmt"
	"mime"
	"strings"
	"unicode"
	"unicode/utf8"
)

// These checks refuse, before anything is sent, arguments that Drive could
// never accept or that could never be sent at all: retrying them only holds
// an upload slot while waiting for the same failure. They wrap
// ErrInvalidArgument.

const (
	// maxNameBytes caps a file or folder name; real names are far shorter,
	// and 1024 is also the cap on each name of a folder path.
	maxNameBytes = maxFolderName
	// maxIDBytes is well above any id Drive hands out (about 33–44 bytes).
	maxIDBytes = 256
	// maxMediaTypeBytes bounds a MIME type with its parameters; RFC 6838
	// caps the type and the subtype at 127 bytes each.
	maxMediaTypeBytes = 512
)

// CheckMediaType refuses a MIME type that is not type/subtype with optional
// parameters (mime.ParseMediaType), or that holds a control character: it
// is sent as a header, where a line break cannot go.
func CheckMediaType(s string) error {
	if len(s) > maxMediaTypeBytes {
		return fmt.Errorf("%w: the MIME type is longer than %d bytes", ErrInvalidArgument, maxMediaTypeBytes)
	}
	if strings.IndexFunc(s, unicode.IsControl) >= 0 {
		return fmt.Errorf("%w: the MIME type %q contains a control character", ErrInvalidArgument, s)
	}
	if _, _, err := mime.ParseMediaType(s); err != nil {
		return fmt.Errorf("%w: %q is not a MIME type (%v)", ErrInvalidArgument, s, err)
	}
	return nil
}

// CheckName refuses a file or folder name with a control character (NUL,
// a line break, an escape sequence) or invalid UTF-8, or one longer than
// 1024 bytes. Any other character, "/" included, is a valid Drive name.
func CheckName(s string) error {
	switch {
	case !utf8.ValidString(s):
		return fmt.Errorf("%w: the name is not valid UTF-8", ErrInvalidArgument)
	case strings.IndexFunc(s, unicode.IsControl) >= 0:
		return fmt.Errorf("%w: the name %q contains a control character", ErrInvalidArgument, s)
	case len(s) > maxNameBytes:
		return fmt.Errorf("%w: the name is %d bytes long, more than %d", ErrInvalidArgument, len(s), maxNameBytes)
	}
	return nil
}

// CheckID refuses what cannot be a Drive file, folder or shared drive id:
// Drive's ids (and aliases such as root) are letters, digits, "-" and "_".
func CheckID(s string) error {
	if s == "" || len(s) > maxIDBytes {
		return fmt.Errorf("%w: %q is not a Drive id", ErrInvalidArgument, s)
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return fmt.Errorf("%w: %q is not a Drive id (it contains %q)", ErrInvalidArgument, s, c)
		}
	}
	return nil
}
