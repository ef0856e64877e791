package google

import "slices"

// Google scopes drivemcp asks for.
const (
	ScopeOpenID        = "openid"
	ScopeEmail         = "https://www.googleapis.com/auth/userinfo.email"
	ScopeDriveFile     = "https://www.googleapis.com/auth/drive.file"
	ScopeDriveReadonly = "https://www.googleapis.com/auth/drive.readonly"
	ScopeDrive         = "https://www.googleapis.com/auth/drive"
)

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

// LoginScopes are the scopes of a consent: who the user is, plus Drive.
func LoginScopes(driveScope string) []string {
	return []string{ScopeOpenID, ScopeEmail, driveScope}
}

// CanWrite reports whether the granted scopes allow creating files.
func CanWrite(granted []string) bool {
	return slices.Contains(granted, ScopeDrive) || slices.Contains(granted, ScopeDriveFile)
}
