package authserver

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"strings"
	"testing"

	"github.com/drivemcp/drivemcp/internal/netguard"
)

type oracleResolver map[string][]netip.Addr

func (s oracleResolver) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	if a, ok := s[host]; ok {
		return a, nil
	}
	return nil, &net.DNSError{Err: "no such host", Name: host, Server: "10.20.0.2:53", IsNotFound: true}
}

// /oauth/authorize needs no token and shows why a metadata document could
// not be fetched. A review found it quoting the resolver's error (which
// names the server's own DNS server) and wording "resolves privately" apart
// from "does not exist": an oracle for the server's internal names. Both now
// read the same, and nothing of the resolver's is quoted. The resolver is a
// stub: no DNS query is sent.
func TestMetadataDocument_FetchErrorsAreNoOracleForInternalNames(t *testing.T) {
	r := oracleResolver{"vault.corp.example": {netip.MustParseAddr("10.20.5.7")}}
	docs := NewClientMetadataDocuments(netguard.NewClient(netguard.Policy{Resolver: r}, netguard.Options{}), 0)
	var reasons []string
	for _, host := range []string{"vault.corp.example", "nope.corp.example"} {
		id := "https://" + host + "/c.json"
		_, err := docs.Fetch(context.Background(), id)
		var ce *CIMDError
		if !errors.As(err, &ce) {
			t.Fatalf("%s: %v", id, err)
		}
		if strings.Contains(ce.Reason, "10.20.") || strings.Contains(ce.Reason, "no such host") {
			t.Errorf("%s: the reason quotes the network: %s", id, ce.Reason)
		}
		reasons = append(reasons, strings.ReplaceAll(ce.Reason, host, "HOST"))
	}
	if reasons[0] != reasons[1] {
		t.Errorf("a private name and a missing one read differently:\n%s\n%s", reasons[0], reasons[1])
	}
}
