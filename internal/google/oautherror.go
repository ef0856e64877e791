package google

import (
	"errors"

	"golang.org/x/oauth2"
)

// OAuthErrorCode is the "error" of Google's token endpoint when it refuses
// a request (RFC 6749 §5.2), as golang.org/x/oauth2 parses it into
// RetrieveError.ErrorCode. Only the codes drivemcp acts on are named.
type OAuthErrorCode string

const (
	// InvalidGrant: the refresh token or code is no longer accepted
	// (revoked, expired, password changed, 7-day Testing limit).
	InvalidGrant OAuthErrorCode = "invalid_grant"
	// InvalidClient: the client id or secret is wrong.
	InvalidClient OAuthErrorCode = "invalid_client"
	// UnauthorizedClient: the grant was issued to another client.
	UnauthorizedClient OAuthErrorCode = "unauthorized_client"
	// InvalidScope: a scope asked for was not granted.
	InvalidScope OAuthErrorCode = "invalid_scope"
)

// OAuthError is the one classifier of Google's OAuth refusals: it returns
// the error code of the *oauth2.RetrieveError in err's chain and that
// error, or ok false when Google gave no OAuth answer (the network failed,
// or the answer was not a token endpoint's). It never reads message text.
func OAuthError(err error) (code OAuthErrorCode, re *oauth2.RetrieveError, ok bool) {
	if !errors.As(err, &re) {
		return "", nil, false
	}
	return OAuthErrorCode(re.ErrorCode), re, true
}
