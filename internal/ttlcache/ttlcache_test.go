package ttlcache

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// clock is a settable time source.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// source is a store of ints that counts its reads.
type source struct {
	mu     sync.Mutex
	values map[string]int
	reads  int
}

func (s *source) get(key string) func() (int, error) {
	return func() (int, error) {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.reads++
		v, ok := s.values[key]
		if !ok {
			return 0, errors.New("not found")
		}
		return v, nil
	}
}

func (s *source) set(key string, v int) { s.mu.Lock(); s.values[key] = v; s.mu.Unlock() }

func newTestCache(ttl time.Duration, max int) (*Cache[string, int], *clock) {
	clk := &clock{t: time.Unix(1_000_000, 0)}
	return New[string, int](ttl, max, Clock(clk.now)), clk
}

func mustLoad(t *testing.T, c *Cache[string, int], src *source, key string) int {
	t.Helper()
	v, err := c.Load(key, src.get(key), nil)
	if err != nil {
		t.Fatalf("Load(%s): %v", key, err)
	}
	return v
}

func TestBurstReadsOnceUntilTheTTLEnds(t *testing.T) {
	c, clk := newTestCache(time.Second, 10)
	src := &source{values: map[string]int{"a": 1}}
	for range 50 {
		mustLoad(t, c, src, "a")
	}
	if src.reads != 1 {
		t.Fatalf("reads = %d, want 1", src.reads)
	}
	src.set("a", 2) // written elsewhere: seen once the TTL has passed
	clk.add(999 * time.Millisecond)
	if v := mustLoad(t, c, src, "a"); v != 1 {
		t.Fatalf("within the TTL got %d, want the cached 1", v)
	}
	clk.add(time.Millisecond)
	if v := mustLoad(t, c, src, "a"); v != 2 {
		t.Fatalf("after the TTL got %d, want 2", v)
	}
}

func TestForgetAndClearShowTheWriteAtOnce(t *testing.T) {
	c, _ := newTestCache(time.Hour, 10)
	src := &source{values: map[string]int{"a": 1, "b": 1}}
	mustLoad(t, c, src, "a")
	mustLoad(t, c, src, "b")
	src.set("a", 2)
	c.Forget("a")
	if v := mustLoad(t, c, src, "a"); v != 2 {
		t.Fatalf("after Forget got %d, want 2", v)
	}
	reads := src.reads
	mustLoad(t, c, src, "b") // another key stays cached
	if src.reads != reads {
		t.Fatal("Forget(a) dropped b")
	}
	src.set("b", 2)
	c.Clear()
	if v := mustLoad(t, c, src, "b"); v != 2 {
		t.Fatalf("after Clear got %d, want 2", v)
	}
}

// A read that began before a write and ends after the write's Forget would
// put the old value back; it must not be kept.
func TestReadRacingAWriteIsNotKept(t *testing.T) {
	for _, drop := range []string{"Forget", "Clear"} {
		t.Run(drop, func(t *testing.T) {
			c, _ := newTestCache(time.Hour, 10)
			src := &source{values: map[string]int{"a": 1}}
			v, err := c.Load("a", func() (int, error) {
				old, err := src.get("a")()
				src.set("a", 2) // the write commits while the old value is in flight
				if drop == "Forget" {
					c.Forget("a")
				} else {
					c.Clear()
				}
				return old, err
			}, nil)
			if err != nil || v != 1 {
				t.Fatalf("racing Load = %d, %v", v, err)
			}
			if v := mustLoad(t, c, src, "a"); v != 2 {
				t.Fatalf("the next Load got the stale %d", v)
			}
		})
	}
}

func TestErrorsAndRefusedValuesAreNotKept(t *testing.T) {
	c, _ := newTestCache(time.Hour, 10)
	src := &source{values: map[string]int{"odd": 1}}
	for range 3 {
		if _, err := c.Load("missing", src.get("missing"), nil); err == nil {
			t.Fatal("no error for a missing key")
		}
		if _, err := c.Load("odd", src.get("odd"), func(v int) bool { return v%2 == 0 }); err != nil {
			t.Fatal(err)
		}
	}
	if src.reads != 6 {
		t.Fatalf("reads = %d, want 6 (nothing kept)", src.reads)
	}
}

func TestNegativeTTLTurnsCachingOff(t *testing.T) {
	c, _ := newTestCache(-1, 10)
	src := &source{values: map[string]int{"a": 1}}
	mustLoad(t, c, src, "a")
	mustLoad(t, c, src, "a")
	if src.reads != 2 || c.Len() != 0 {
		t.Fatalf("reads = %d, entries = %d; want 2 and 0", src.reads, c.Len())
	}
}

func TestBounded(t *testing.T) {
	c, clk := newTestCache(time.Second, 100)
	src := &source{values: map[string]int{}}
	for i := range 250 {
		k := fmt.Sprint(i)
		src.set(k, i)
		mustLoad(t, c, src, k)
		if i == 120 {
			clk.add(2 * time.Second) // what is older expires and goes first
		}
		if n := c.Len(); n > 100 {
			t.Fatalf("%d entries, bound is 100", n)
		}
	}
}

func TestConcurrentUse(t *testing.T) {
	c := New[string, int](time.Millisecond, 8)
	src := &source{values: map[string]int{}}
	for i := range 16 {
		src.set(fmt.Sprint(i), i)
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 2000 {
				k := fmt.Sprint((g + i) % 16)
				if v, err := c.Load(k, src.get(k), nil); err != nil || fmt.Sprint(v) != k {
					t.Errorf("Load(%s) = %d, %v", k, v, err)
					return
				}
				if i%97 == 0 {
					c.Forget(k)
				}
				if i%501 == 0 {
					c.Clear()
				}
			}
		})
	}
	wg.Wait()
}

// A value whose loader says how long it stays valid (a document's own
// Cache-Control) is kept exactly that long, whatever the cache's TTL; a
// lifetime of zero keeps nothing.
func TestLoadFor_KeepsEachValueForItsOwnLifetime(t *testing.T) {
	c, clk := newTestCache(time.Second, 10)
	reads := 0
	load := func(lifetime time.Duration) func() (int, time.Duration, error) {
		return func() (int, time.Duration, error) { reads++; return reads, lifetime, nil }
	}
	if v, _ := c.LoadFor("long", load(time.Hour)); v != 1 {
		t.Fatalf("first load %d", v)
	}
	clk.add(59 * time.Minute)
	if v, _ := c.LoadFor("long", load(time.Hour)); v != 1 {
		t.Errorf("within its hour: read again (%d)", v)
	}
	clk.add(time.Minute)
	if v, _ := c.LoadFor("long", load(time.Hour)); v != 2 {
		t.Errorf("after its hour: %d, want a new read", v)
	}
	c.LoadFor("never", load(0))
	if v, _ := c.LoadFor("never", load(0)); v != 4 {
		t.Errorf("a zero lifetime was kept (%d)", v)
	}
}

func TestForgetFunc_DropsOnlyTheKeysItAccepts(t *testing.T) {
	c := New[string, int](time.Minute, 10)
	for i, k := range []string{"a/1", "a/2", "b/1"} {
		_, _ = c.Load(k, func() (int, error) { return i, nil }, nil)
	}
	c.ForgetFunc(func(k string) bool { return strings.HasPrefix(k, "a/") })
	if c.Len() != 1 {
		t.Fatalf("%d entries left, want b/1 only", c.Len())
	}
	loads := 0
	_, _ = c.Load("b/1", func() (int, error) { loads++; return 0, nil }, nil)
	if loads != 0 {
		t.Fatal("b/1 was dropped too")
	}
}
