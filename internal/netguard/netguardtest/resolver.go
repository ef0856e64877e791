// Package netguardtest holds the fake resolver tests use so that no test
// resolves a host name through the system's DNS.
package netguardtest

import (
	"context"
	"net"
	"net/netip"
	"slices"
	"sync"
)

// Resolver answers from a table of host → addresses and records every
// lookup; a host not in the table is "no such host". It never touches the
// network. It satisfies netguard.Resolver.
type Resolver struct {
	Answers map[string][]string

	mu    sync.Mutex
	asked []string
}

// LookupNetIP answers host from Answers.
func (r *Resolver) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.asked = append(r.asked, host)
	list, ok := r.Answers[host]
	if !ok {
		return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	}
	out := make([]netip.Addr, len(list))
	for i, s := range list {
		out[i] = netip.MustParseAddr(s)
	}
	return out, nil
}

// Asked returns the hosts looked up so far, in order.
func (r *Resolver) Asked() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.asked)
}

// Forget clears the record of lookups.
func (r *Resolver) Forget() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.asked = nil
}
