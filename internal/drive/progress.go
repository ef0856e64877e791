package drive

import "time"

// Progress is told how many source bytes have been sent so far (a resend
// does not count twice) and the total (-1 while unknown). Calls are
// serialized, never go backwards, and come at most every 250 ms, plus a
// final (total, total) on success. It may be called from the goroutine
// writing the request, so it must be quick.
type Progress func(sent, total int64)

const progressInterval = 250 * time.Millisecond

// progressReporter throttles calls to a Progress. It is only ever used by one
// goroutine at a time (request bodies hand it over under their lock).
type progressReporter struct {
	fn     Progress
	now    func() time.Time
	last   int64
	lastAt time.Time
}

func newProgressReporter(fn Progress) *progressReporter {
	return &progressReporter{fn: fn, now: time.Now, last: -1}
}

// update reports sent if it moved and the last report is old enough.
func (p *progressReporter) update(sent, total int64) {
	if p.fn == nil || sent <= p.last {
		return
	}
	now := p.now()
	if !p.lastAt.IsZero() && now.Sub(p.lastAt) < progressInterval {
		return
	}
	p.last, p.lastAt = sent, now
	p.fn(sent, total)
}

// done reports completion, unthrottled.
func (p *progressReporter) done(total int64) {
	if p.fn == nil {
		return
	}
	p.last, p.lastAt = total, p.now()
	p.fn(total, total)
}
