package eventstore

import (
	"context"
	crand "crypto/rand"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// replay collects what After yields, as strings.
func replay(t testing.TB, s mcp.EventStore, session, stream string, index int) ([]string, error) {
	t.Helper()
	var got []string
	for d, err := range s.After(context.Background(), session, stream, index) {
		if err != nil {
			return got, err
		}
		got = append(got, string(d))
	}
	return got, nil
}

func mustOpen(t testing.TB, s mcp.EventStore, session, stream string) {
	t.Helper()
	if err := s.Open(context.Background(), session, stream); err != nil {
		t.Fatalf("Open(%q, %q): %v", session, stream, err)
	}
}

func mustAppend(t testing.TB, s mcp.EventStore, session, stream string, data string) {
	t.Helper()
	if err := s.Append(context.Background(), session, stream, []byte(data)); err != nil {
		t.Fatalf("Append(%q, %q): %v", session, stream, err)
	}
}

// postLikeCalls does to s what the go-sdk does for n POSTs that each carry
// one tools/call in session: open a fresh stream, store the priming event,
// store a result of about 300 bytes. Each result is a fresh slice, as the
// SDK marshals each message anew.
func postLikeCalls(t testing.TB, s mcp.EventStore, session string, n int) {
	ctx := context.Background()
	for range n {
		id := crand.Text()
		if err := s.Open(ctx, session, id); err != nil {
			t.Fatal(err)
		}
		if err := s.Append(ctx, session, id, nil); err != nil {
			t.Fatal(err)
		}
		if err := s.Append(ctx, session, id, make([]byte, 300)); err != nil {
			t.Fatal(err)
		}
	}
}

// heapRetainedBy returns how much the heap grew while run ran, counting
// only what is still reachable afterwards.
func heapRetainedBy(run func()) int64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	run()
	runtime.GC()
	runtime.ReadMemStats(&after)
	return int64(after.HeapAlloc) - int64(before.HeapAlloc)
}

const longSessionCalls = 200_000

func TestEventStore_OneSessionCannotGrowMemoryWithoutBound(t *testing.T) {
	s := New(Options{})
	mustOpen(t, s, "busy", "")
	retained := heapRetainedBy(func() { postLikeCalls(t, s, "busy", longSessionCalls) })
	runtime.KeepAlive(s)

	st := s.Stats()
	t.Logf("after %d calls in one session: %+v, heap retained %.2f MiB", longSessionCalls, st, float64(retained)/(1<<20))
	if st.Streams > DefaultMaxStreamsPerSession+1 {
		t.Errorf("store keeps %d streams for one session, cap %d (+1 standalone)", st.Streams, DefaultMaxStreamsPerSession)
	}
	if st.Bytes > DefaultMaxBytes/4 {
		t.Errorf("store charges %d bytes to one session, share %d", st.Bytes, DefaultMaxBytes/4)
	}
	if retained > 3<<20 {
		t.Errorf("heap grew by %.1f MiB over %d calls in one session; want under 3 MiB", float64(retained)/(1<<20), longSessionCalls)
	}
	s.checkInvariants(t)
}

// TestSDKMemoryEventStore_OneSessionGrowsWithoutBound runs the same workload
// on the go-sdk's store to show why this package exists. It only logs: CI
// must not depend on the SDK keeping its leak.
func TestSDKMemoryEventStore_OneSessionGrowsWithoutBound(t *testing.T) {
	if testing.Short() {
		t.Skip("demonstration only")
	}
	s := mcp.NewMemoryEventStore(nil)
	mustOpen(t, s, "busy", "")
	retained := heapRetainedBy(func() { postLikeCalls(t, s, "busy", longSessionCalls) })
	runtime.KeepAlive(s)
	t.Logf("go-sdk MemoryEventStore after %d calls in one session: heap retained %.2f MiB (%d B per call)",
		longSessionCalls, float64(retained)/(1<<20), retained/longSessionCalls)
}

func TestEventStore_ReplayFollowsTheSDKsIndices(t *testing.T) {
	s := New(Options{})
	mustOpen(t, s, "a", "")
	mustOpen(t, s, "a", "call")
	if err := s.Append(t.Context(), "a", "call", nil); err != nil { // the priming event, index 0
		t.Fatal(err)
	}
	for i := 1; i <= 4; i++ {
		mustAppend(t, s, "a", "call", fmt.Sprint("e", i))
	}
	for _, tc := range []struct {
		after int
		want  []string
	}{
		{-1, []string{"", "e1", "e2", "e3", "e4"}},
		{0, []string{"e1", "e2", "e3", "e4"}},
		{2, []string{"e3", "e4"}},
		{4, nil},
		{9, nil},
	} {
		got, err := replay(t, s, "a", "call", tc.after)
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("After(%d) = %q, %v; want %q", tc.after, got, err, tc.want)
		}
	}
	// Opening an existing stream again leaves it as it is, as the SDK's
	// store does.
	mustOpen(t, s, "a", "call")
	if got, err := replay(t, s, "a", "call", 2); err != nil || !slices.Equal(got, []string{"e3", "e4"}) {
		t.Errorf("after a second Open, After(2) = %q, %v", got, err)
	}
	s.checkInvariants(t)
}

func TestEventStore_StandaloneStreamIsTrimmedKeepingItsIndices(t *testing.T) {
	const event = "notification-0123456789"
	cost := eventOverhead + len(event)
	// Room for the session, its standalone stream and three events.
	s := New(Options{MaxBytes: 1 << 20, MaxSessionBytes: sessionOverhead + 1 + streamOverhead + 3*cost})
	mustOpen(t, s, "a", "")
	for range 10 {
		mustAppend(t, s, "a", "", event)
	}
	if st := s.Stats(); st.Events != 3 {
		t.Fatalf("standalone stream keeps %d events, want the 3 that fit", st.Events)
	}
	// Events 7, 8, 9 are left: a resume after 6 gets them, one after 5
	// would miss event 6 and must fail rather than replay from the wrong
	// place; so must a GET without Last-Event-ID (index -1).
	if got, err := replay(t, s, "a", "", 6); err != nil || len(got) != 3 {
		t.Errorf("After(6) = %d events, %v; want 3", len(got), err)
	}
	for _, index := range []int{-1, 5} {
		if _, err := replay(t, s, "a", "", index); !errors.Is(err, mcp.ErrEventsPurged) {
			t.Errorf("After(%d) error = %v, want ErrEventsPurged", index, err)
		}
	}

	// A call's streams push the standalone stream's events out entirely,
	// but the stream stays, so its numbering goes on.
	mustOpen(t, s, "a", "call")
	for range 3 {
		mustAppend(t, s, "a", "call", event)
	}
	if _, err := replay(t, s, "a", "", 9); err != nil {
		t.Errorf("After(9) on an emptied standalone stream: %v, want nothing to replay", err)
	}
	mustAppend(t, s, "a", "", "event 10")
	if got, err := replay(t, s, "a", "", 9); err != nil || !slices.Equal(got, []string{"event 10"}) {
		t.Errorf("After(9) = %q, %v; want [event 10]", got, err)
	}
	s.checkInvariants(t)
}

// TestEventStore_EvictedStreamRefusesReplayAfterAppend: a long-running call
// whose stream was evicted goes on appending. The store must not recreate
// the stream at index 0: the SDK numbers the event 5 (say), and a resume
// after -1 would then replay it as event 0. (The go-sdk's store never
// deletes a stream, which is its leak; evicting whole streams opens this
// case.)
func TestEventStore_EvictedStreamRefusesReplayAfterAppend(t *testing.T) {
	s := New(Options{MaxStreamsPerSession: 2})
	mustOpen(t, s, "a", "")
	mustOpen(t, s, "a", "slow")
	for i := range 5 {
		mustAppend(t, s, "a", "slow", fmt.Sprint("progress ", i))
	}
	mustOpen(t, s, "a", "b")
	mustOpen(t, s, "a", "c") // evicts "slow", the least recently appended
	if _, err := replay(t, s, "a", "slow", 4); err == nil {
		t.Fatal("After on the evicted stream succeeded")
	}

	err := s.Append(t.Context(), "a", "slow", []byte("result"))
	if !errors.Is(err, mcp.ErrEventsPurged) {
		t.Errorf("Append to the evicted stream: %v, want ErrEventsPurged", err)
	}
	for _, index := range []int{-1, 0, 4, 5} {
		got, err := replay(t, s, "a", "slow", index)
		if !errors.Is(err, mcp.ErrEventsPurged) {
			t.Errorf("After(%d) on the evicted stream = %q, %v; want ErrEventsPurged", index, got, err)
		}
	}

	// A stream made by Open starts afresh at 0.
	mustOpen(t, s, "a", "d")
	mustAppend(t, s, "a", "d", "first")
	if got, err := replay(t, s, "a", "d", -1); err != nil || !slices.Equal(got, []string{"first"}) {
		t.Errorf("After(-1) on a new stream = %q, %v", got, err)
	}
	s.checkInvariants(t)
}

func TestEventStore_UnknownSessionOrStreamIsAnError(t *testing.T) {
	s := New(Options{})
	if _, err := replay(t, s, "nobody", "", -1); !errors.Is(err, ErrUnknownSession) {
		t.Errorf("After on a session never seen: %v, want ErrUnknownSession", err)
	}
	mustOpen(t, s, "a", "")
	if _, err := replay(t, s, "a", "never", -1); !errors.Is(err, ErrUnknownStream) {
		t.Errorf("After on a stream never seen: %v, want ErrUnknownStream", err)
	}
	// An Append that races with the session's close must not bring the
	// session back: nothing would ever free it.
	if err := s.SessionClosed(t.Context(), "a"); err != nil {
		t.Fatal(err)
	}
	if err := s.Append(t.Context(), "a", "", []byte("late")); !errors.Is(err, ErrUnknownSession) {
		t.Errorf("Append after SessionClosed: %v, want ErrUnknownSession", err)
	}
	if st := s.Stats(); st != (Stats{}) {
		t.Errorf("store holds %+v after its only session closed", st)
	}
}

func TestEventStore_SessionClosedFreesAtOnceThenCallsHook(t *testing.T) {
	var s *Store
	var closed []string
	s = New(Options{OnSessionClosed: func(id string) {
		// After takes the lock: this would deadlock if the hook ran under
		// it, and shows the session is already gone when the hook runs.
		if _, err := replay(t, s, id, "", -1); !errors.Is(err, ErrUnknownSession) {
			t.Errorf("hook for %q: the store still holds the session (After: %v)", id, err)
		}
		closed = append(closed, id)
	}})
	for _, id := range []string{"a", "b"} {
		mustOpen(t, s, id, "")
		mustAppend(t, s, id, "", "hello")
		postLikeCalls(t, s, id, 10)
	}
	if err := s.SessionClosed(t.Context(), "a"); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(closed, []string{"a"}) {
		t.Errorf("hook calls = %q, want [a]", closed)
	}
	if got, err := replay(t, s, "b", "", -1); err != nil || !slices.Equal(got, []string{"hello"}) {
		t.Errorf("the other session's stream: %q, %v", got, err)
	}
	s.checkInvariants(t)
	if err := s.SessionClosed(t.Context(), "b"); err != nil {
		t.Fatal(err)
	}
	if st := s.Stats(); st != (Stats{}) {
		t.Errorf("store holds %+v after every session closed", st)
	}
}

func TestEventStore_SessionClosedCallsHookForSessionItNeverHeld(t *testing.T) {
	var closed []string
	s := New(Options{OnSessionClosed: func(id string) { closed = append(closed, id) }})
	if err := s.SessionClosed(t.Context(), "unknown"); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(closed, []string{"unknown"}) {
		t.Errorf("hook calls = %q, want [unknown]", closed)
	}
}

func TestEventStore_OneSessionCannotEvictAnotherSessionsRecentStreams(t *testing.T) {
	for _, tc := range []struct {
		name        string
		calls, size int
	}{
		{"many small calls", 100_000, 300},
		{"few large results", 40, 1 << 20}, // 40 MiB in one session
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := New(Options{})
			mustOpen(t, s, "victim", "")
			mustOpen(t, s, "victim", "call")
			mustAppend(t, s, "victim", "call", "result")
			mustOpen(t, s, "attacker", "")
			ctx := t.Context()
			for range tc.calls {
				id := crand.Text()
				if err := s.Open(ctx, "attacker", id); err != nil {
					t.Fatal(err)
				}
				if err := s.Append(ctx, "attacker", id, make([]byte, tc.size)); err != nil {
					t.Fatal(err)
				}
			}
			if got, err := replay(t, s, "victim", "call", -1); err != nil || !slices.Equal(got, []string{"result"}) {
				t.Errorf("victim's stream after the attacker's calls: %q, %v", got, err)
			}
			st := s.Stats()
			t.Logf("%+v", st)
			if st.Bytes > DefaultMaxBytes/4+tc.size+4096 {
				t.Errorf("store holds %d bytes; the attacker's share is %d plus its newest event", st.Bytes, DefaultMaxBytes/4)
			}
			s.checkInvariants(t)
		})
	}
}

func TestEventStore_GlobalBudgetEvictsLeastRecentlyAppendedStreams(t *testing.T) {
	const size = 1000
	cost := streamOverhead + len("sNN") + eventOverhead + size
	// Room for 4 sessions and five and a half one-event streams, all
	// sessions below their share.
	s := New(Options{
		MaxBytes:        4*(sessionOverhead+1+streamOverhead) + 5*cost + cost/2,
		MaxSessionBytes: 1 << 20,
	})
	for _, sess := range []string{"a", "b", "c", "d"} {
		mustOpen(t, s, sess, "")
	}
	data := strings.Repeat("x", size)
	mustOpen(t, s, "a", "s01") // oldest, but still receiving events below
	mustAppend(t, s, "a", "s01", data)
	for i, sess := range []string{"b", "c", "b", "c"} {
		id := fmt.Sprintf("s%02d", i+2)
		mustOpen(t, s, sess, id)
		mustAppend(t, s, sess, id, data)
	}
	if err := s.Append(t.Context(), "a", "s01", nil); err != nil { // keeps s01 recent
		t.Fatal(err)
	}
	mustOpen(t, s, "d", "s06")
	mustAppend(t, s, "d", "s06", data) // over budget: s02 goes
	mustOpen(t, s, "d", "s07")
	mustAppend(t, s, "d", "s07", data) // and then s03
	for sess, ids := range map[string][]string{"a": {"s01"}, "b": {"s04"}, "c": {"s05"}, "d": {"s06", "s07"}} {
		for _, id := range ids {
			if _, err := replay(t, s, sess, id, -1); err != nil {
				t.Errorf("stream %s/%s evicted before older ones: %v", sess, id, err)
			}
		}
	}
	for sess, id := range map[string]string{"b": "s02", "c": "s03"} {
		if _, err := replay(t, s, sess, id, -1); !errors.Is(err, ErrUnknownStream) {
			t.Errorf("least recently appended stream %s/%s: %v, want it evicted", sess, id, err)
		}
	}
	s.checkInvariants(t)
}

// A stream alone over the budget (a call streaming progress for a long
// time) is trimmed, oldest first, down to its newest event.
func TestEventStore_StreamOverBudgetKeepsItsNewestEvent(t *testing.T) {
	s := New(Options{MaxBytes: 4096})
	mustOpen(t, s, "a", "")
	mustOpen(t, s, "a", "call")
	for i := range 20 {
		mustAppend(t, s, "a", "call", fmt.Sprintf("%05d%s", i, strings.Repeat("x", 995)))
	}
	got, err := replay(t, s, "a", "call", 18)
	if err != nil || len(got) != 1 || !strings.HasPrefix(got[0], "00019") {
		t.Errorf("After(18) = %d events, %v; want the newest", len(got), err)
	}
	if _, err := replay(t, s, "a", "call", 0); !errors.Is(err, mcp.ErrEventsPurged) {
		t.Errorf("After(0): %v, want ErrEventsPurged", err)
	}
	mustAppend(t, s, "a", "call", strings.Repeat("y", 8192)) // alone bigger than the budget
	if got, err := replay(t, s, "a", "call", 19); err != nil || len(got) != 1 || len(got[0]) != 8192 {
		t.Errorf("After(19) = %d events, %v; want the one that is over budget", len(got), err)
	}
	s.checkInvariants(t)
}

func TestEventStore_ConcurrentUse(t *testing.T) {
	s := New(Options{MaxBytes: 64 << 10, MaxStreamsPerSession: 8})
	ctx := t.Context()
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for round := range 20 {
				// Pairs of goroutines share a session.
				sess := fmt.Sprintf("s%d-%d", g/2, round)
				if err := s.Open(ctx, sess, ""); err != nil {
					t.Error(err)
					return
				}
				for i := range 30 {
					id := fmt.Sprintf("g%d-%d", g, i)
					if err := s.Open(ctx, sess, id); err != nil {
						t.Error(err)
						return
					}
					for j := range 3 {
						err := s.Append(ctx, sess, id, make([]byte, 100*j))
						if err != nil && !errors.Is(err, mcp.ErrEventsPurged) && !errors.Is(err, ErrUnknownSession) {
							t.Error(err)
							return
						}
					}
					_ = s.Append(ctx, sess, "", []byte("note"))
					for _, err := range s.After(ctx, sess, id, 0) {
						if err != nil && !errors.Is(err, mcp.ErrEventsPurged) &&
							!errors.Is(err, ErrUnknownStream) && !errors.Is(err, ErrUnknownSession) {
							t.Error(err)
						}
					}
				}
				if g%2 == 0 {
					_ = s.SessionClosed(ctx, sess)
				}
				_ = s.Stats()
			}
		})
	}
	wg.Wait()
	s.checkInvariants(t)
	if st := s.Stats(); st.Bytes > 64<<10+8<<10 {
		t.Errorf("store holds %+v, over its budget", st)
	}
}
