package eventstore

import (
	"testing"
)

// THREAT: a call stream opened after its session closed brings the session
// back, and nothing ever frees it again. The go-sdk looks a session up when
// a POST's headers arrive and opens the call's stream once it has read the
// body; a DELETE in between closes the session first (SessionClosed), and
// the late Open then created it anew here: its fixed cost stays charged
// against MaxBytes until the process exits. Repeated (a session, a slow
// body, a DELETE), it grows the heap without bound and, past the budget,
// makes every Append evict everyone else's history. The SDK opens a
// session's standalone stream when the session connects, before any call
// stream, so a call stream's Open for an unknown session is always late.
func TestEventStore_OpenAfterSessionClosedDoesNotBringTheSessionBack(t *testing.T) {
	s := New(Options{})
	mustOpen(t, s, "a", "")
	if err := s.SessionClosed(t.Context(), "a"); err != nil {
		t.Fatal(err)
	}
	_ = s.Open(t.Context(), "a", "late-call") // an error is fine; holding the session is not
	_ = s.Append(t.Context(), "a", "late-call", []byte("result"))
	if st := s.Stats(); st != (Stats{}) {
		t.Errorf("store holds %+v after its only session closed", st)
	}
	s.checkInvariants(t)
}
