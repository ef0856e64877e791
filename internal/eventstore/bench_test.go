package eventstore

import (
	"context"
	"fmt"
	"runtime"
	"strconv"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// BenchmarkEventStore_LongSession measures what one call costs the store
// (Open, the priming Append(nil), a 300-byte result) in a session that
// already made N calls, for this store and the go-sdk's MemoryEventStore.
//
// Run it with a fixed -benchtime (e.g. 20000x): the go-sdk's store keeps
// every call's stream, so the session it measures grows with b.N.
//
// In "full" the session's standalone stream also holds a backlog the size of
// the SDK's budget (server notifications stored while no GET was
// connected), so that every Append finds the store over budget.
func BenchmarkEventStore_LongSession(b *testing.B) {
	stores := []struct {
		name string
		new  func() mcp.EventStore
	}{
		{"store=go-sdk", func() mcp.EventStore { return mcp.NewMemoryEventStore(nil) }},
		{"store=eventstore", func() mcp.EventStore { return New(Options{}) }},
	}
	for _, full := range []bool{false, true} {
		for _, n := range []int{1_000, 100_000} {
			for _, st := range stores {
				name := fmt.Sprintf("full=%v/N=%d/%s", full, n, st.name)
				b.Run(name, func(b *testing.B) {
					s := st.new()
					ctx := context.Background()
					if err := s.Open(ctx, "busy", ""); err != nil {
						b.Fatal(err)
					}
					postLikeCalls(b, s, "busy", n)
					if full {
						for range (10 << 20) / 1000 {
							if err := s.Append(ctx, "busy", "", make([]byte, 1000)); err != nil {
								b.Fatal(err)
							}
						}
					}
					b.ReportAllocs()
					var before, after runtime.MemStats
					runtime.GC()
					runtime.ReadMemStats(&before)
					i := 0
					for b.Loop() {
						id := "call" + strconv.Itoa(i)
						i++
						if err := s.Open(ctx, "busy", id); err != nil {
							b.Fatal(err)
						}
						if err := s.Append(ctx, "busy", id, nil); err != nil {
							b.Fatal(err)
						}
						if err := s.Append(ctx, "busy", id, make([]byte, 300)); err != nil {
							b.Fatal(err)
						}
					}
					// What the calls left on the heap, which B/op (bytes
					// allocated) does not tell.
					runtime.GC()
					runtime.ReadMemStats(&after)
					runtime.KeepAlive(s)
					b.ReportMetric(float64(int64(after.HeapAlloc)-int64(before.HeapAlloc))/float64(b.N), "retained-B/op")
				})
			}
		}
	}
}
