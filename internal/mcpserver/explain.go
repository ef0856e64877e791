package mcpserver

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/drivemcp/drivemcp/internal/accesspolicy"
	"github.com/drivemcp/drivemcp/internal/drive"
	"github.com/drivemcp/drivemcp/internal/google"
	"github.com/drivemcp/drivemcp/internal/identity"
	"github.com/drivemcp/drivemcp/internal/reqlog"
)

// userError is an error whose message is already a sentence for a person
// (or the model acting for one): what happened and what to do next.
type userError struct {
	msg   string
	cause error
}

func (e *userError) Error() string { return e.msg }
func (e *userError) Unwrap() error { return e.cause }

func userErrorf(cause error, format string, args ...any) error {
	return &userError{msg: fmt.Sprintf(format, args...), cause: cause}
}

// explain turns identity and grant errors into sentences that say what to
// do. Errors already explained pass through.
func (t *tools) explain(err error) error {
	var ue *userError
	if errors.As(err, &ue) {
		return err
	}
	var mismatch *identity.MismatchError
	var ambiguous *identity.AmbiguousError
	var refused *accesspolicy.RefusedError
	var refresh *google.RefreshError
	var replaced *identity.ReplacedError
	switch {
	case errors.As(err, &replaced):
		return userErrorf(err, "The Google account this session was connected to no longer holds %s: Google now gives that address "+
			"to another account, so drivemcp stopped acting for this session and nothing was done. "+
			"Call start_google_auth, sign in as the account you use now, then call this tool again.", replaced.Email)
	case errors.As(err, &refused):
		return userErrorf(err, "The Google account %s may not use this server (%s), so nothing was done. "+
			"Sign in with an allowed account (start_google_auth, or your MCP client's login), or ask the server's operator to allow this one.",
			refused.Email, refused.Reason)
	case errors.As(err, &mismatch):
		return userErrorf(err, "This session is signed in as %s; user_google_email %s names another account, so nothing was done. "+
			"Call again without user_google_email, or connect %s first with start_google_auth (force: true).",
			mismatch.Authenticated, mismatch.Asked, mismatch.Asked)
	case errors.As(err, &ambiguous):
		return userErrorf(err, "Several Google accounts are connected (%s). Pass user_google_email to say which one, "+
			"or call start_google_auth to bind this session to one.", strings.Join(ambiguous.Emails, ", "))
	case errors.Is(err, identity.ErrEmailNotAllowed):
		return userErrorf(err, "user_google_email cannot choose the account on this server. Sign in first "+
			"(your MCP client's OAuth login, or start_google_auth), then call again without user_google_email.")
	case errors.Is(err, identity.ErrNotAuthenticated):
		return userErrorf(err, "No Google account is connected to this session yet. Call start_google_auth, "+
			"open the link it returns in a browser and sign in, then call this tool again.")
	case errors.Is(err, google.ErrNoAccount):
		return userErrorf(err, "%s. Call start_google_auth with that user_google_email, sign in, then call this tool again.",
			capitalize(err.Error()))
	case errors.Is(err, google.ErrScopeNotGranted):
		what := "Google does not grant drivemcp the scope this connection was authorized for"
		var lacks *google.ScopeNotGrantedError
		if errors.As(err, &lacks) {
			what = lacks.Error()
		}
		return userErrorf(err, "%s, and drivemcp never uses more of the account's Google access than this connection was authorized for. "+
			"Connect again: have your MCP client run its OAuth login to drivemcp again (sign out or remove the server in the client, "+
			"then add it back) and consent at Google.", what)
	case errors.As(err, &refresh):
		// Its words are written for people and quote nothing of Google's.
		return userErrorf(err, "%s.", capitalize(refresh.Error()))
	case errors.Is(err, google.ErrGrantUnreadable):
		return userErrorf(err, "drivemcp cannot open this account's stored Google grant with its secret key (the server's --secret-key "+
			"or key file was changed), so nothing was done and retrying will not help. The server's operator can restore the key "+
			"(drivemcp doctor names the key id it needs); or connect the account again with start_google_auth (force: true).")
	case errors.Is(err, google.ErrReconsentNeeded):
		return userErrorf(err, "Google no longer accepts drivemcp's access for this account (it was revoked, expired, "+
			"or the password changed). Call start_google_auth with force: true, consent again, then retry.")
	}
	return err
}

// internalError leaves a userError as it is; any other error of a tool is
// logged under the call's request id and replaced by a sentence that says
// what to do and quotes that id. Store and network errors name database
// users, hosts and addresses: the operator's business, not the client's.
func internalError(ctx context.Context, log *slog.Logger, req *mcp.CallToolRequest, tool string, err error) error {
	var ue *userError
	if errors.As(err, &ue) {
		return err
	}
	id := callRequestID(ctx, req)
	if log != nil {
		log.Error("tool call failed", "request_id", id, "tool", tool, "err", err)
	}
	return userErrorf(err, "%s could not finish: a part of drivemcp (its database, or its connection to Google) did not answer. "+
		"Try again in a moment; if it keeps failing, give the server's operator the request id %s.", tool, id)
}

// callRequestID is the id the request log gave the HTTP request carrying
// the call (reqlog puts it in the request's header, which the SDK hands
// to tools); over stdio, a fresh one that only the log line shares.
func callRequestID(ctx context.Context, req *mcp.CallToolRequest) string {
	if id := reqlog.RequestID(ctx); id != "" {
		return id
	}
	if req != nil && req.Extra != nil && req.Extra.Header != nil {
		if id := req.Extra.Header.Get("X-Request-Id"); id != "" {
			return id
		}
	}
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// rateLimited is the sentence of a call Google kept rate-limiting after
// drivemcp waited and tried again on Google's schedule.
const rateLimited = "Google is rate-limiting this account; try again in a minute. drivemcp already waited and retried as Google asks; " +
	"many calls at once, or other apps using the same account, make this more likely."

// explainReason words Drive's documented error reasons (Drive's "Resolve
// errors" guide), each with what to do about it. It is the one place these
// sentences live: explainDrive, explainUpload and explainShare all ask it
// first. ok is false for an error without a reason of its own here.
func explainReason(err error, email string) (_ error, ok bool) {
	var api *drive.APIError
	if !errors.As(err, &api) {
		return nil, false
	}
	says := googleSays(err)
	switch api.Reason {
	case "storageQuotaExceeded":
		return userErrorf(err, "Google Drive is full: %s has used all of its storage, so Google refused to store more (Google: %s). "+
			"Free space (empty the Drive trash, delete or move large files) or buy more storage at one.google.com, then try again.", email, says), true
	case "userRateLimitExceeded", "rateLimitExceeded":
		return userErrorf(err, "%s", rateLimited), true
	case "sharingRateLimitExceeded":
		return userErrorf(err, "Google limits how many shares one account may make in a day, and %s has reached it (Google: %s). "+
			"Try again tomorrow, or share one folder holding the files instead of each file.", email, says), true
	case "dailyLimitExceeded":
		return userErrorf(err, "drivemcp's Google Cloud project has used its daily Drive API quota (Google: %s). "+
			"Try again tomorrow, or ask the server's operator to raise the quota in the Google Cloud console.", says), true
	case "appNotAuthorizedToFile":
		return userErrorf(err, "%s can open this file, but drivemcp may not: with the drive.file scope Google lets drivemcp use only files "+
			"it created or that were opened with it (Google: %s). Call start_google_auth with force: true and scope: \"full\" to let drivemcp "+
			"reach every file, or pick a file drivemcp created.", email, says), true
	case "domainPolicy":
		return userErrorf(err, "The Google Workspace administrator of %s has disabled Drive apps such as drivemcp (Google: %s). "+
			"Ask your administrator to allow drivemcp's Google client, or use an account outside that organisation.", email, says), true
	case "publishOutNotPermitted":
		return userErrorf(err, "The Google Workspace administrator of %s does not allow sharing files by link (Google: %s). "+
			"Use share_drive_files to share it with named people instead, or ask your administrator to allow link sharing.", email, says), true
	case "cannotDownloadAbusiveFile":
		return userErrorf(err, "Google flagged this file as malware or abusive content and lets nobody download it (Google: %s). "+
			"Open it at drive.google.com to review it or to ask Google for a review; drivemcp cannot read it.", says), true
	case "fileNotDownloadable":
		return userErrorf(err, "Google Drive does not let this kind of file be downloaded, only exported, and it has no export drivemcp can read (Google: %s). "+
			"Open it in a browser at drive.google.com.", says), true
	case "exportSizeLimitExceeded":
		return userErrorf(err, "The document is too large for Google to export (Google exports at most 10 MB; Google: %s). "+
			"Open it in a browser at drive.google.com, or split it into smaller documents.", says), true
	case "teamDriveFileLimitExceeded":
		return userErrorf(err, "The shared drive holds as many items as Google allows, so nothing more can be added to it (Google: %s). "+
			"Remove or move files out of it, or upload into My Drive or another shared drive.", says), true
	case "insufficientFilePermissions":
		return userErrorf(err, "%s may see this file or folder but not change it (Google: %s). "+
			"Ask its owner for edit access, or pick a file or folder you can edit.", email, says), true
	}
	if errors.Is(err, drive.ErrRateLimited) { // a 429 without a reason
		return userErrorf(err, "%s", rateLimited), true
	}
	return nil, false
}
