package logsink

import (
	"bytes"
	"fmt"
	"strings"
	"sync"
	"testing"
)

// lockedBuffer is an out that records every write it gets.
type lockedBuffer struct {
	mu     sync.Mutex
	b      bytes.Buffer
	writes int
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.writes++
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// Every line written by many goroutines arrives whole, each goroutine's
// lines in the order it wrote them, and nothing is lost on Close.
func TestWriter_LinesArriveWholeInOrderAndAllOfThem(t *testing.T) {
	out := &lockedBuffer{}
	w := New(out, Options{MaxPending: 1 << 10})
	const writers, lines = 8, 2000
	var wg sync.WaitGroup
	for g := range writers {
		wg.Go(func() {
			for i := range lines {
				fmt.Fprintf(w, "g%d line %d\n", g, i)
			}
		})
	}
	wg.Wait()
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	next := make([]int, writers)
	got := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(got) != writers*lines {
		t.Fatalf("%d lines arrived, want %d", len(got), writers*lines)
	}
	for _, l := range got {
		var g, i int
		if _, err := fmt.Sscanf(l, "g%d line %d", &g, &i); err != nil {
			t.Fatalf("torn line %q", l)
		}
		if i != next[g] {
			t.Fatalf("goroutine %d: line %d arrived when %d was due", g, i, next[g])
		}
		next[g]++
	}
	if out.writes >= writers*lines {
		t.Errorf("%d writes for %d lines: nothing was batched", out.writes, writers*lines)
	}
}

// gate is an out that holds every write until released.
type gate struct {
	lockedBuffer
	entered chan struct{}
	release chan struct{}
}

func (g *gate) Write(p []byte) (int, error) {
	g.entered <- struct{}{}
	<-g.release
	return g.lockedBuffer.Write(p)
}

// An output that stops taking writes (a full pipe) must not make the
// process buffer logs without bound: once MaxPending bytes wait, writers
// wait too.
func TestWriter_StuckOutputDoesNotGrowMemoryWithoutBound(t *testing.T) {
	out := &gate{entered: make(chan struct{}), release: make(chan struct{})}
	w := New(out, Options{MaxPending: 64})
	waiting := make(chan struct{}, 1)
	w.onWait = func() {
		select {
		case waiting <- struct{}{}:
		default:
		}
	}
	line := []byte(strings.Repeat("x", 31) + "\n") // 32 bytes
	_, _ = w.Write(line)
	<-out.entered // the goroutine holds the first line in a stuck write
	_, _ = w.Write(line)
	_, _ = w.Write(line) // 64 bytes waiting: full
	blocked := make(chan struct{})
	go func() {
		_, _ = w.Write(line)
		close(blocked)
	}()
	<-waiting // the fourth write waits for room
	w.mu.Lock()
	pending := len(w.buf)
	w.mu.Unlock()
	select {
	case <-blocked:
		t.Fatal("a write returned with the buffer full and the output stuck")
	default:
	}
	if pending > 64 {
		t.Fatalf("%d bytes waiting, bound is 64", pending)
	}
	close(out.release) // the output moves again
	go func() {
		for range out.entered {
		}
	}()
	<-blocked
	w.Close()
	close(out.entered)
	if got := strings.Count(out.String(), "\n"); got != 4 {
		t.Errorf("%d lines written, want 4", got)
	}
}

// Flush waits for what was written before it; writes after Close go
// straight through, after everything that came before.
func TestWriter_FlushAndClose(t *testing.T) {
	out := &lockedBuffer{}
	w := New(out, Options{})
	fmt.Fprint(w, "a\n")
	w.Flush()
	if out.String() != "a\n" {
		t.Fatalf("after Flush: %q", out.String())
	}
	fmt.Fprint(w, "b\n")
	w.Close()
	w.Close() // twice is fine
	fmt.Fprint(w, "c\n")
	if out.String() != "a\nb\nc\n" {
		t.Fatalf("after Close: %q", out.String())
	}
}

func BenchmarkWriter(b *testing.B) {
	line := []byte(`{"time":"2026-12-06T15:16:11.241625564Z","level":"INFO","msg":"http request","request_id":"b3ee6b4b2dfa6f79","method":"POST","path":"/mcp","route":"/mcp","status":200,"bytes":705,"duration_ms":0.502}` + "\n")
	b.Run("sink", func(b *testing.B) {
		w := New(discard{}, Options{})
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				_, _ = w.Write(line)
			}
		})
		w.Close()
	})
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }
