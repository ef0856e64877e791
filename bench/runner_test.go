package bench

import "testing"

// runner is what a measurement needs from its caller: a benchmark, which
// reports metrics, or TestSmoke, which runs the same code on tiny sizes so
// that it cannot rot between benchmark runs.
type runner interface {
	testing.TB
	// Sub runs f as a named part (a sub-benchmark or a subtest).
	Sub(name string, f func(runner))
	// Report records drivemcp's and the peer's figures.
	Report(ours, peer loadResult)
}

type benchRunner struct{ *testing.B }

func (b benchRunner) Sub(name string, f func(runner)) {
	b.B.Run(name, func(b *testing.B) { f(benchRunner{b}) })
}

func (b benchRunner) Report(ours, peer loadResult) { reportLoad(b.B, ours, peer) }

type smokeRunner struct{ *testing.T }

func (t smokeRunner) Sub(name string, f func(runner)) {
	t.T.Run(name, func(t *testing.T) { f(smokeRunner{t}) })
}

func (t smokeRunner) Report(ours, peer loadResult) {
	t.Logf("drivemcp %.0f req/s, peer %.0f req/s (ratio %.2f; tiny run, not a measurement)", ours.RPS(), peer.RPS(), ours.RPS()/peer.RPS())
}
