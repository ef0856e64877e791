package google_test

import (
	"errors"
	"fmt"
	"net/http"
	"testing"

	"golang.org/x/oauth2"

	"github.com/drivemcp/drivemcp/internal/google"
)

// Google's refusal is classified by the RetrieveError's parsed error code,
// even when wrapped; a message that merely mentions a code (a network
// error, an HTML page quoting "invalid_grant") is not a refusal.
func TestOAuthError_ClassifiesByErrorCodeNeverByText(t *testing.T) {
	refusal := &oauth2.RetrieveError{Response: &http.Response{StatusCode: 400}, ErrorCode: "invalid_client"}
	for _, tc := range []struct {
		name string
		err  error
		code google.OAuthErrorCode
		ok   bool
	}{
		{"wrapped refusal", fmt.Errorf("refreshing: %w", refusal), google.InvalidClient, true},
		{"grant", &oauth2.RetrieveError{ErrorCode: "invalid_grant"}, google.InvalidGrant, true},
		{"answer without a code", &oauth2.RetrieveError{Body: []byte("<html>invalid_grant</html>")}, "", true},
		{"text only", errors.New("oauth2: \"invalid_grant\" unauthorized_client"), "", false},
		{"nil", nil, "", false},
	} {
		code, re, ok := google.OAuthError(tc.err)
		if code != tc.code || ok != tc.ok || (ok != (re != nil)) {
			t.Errorf("%s: OAuthError = %q, %v, %v; want %q, %v", tc.name, code, re, ok, tc.code, tc.ok)
		}
	}
}
