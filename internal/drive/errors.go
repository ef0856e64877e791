package drive

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
)

var (
	// ErrChecksumMismatch means Drive stored bytes whose md5 differs from the
	// bytes we read from the source. The file exists on Drive; Upload returns
	// it alongside this error so the caller can remove or report it.
	ErrChecksumMismatch = errors.New("drive: uploaded file's checksum does not match the source")

	// ErrSourceChanged means the source did not hold the number of bytes it
	// was declared to hold: it shrank or grew while being uploaded. Nothing
	// was created on Drive.
	ErrSourceChanged = errors.New("drive: the source changed size during the upload")

	// ErrCannotResume means the upload session was lost (or Drive kept fewer
	// bytes than it had confirmed) and a sequential source can no longer
	// produce the bytes needed to continue. Nothing was created on Drive; the
	// upload has to be started again from the beginning of the data.
	ErrCannotResume = errors.New("drive: the upload cannot be resumed from a stream that has moved on")
)

// APIError is an HTTP error answered by Google, parsed from its JSON error
// envelope when it has one.
type APIError struct {
	Status  int    // HTTP status code
	Reason  string // first errors[].reason (or error.status), e.g. "storageQuotaExceeded"; may be empty
	Message string // Google's human-readable message, or the HTTP status text
	// scopeChallenge: Google's WWW-Authenticate said insufficient_scope.
	scopeChallenge bool
}

// Is lets errors.Is find the kind of a Drive refusal (ErrRateLimited,
// ErrNotFound…) on an upload's errors as on every other call's.
func (e *APIError) Is(target error) bool {
	k := kindOf(e)
	return k != nil && k == target
}

func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "drive: HTTP %d", e.Status)
	if e.Reason != "" {
		b.WriteString(" ")
		b.WriteString(e.Reason)
	}
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	return b.String()
}

// maxErrorBody bounds how much of an error response we read: enough for any
// envelope Google sends, not enough to be hurt by a misbehaving proxy.
const maxErrorBody = 64 << 10

// parseAPIError builds an *APIError from a non-success response. It reads
// (a bounded prefix of) the body but does not close it.
func parseAPIError(resp *http.Response) *APIError {
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	e := apiErrorFromBody(resp.StatusCode, body)
	e.scopeChallenge = strings.Contains(resp.Header.Get("WWW-Authenticate"), "insufficient_scope")
	return e
}

func apiErrorFromBody(status int, body []byte) *APIError {
	e := &APIError{Status: status}
	var env struct {
		Error json.RawMessage `json:"error"`
	}
	if json.Unmarshal(body, &env) == nil && len(env.Error) > 0 {
		var detail struct {
			Code    int    `json:"code"`
			Message string `json:"message"`
			Status  string `json:"status"`
			Errors  []struct {
				Reason  string `json:"reason"`
				Message string `json:"message"`
			} `json:"errors"`
		}
		var plain string
		switch {
		case json.Unmarshal(env.Error, &detail) == nil:
			e.Message = detail.Message
			if len(detail.Errors) > 0 {
				e.Reason = detail.Errors[0].Reason
				if e.Message == "" {
					e.Message = detail.Errors[0].Message
				}
			}
			if e.Reason == "" {
				e.Reason = detail.Status
			}
		case json.Unmarshal(env.Error, &plain) == nil:
			// OAuth-style {"error":"invalid_token","error_description":…}.
			e.Reason = plain
			var desc struct {
				Description string `json:"error_description"`
			}
			_ = json.Unmarshal(body, &desc)
			e.Message = desc.Description
		}
	}
	if e.Message == "" && e.Reason == "" {
		e.Message = strings.TrimSpace(string(body))
		if len(e.Message) > 200 {
			e.Message = e.Message[:200] + "…"
		}
	}
	if e.Message == "" {
		e.Message = http.StatusText(status)
	}
	return e
}
