package mcpserver

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/drivemcp/drivemcp/internal/authserver"
	"github.com/drivemcp/drivemcp/internal/google"
	"github.com/drivemcp/drivemcp/internal/identity"
)

// Sign-in inside the conversation (MCP URL-mode elicitation, revision
// 2025-11-25 and later). When a tool call fails because no account is
// connected, Google refused the stored grant (invalid_grant), the Drive box
// was left unticked, or the grant is read-only and the tool writes, a
// client that declared elicitation.url is sent drivemcp's consent link for
// this session; once the person has signed in the same call runs again,
// so the model never has to. Other clients get the tool's sentence as
// before. See docs/auth.md, "Sign-in by elicitation".

// signInNeed is what a tool call lacks, as a direct login to start.
type signInNeed struct {
	why string // the sentence the person reads
	// req starts the login: SessionKey binds this session when it is one
	// the direct flow binds ("" for an OAuth token's account, which is
	// only re-consented: its token already names it).
	req authserver.DirectRequest
}

// elicitsURL reports whether the calling client declared URL-mode
// elicitation. The capabilities are the request's (its _meta at 2026-07-28,
// where a stateless session has no initialize; the session's otherwise).
func elicitsURL(caps *mcp.ClientCapabilities) bool {
	return caps != nil && caps.Elicitation != nil && caps.Elicitation.URL != nil
}

// signInByElicitation is the receiving middleware that asks for a sign-in
// and runs the tool call again once it is done.
func (t *tools) signInByElicitation(next mcp.MethodHandler) mcp.MethodHandler {
	return func(ctx context.Context, method string, r mcp.Request) (mcp.Result, error) {
		req, ok := r.(*mcp.CallToolRequest)
		if method != "tools/call" || !ok || req.Params == nil || signInTools[req.Params.Name] || req.Params.Name == checkDriveAuthTool.Name {
			return next(ctx, method, r)
		}
		ss, _ := r.GetSession().(*mcp.ServerSession)
		if ss == nil || !elicitsURL(req.ClientCapabilities()) {
			return next(ctx, method, r)
		}
		if state, accepted, ok := resumedSignIn(req); ok {
			// The client came back from the link it was given (2026-07-28's
			// multi round-trip): wait for the callback, then run the tool.
			// A person who declined is not asked again: the tool's own
			// answer says what to do, where asking again would loop until
			// the client gives up.
			if !accepted || !t.waitSignIn(ctx, ss, state, "") {
				return next(ctx, method, r)
			}
			return t.settle(ctx, method, r, req, next)
		}
		rev := req.ProtocolVersion()
		if need, ok := t.stepUpNeed(ctx, req); ok {
			// Signed in or not, the tool runs: if the person said no, its
			// own refusal says what to do.
			if _, input := t.elicitSignIn(ctx, ss, rev, need); input != nil {
				return input, nil
			}
		}
		res, err := next(ctx, method, r)
		need, ok := t.signInNeedOf(ctx, req, res)
		if !ok {
			return res, err
		}
		signedIn, input := t.elicitSignIn(ctx, ss, rev, need)
		if input != nil {
			return input, nil
		}
		if !signedIn {
			return res, err
		}
		return t.settle(ctx, method, r, req, next)
	}
}

// settle runs the tool after the person signed in. The callback takes the
// login before it stores the grant and binds the session, so the first run
// may come a moment early; it is run again a bounded number of times.
func (t *tools) settle(ctx context.Context, method string, r mcp.Request, req *mcp.CallToolRequest, next mcp.MethodHandler) (mcp.Result, error) {
	for tries := 1; ; tries++ {
		res, err := next(ctx, method, r)
		if _, again := t.signInNeedOf(ctx, req, res); !again || tries >= settleTries || !t.pause(ctx) {
			return res, err
		}
	}
}

// signInStatePrefix marks a RequestState of ours: the pending login's state,
// which the client already holds in the link's state parameter.
const signInStatePrefix = "drivemcp-signin:"

// resumedSignIn reports a call retried after the person was shown the
// link, and whether they accepted it.
func resumedSignIn(req *mcp.CallToolRequest) (state string, accepted, ok bool) {
	state, ok = strings.CutPrefix(req.Params.RequestState, signInStatePrefix)
	if !ok || state == "" {
		return "", false, false
	}
	res, _ := req.Params.InputResponses[signInInput].(*mcp.ElicitResult)
	return state, res != nil && res.Action == "accept", true
}

// signInInput is the id of the sign-in among a call's input requests.
const signInInput = "google_sign_in"

// settleTries bounds the runs of a tool after the person signed in.
const settleTries = 10

// pause waits one SignInPoll; false if the call was cancelled first.
func (t *tools) pause(ctx context.Context) bool {
	tm := time.NewTimer(t.SignInPoll)
	defer tm.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-tm.C:
		return true
	}
}

// signInNeedOf reads a tool's refusal: which sign-in, if any, would cure it.
func (t *tools) signInNeedOf(ctx context.Context, req *mcp.CallToolRequest, res mcp.Result) (signInNeed, bool) {
	cr, ok := res.(*mcp.CallToolResult)
	if !ok || cr == nil || !cr.IsError || cr.GetError() == nil {
		return signInNeed{}, false
	}
	err := cr.GetError()
	call := t.caller(req, argEmail(req))
	switch {
	case errors.Is(err, identity.ErrNotAuthenticated):
		if call.SessionKey == "" {
			return signInNeed{}, false // nothing the login could bind
		}
		return signInNeed{why: "Sign in to Google to connect your Google Drive to this conversation; the request you made continues once you have.",
			req: authserver.DirectRequest{SessionKey: call.SessionKey}}, true
	case errors.Is(err, google.ErrReconsentNeeded):
		id, rerr := t.Resolver.Resolve(ctx, call)
		if rerr != nil {
			return signInNeed{}, false
		}
		return signInNeed{why: fmt.Sprintf("Google no longer accepts drivemcp's access to %s (it was revoked or expired). "+
			"Sign in and consent again; the request you made continues once you have.", id.Email),
			req: t.loginFor(call, id, nil)}, true
	case errors.Is(err, errNoDriveGrant):
		id, rerr := t.Resolver.Resolve(ctx, call)
		if rerr != nil {
			return signInNeed{}, false
		}
		return signInNeed{why: fmt.Sprintf("%s is connected without access to Google Drive (the Google Drive box was left unticked). "+
			"Sign in again and leave the box ticked; the request you made continues once you have.", id.Email),
			req: t.loginFor(call, id, nil)}, true
	}
	return signInNeed{}, false
}

// stepUpNeed reports a writing tool called with an account whose grant is
// read-only (drive.readonly alone) while the server may ask for more: the
// person is asked to grant the server's Drive scope before the tool runs,
// as Google would refuse the write. OAuth tokens step up through their own
// client's login (the 403 challenge), never here.
func (t *tools) stepUpNeed(ctx context.Context, req *mcp.CallToolRequest) (signInNeed, bool) {
	if !toolNeedsWrite[req.Params.Name] || (req.Extra != nil && req.Extra.TokenInfo != nil) {
		return signInNeed{}, false
	}
	call := t.caller(req, argEmail(req))
	id, err := t.Resolver.Resolve(ctx, call)
	if err != nil {
		return signInNeed{}, false
	}
	acct, err := t.Grants.Account(ctx, id.Email)
	if err != nil || acct.NeedsReconsent || len(google.DriveScopesOf(acct.Scopes)) == 0 ||
		slices.ContainsFunc(acct.Scopes, isWriteGrant) {
		return signInNeed{}, false // nothing to step up from, or nothing missing
	}
	write := slices.DeleteFunc(slices.Clone(t.AllowedDriveScopes), func(s string) bool { return !isWriteGrant(s) })
	if len(write) == 0 {
		return signInNeed{}, false // a read-only server has nothing more to ask for
	}
	return signInNeed{why: fmt.Sprintf("%s is connected to Google Drive for reading only, and %s changes Drive. "+
		"Sign in and allow drivemcp to change files; the request you made continues once you have.", id.Email, req.Params.Name),
		req: t.loginFor(call, id, write[len(write)-1:])}, true
}

// isWriteGrant reports a Google Drive scope that lets drivemcp write.
func isWriteGrant(scope string) bool {
	return scope == google.ScopeDriveFile || scope == google.ScopeDrive
}

// loginFor is the direct login that renews id's grant: for the account it
// acts as (login_hint, consent asked again so Google issues a new refresh
// token), binding this session unless a token names the account.
func (t *tools) loginFor(call identity.Call, id identity.Identity, scopes []string) authserver.DirectRequest {
	r := authserver.DirectRequest{LoginHint: id.Email, ForceConsent: true, DriveScopes: scopes}
	if id.Method != identity.MethodOAuth {
		r.SessionKey = call.SessionKey
	}
	return r
}

// argEmail is the call's user_google_email, read as the tool reads it.
func argEmail(req *mcp.CallToolRequest) string {
	var a AccountArg
	if req.Params != nil && len(req.Params.Arguments) > 0 {
		_ = json.Unmarshal(req.Params.Arguments, &a) // the tool reports bad arguments itself
	}
	return a.UserGoogleEmail
}

// elicitSignIn starts the login, shows its link to the person through the
// client, and waits (bounded by SignInWait and the call's context) until
// Google's callback has taken it; signedIn says it was. Otherwise (the
// person declined, the client could not be asked, the wait ran out) the
// tool's own answer says what to do. On revisions where a server may not
// send requests during a call (2026-07-28 and later), input is the
// input-required result carrying the link: the client shows it and calls
// again (resumedSignIn).
func (t *tools) elicitSignIn(ctx context.Context, ss *mcp.ServerSession, rev string, need signInNeed) (signedIn bool, input *mcp.CallToolResult) {
	start, err := t.Auth.StartDirectLogin(ctx, need.req)
	if err != nil {
		t.Logger.Warn("could not start the sign-in to elicit", "err", err)
		return false, nil
	}
	params := &mcp.ElicitParams{Mode: "url", Message: need.why, URL: start.URL, ElicitationID: elicitationID()}
	if revisionAtLeast(rev, sessionlessRevision) {
		return false, &mcp.CallToolResult{InputRequests: mcp.InputRequestMap{signInInput: params}, RequestState: signInStatePrefix + start.State}
	}
	res, err := ss.Elicit(ctx, params)
	if err != nil || res.Action != "accept" {
		return false, nil
	}
	return t.waitSignIn(ctx, ss, start.State, params.ElicitationID), nil
}

// waitSignIn waits until the login named state is no longer pending: taken
// by the callback, or expired (then the tool's own answer says so).
func (t *tools) waitSignIn(ctx context.Context, ss *mcp.ServerSession, state, elicitation string) bool {
	ctx, cancel := context.WithTimeout(ctx, t.SignInWait)
	defer cancel()
	tick := time.NewTicker(t.SignInPoll)
	defer tick.Stop()
	for {
		pending, err := t.Auth.DirectLoginPending(ctx, state)
		if err == nil && !pending {
			if elicitation != "" {
				_ = ss.NotifyElicitationComplete(ctx, &mcp.ElicitationCompleteParams{ElicitationID: elicitation})
			}
			return true
		}
		select {
		case <-ctx.Done():
			return false
		case <-tick.C:
		}
	}
}

func elicitationID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
