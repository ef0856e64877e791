package mcpserver

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/drivemcp/drivemcp/internal/authserver"
	"github.com/drivemcp/drivemcp/internal/google"
	"github.com/drivemcp/drivemcp/internal/identity"
)

// AccountArg is the optional account argument every tool takes, kept for
// compatibility with the older server. It can only choose the account in
// trusted local mode and can never reach another user's credentials.
type AccountArg struct {
	UserGoogleEmail string `json:"user_google_email,omitempty" jsonschema:"optional: the Google account to act as; only needed in local mode when several accounts are connected. Never overrides the signed-in account."`
}

type startAuthIn struct {
	AccountArg
	ServiceName string `json:"service_name,omitempty" jsonschema:"optional, kept for compatibility; drivemcp always connects Google Drive"`
	Force       bool   `json:"force,omitempty" jsonschema:"start a new Google consent even if this session is already connected (to switch accounts or renew access); default false: an already connected session is left as it is"`
	Scope       string `json:"scope,omitempty" enum:"file,readonly,full" jsonschema:"the Google Drive access to ask for: file (files drivemcp creates or you open with it), readonly (read all files) or full; default: the server's setting. Google adds it to what was granted before."`
}

type startAuthOut struct {
	AuthURL          string `json:"auth_url,omitempty" jsonschema:"the Google consent URL to open in a browser; valid for 10 minutes; absent when the session is already connected"`
	AlreadyConnected string `json:"already_connected_as,omitempty" jsonschema:"the account this session already acts as; absent when a consent URL is returned"`
	Method           string `json:"method,omitempty" enum:"oauth,session,local" jsonschema:"how the connected account was authenticated: oauth, session or local; absent when a consent URL is returned"`
	ExpiresInSeconds int    `json:"expires_in_seconds,omitempty" jsonschema:"seconds until auth_url expires; absent with auth_url"`
}

type checkAuthIn struct {
	AccountArg
}

type checkAuthOut struct {
	Authenticated  bool      `json:"authenticated" jsonschema:"whether the Drive tools have a Google account to act as"`
	Email          string    `json:"email,omitempty" jsonschema:"the Google account the Drive tools act as; absent when not authenticated"`
	Method         string    `json:"method,omitempty" enum:"oauth,session,local" jsonschema:"oauth (bearer token), session (start_google_auth) or local (trusted local mode); absent when not authenticated"`
	Scopes         []string  `json:"scopes,omitempty" jsonschema:"Google scopes the grant covers; absent when not authenticated"`
	TokenExpiry    time.Time `json:"token_expiry,omitzero" jsonschema:"when the current Google access token expires (RFC 3339); drivemcp refreshes it on its own; absent when there is none"`
	NeedsReconsent bool      `json:"needs_reconsent,omitempty" jsonschema:"Google no longer accepts the stored grant: call start_google_auth with force true; absent (false) otherwise"`
	// RefreshTokenAgeDays and RefreshTokenWarning let a client see a
	// Testing-mode app's 7-day refresh token running out before it does.
	RefreshTokenAgeDays float64 `json:"refresh_token_age_days,omitempty" jsonschema:"days since Google issued the stored refresh token (apps in Google's Testing publishing status lose it after 7); absent when unknown"`
	RefreshTokenWarning string  `json:"refresh_token_warning,omitempty" jsonschema:"set when the refresh token nears the 7-day limit of apps in Testing status: what will happen and what to do; absent otherwise"`
	Message             string  `json:"message" jsonschema:"the same, in a sentence for people"`
}

type signOutIn struct {
	AccountArg
	Revoke bool `json:"revoke,omitempty" jsonschema:"also revoke drivemcp's access at Google and delete the stored grant, for every client; needs a connection authorized to write (drive.file or drive); default false: only this session forgets the account"`
}

type signOutOut struct {
	Email   string `json:"email,omitempty" jsonschema:"the account this session was bound to; absent when it was bound to none"`
	Unbound bool   `json:"unbound" jsonschema:"whether this session forgot an account"`
	Revoked bool   `json:"revoked" jsonschema:"whether drivemcp's access was revoked at Google and the grant deleted"`
	Message string `json:"message" jsonschema:"what happened, in a sentence for people"`
}

func (t *tools) addAuthTools(s *mcp.Server) {
	addTool(s, t.Logger, startGoogleAuthTool, t.startGoogleAuth)
	addTool(s, t.Logger, checkDriveAuthTool, t.checkDriveAuth)
	addTool(s, t.Logger, signOutTool, t.signOut)
}

func (t *tools) startGoogleAuth(ctx context.Context, req *mcp.CallToolRequest, in startAuthIn) (*mcp.CallToolResult, startAuthOut, error) {
	call := t.caller(req, "")
	var driveScopes []string
	if in.Scope != "" {
		sc, err := t.driveScopeArg(in.Scope)
		if err != nil {
			return nil, startAuthOut{}, err
		}
		driveScopes = []string{sc}
		if !t.grantLacks(ctx, call, sc) {
			in.Scope = "" // already granted: nothing new to ask Google for
		}
	}
	if call.TokenSubject != "" && !in.Force && in.Scope == "" {
		msg := fmt.Sprintf("This connection is already signed in to Google as %s through your MCP client's OAuth login; the Drive tools use it. "+
			"Nothing to do. (To add Drive permissions, call start_google_auth with force: true.)", call.TokenSubject)
		return text(msg), startAuthOut{AlreadyConnected: call.TokenSubject, Method: string(identity.MethodOAuth)}, nil
	}
	if !in.Force && in.Scope == "" {
		id, err := t.Resolver.Resolve(ctx, identity.Call{SessionKey: call.SessionKey})
		if err == nil && id.Method == identity.MethodSession && (in.UserGoogleEmail == "" || google.NormalizeEmail(in.UserGoogleEmail) == id.Email) &&
			!t.grantLacksDrive(ctx, id.Email) {
			msg := fmt.Sprintf("This session is already connected to Google as %s; the Drive tools use it. "+
				"To connect another account, call start_google_auth with force: true.", id.Email)
			return text(msg), startAuthOut{AlreadyConnected: id.Email, Method: string(id.Method)}, nil
		}
	}
	if call.TokenSubject != "" && in.UserGoogleEmail != "" && google.NormalizeEmail(in.UserGoogleEmail) != google.NormalizeEmail(call.TokenSubject) {
		return nil, startAuthOut{}, t.explain(&identity.MismatchError{Asked: in.UserGoogleEmail, Authenticated: call.TokenSubject, Method: identity.MethodOAuth})
	}
	loginHint := in.UserGoogleEmail
	if loginHint == "" {
		loginHint = call.TokenSubject
	}
	start, err := t.Auth.StartDirectLogin(ctx, authserver.DirectRequest{
		SessionKey:   call.SessionKey,
		LoginHint:    loginHint,
		ForceConsent: in.Force,
		DriveScopes:  driveScopes,
	})
	if errors.Is(err, authserver.ErrCallbackPort) {
		return nil, startAuthOut{}, userErrorf(err, "drivemcp could not open the port Google sends the browser back to (%v), so no sign-in was started. "+
			"Free that port or start drivemcp with another --callback-addr (and list it in the Google console), then call start_google_auth again.", err)
	}
	if err != nil {
		return nil, startAuthOut{}, err // the store's trouble: internalError words it
	}
	authURL := start.URL
	var b strings.Builder
	fmt.Fprintf(&b, "Open this link in a browser and sign in to Google to connect Google Drive:\n\n%s\n\n", authURL)
	b.WriteString("The link is valid for 10 minutes. ")
	if call.SessionKey != "" {
		b.WriteString("When the page says \"Google Drive connected\", come back: every Drive tool in this session will act as that account, with no email needed.")
	} else {
		b.WriteString("This connection has no MCP session to bind, so after signing in pass user_google_email to the tools (local mode) or use OAuth.")
	}
	if t.Stdio {
		// The callback that completes the sign-in is served by this process
		// (or another drivemcp on the same database), so a client that runs
		// one command and exits takes the link's other end with it.
		b.WriteString("\n\nKeep this client open until you have signed in: the link stops working when this drivemcp process exits. " +
			"From a client that exits at once (such as the MCP Inspector CLI), run drivemcp login in a terminal instead; it signs in the same account for every client on this machine.")
		if start.Elsewhere {
			fmt.Fprintf(&b, "\n\nAnother program holds %s, where Google sends the browser back. If it is another drivemcp on this machine with the same database "+
				"(another assistant's), it completes this sign-in and this session sees it; otherwise close that program, or run drivemcp login once it is gone.", start.RedirectURI)
		}
	}
	return text(b.String()), startAuthOut{AuthURL: authURL, ExpiresInSeconds: 600}, nil
}

// driveScopeArg reads start_google_auth's scope argument.
func (t *tools) driveScopeArg(arg string) (string, error) {
	name := strings.TrimPrefix(strings.ToLower(strings.TrimSpace(arg)), "drive.")
	var sc string
	switch name {
	case "file", "readonly":
		sc = google.DriveScope(name)
	case "full", "drive":
		sc = google.ScopeDrive
	default:
		return "", userErrorf(nil, "scope %q is not one of file, readonly, full. Call start_google_auth again with one of them.", arg)
	}
	if !slices.Contains(t.AllowedDriveScopes, sc) {
		var allowed []string
		for _, a := range t.AllowedDriveScopes {
			allowed = append(allowed, google.ShortScope(a))
		}
		return "", userErrorf(nil, "This server may only ask Google for %s access (its --drive-scope setting), not %s. Ask its operator for --drive-scope full to allow more.",
			strings.Join(allowed, " or "), google.ShortScope(sc))
	}
	return sc, nil
}

// grantLacks reports whether the account this call acts as (if any) has not
// yet granted scope.
func (t *tools) grantLacks(ctx context.Context, call identity.Call, scope string) bool {
	id, err := t.Resolver.Resolve(ctx, call)
	if err != nil {
		return true
	}
	acct, err := t.Grants.Account(ctx, id.Email)
	return err != nil || !slices.Contains(acct.Scopes, scope)
}

// grantLacksDrive reports whether email's stored grant holds no Drive scope
// (the Drive box was unticked at Google), so connecting again is not a no-op.
func (t *tools) grantLacksDrive(ctx context.Context, email string) bool {
	acct, err := t.Grants.Account(ctx, email)
	return err == nil && len(google.DriveScopesOf(acct.Scopes)) == 0
}

func (t *tools) checkDriveAuth(ctx context.Context, req *mcp.CallToolRequest, in checkAuthIn) (*mcp.CallToolResult, checkAuthOut, error) {
	id, err := t.resolve(ctx, req, in.UserGoogleEmail)
	if err != nil {
		if errors.Is(err, identity.ErrNotAuthenticated) {
			out := checkAuthOut{Message: err.Error()}
			return text(out.Message), out, nil
		}
		return nil, checkAuthOut{}, err
	}
	acct, err := t.Grants.Account(ctx, id.Email)
	if err == nil {
		err = t.Grants.Readable(acct)
	}
	if err != nil {
		return nil, checkAuthOut{}, t.explain(err)
	}
	out := checkAuthOut{
		Authenticated:  !acct.NeedsReconsent,
		Email:          acct.Email,
		Method:         string(id.Method),
		Scopes:         acct.Scopes,
		TokenExpiry:    t.Grants.TokenExpiry(acct).UTC(),
		NeedsReconsent: acct.NeedsReconsent,
	}
	if id.Method == identity.MethodOAuth {
		// What this connection's Google calls may use, not the account's
		// whole grant: other connections may have been granted more.
		out.Scopes = id.Scopes
	}
	if age, ok := t.Grants.RefreshTokenAge(acct); ok {
		out.RefreshTokenAgeDays = math.Round(age.Hours()/24*10) / 10
		out.RefreshTokenWarning = google.TestingExpiryWarning(age)
	}
	if acct.NeedsReconsent {
		out.Message = fmt.Sprintf("This session maps to %s, but Google no longer accepts its grant: call start_google_auth with force: true and consent again.", acct.Email) +
			google.TestingExpiredHint(acct, time.Now())
	} else if len(google.DriveScopesOf(out.Scopes)) == 0 {
		out.Message = fmt.Sprintf("Granted scopes: %s. %s", strings.Join(out.Scopes, " "), noDriveGrant(acct.Email))
	} else {
		out.Message = fmt.Sprintf("Acting as %s (authenticated by %s) with scopes: %s.", acct.Email, describeMethod(id.Method), strings.Join(out.Scopes, " "))
		if out.RefreshTokenWarning != "" {
			out.Message += " " + out.RefreshTokenWarning
		}
	}
	return text(out.Message), out, nil
}

func describeMethod(m identity.Method) string {
	switch m {
	case identity.MethodOAuth:
		return "your MCP client's OAuth login"
	case identity.MethodSession:
		return "start_google_auth in this session"
	default:
		return "local mode"
	}
}

func (t *tools) signOut(ctx context.Context, req *mcp.CallToolRequest, in signOutIn) (*mcp.CallToolResult, signOutOut, error) {
	// Revoking ends drivemcp's access to the account for every client, so
	// it needs a token that may change things, like the writing tools. It
	// is refused here, after the arguments were decoded exactly as the tool
	// reads them, rather than answered with a step-up: asking for broader
	// access in order to give access up would be perverse.
	if in.Revoke && !tokenMayWrite(req) {
		return nil, signOutOut{}, userErrorf(nil, "This connection was authorized for %s only, which cannot revoke drivemcp's access to the account "+
			"(that would sign out every client), so nothing was done. Call sign_out with revoke: false to sign this connection out, "+
			"remove drivemcp at https://myaccount.google.com/permissions, or revoke from a client authorized with drive.file.",
			strings.Join(req.Extra.TokenInfo.Scopes, " "))
	}
	id, err := t.resolve(ctx, req, in.UserGoogleEmail)
	if err != nil {
		return nil, signOutOut{}, err
	}
	out := signOutOut{Email: id.Email}
	if key := t.sessionKey(req); key != "" {
		if err := t.Resolver.Unbind(ctx, key); err != nil {
			return nil, signOutOut{}, err // the store's trouble: internalError words it
		}
		out.Unbound = id.Method == identity.MethodSession
	}
	if in.Revoke {
		if err := t.Grants.Revoke(ctx, id.Email); errors.Is(err, google.ErrRevokeRefused) {
			rid := callRequestID(ctx, req)
			t.Logger.Warn("revocation at Google failed", "request_id", rid, "err", err)
			return nil, out, userErrorf(err, "The stored grant of %s was deleted, but Google did not confirm the revocation (request id %s). "+
				"You can also remove drivemcp at https://myaccount.google.com/permissions.", id.Email, rid)
		} else if err != nil && !errors.Is(err, google.ErrNoAccount) {
			return nil, out, err // the store's trouble: internalError words it
		}
		out.Revoked = true
		out.Message = fmt.Sprintf("Signed out: drivemcp's access to %s was revoked at Google and its stored grant deleted.", id.Email)
	} else {
		out.Message = fmt.Sprintf("This session no longer acts as %s. The grant stays stored for other sessions; pass revoke: true to delete it.", id.Email)
		if id.Method == identity.MethodOAuth {
			out.Message = fmt.Sprintf("This connection is signed in as %s by your MCP client's OAuth token, which stays valid until it expires or your client logs out. Pass revoke: true to end drivemcp's access to the account altogether.", id.Email)
		}
	}
	return text(out.Message), out, nil
}

func text(s string) *mcp.CallToolResult {
	return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: s}}}
}

func ptr[T any](v T) *T { return &v }
