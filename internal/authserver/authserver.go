// Package authserver is drivemcp's side of every login: it starts trips to
// Google's consent page, owns the one Google callback both flows share, and
// (for MCP clients) acts as an OAuth 2.1 authorization server in front of
// Google.
package authserver

import (
	"crypto/rand"
	"encoding/base64"
	"log/slog"
	"time"

	"github.com/drivemcp/drivemcp/internal/google"
	"github.com/drivemcp/drivemcp/internal/identity"
	"github.com/drivemcp/drivemcp/internal/store"
	"github.com/drivemcp/drivemcp/internal/web"
)

// Lifetimes of the records a login leaves behind.
const (
	// transactionTTL bounds how long a user may take on Google's pages.
	transactionTTL = 10 * time.Minute
	// bindingTTL is how long a direct-flow login keeps an MCP session bound.
	bindingTTL = 30 * 24 * time.Hour
)

// Server holds what the login endpoints share.
type Server struct {
	store      store.Store
	grants     *google.Grants
	resolver   *identity.Resolver
	pages      *web.Pages
	log        *slog.Logger
	driveScope string // the Google Drive scope every consent asks for
	now        func() time.Time
}

// Options configure a Server.
type Options struct {
	Store      store.Store
	Grants     *google.Grants
	Resolver   *identity.Resolver
	Pages      *web.Pages
	Logger     *slog.Logger
	DriveScope string // a Google scope URL, e.g. google.ScopeDriveFile
}

// New builds the login server.
func New(o Options) *Server {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Pages == nil {
		o.Pages = web.NewPages()
	}
	if o.DriveScope == "" {
		o.DriveScope = google.ScopeDriveFile
	}
	return &Server{
		store: o.Store, grants: o.Grants, resolver: o.Resolver, pages: o.Pages,
		log: o.Logger, driveScope: o.DriveScope, now: time.Now,
	}
}

// randomToken returns n random bytes, base64url-encoded: states, codes and
// references that cannot be guessed.
func randomToken(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	return base64.RawURLEncoding.EncodeToString(b)
}
