// Package logsink takes the write of each log line off the request that
// logs it: lines are appended to a buffer in memory and one goroutine
// writes what has gathered at most Delay after the first of them (or at
// once when FlushAt bytes wait), so many lines go out in one write instead
// of a system call per line, and an idle server wakes for nothing. drivemcp logs one line per HTTP
// request (internal/reqlog); written straight to stderr that system call
// was about a tenth of a tool call's CPU (bench/README.md).
//
// Order is kept: lines go out in the order they were written, and after
// Close every write goes straight through. Memory is bounded: a writer
// that finds MaxPending bytes already waiting waits for the goroutine to
// take them (the output is slower than the logging: back-pressure, as a
// direct write would block). What a crash (a panic, SIGKILL) can lose is
// what was written in the last Delay before it; Close, which serve calls
// on every way out, loses nothing.
package logsink

import (
	"io"
	"sync"
	"time"
)

// Defaults for Options left zero.
const (
	// DefaultDelay is the longest a line waits: short enough that a person
	// tailing the log sees nothing of it.
	DefaultDelay = 20 * time.Millisecond
	// DefaultFlushAt is how many waiting bytes are written without waiting
	// for the delay.
	DefaultFlushAt = 64 << 10
	// DefaultMaxPending is how many bytes may wait before writers wait.
	DefaultMaxPending = 256 << 10
)

// Options tune a Writer; zero values take the defaults.
type Options struct {
	Delay      time.Duration
	FlushAt    int
	MaxPending int
}

// Writer is an io.Writer that hands its bytes to out from one goroutine.
// It is safe for concurrent use.
type Writer struct {
	out                 io.Writer
	delay               time.Duration
	flushAt, maxPending int

	mu      sync.Mutex
	cond    *sync.Cond // a batch was taken or written, or Close began
	buf     []byte     // waiting to be written
	spare   []byte     // the other buffer, reused
	queued  uint64     // bytes accepted by Write
	written uint64     // bytes handed to out
	closed  bool

	onWait func() // tests: a writer is about to wait for room

	wake     chan struct{} // a batch has begun (capacity 1)
	urgent   chan struct{} // write now: FlushAt reached, or Flush (capacity 1)
	stop     chan struct{}
	stopOnce sync.Once // Close may be called from two goroutines
	done     chan struct{}
}

// New starts a Writer in front of out.
func New(out io.Writer, o Options) *Writer {
	if o.Delay <= 0 {
		o.Delay = DefaultDelay
	}
	if o.MaxPending <= 0 {
		o.MaxPending = DefaultMaxPending
	}
	if o.FlushAt <= 0 || o.FlushAt > o.MaxPending {
		o.FlushAt = min(DefaultFlushAt, o.MaxPending)
	}
	w := &Writer{out: out, delay: o.Delay, flushAt: o.FlushAt, maxPending: o.MaxPending,
		wake: make(chan struct{}, 1), urgent: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
	w.cond = sync.NewCond(&w.mu)
	go w.run()
	return w
}

// Write queues p (copied) and returns at once, unless maxPending bytes
// are already waiting.
func (w *Writer) Write(p []byte) (int, error) {
	w.mu.Lock()
	for !w.closed && len(w.buf) > 0 && len(w.buf)+len(p) > w.maxPending {
		if w.onWait != nil {
			w.onWait()
		}
		w.cond.Wait()
	}
	if w.closed {
		defer w.mu.Unlock() // in order with other late writes
		return w.out.Write(p)
	}
	first := len(w.buf) == 0
	w.buf = append(w.buf, p...)
	w.queued += uint64(len(p))
	full := len(w.buf) >= w.flushAt
	w.mu.Unlock()
	switch {
	case full:
		signal(w.urgent)
	case first:
		signal(w.wake)
	}
	return len(p), nil
}

// signal sends on a channel of capacity 1 unless a signal already waits.
func signal(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

// Flush returns once everything written before it has been handed to out.
func (w *Writer) Flush() {
	w.mu.Lock()
	defer w.mu.Unlock()
	target := w.queued
	signal(w.urgent)
	for w.written < target && !w.closed {
		w.cond.Wait()
	}
}

// Close writes what is waiting and stops the goroutine; later writes go
// straight to out. It does not close out.
func (w *Writer) Close() error {
	w.stopOnce.Do(func() { close(w.stop) })
	<-w.done
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.closed {
		w.closed = true
		if len(w.buf) > 0 { // written between the goroutine's last look and now
			_, _ = w.out.Write(w.buf)
			w.written += uint64(len(w.buf))
			w.buf = nil
		}
		w.cond.Broadcast()
	}
	return nil
}

func (w *Writer) run() {
	defer close(w.done)
	timer := time.NewTimer(w.delay)
	timer.Stop()
	for {
		select {
		case <-w.wake: // the first line of a batch: give it Delay to grow
			timer.Reset(w.delay)
			select {
			case <-timer.C:
			case <-w.urgent:
				timer.Stop()
			case <-w.stop:
				w.drain()
				return
			}
			w.drain()
		case <-w.urgent:
			w.drain()
		case <-w.stop:
			w.drain()
			return
		}
	}
}

// drain writes batches until nothing waits.
func (w *Writer) drain() {
	for {
		w.mu.Lock()
		b := w.buf
		if len(b) == 0 {
			w.mu.Unlock()
			return
		}
		w.buf, w.spare = w.spare[:0], nil
		w.cond.Broadcast() // room again for writers that waited
		w.mu.Unlock()

		_, _ = w.out.Write(b) // a log line has nowhere to report a failed write

		w.mu.Lock()
		w.written += uint64(len(b))
		if cap(b) <= 4*w.maxPending {
			w.spare = b[:0]
		}
		w.cond.Broadcast()
		w.mu.Unlock()
	}
}
