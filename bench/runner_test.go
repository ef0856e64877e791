package bench

import (
	"flag"
	"fmt"
	"io"
	"os"
	"sync"
	"testing"
	"text/tabwriter"
)

// loadFlag turns the load measurements (TestLoad*) on: `make load`, or
// `cd bench && go test -run '^TestLoad' -args -load`. They run for minutes
// and print a table; `go test ./...` runs the same code on tiny sizes
// (TestSmoke) instead.
var loadFlag = flag.Bool("load", false, "run the load measurements (TestLoad*) and print their figures")

// runner is what a measurement needs from its caller: a load run, which
// records figures in a table, or TestSmoke, which runs the same code on
// tiny sizes so that it cannot rot between load runs.
type runner interface {
	testing.TB
	// Sub runs f as a named part (a subtest).
	Sub(name string, f func(runner))
	// Report records drivemcp's and the peer's figures.
	Report(ours, peer loadResult)
	// Figure records one figure in unit.
	Figure(v float64, unit string)
}

// loadRunner is a load measurement's runner: its figures go into a table
// printed when the measurement ends.
type loadRunner struct {
	*testing.T
	table *loadTable
}

// newLoadRunner skips t unless -load was given, and prints t's table when
// t ends.
func newLoadRunner(t *testing.T) loadRunner {
	if !*loadFlag {
		t.Skip("a load measurement: run it with make load (bench/README.md)")
	}
	tab := &loadTable{}
	t.Cleanup(func() { tab.print(os.Stdout) })
	return loadRunner{T: t, table: tab}
}

func (l loadRunner) Sub(name string, f func(runner)) {
	l.T.Run(name, func(t *testing.T) { f(loadRunner{T: t, table: l.table}) })
}

func (l loadRunner) Report(ours, peer loadResult) {
	l.Figure(ours.RPS(), "req/s")
	l.Figure(peer.RPS(), "peer-req/s")
	l.Figure(ours.RPS()/peer.RPS(), "ratio")
	l.Figure(ours.Quantile(0.5), "p50-ms")
	l.Figure(ours.Quantile(0.99), "p99-ms")
	l.Figure(peer.Quantile(0.5), "peer-p50-ms")
	l.Figure(peer.Quantile(0.99), "peer-p99-ms")
	l.Figure(ours.CPUPerRequest(), "cpu-µs/req")
	l.Figure(peer.CPUPerRequest(), "peer-cpu-µs/req")
}

func (l loadRunner) Figure(v float64, unit string) { l.table.add(l.Name(), v, unit) }

// loadTable is one measurement's figures, one row per run and unit.
type loadTable struct {
	mu   sync.Mutex
	rows [][3]string
}

func (tab *loadTable) add(run string, v float64, unit string) {
	tab.mu.Lock()
	defer tab.mu.Unlock()
	tab.rows = append(tab.rows, [3]string{run, fmt.Sprintf("%.4g", v), unit})
}

func (tab *loadTable) print(w io.Writer) {
	tab.mu.Lock()
	defer tab.mu.Unlock()
	if len(tab.rows) == 0 {
		return
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "run\tvalue\tunit\t")
	for _, r := range tab.rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t\n", r[0], r[1], r[2])
	}
	_ = tw.Flush()
}

type smokeRunner struct{ *testing.T }

func (t smokeRunner) Sub(name string, f func(runner)) {
	t.T.Run(name, func(t *testing.T) { f(smokeRunner{t}) })
}

func (t smokeRunner) Report(ours, peer loadResult) {
	t.Logf("drivemcp %.0f req/s, peer %.0f req/s (ratio %.2f; tiny run, not a measurement)", ours.RPS(), peer.RPS(), ours.RPS()/peer.RPS())
}

func (t smokeRunner) Figure(v float64, unit string) {
	t.Logf("%.4g %s (tiny run, not a measurement)", v, unit)
}
