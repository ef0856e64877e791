// Package eventstore is a bounded, in-memory [mcp.EventStore]: it keeps the
// server-sent events of drivemcp's stateful HTTP sessions so that a client
// whose SSE stream broke can resume it with Last-Event-ID.
//
// It replaces the go-sdk's MemoryEventStore (v1.8.0), which has two defects
// that any authenticated client holding one session can exploit:
//
//   - Memory without bound. Every POST that carries a call opens a stream,
//     and the SDK's store keeps a map entry and a list per stream until the
//     session closes; purging drops event data but never the stream entries.
//     A session stays alive while it is used, so a busy one grows the heap
//     with every call: 200,000 calls in one session retained 38.8 MiB
//     (about 200 bytes a call; TestSDKMemoryEventStore_OneSessionGrowsWithoutBound),
//     against 0.15 MiB here.
//   - CPU that grows with the session's age. Once the stored data is over
//     budget, each Append scans every stream of every session, the empty
//     ones included, dropping one event from each stream that has any. When
//     one stream holds most of the data (a backlog on the standalone stream,
//     a long call's progress), every call pays a full scan: 113 µs a call in
//     a session that made 100,000 calls, against 1.3 µs here
//     (BenchmarkEventStore_LongSession/full=true).
//
// This store charges each event its data plus a fixed overhead, and each
// stream and session a fixed overhead, against a global byte budget
// (Options.MaxBytes) and a per-session share of it (Options.MaxSessionBytes),
// and keeps at most Options.MaxStreamsPerSession streams per session. When a
// limit is crossed it evicts whole streams, least recently appended first, in
// O(1) amortised per call. A session's standalone stream (stream ID "",
// the one a GET without Last-Event-ID opens) lives as long as the session, so
// it is trimmed, oldest events first, rather than deleted. The stream being
// appended to is never evicted; if it alone is over a limit its oldest events
// are trimmed, keeping the newest.
//
// The SDK numbers a stream's events itself and resumes with After(index), so
// trimming keeps each stream's first index, and a resume that would need a
// dropped event fails with [mcp.ErrEventsPurged]. A stream that was evicted and
// then receives an Append without an Open (a long-running call outlived its
// stream's history) is remembered as lost: its events are not stored and any
// resume of it fails with [mcp.ErrEventsPurged], never a replay that starts at
// the wrong index. One consequence, shared with the SDK's store: once a
// session's standalone stream has been trimmed, a GET without Last-Event-ID
// (a replay from the start) is refused with 400 for that session.
package eventstore

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"slices"
	"sync"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

var _ mcp.EventStore = (*Store)(nil)

// Defaults for Options fields left zero.
const (
	DefaultMaxBytes             = 8 << 20
	DefaultMaxStreamsPerSession = 256
)

// Fixed costs charged against the byte budgets besides event data. They
// approximate the heap each item really holds (struct, map entry, slice
// header and growth slack), so that empty events, such as the SDK's priming
// Append(nil), and empty streams are not free: the SDK's store counts only
// data bytes, which is how its stream entries escaped every bound.
const (
	eventOverhead   = 48
	streamOverhead  = 224 // plus the length of the stream ID
	sessionOverhead = 192 // plus the length of the session ID
)

// ErrUnknownSession is returned by After and Append for a session the store
// does not hold: never opened, or already closed.
var ErrUnknownSession = errors.New("eventstore: unknown session")

// ErrUnknownStream is returned by After for a stream the session does not
// hold: never opened, or evicted.
var ErrUnknownStream = errors.New("eventstore: unknown stream")

// Options configures a Store. Zero fields take the defaults.
type Options struct {
	// MaxBytes is the budget for all sessions together (default
	// DefaultMaxBytes). It may be exceeded by the latest event of a stream,
	// which is never dropped, and by the fixed cost of live sessions and
	// their standalone streams, which only SessionClosed frees.
	MaxBytes int
	// MaxSessionBytes is one session's share of MaxBytes (default
	// MaxBytes/4), so that one session cannot push everyone else's history
	// out.
	MaxSessionBytes int
	// MaxStreamsPerSession caps the streams one session keeps besides its
	// standalone stream (default DefaultMaxStreamsPerSession).
	MaxStreamsPerSession int
	// OnSessionClosed, if set, is called from SessionClosed after the
	// session is freed, synchronously and without the store's lock held. The
	// go-sdk calls SessionClosed from the session's Close, before it answers
	// the DELETE that ended the session, so a hook here runs before the
	// client hears that its session is gone.
	OnSessionClosed func(sessionID string)
}

// Stats is a snapshot of what a Store holds.
type Stats struct {
	Sessions int
	Streams  int // including each session's standalone stream
	Events   int
	Bytes    int // as charged against Options.MaxBytes
}

// Store is a bounded mcp.EventStore. It is safe for concurrent use.
type Store struct {
	maxBytes, maxSessionBytes, maxStreams int
	onSessionClosed                       func(string)

	mu       sync.Mutex
	sessions map[string]*session
	// lru holds every stream that eviction can free something from: all
	// streams except a standalone stream with no events. Most recently
	// appended first.
	lru     streamList
	bytes   int
	streams int
	events  int
}

type session struct {
	id      string
	streams map[string]*stream
	// lru holds the session's streams that are in Store.lru, in the same
	// order, so that a session's limits evict its own streams.
	lru   streamList
	bytes int
	// calls counts the streams other than the standalone one.
	calls int
}

type stream struct {
	id   string
	sess *session
	// first is the SDK's index of data[0]; it only grows, as events are
	// trimmed, so that indices stay aligned with the SDK's event IDs.
	first int
	data  [][]byte
	bytes int
	// lost marks a stream created by an Append without an Open: its earlier
	// events were evicted, so the index of what it receives is unknown.
	lost bool
	// global and local link the stream into Store.lru and session.lru.
	global, local links
}

type links struct{ prev, next *stream }

func (st *stream) standalone() bool { return st.id == "" }

// New returns an empty Store.
func New(opts Options) *Store {
	s := &Store{
		maxBytes:        opts.MaxBytes,
		maxSessionBytes: opts.MaxSessionBytes,
		maxStreams:      opts.MaxStreamsPerSession,
		onSessionClosed: opts.OnSessionClosed,
		sessions:        make(map[string]*session),
	}
	if s.maxBytes <= 0 {
		s.maxBytes = DefaultMaxBytes
	}
	if s.maxSessionBytes <= 0 {
		s.maxSessionBytes = s.maxBytes / 4
	}
	if s.maxStreams <= 0 {
		s.maxStreams = DefaultMaxStreamsPerSession
	}
	s.lru.init(func(st *stream) *links { return &st.global })
	return s
}

// Open implements [mcp.EventStore.Open]. A new stream starts at index 0; a
// stream that already exists is left as it is.
//
// Only the standalone stream (ID "") makes a session: the go-sdk opens it
// when the session connects (go-sdk v1.8.0, StreamableServerTransport.Connect),
// before any call's stream. A call's stream for a session the store does
// not hold is late — its POST was looked up before a DELETE closed the
// session, and read its body after — and is not kept: recreating the
// session would hold it until the process exits (one more for every such
// round an authenticated client plays). Nil is returned all the same, so
// the SDK answers as it would have; the events are not stored.
func (s *Store) Open(_ context.Context, sessionID, streamID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	sess := s.sessions[sessionID]
	if sess == nil && streamID != "" {
		return nil
	}
	if sess == nil {
		sess = &session{id: sessionID, streams: make(map[string]*stream)}
		sess.lru.init(func(st *stream) *links { return &st.local })
		s.sessions[sessionID] = sess
		sess.bytes = sessionOverhead + len(sessionID)
		s.bytes += sess.bytes
	}
	st := sess.streams[streamID]
	if st == nil {
		st = s.newStream(sess, streamID)
	}
	s.touch(st)
	s.enforce(st)
	return nil
}

// Append implements [mcp.EventStore.Append]. The store keeps data without
// copying it, as the SDK's own store does: the SDK marshals each message
// into a fresh slice and does not reuse it.
func (s *Store) Append(_ context.Context, sessionID, streamID string, data []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	sess := s.sessions[sessionID]
	if sess == nil {
		// The SDK opens a session's standalone stream when the session
		// connects, so this session was closed: recreating it would keep it
		// until the process exits.
		return fmt.Errorf("append to session %q: %w", sessionID, ErrUnknownSession)
	}
	st := sess.streams[streamID]
	if st == nil {
		// The SDK opens every stream before appending to it, so this one was
		// evicted. Its next event's index is known only to the SDK: a stream
		// recreated at 0 would replay the wrong events on resume.
		st = s.newStream(sess, streamID)
		st.lost = true
	}
	if !st.lost {
		st.data = append(st.data, data)
		s.events++
		s.charge(st, eventOverhead+len(data))
	}
	s.touch(st)
	s.enforce(st)
	if st.lost {
		return fmt.Errorf("append to stream %q of session %q: stream was evicted: %w", streamID, sessionID, mcp.ErrEventsPurged)
	}
	return nil
}

// After implements [mcp.EventStore.After].
func (s *Store) After(_ context.Context, sessionID, streamID string, index int) iter.Seq2[[]byte, error] {
	return func(yield func([]byte, error) bool) {
		data, err := s.after(sessionID, streamID, index)
		if err != nil {
			yield(nil, err)
			return
		}
		for _, d := range data {
			if !yield(d, nil) {
				return
			}
		}
	}
}

// after returns the events of the stream after index. It copies the slice
// headers, because trimming clears them under the lock.
func (s *Store) after(sessionID, streamID string, index int) ([][]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sess := s.sessions[sessionID]
	if sess == nil {
		return nil, fmt.Errorf("resume session %q: %w", sessionID, ErrUnknownSession)
	}
	st := sess.streams[streamID]
	if st == nil {
		return nil, fmt.Errorf("resume stream %q of session %q: %w", streamID, sessionID, ErrUnknownStream)
	}
	if st.lost {
		return nil, fmt.Errorf("resume stream %q of session %q: stream was evicted: %w", streamID, sessionID, mcp.ErrEventsPurged)
	}
	start := index + 1 - st.first
	if start < 0 {
		return nil, fmt.Errorf("resume stream %q of session %q after %d: events before %d were dropped: %w",
			streamID, sessionID, index, st.first, mcp.ErrEventsPurged)
	}
	if start >= len(st.data) {
		return nil, nil
	}
	return slices.Clone(st.data[start:]), nil
}

// SessionClosed implements [mcp.EventStore.SessionClosed]: it frees the
// session at once, then calls Options.OnSessionClosed, whether or not the
// store held the session.
func (s *Store) SessionClosed(_ context.Context, sessionID string) error {
	s.mu.Lock()
	if sess := s.sessions[sessionID]; sess != nil {
		for _, st := range sess.streams {
			s.lru.remove(st)
			s.streams--
			s.events -= len(st.data)
		}
		s.bytes -= sess.bytes
		delete(s.sessions, sessionID)
	}
	s.mu.Unlock()
	if s.onSessionClosed != nil {
		s.onSessionClosed(sessionID)
	}
	return nil
}

// Stats returns what the store holds now.
func (s *Store) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return Stats{Sessions: len(s.sessions), Streams: s.streams, Events: s.events, Bytes: s.bytes}
}

// newStream adds an empty stream to sess. Requires s.mu.
func (s *Store) newStream(sess *session, id string) *stream {
	st := &stream{id: id, sess: sess}
	sess.streams[id] = st
	s.streams++
	if !st.standalone() {
		sess.calls++
	}
	s.charge(st, streamOverhead+len(id))
	return st
}

// charge adds n bytes to the cost of st, its session and the store.
// Requires s.mu.
func (s *Store) charge(st *stream, n int) {
	st.bytes += n
	st.sess.bytes += n
	s.bytes += n
}

// touch marks st as the most recently appended stream. Requires s.mu.
func (s *Store) touch(st *stream) {
	if st.standalone() && len(st.data) == 0 {
		return // nothing to evict from it
	}
	s.lru.pushFront(st)
	st.sess.lru.pushFront(st)
}

// enforce brings st's session and then the store within their limits,
// evicting least recently appended streams other than st, and trimming st
// itself only when nothing else is left. Each pass frees a whole stream or
// one event, each of which was added once, so the cost is O(1) amortised
// per call. Requires s.mu.
func (s *Store) enforce(st *stream) {
	sess := st.sess
	for sess.calls > s.maxStreams {
		victim := sess.lru.back
		if victim != nil && victim.standalone() {
			victim = sess.lru.newer(victim)
		}
		if victim == nil || victim == st {
			break
		}
		s.removeStream(victim)
	}
	for sess.bytes > s.maxSessionBytes && s.evictOne(sess.lru.back, st) {
	}
	for s.bytes > s.maxBytes && s.evictOne(s.lru.back, st) {
	}
}

// evictOne frees the least recently appended victim, protecting current:
// it deletes a call's stream, or trims the oldest event of a standalone
// stream or of current itself. It reports whether it freed anything.
// Requires s.mu.
func (s *Store) evictOne(victim, current *stream) bool {
	switch {
	case victim == nil:
		return false
	case victim == current || victim.standalone():
		if victim == current && len(victim.data) <= 1 {
			return false // keep the newest event of the stream being written
		}
		s.trimOldest(victim)
	default:
		s.removeStream(victim)
	}
	return true
}

// trimOldest drops the oldest event of st. Requires s.mu.
func (s *Store) trimOldest(st *stream) {
	n := len(st.data[0])
	st.data[0] = nil // the backing array outlives this slice until append grows it
	st.data = st.data[1:]
	st.first++
	s.events--
	s.charge(st, -(eventOverhead + n))
	if len(st.data) == 0 {
		// Only a standalone stream is trimmed to nothing (the current stream
		// keeps its newest event). The next Append lists it again.
		s.lru.remove(st)
		st.sess.lru.remove(st)
	}
}

// removeStream deletes st from its session. Requires s.mu.
func (s *Store) removeStream(st *stream) {
	sess := st.sess
	s.lru.remove(st)
	sess.lru.remove(st)
	delete(sess.streams, st.id)
	s.streams--
	s.events -= len(st.data)
	if !st.standalone() {
		sess.calls--
	}
	s.charge(st, -st.bytes)
}
