package eventstore

import (
	"fmt"
	"testing"
)

// checkInvariants recounts everything the store tracks incrementally and
// fails t if a counter, a cost or a list disagrees with the recount.
func (s *Store) checkInvariants(t testing.TB) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	var errs []string
	fail := func(format string, args ...any) { errs = append(errs, fmt.Sprintf(format, args...)) }

	bytes, streams, events := 0, 0, 0
	listed := 0
	for id, sess := range s.sessions {
		if sess.id != id {
			fail("session %q stored under %q", sess.id, id)
		}
		sessBytes := sessionOverhead + len(id)
		calls, sessListed := 0, 0
		for sid, st := range sess.streams {
			if st.id != sid || st.sess != sess {
				fail("stream %q of %q stored under %q or in the wrong session", st.id, id, sid)
			}
			cost := streamOverhead + len(sid)
			for _, d := range st.data {
				cost += eventOverhead + len(d)
			}
			if st.bytes != cost {
				fail("stream %q/%q charged %d, holds %d", id, sid, st.bytes, cost)
			}
			if st.lost && len(st.data) > 0 {
				fail("lost stream %q/%q holds events", id, sid)
			}
			sessBytes += cost
			events += len(st.data)
			streams++
			if !st.standalone() {
				calls++
			}
			wantListed := !st.standalone() || len(st.data) > 0
			inGlobal, inLocal := s.lru.contains(st), sess.lru.contains(st)
			if inGlobal != wantListed || inLocal != wantListed {
				fail("stream %q/%q with %d events: in store list %v, in session list %v", id, sid, len(st.data), inGlobal, inLocal)
			}
			if wantListed {
				sessListed++
			}
		}
		if sess.bytes != sessBytes {
			fail("session %q charged %d, holds %d", id, sess.bytes, sessBytes)
		}
		if sess.calls != calls {
			fail("session %q counts %d calls, holds %d", id, sess.calls, calls)
		}
		if calls > s.maxStreams {
			fail("session %q keeps %d streams, cap %d", id, calls, s.maxStreams)
		}
		if n := walk(&sess.lru, fail); n != sessListed {
			fail("session %q list has %d streams, want %d", id, n, sessListed)
		}
		listed += sessListed
		bytes += sessBytes
	}
	if n := walk(&s.lru, fail); n != listed {
		fail("store list has %d streams, want %d", n, listed)
	}
	if s.bytes != bytes || s.streams != streams || s.events != events {
		fail("store counts bytes=%d streams=%d events=%d, holds %d %d %d", s.bytes, s.streams, s.events, bytes, streams, events)
	}
	for _, e := range errs {
		t.Error(e)
	}
}

// walk counts l's elements front to back, checking the back links.
func walk(l *streamList, fail func(string, ...any)) int {
	n := 0
	var prev *stream
	for st := l.front; st != nil; st = l.at(st).next {
		if l.at(st).prev != prev {
			fail("list broken at stream %q", st.id)
			return n
		}
		prev = st
		n++
	}
	if l.back != prev {
		fail("list back is not its last element")
	}
	return n
}
