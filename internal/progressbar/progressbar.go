// Package progressbar shows how a long transfer is going on a terminal: a
// bar redrawn in place with bytes, rate and time left. When the output is a
// file or a pipe (a log, CI), it writes a plain line every tenth of the way
// instead, so logs stay readable and short.
package progressbar

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"
)

// barWidth is the number of cells of the bar itself; the whole line stays
// within 80 columns for names up to 24 characters.
const barWidth = 24

// rateWindow is how far back the transfer rate looks: long enough to smooth
// out chunked sends, short enough to follow a network that changes speed.
const rateWindow = 5 * time.Second

// Bar reports one transfer. Update has the signature of drive.Progress. A
// Bar is safe for use by one uploader goroutine and the caller at once.
type Bar struct {
	w    io.Writer
	name string
	tty  bool
	now  func() time.Time

	mu       sync.Mutex
	start    time.Time
	samples  []sample // within rateWindow, oldest first
	lastLen  int      // terminal: length of the line drawn last
	lastTen  int      // plain: the last tenth written (0% is not)
	drawn    bool
	finished bool
}

type sample struct {
	at   time.Time
	sent int64
}

// New starts a report of the transfer called name on w. tty chooses the
// redrawn bar (see IsTerminal) over plain lines.
func New(w io.Writer, name string, tty bool) *Bar {
	return newBar(w, name, tty, time.Now)
}

func newBar(w io.Writer, name string, tty bool, now func() time.Time) *Bar {
	return &Bar{w: w, name: name, tty: tty, now: now, start: now()}
}

// Update reports that sent of total bytes are done (total -1 when unknown).
func (b *Bar) Update(sent, total int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.finished {
		return
	}
	now := b.now()
	b.samples = append(b.samples, sample{now, sent})
	for len(b.samples) > 2 && now.Sub(b.samples[1].at) >= rateWindow {
		b.samples = b.samples[1:]
	}
	if b.tty {
		b.draw(b.line(sent, total, now))
		return
	}
	if total <= 0 {
		return // nothing sensible to say a tenth of
	}
	ten := int(sent * 10 / total)
	if ten <= b.lastTen {
		return
	}
	b.lastTen = ten
	fmt.Fprintf(b.w, "%s: %3d%% (%s of %s, %s)\n", b.name, ten*10, Bytes(sent), Bytes(total), rate(b.rate(now)))
}

// Finish ends the report; on a terminal it moves past the bar. Call it once
// the transfer has ended, whether it succeeded or not.
func (b *Bar) Finish() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.finished {
		return
	}
	b.finished = true
	if b.tty && b.drawn {
		fmt.Fprintln(b.w)
	}
}

// line is the terminal bar:
//
//	report.bin   45% [==========>           ]  9.0 MiB/20.0 MiB  3.2 MiB/s  ETA 0:04
func (b *Bar) line(sent, total int64, now time.Time) string {
	r := b.rate(now)
	name := b.name
	if len([]rune(name)) > 24 {
		name = string([]rune(name)[:23]) + "…"
	}
	if total <= 0 {
		return fmt.Sprintf("%-24s %s  %s", name, Bytes(sent), rate(r))
	}
	frac := float64(sent) / float64(total)
	fill := int(frac * barWidth)
	bar := strings.Repeat("=", fill)
	if fill < barWidth {
		bar += ">" + strings.Repeat(" ", barWidth-fill-1)
	}
	if sent >= total {
		return fmt.Sprintf("%-24s 100%% [%s] %s  %s  in %s", name, bar, Bytes(total), rate(r), clock(now.Sub(b.start)))
	}
	eta := "--:--"
	if r > 0 {
		eta = clock(time.Duration(float64(total-sent) / r * float64(time.Second)))
	}
	return fmt.Sprintf("%-24s %3d%% [%s] %s/%s  %s  ETA %s", name, int(frac*100), bar, Bytes(sent), Bytes(total), rate(r), eta)
}

// draw replaces the line on the terminal.
func (b *Bar) draw(s string) {
	pad := ""
	if n := len([]rune(s)); n < b.lastLen {
		pad = strings.Repeat(" ", b.lastLen-n)
	}
	fmt.Fprintf(b.w, "\r%s%s", s, pad)
	b.lastLen = len([]rune(s))
	b.drawn = true
}

// rate is bytes per second over the recent window (since the start while
// the window is young).
func (b *Bar) rate(now time.Time) float64 {
	if len(b.samples) == 0 {
		return 0
	}
	first, last := b.samples[0], b.samples[len(b.samples)-1]
	if len(b.samples) == 1 || last.at.Sub(first.at) < time.Second {
		first = sample{b.start, 0}
	}
	d := now.Sub(first.at).Seconds()
	if d <= 0 {
		return 0
	}
	return float64(last.sent-first.sent) / d
}

func rate(bytesPerSecond float64) string {
	if bytesPerSecond <= 0 {
		return "-- B/s"
	}
	return Bytes(int64(bytesPerSecond)) + "/s"
}

// clock formats a duration as m:ss, or h:mm:ss past an hour.
func clock(d time.Duration) string {
	s := int64(d.Round(time.Second) / time.Second)
	if s >= 3600 {
		return fmt.Sprintf("%d:%02d:%02d", s/3600, s/60%60, s%60)
	}
	return fmt.Sprintf("%d:%02d", s/60, s%60)
}

// Bytes formats a size in binary units: 512 B, 1.5 KiB, 20.0 MiB.
func Bytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

// IsTerminal reports whether w is a terminal (a character device), where a
// bar redrawn with \r makes sense.
func IsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0 && os.Getenv("TERM") != "dumb"
}
