package googleemu

import (
	"encoding/json"
	"net/http"
	"strings"
)

// driveErr is one Google API error, rendered in the JSON envelope that
// googleapi.CheckResponse decodes into *googleapi.Error:
//
//	{"error":{"code":404,"message":"…","errors":[{"domain":"global","reason":"notFound",…}],"status":"NOT_FOUND"}}
type driveErr struct {
	code         int
	reason       string
	domain       string // errors[].domain; "global" unless set (quotas say "usageLimits")
	message      string
	location     string
	locationType string // "parameter", "header", "other"; defaults to "parameter" when location is set
	// wwwAuthenticate, if set, is sent as the WWW-Authenticate header (401s and scope 403s).
	wwwAuthenticate string
	// errorInfo, if set, is the reason of a google.rpc.ErrorInfo in
	// "details", as Google's newer API front end adds (Google Cloud's "API
	// design guide: errors", cloud.google.com/apis/design/errors), e.g.
	// ACCESS_TOKEN_SCOPE_INSUFFICIENT on a scope 403.
	errorInfo string
}

// rpcStatus maps HTTP codes to the google.rpc.Code names Google puts in "status".
func rpcStatus(code int) string {
	switch code {
	case 400:
		return "INVALID_ARGUMENT"
	case 401:
		return "UNAUTHENTICATED"
	case 403:
		return "PERMISSION_DENIED"
	case 404:
		return "NOT_FOUND"
	case 409:
		return "ALREADY_EXISTS"
	case 412:
		return "FAILED_PRECONDITION"
	case 416:
		return "OUT_OF_RANGE"
	case 429:
		return "RESOURCE_EXHAUSTED"
	case 500:
		return "INTERNAL"
	case 501:
		return "UNIMPLEMENTED"
	case 503:
		return "UNAVAILABLE"
	case 504:
		return "DEADLINE_EXCEEDED"
	}
	return "UNKNOWN"
}

// defaultReason is the reason Drive reports for a bare status, used by
// injected faults; retry code keys on these (rateLimitExceeded, backendError…).
func defaultReason(code int) string {
	switch code {
	case 400:
		return "badRequest"
	case 401:
		return "authError"
	case 403:
		return "userRateLimitExceeded"
	case 404:
		return "notFound"
	case 429:
		return "rateLimitExceeded"
	case 500, 502, 503, 504:
		return "backendError"
	}
	return "unknown"
}

func writeDriveError(w http.ResponseWriter, d driveErr) {
	if d.wwwAuthenticate != "" {
		w.Header().Set("WWW-Authenticate", d.wwwAuthenticate)
	}
	domain := d.domain
	if domain == "" {
		domain = "global"
	}
	item := map[string]string{"domain": domain, "reason": d.reason, "message": d.message}
	if d.location != "" {
		item["location"] = d.location
		lt := d.locationType
		if lt == "" {
			lt = "parameter"
		}
		item["locationType"] = lt
	}
	body := map[string]any{"error": map[string]any{
		"code":    d.code,
		"message": d.message,
		"errors":  []any{item},
		"status":  rpcStatus(d.code),
	}}
	if d.errorInfo != "" {
		body["error"].(map[string]any)["details"] = []any{map[string]any{
			"@type":    "type.googleapis.com/google.rpc.ErrorInfo",
			"reason":   d.errorInfo,
			"domain":   "googleapis.com",
			"metadata": map[string]string{"service": "drive.googleapis.com"},
		}}
	}
	writeJSON(w, d.code, body)
}

// Errors Drive returns often enough to name.
func errFileNotFound(id string) driveErr {
	return driveErr{code: 404, reason: "notFound", message: "File not found: " + id + ".", location: "fileId"}
}

func errInvalid(location, message string) driveErr {
	return driveErr{code: 400, reason: "invalid", message: message, location: location}
}

func errInsufficientFilePermissions() driveErr {
	return driveErr{code: 403, reason: "insufficientFilePermissions",
		message: "The user does not have sufficient permissions for this file."}
}

// oauthError is an RFC 6749 error as Google's OAuth endpoints render it.
type oauthError struct {
	status      int
	code        string
	description string
}

func writeOAuthError(w http.ResponseWriter, o oauthError) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	writeJSON(w, o.status, map[string]string{"error": o.code, "error_description": o.description})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, "googleemu: encoding response: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// isOAuthPath reports whether a path answers with OAuth-style errors rather
// than the API envelope.
func isOAuthPath(p string) bool {
	return p == "/token" || p == "/revoke" || strings.HasPrefix(p, "/o/oauth2/") || p == "/v1/userinfo"
}
