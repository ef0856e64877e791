package authserver

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/drivemcp/drivemcp/internal/netguard"
	"github.com/drivemcp/drivemcp/internal/store"
)

// fetch gets and validates one document, and says how long to keep it.
func (c *ClientMetadataDocuments) fetch(ctx context.Context, clientID string) (store.Client, time.Duration, error) {
	doc := "the client's metadata document at " + clientID
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, clientID, nil)
	if err != nil {
		return store.Client{}, 0, &CIMDError{Reason: doc + " cannot be requested", Err: err}
	}
	req.Header.Set("Accept", "application/json")
	resp, err := c.client.Do(req)
	if err != nil {
		return store.Client{}, 0, fetchFailure(clientID, err)
	}
	defer resp.Body.Close()

	switch {
	case resp.StatusCode >= 300 && resp.StatusCode < 400:
		return store.Client{}, 0, &CIMDError{Reason: fmt.Sprintf("%s redirects to %s; a metadata document must be served at its own URL, without redirects",
			doc, quoteForReason(resp.Header.Get("Location")))}
	case resp.StatusCode != http.StatusOK:
		return store.Client{}, 0, &CIMDError{Reason: fmt.Sprintf("%s could not be fetched: the server answered %d %s",
			doc, resp.StatusCode, http.StatusText(resp.StatusCode))}
	}
	if reason := jsonContentTypeProblem(resp.Header.Get("Content-Type")); reason != "" {
		return store.Client{}, 0, &CIMDError{Reason: doc + " " + reason}
	}
	body, err := io.ReadAll(netguard.LimitBody(resp.Body, maxMetadataDocumentBytes))
	if errors.Is(err, netguard.ErrTooLarge) {
		return store.Client{}, 0, &CIMDError{Reason: fmt.Sprintf("%s is larger than %d KiB", doc, maxMetadataDocumentBytes>>10), Err: err}
	}
	if err != nil {
		return store.Client{}, 0, &CIMDError{Reason: doc + " could not be read completely", Err: err}
	}
	client, err := parseClientMetadata(clientID, body)
	if err != nil {
		return store.Client{}, 0, err
	}
	client.CreatedAt = c.now()
	return client, metadataLifetime(resp.Header, c.ttl), nil
}

// fetchFailure explains an error from the HTTP client.
func fetchFailure(clientID string, err error) *CIMDError {
	var ne net.Error
	var dns *net.DNSError
	switch {
	case errors.Is(err, netguard.ErrBlockedAddress) && hostIsAddress(clientID):
		// The client_id names the address itself: saying so tells nobody
		// anything about the server's network.
		return &CIMDError{Reason: "the client_id " + clientID + " points at a private or local network address, which drivemcp does not fetch", Err: err}
	case errors.Is(err, netguard.ErrBlockedAddress), errors.As(err, &dns):
		// One sentence for "resolves to a private address" and "does not
		// resolve": anyone can open /oauth/authorize, and telling the two
		// apart (or quoting the resolver's error, which names the server's
		// DNS server) would map the server's internal network for them.
		return &CIMDError{Reason: "the client_id " + clientID + " names a host drivemcp cannot fetch from: it does not resolve to a public address", Err: err}
	case errors.Is(err, netguard.ErrSchemeNotAllowed):
		return &CIMDError{Reason: "the client_id " + clientID + " uses a URL scheme drivemcp does not fetch", Err: err}
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return &CIMDError{Reason: fmt.Sprintf("the server of the client_id %s did not answer within %s", clientID, metadataFetchTimeout), Err: err}
	}
	return &CIMDError{Reason: fmt.Sprintf("the client's metadata document at %s could not be fetched (the connection to its server failed)", clientID), Err: err}
}

// jsonContentTypeProblem returns "" for application/json or an
// application/…+json type, or else what is wrong.
func jsonContentTypeProblem(header string) string {
	if header == "" {
		return "is served without a Content-Type; it must be application/json"
	}
	mediaType, _, err := mime.ParseMediaType(header)
	if err == nil && (mediaType == "application/json" ||
		strings.HasPrefix(mediaType, "application/") && strings.HasSuffix(mediaType, "+json")) {
		return ""
	}
	return "is served as " + quoteForReason(header) + ", not as JSON (application/json)"
}

// hostIsAddress reports whether a URL's host is an IP address literal.
func hostIsAddress(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil {
		return false
	}
	_, err = netip.ParseAddr(u.Hostname())
	return err == nil
}
