// Package mcpserver is drivemcp's MCP face: the tools, their typed inputs and
// outputs (the schemas come from the Go types), and how a call learns which
// Google account it acts as. Transports are the go-sdk's own.
package mcpserver

import (
	"context"
	"log/slog"
	"net/http"
	"slices"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/drivemcp/drivemcp/internal/authserver"
	"github.com/drivemcp/drivemcp/internal/drive"
	"github.com/drivemcp/drivemcp/internal/google"
	"github.com/drivemcp/drivemcp/internal/httpguard"
	"github.com/drivemcp/drivemcp/internal/identity"
	"github.com/drivemcp/drivemcp/internal/metrics"
	"github.com/drivemcp/drivemcp/internal/netguard"
)

// DirectAuth starts the direct flow and says when a login it started is
// no longer pending; authserver.Server implements it.
type DirectAuth interface {
	StartDirectLogin(ctx context.Context, r authserver.DirectRequest) (authserver.DirectStart, error)
	DirectLoginPending(ctx context.Context, state string) (bool, error)
}

// Deps are what the tools need. All fields are required unless noted.
type Deps struct {
	// Version is reported to clients in the initialize handshake and in
	// fileUrl downloads' User-Agent (default "dev").
	Version  string
	Resolver *identity.Resolver
	Grants   *google.Grants
	Auth     DirectAuth
	// UploadRoots are the local directories upload_file_to_drive may read,
	// each with the accounts that may read it.
	UploadRoots []UploadRoot
	// Stdio marks the stdio transport: one local user, one session, whose
	// binding survives restarts.
	Stdio bool
	// Transport is the base transport for Google calls (nil: default).
	Transport http.RoundTripper
	Logger    *slog.Logger
	// MaxInlineBytes caps create_drive_file's content (default 32 MiB).
	MaxInlineBytes int64
	// Metrics, if set, counts uploads.
	Metrics *metrics.Metrics
	// AllowedDriveScopes are the Google Drive scopes start_google_auth may
	// ask for (default: google.ScopeDriveFile only).
	AllowedDriveScopes []string
	// AllowPrivateURLs lets create_drive_file's fileUrl reach loopback and
	// private addresses (--allow-private-urls). The cloud metadata service
	// and link-local addresses stay refused.
	AllowPrivateURLs bool
	// URLResolver looks up fileUrl's host names (nil: the system resolver);
	// tests give one that never sends a DNS query.
	URLResolver netguard.Resolver
	// MaxDownloadBytes caps a file copied from fileUrl (default 1 GiB).
	MaxDownloadBytes int64
	// MaxUploadsPerAccount bounds one account's concurrent uploads (default
	// 4); UploadQueue more may wait (default 16, negative: none) for at most
	// UploadQueueWait (default 1 min). See limits.go.
	MaxUploadsPerAccount int
	UploadQueue          int
	UploadQueueWait      time.Duration
	// Drain, if set, lets the server finish its calls in flight when it is
	// asked to stop (see Drain.Stop).
	Drain *httpguard.Drain
	// Retry is the retry policy of every Google call (zero: Google's
	// schedule); tests give it a Sleep that does not wait.
	Retry drive.Retry
	// UploadCutoff is the largest upload sent as one multipart request
	// (--upload-cutoff): 0 means drive.DefaultUploadCutoff, negative sends
	// every upload resumable.
	UploadCutoff int64
	// FolderCache remembers folder paths per account for a moment, so
	// uploads into one path resolve it once (nil: a cache of this server's
	// own, drive.DefaultFolderCacheTTL).
	FolderCache *drive.FolderCache
	// ReadOnly registers only the tools that change nothing in Drive (and
	// the sign-in tools), for --read-only.
	ReadOnly bool
	// EnabledTools, if not empty, are the only tools registered (--tools);
	// DisabledTools are never registered (--disable-tools). Names are
	// checked with UnknownTools.
	EnabledTools, DisabledTools []string
	// DownloadRoots are the local directories download_drive_file may write
	// to over stdio (--download-root), each with the accounts that may.
	DownloadRoots []UploadRoot
	// DownloadLinks, over HTTP, mints download_drive_file's links (nil: the
	// tool says this server hands out none).
	DownloadLinks *DownloadLinks
	// SignInWait bounds how long a tool call waits for a sign-in it asked
	// for by URL elicitation (default 10 min, a pending login's life);
	// SignInPoll is how often it asks the store (default 500 ms). elicit.go.
	SignInWait, SignInPoll time.Duration
	// ResourcePollInterval is how often the changes feed of an account with
	// subscribed resources is polled (default DefaultResourcePollInterval).
	// ResourceTicker, if set, makes the poller's ticker instead of
	// time.NewTicker; tests tick it by hand.
	ResourcePollInterval time.Duration
	ResourceTicker       func(every time.Duration) (ticks <-chan time.Time, stop func())
	// UploadSessions, over HTTP, serves create_upload_session's URLs (nil:
	// the tool says this server takes none).
	UploadSessions *UploadSessions
}

// stdioSessionKey is the binding key of the stdio transport: a stdio server
// serves exactly one local user, so the binding outlives the process.
const stdioSessionKey = "stdio:local"

// tools bundles the dependencies every tool handler uses.
type tools struct {
	Deps
	slots *drive.UploadSlots
}

// New builds the MCP server with every drivemcp tool.
func New(d Deps) *mcp.Server {
	s, _ := NewWithFastPath(d)
	return s
}

// NewWithFastPath is New, and the stateless fast path (fastcall.go) over
// the same tools and receiving middleware.
func NewWithFastPath(d Deps) (*mcp.Server, *FastPath) {
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if len(d.AllowedDriveScopes) == 0 {
		d.AllowedDriveScopes = []string{google.ScopeDriveFile}
	}
	if d.Version == "" {
		d.Version = "dev"
	}
	if d.SignInWait <= 0 {
		d.SignInWait = 10 * time.Minute
	}
	if d.SignInPoll <= 0 {
		d.SignInPoll = 500 * time.Millisecond
	}
	if d.MaxInlineBytes == 0 {
		d.MaxInlineBytes = DefaultMaxInlineBytes
	}
	if d.FolderCache == nil {
		d.FolderCache = drive.NewFolderCache(drive.DefaultFolderCacheTTL, drive.DefaultFolderCacheSize)
	}
	t := &tools{Deps: d, slots: drive.NewUploadSlots(d.MaxUploadsPerAccount, d.UploadQueue, d.UploadQueueWait)}
	watch := newResourceWatch(t, d.ResourcePollInterval, d.ResourceTicker)
	var fast *FastPath // made below, before any session can exist
	impl := &mcp.Implementation{Name: "drivemcp", Title: "Google Drive for MCP", Version: d.Version}
	s := mcp.NewServer(impl, &mcp.ServerOptions{
		Instructions: "Upload to and manage the user's Google Drive. Tools find the Google account on their own " +
			"(OAuth login, or start_google_auth in this session); call check_drive_auth to see which account is used.",
		Logger:             sdkLogger(d.Logger),
		SubscribeHandler:   watch.subscribe,
		UnsubscribeHandler: watch.unsubscribe,
		InitializedHandler: func(ctx context.Context, req *mcp.InitializedRequest) { fast.sessionReady(ctx, req) },
	})
	watch.server = s
	// Innermost first: resources/list, then the scope check, then sign-in
	// by elicitation around it (a token's own scopes are not a sign-in to
	// ask for); the drain is outermost. The fast path runs the same chain.
	middleware := []mcp.Middleware{t.listResourcesMiddleware, enforceToolScopes, t.signInByElicitation}
	if d.Drain != nil {
		middleware = append(middleware, d.Drain.Middleware) // outermost: it answers before anything else runs
	}
	for _, m := range middleware {
		s.AddReceivingMiddleware(m) // one at a time: each call wraps what is there
	}
	t.addAuthTools(s)
	t.addUploadTools(s)
	t.addDriveTools(s)
	t.addLifecycleTools(s)
	t.addDownloadTools(s)
	t.addFolderUploadTools(s)
	t.addResources(s)
	t.addUploadSessionTools(s)
	if hidden := d.hiddenTools(); len(hidden) > 0 {
		s.RemoveTools(hidden...)
	}
	fast = newFastPath(t, impl, middleware)
	return s, fast
}

// hiddenTools are the tools the operator chose not to expose: with
// ReadOnly every tool that needs a writing scope (the sign-in tools stay,
// or no one could connect), then the allow and deny lists.
func (d Deps) hiddenTools() []string {
	var out []string
	for _, def := range toolDefinitions {
		name := def.Name
		if (d.ReadOnly && toolNeedsWrite[name] && !signInTools[name]) ||
			(len(d.EnabledTools) > 0 && !slices.Contains(d.EnabledTools, name)) ||
			slices.Contains(d.DisabledTools, name) {
			out = append(out, name)
		}
	}
	return out
}

// ToolHidden says whether the operator hid the named tool (--read-only,
// --tools, --disable-tools), so the routes that serve it can close too.
func (d Deps) ToolHidden(name string) bool {
	return slices.Contains(d.hiddenTools(), name)
}

// UnknownTools returns the names that are not drivemcp tools, so a typo in
// --tools or --disable-tools is refused at start instead of hiding a tool.
func UnknownTools(names []string) []string {
	var out []string
	for _, n := range names {
		if !slices.ContainsFunc(toolDefinitions, func(d *mcp.Tool) bool { return d.Name == n }) {
			out = append(out, n)
		}
	}
	return out
}

// sessionKey is the key of the direct-flow binding for this call's session,
// or "" when the transport has no session (stateless HTTP).
func (t *tools) sessionKey(req mcp.Request) string {
	if t.Stdio {
		return stdioSessionKey
	}
	if ss, ok := req.GetSession().(*mcp.ServerSession); ok && ss != nil {
		if id := ss.ID(); id != "" {
			return "mcp:" + id
		}
	}
	return ""
}

// caller is what the resolver needs to know about a call (a tool call, or
// a resource read or subscription, which act as the same account).
func (t *tools) caller(req mcp.Request, explicitEmail string) identity.Call {
	c := identity.Call{SessionKey: t.sessionKey(req), ExplicitEmail: explicitEmail}
	if extra := req.GetExtra(); extra != nil && extra.TokenInfo != nil {
		c.TokenSubject = extra.TokenInfo.UserID
		c.TokenScopes = extra.TokenInfo.Scopes
	}
	return c
}

// resolve finds the account for a call or returns an error a person can act on.
func (t *tools) resolve(ctx context.Context, req mcp.Request, explicitEmail string) (identity.Identity, error) {
	id, err := t.Resolver.Resolve(ctx, t.caller(req, explicitEmail))
	if err != nil {
		return id, t.explain(err)
	}
	return id, nil
}

// httpClient is an http.Client authorized as the identity: an OAuth
// client's calls carry Google tokens limited to its own token's scopes, so
// a drive.file client cannot reach what the account granted another client.
func (t *tools) httpClient(ctx context.Context, id identity.Identity) *http.Client {
	var c *http.Client
	if id.Method == identity.MethodOAuth {
		c = t.Grants.LimitedHTTPClient(ctx, id.Email, id.Scopes, t.Transport)
	} else {
		c = t.Grants.HTTPClient(ctx, id.Email, t.Transport)
	}
	c.Timeout = 0 // uploads stream for as long as they need; per-phase timeouts live in the transport
	return c
}
