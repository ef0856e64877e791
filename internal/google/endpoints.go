// Package google is drivemcp's side of upstream Google: the OAuth client,
// userinfo, revocation, and per-account token sources that refresh once at a
// time and persist what they get. Callers never see refresh logic.
package google

import "strings"

// Endpoints are the URLs of every Google service drivemcp calls.
type Endpoints struct {
	AuthURL     string
	TokenURL    string
	UserinfoURL string
	RevokeURL   string
	// DriveBase is the Drive API base for option.WithEndpoint; the upload
	// URL is derived from the same host.
	DriveBase string
	// UploadBase is where resumable uploads start: UploadBase + "/upload/drive/v3/files".
	UploadBase string
}

// RealEndpoints are Google's production hosts.
var RealEndpoints = Endpoints{
	AuthURL:     "https://accounts.google.com/o/oauth2/v2/auth",
	TokenURL:    "https://oauth2.googleapis.com/token",
	UserinfoURL: "https://openidconnect.googleapis.com/v1/userinfo",
	RevokeURL:   "https://oauth2.googleapis.com/revoke",
	DriveBase:   "https://www.googleapis.com/drive/v3/",
	UploadBase:  "https://www.googleapis.com",
}

// EndpointsAt keeps Google's paths but sends everything to base (an
// emulator). An empty base means Google itself.
func EndpointsAt(base string) Endpoints {
	if base == "" {
		return RealEndpoints
	}
	base = strings.TrimRight(base, "/")
	return Endpoints{
		AuthURL:     base + "/o/oauth2/v2/auth",
		TokenURL:    base + "/token",
		UserinfoURL: base + "/v1/userinfo",
		RevokeURL:   base + "/revoke",
		DriveBase:   base + "/drive/v3/",
		UploadBase:  base,
	}
}
