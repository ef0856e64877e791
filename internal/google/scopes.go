package google

import (
	"slices"
	"strings"
)

// Google scopes drivemcp asks for.
const (
	ScopeOpenID        = "openid"
	ScopeEmail         = "https://www.googleapis.com/auth/userinfo.email"
	ScopeDriveFile     = "https://www.googleapis.com/auth/drive.file"
	ScopeDriveReadonly = "https://www.googleapis.com/auth/drive.readonly"
	ScopeDrive         = "https://www.googleapis.com/auth/drive"
)

const scopePrefix = "https://www.googleapis.com/auth/"

// DriveScope maps the --drive-scope setting (file, readonly, full) to Google's
// scope. drive.file is the default: it is the least privilege uploads need
// and needs no Google app verification.
func DriveScope(setting string) string {
	switch setting {
	case "readonly":
		return ScopeDriveReadonly
	case "full":
		return ScopeDrive
	default:
		return ScopeDriveFile
	}
}

// AllowedDriveScopes are the Drive scopes a server configured with setting
// may ask Google for: exactly that scope, except that "full" also allows
// the narrower ones (a client may ask for less than the most).
func AllowedDriveScopes(setting string) []string {
	if setting == "full" {
		return []string{ScopeDriveFile, ScopeDriveReadonly, ScopeDrive}
	}
	return []string{DriveScope(setting)}
}

// ShortScope names a Google Drive scope the way drivemcp's OAuth scopes
// and people do: "drive.file", "drive.readonly", "drive".
func ShortScope(googleScope string) string {
	return strings.TrimPrefix(googleScope, scopePrefix)
}

// LongScope is the Google scope URL for a short name.
func LongScope(short string) string {
	if strings.Contains(short, "://") || short == ScopeOpenID {
		return short
	}
	return scopePrefix + short
}

// LoginScopes are the scopes of a consent: who the user is, plus Drive.
func LoginScopes(driveScopes ...string) []string {
	return append([]string{ScopeOpenID, ScopeEmail}, driveScopes...)
}

// CanWrite reports whether the granted scopes allow creating files.
func CanWrite(granted []string) bool {
	return slices.Contains(granted, ScopeDrive) || slices.Contains(granted, ScopeDriveFile)
}

// DriveScopesOf maps OAuth scope names as drivemcp's tokens carry them
// ("drive.file", "drive.readonly", "drive") to Google's Drive scope URLs,
// sorted and without repeats; other scopes are left out.
func DriveScopesOf(names []string) []string {
	out := make([]string, 0, len(names))
	for _, n := range names {
		sc := LongScope(n)
		if isDriveScope(sc) && !slices.Contains(out, sc) {
			out = append(out, sc)
		}
	}
	slices.Sort(out)
	return out
}

func isDriveScope(sc string) bool {
	return sc == ScopeDriveFile || sc == ScopeDriveReadonly || sc == ScopeDrive
}
