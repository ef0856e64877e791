package bench

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// A load is a closed-loop HTTP/1.1 load: Conns keep-alive connections, each
// sending its next request as soon as the previous answer has been read,
// until Requests have been sent or Duration has passed, whichever comes
// first (every loop here is bounded in both count and time).
//
// It speaks HTTP/1.1 on raw connections with pre-built requests instead of
// using net/http's client: on two shared cores the load generator competes
// with the server it measures, so it must cost as little as it can, and the
// same for every server measured (wrk's approach, in Go).
type load struct {
	Addr     string        // host:port on loopback
	Conns    int           // concurrent connections
	Duration time.Duration // upper bound on the measured run
	Requests int           // upper bound on requests sent; also the number of distinct requests Request may be asked for
	Warmup   time.Duration // unmeasured run before, on the same connections (0: none)
	// WarmupRequests, if positive, also ends the warm-up after that many
	// requests; they count against Requests.
	WarmupRequests int
	// Request returns the i-th request's bytes (0 ≤ i < Requests); the
	// same slice may be returned for every i.
	Request func(i int) []byte
	// Check judges the i-th request's answer; an error counts it as failed
	// (the first few are kept for the report). It may run concurrently.
	Check func(i, status int, body []byte) error
	// PID, if set, is the server's process: its CPU time during the
	// measured run is reported.
	PID int
	// Rate, if positive, makes the load open-loop: requests are sent on a
	// fixed schedule of Rate per second in all (each connection its share,
	// as soon as its previous answer is in if it is late), and a latency
	// is counted from when the request was due, not when it went out, so
	// a server that falls behind is charged for the wait (no coordinated
	// omission).
	Rate float64
}

// loadResult is what one run measured.
type loadResult struct {
	OK, Failed int
	Elapsed    time.Duration
	ServerCPU  time.Duration   // CPU time the server used during the run (if PID was set)
	LoadCPU    time.Duration   // CPU time this process (the load generator) used during the run
	Latencies  []time.Duration // of the successful requests, sorted
	FirstErrs  []string
}

func (r loadResult) RPS() float64 { return float64(r.OK) / r.Elapsed.Seconds() }

// add is r and o together, as one run of both's length.
func (r loadResult) add(o loadResult) loadResult {
	r.OK += o.OK
	r.Failed += o.Failed
	r.Elapsed += o.Elapsed
	r.ServerCPU += o.ServerCPU
	r.LoadCPU += o.LoadCPU
	r.Latencies = append(slices.Clone(r.Latencies), o.Latencies...)
	slices.Sort(r.Latencies)
	r.FirstErrs = append(r.FirstErrs, o.FirstErrs...)
	return r
}

// CPUPerRequest is the server's CPU time per successful request, in µs.
func (r loadResult) CPUPerRequest() float64 {
	return float64(r.ServerCPU.Microseconds()) / float64(max(r.OK, 1))
}

// LoadCPUPerRequest is the load generator's CPU time per request, in µs:
// what the server under test did not have of the machine.
func (r loadResult) LoadCPUPerRequest() float64 {
	return float64(r.LoadCPU.Microseconds()) / float64(max(r.OK, 1))
}

// Quantile is the q-th latency (0 < q ≤ 1) in milliseconds.
func (r loadResult) Quantile(q float64) float64 {
	if len(r.Latencies) == 0 {
		return 0
	}
	i := min(len(r.Latencies)-1, int(float64(len(r.Latencies))*q))
	return float64(r.Latencies[i].Microseconds()) / 1000
}

func (r loadResult) String() string {
	s := fmt.Sprintf("%d ok, %d failed in %v: %.0f req/s, p50 %.2f ms, p99 %.2f ms, server CPU %.0f µs/req, load generator CPU %.0f µs/req",
		r.OK, r.Failed, r.Elapsed.Round(time.Millisecond), r.RPS(), r.Quantile(0.5), r.Quantile(0.99), r.CPUPerRequest(), r.LoadCPUPerRequest())
	if len(r.FirstErrs) > 0 {
		s += fmt.Sprintf(" (first errors: %q)", r.FirstErrs)
	}
	return s
}

// Run runs the load; it fails only if no connection can be made.
func (l load) Run(ctx context.Context) (loadResult, error) {
	conns := make([]*loadConn, l.Conns)
	for i := range conns {
		c, err := dialLoad(l.Addr)
		if err != nil {
			for _, c := range conns[:i] {
				c.Close()
			}
			return loadResult{}, err
		}
		conns[i] = c
	}
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	var next atomic.Int64
	if l.Warmup > 0 {
		// Warm-up requests are taken from the same numbering, so
		// single-use requests (codes, refresh tokens) are never sent twice.
		limit := l.Requests
		if l.WarmupRequests > 0 {
			limit = min(limit, l.WarmupRequests)
		}
		l.run(ctx, conns, &next, l.Warmup, limit)
	}
	cpu0, self0 := l.cpu(), ownCPU()
	start := time.Now()
	parts := l.run(ctx, conns, &next, l.Duration, l.Requests)
	res := loadResult{Elapsed: time.Since(start), ServerCPU: l.cpu() - cpu0, LoadCPU: ownCPU() - self0}
	for _, p := range parts {
		res.OK += len(p.Latencies)
		res.Failed += p.Failed
		res.Latencies = append(res.Latencies, p.Latencies...)
		if len(res.FirstErrs) < 3 {
			res.FirstErrs = append(res.FirstErrs, p.FirstErrs...)
		}
	}
	slices.Sort(res.Latencies)
	return res, nil
}

func (l load) cpu() time.Duration {
	if l.PID == 0 {
		return 0
	}
	d, _ := processCPU(l.PID)
	return d
}

// run drives every connection until the deadline or the last request and
// returns what each one measured.
func (l load) run(ctx context.Context, conns []*loadConn, next *atomic.Int64, d time.Duration, limit int) []loadResult {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	parts := make([]loadResult, len(conns))
	var wg sync.WaitGroup
	start := time.Now()
	var interval time.Duration // between one connection's requests, open-loop
	if l.Rate > 0 {
		interval = time.Duration(float64(len(conns)) / l.Rate * float64(time.Second))
	}
	for k, c := range conns {
		wg.Go(func() {
			p := &parts[k]
			due := start.Add(interval * time.Duration(k) / time.Duration(len(conns)))
			for ctx.Err() == nil {
				if interval > 0 {
					if wait := time.Until(due); wait > 0 {
						select {
						case <-time.After(wait):
						case <-ctx.Done():
							return
						}
					}
				}
				i := int(next.Add(1) - 1)
				if i >= limit {
					next.Add(-1) // not sent: the next phase may send it
					return
				}
				t0 := time.Now()
				if interval > 0 {
					t0 = due
					due = due.Add(interval)
				}
				status, body, err := c.Do(l.Request(i))
				lat := time.Since(t0)
				if err == nil {
					err = l.Check(i, status, body)
				}
				if err != nil {
					p.Failed++
					if len(p.FirstErrs) < 1 {
						p.FirstErrs = append(p.FirstErrs, err.Error())
					}
					continue
				}
				p.Latencies = append(p.Latencies, lat)
			}
		})
	}
	wg.Wait()
	return parts
}

// loadConn is one keep-alive connection; it redials when the server closes it.
type loadConn struct {
	addr string
	conn net.Conn
	br   *bufio.Reader
	body bytes.Buffer
}

func dialLoad(addr string) (*loadConn, error) {
	c := &loadConn{addr: addr}
	return c, c.dial()
}

func (c *loadConn) dial() error {
	conn, err := net.DialTimeout("tcp", c.addr, 5*time.Second)
	if err != nil {
		return err
	}
	c.conn, c.br = conn, bufio.NewReaderSize(conn, 16<<10)
	return nil
}

// Do sends one request and reads the whole answer.
func (c *loadConn) Do(req []byte) (int, []byte, error) {
	if c.conn == nil {
		if err := c.dial(); err != nil {
			return 0, nil, err
		}
	}
	_ = c.conn.SetDeadline(time.Now().Add(30 * time.Second))
	if _, err := c.conn.Write(req); err != nil {
		c.Close()
		return 0, nil, err
	}
	resp, err := http.ReadResponse(c.br, nil)
	if err != nil {
		c.Close()
		return 0, nil, err
	}
	c.body.Reset()
	_, err = io.Copy(&c.body, resp.Body)
	resp.Body.Close()
	if err != nil || resp.Close {
		c.Close()
	}
	return resp.StatusCode, c.body.Bytes(), err
}

func (c *loadConn) Close() {
	if c.conn != nil {
		c.conn.Close()
		c.conn = nil
	}
}

// rawRequest builds an HTTP/1.1 request's bytes.
func rawRequest(method, host, path string, header http.Header, body []byte) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\nHost: %s\r\n", method, path, host)
	for k, vs := range header {
		for _, v := range vs {
			fmt.Fprintf(&b, "%s: %s\r\n", k, v)
		}
	}
	if body != nil {
		fmt.Fprintf(&b, "Content-Length: %d\r\n", len(body))
	}
	b.WriteString("\r\n")
	b.Write(body)
	return b.Bytes()
}

// processCPU is the CPU time a process has used so far (user + system), read
// from /proc: with the load generator and the server sharing two cores, the
// server's CPU time per request is the figure that noise moves least.
func processCPU(pid int) (time.Duration, error) {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name (field 2) may hold spaces: count fields after its ')'.
	s := string(raw)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(fields) < 13 {
		return 0, fmt.Errorf("/proc/%d/stat: too few fields", pid)
	}
	utime, err1 := strconv.ParseInt(fields[11], 10, 64)
	stime, err2 := strconv.ParseInt(fields[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, err
	}
	return time.Duration(utime+stime) * time.Second / clockTicks, nil
}

// ownCPU is this process's CPU time so far.
func ownCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// clockTicks is USER_HZ, the unit of /proc's CPU times: 100 on Linux.
const clockTicks = 100

// cpuUse is where one arm of the upload benchmark spent CPU: in the client
// (drivemcp, or curl) and in this process, which runs the emulator.
type cpuUse struct{ client, emulator time.Duration }

func (u *cpuUse) add(v cpuUse) { u.client += v.client; u.emulator += v.emulator }

// cpuMeter measures a span: this process's CPU time, its waited-for
// children's (curl), and a running process's (drivemcp; pid 0: none).
type cpuMeter struct {
	tb                  testing.TB
	pid                 int
	self, children, run time.Duration
}

func measureCPU(tb testing.TB, pid int) cpuMeter {
	m := cpuMeter{tb: tb, pid: pid}
	m.self, m.children, m.run = m.read()
	return m
}

func (m cpuMeter) read() (self, children, run time.Duration) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		m.tb.Fatal(err)
	}
	self = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	if err := syscall.Getrusage(syscall.RUSAGE_CHILDREN, &ru); err != nil {
		m.tb.Fatal(err)
	}
	children = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	if m.pid != 0 {
		var err error
		if run, err = processCPU(m.pid); err != nil {
			m.tb.Fatal(err)
		}
	}
	return self, children, run
}

// stop ends the span: the client is the running process if one was named,
// else the children that ended in it.
func (m cpuMeter) stop() cpuUse {
	self, children, run := m.read()
	u := cpuUse{emulator: self - m.self, client: children - m.children}
	if m.pid != 0 {
		u.client = run - m.run
	}
	return u
}
