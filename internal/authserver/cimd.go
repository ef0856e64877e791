package authserver

import (
	"context"
	"net/http"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/drivemcp/drivemcp/internal/netguard"
	"github.com/drivemcp/drivemcp/internal/store"
	"github.com/drivemcp/drivemcp/internal/ttlcache"
)

// Limits on Client ID Metadata Documents
// (draft-ietf-oauth-client-id-metadata-document, MCP authorization 2025-11-25).
const (
	maxMetadataDocumentBytes = 64 << 10
	maxClientIDURLLength     = 2048
	defaultMetadataTTL       = 5 * time.Minute
	// A document's own Cache-Control max-age is honoured within these bounds:
	// the floor keeps a client from making us fetch on every request, the
	// ceiling lets a changed document take effect within a day.
	minMetadataTTL = time.Minute
	maxMetadataTTL = 24 * time.Hour
	// metadataFailureTTL is how long a failed fetch is remembered. The draft
	// says error responses must not be cached; this is a throttle rather than
	// a cache (a client can fix its document and retry within seconds), so a
	// bad client_id cannot be used to make us hammer a host.
	metadataFailureTTL = 30 * time.Second
	// metadataFetchTimeout bounds one fetch even if the HTTP client has no
	// timeout of its own.
	metadataFetchTimeout = 10 * time.Second
	// maxCachedMetadataDocuments bounds memory: client_ids are chosen by
	// whoever sends an authorization request.
	maxCachedMetadataDocuments = 1000
)

// CIMDError says why a client's metadata document cannot be used, in a
// sentence fit for the error page.
type CIMDError struct {
	Reason string
	Err    error // the underlying cause, if any (e.g. netguard.ErrBlockedAddress)
}

func (e *CIMDError) Error() string { return e.Reason }
func (e *CIMDError) Unwrap() error { return e.Err }

// ClientMetadataDocuments fetches and caches Client ID Metadata Documents:
// clients whose client_id is an https URL that serves their metadata.
type ClientMetadataDocuments struct {
	// AllowHTTP also accepts http client_ids on loopback hosts (127.0.0.1,
	// [::1], localhost), for tests and local development only. The HTTP
	// client must then allow the http scheme and loopback addresses too.
	AllowHTTP bool

	client *http.Client
	ttl    time.Duration
	now    func() time.Time

	fetches singleflight.Group
	// cache keeps documents for their own lifetime and failures for
	// metadataFailureTTL: a failure is a value here, not an error.
	cache *ttlcache.Cache[string, cachedMetadata]
}

type cachedMetadata struct {
	client store.Client
	err    error
}

// NewClientMetadataDocuments returns a fetcher that uses client, which
// should come from netguard.NewClient (nil: a netguard client with the
// strictest policy). Redirects are never followed, whatever client does. A
// document is kept for ttl (default 5 minutes) unless its Cache-Control
// max-age says otherwise.
func NewClientMetadataDocuments(client *http.Client, ttl time.Duration) *ClientMetadataDocuments {
	return newClientMetadataDocuments(client, ttl, time.Now)
}

func newClientMetadataDocuments(client *http.Client, ttl time.Duration, now func() time.Time) *ClientMetadataDocuments {
	if client == nil {
		client = netguard.NewClient(netguard.Policy{}, netguard.Options{})
	}
	noRedirects := *client
	noRedirects.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	if ttl <= 0 {
		ttl = defaultMetadataTTL
	}
	return &ClientMetadataDocuments{
		client: &noRedirects,
		ttl:    ttl,
		now:    now,
		cache:  ttlcache.New[string, cachedMetadata](ttl, maxCachedMetadataDocuments, ttlcache.Clock(now)),
	}
}

// IsClientMetadataURL reports whether clientID is a Client Identifier URL:
// https, with a host and a path beyond "/", without userinfo, fragment or
// dot segments.
func IsClientMetadataURL(clientID string) bool {
	return checkClientIDURL(clientID, false) == nil
}

// IsClientMetadataURL is the package function, plus loopback http URLs when
// AllowHTTP is set.
func (c *ClientMetadataDocuments) IsClientMetadataURL(clientID string) bool {
	return checkClientIDURL(clientID, c.AllowHTTP) == nil
}

// Fetch returns the client described by the document at clientID, from the
// cache or fetched now. Concurrent fetches of one URL share one request.
// Every failure is a *CIMDError, except the caller's own context ending.
func (c *ClientMetadataDocuments) Fetch(ctx context.Context, clientID string) (store.Client, error) {
	if err := checkClientIDURL(clientID, c.AllowHTTP); err != nil {
		return store.Client{}, err
	}
	// The fetch outlives any one caller's cancellation, so that a caller
	// giving up neither fails the others nor gets its failure remembered.
	fetchCtx := context.WithoutCancel(ctx)
	result := c.fetches.DoChan(clientID, func() (any, error) {
		m, _ := c.cache.LoadFor(clientID, func() (cachedMetadata, time.Duration, error) {
			ctx, cancel := context.WithTimeout(fetchCtx, metadataFetchTimeout)
			defer cancel()
			client, lifetime, err := c.fetch(ctx, clientID)
			if err != nil {
				lifetime = metadataFailureTTL
			}
			return cachedMetadata{client: client, err: err}, lifetime, nil
		})
		return m.client, m.err
	})
	select {
	case <-ctx.Done():
		return store.Client{}, ctx.Err()
	case r := <-result:
		return cloneClient(r.Val.(store.Client)), r.Err
	}
}
