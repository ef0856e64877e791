package progressbar

import (
	"strings"
	"testing"
	"time"
)

// fakeClock is a time source that tests move by hand.
type fakeClock struct{ t time.Time }

func newClock() *fakeClock               { return &fakeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)} }
func (c *fakeClock) now() time.Time      { return c.t }
func (c *fakeClock) add(d time.Duration) { c.t = c.t.Add(d) }

func mib(n float64) int64         { return int64(n * (1 << 20)) }
func lastFrame(s string) string   { return s[strings.LastIndex(s, "\r")+1:] }
func frames(s string) int         { return strings.Count(s, "\r") }
func lines(s string) []string     { return strings.Split(strings.TrimSuffix(s, "\n"), "\n") }
func contains(s, sub string) bool { return strings.Contains(s, sub) }

func must(t *testing.T, ok bool, f string, a ...any) {
	t.Helper()
	if !ok {
		t.Fatalf(f, a...)
	}
}

// On a terminal the bar is redrawn in place with bytes, rate and ETA, and
// ends with a newline so the next output starts on its own line.
func TestBar_TerminalRedrawsInPlace(t *testing.T) {
	c := newClock()
	var out strings.Builder
	b := newBar(&out, "report.bin", true, c.now)
	total := mib(20)
	for i := 1; i <= 4; i++ {
		c.add(time.Second)
		b.Update(mib(2)*int64(i), total) // 2 MiB/s
	}
	f := lastFrame(out.String())
	must(t, frames(out.String()) == 4, "want 4 frames, got %q", out.String())
	for _, want := range []string{"report.bin", " 40% [", "8.0 MiB/20.0 MiB", "2.0 MiB/s", "ETA 0:06"} {
		must(t, contains(f, want), "frame %q lacks %q", f, want)
	}
	must(t, strings.Count(f, "=") == barWidth*4/10, "bar fill in %q", f)

	c.add(6 * time.Second)
	b.Update(total, total)
	b.Finish()
	f = lastFrame(out.String())
	must(t, contains(f, "100% [") && contains(f, "20.0 MiB") && contains(f, "in 0:10") && strings.HasSuffix(f, "\n"), "final frame %q", f)
	b.Finish() // twice is harmless
	must(t, strings.Count(out.String(), "\n") == 1, "one newline at the end: %q", out.String())
}

// A shorter frame overwrites the leftovers of a longer one.
func TestBar_TerminalBlanksLeftovers(t *testing.T) {
	c := newClock()
	var out strings.Builder
	b := newBar(&out, "x", true, c.now)
	c.add(time.Second)
	b.Update(mib(900), -1)
	long := len([]rune(lastFrame(out.String())))
	c.add(time.Second)
	b.Update(mib(900)+1, -1)
	must(t, len([]rune(lastFrame(out.String()))) >= long, "frame shorter than the previous one: %q", out.String())
}

// In a pipe: one plain line per tenth crossed, never a \r, the rate, and
// nothing for updates that cross no tenth.
func TestBar_PlainLinesEveryTenth(t *testing.T) {
	c := newClock()
	var out strings.Builder
	b := newBar(&out, "big.iso", false, c.now)
	total := int64(1000)
	for _, sent := range []int64{50, 100, 150, 330, 340, 999, 1000} {
		c.add(time.Second)
		b.Update(sent, total)
	}
	b.Finish()
	got := lines(out.String())
	want := []string{"big.iso:  10%", "big.iso:  30%", "big.iso:  90%", "big.iso: 100%"}
	must(t, len(got) == len(want), "lines:\n%s", out.String())
	for i := range want {
		must(t, strings.HasPrefix(got[i], want[i]), "line %d = %q, want prefix %q", i, got[i], want[i])
	}
	must(t, !contains(out.String(), "\r"), "a \\r in plain output")
	must(t, contains(got[3], "(1000 B of 1000 B, "), "last line %q", got[3])
}

func TestBar_UnknownTotal(t *testing.T) {
	c := newClock()
	var tty, plain strings.Builder
	bt, bp := newBar(&tty, "stream", true, c.now), newBar(&plain, "stream", false, c.now)
	c.add(2 * time.Second)
	bt.Update(mib(4), -1)
	bp.Update(mib(4), -1)
	must(t, contains(tty.String(), "4.0 MiB  2.0 MiB/s"), "tty %q", tty.String())
	must(t, plain.Len() == 0, "plain wrote %q for an unknown total", plain.String())
}

func TestBytesAndClock(t *testing.T) {
	for n, want := range map[int64]string{0: "0 B", 1023: "1023 B", 1536: "1.5 KiB", 20 << 20: "20.0 MiB", 3 << 30: "3.0 GiB"} {
		must(t, Bytes(n) == want, "Bytes(%d) = %q, want %q", n, Bytes(n), want)
	}
	for d, want := range map[time.Duration]string{4 * time.Second: "0:04", 65 * time.Second: "1:05", 3723 * time.Second: "1:02:03"} {
		must(t, clock(d) == want, "clock(%v) = %q", d, clock(d))
	}
}
