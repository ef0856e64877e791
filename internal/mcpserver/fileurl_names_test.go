package mcpserver

import (
	"context"
	"net"
	"net/netip"
	"strings"
	"testing"

	"github.com/drivemcp/drivemcp/internal/e2etest"
)

// dnsMap answers from a table, and fails the other names the way a
// resolver behind an internal DNS server does (naming that server).
type dnsMap map[string][]string

func (m dnsMap) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	list, ok := m[host]
	if !ok {
		return nil, &net.DNSError{Err: "server misbehaving", Name: host, Server: "10.0.0.53:53", IsTemporary: true}
	}
	out := make([]netip.Addr, len(list))
	for i, s := range list {
		out[i] = netip.MustParseAddr(s)
	}
	return out, nil
}

// Any token holder can try fileUrl with internal host names: when the
// answer named the address a name resolves to, they mapped the internal
// DNS one name at a time (and learnt the DNS server's address from lookup
// failures). The refusal names the address only when the URL itself was
// that address, and a lookup failure says what failed, not where.
func TestCreateFromURL_RefusalDoesNotMapInternalNamesToAddresses(t *testing.T) {
	f := newFixture(t, Deps{URLResolver: dnsMap{
		"intranet.corp": {"10.20.30.40"},
		"metadata.corp": {"169.254.169.254"},
		"router.corp":   {"fd12:3456::7"},
	}})
	for _, tc := range []struct {
		url, want string
		hidden    []string
	}{
		{"http://intranet.corp/x", "intranet.corp resolves to a private address", []string{"10.20.30.40", "10.20"}},
		{"http://metadata.corp/x", "metadata.corp resolves to the cloud metadata address", []string{"169.254"}},
		{"http://router.corp/x", "router.corp resolves to", []string{"fd12"}},
		{"http://10.20.30.40/x", "10.20.30.40", nil}, // the caller wrote the address: naming it reveals nothing
		{"http://unknown.corp/x", "unknown.corp", []string{"10.0.0.53"}},
	} {
		res := f.call(t, "create_drive_file", map[string]any{"file_name": "x", "fileUrl": tc.url})
		text := e2etest.ResultText(res)
		if !res.IsError || !strings.Contains(text, tc.want) || !strings.HasSuffix(text, ".") {
			t.Errorf("%s: %q should say %q", tc.url, text, tc.want)
		}
		for _, h := range tc.hidden {
			if strings.Contains(text, h) {
				t.Errorf("%s: %q reveals %s", tc.url, text, h)
			}
		}
	}
	if n := len(f.google.Files()); n != 0 {
		t.Fatalf("%d files created", n)
	}
}
