package httpguard

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/drivemcp/drivemcp/internal/e2etest"
)

func TestDrain_FinishesCallsInFlightAndRefusesNewOnes(t *testing.T) {
	d := NewDrain()
	release := make(chan struct{})
	started := make(chan struct{})
	slow := d.Middleware(func(ctx context.Context, method string, req mcp.Request) (mcp.Result, error) {
		close(started)
		select {
		case <-release:
			return &mcp.CallToolResult{}, nil
		case <-ctx.Done():
			return nil, context.Cause(ctx)
		}
	})
	result := make(chan error, 1)
	go func() {
		_, err := slow(context.Background(), "tools/call", nil)
		result <- err
	}()
	<-started
	stopped := make(chan int, 1)
	go func() { stopped <- d.Stop(context.Background()) }()
	// Stop waits for the call in flight…
	select {
	case <-stopped:
		t.Fatal("Stop returned while a call was running")
	case <-time.After(50 * time.Millisecond):
	}
	// …while new calls are refused with a tool error, and other methods pass.
	res, err := d.Middleware(func(context.Context, string, mcp.Request) (mcp.Result, error) {
		t.Fatal("a new tool call ran during the drain")
		return nil, nil
	})(context.Background(), "tools/call", nil)
	if r, ok := res.(*mcp.CallToolResult); err != nil || !ok || !r.IsError || !strings.Contains(e2etest.ResultText(r), "shutting down") {
		t.Fatalf("new call during the drain: %v %v", res, err)
	}
	ran := false
	_, _ = d.Middleware(func(context.Context, string, mcp.Request) (mcp.Result, error) { ran = true; return nil, nil })(context.Background(), "tools/list", nil)
	if !ran {
		t.Fatal("tools/list was refused during the drain")
	}
	close(release)
	if err := <-result; err != nil {
		t.Fatalf("the call in flight: %v", err)
	}
	if n := <-stopped; n != 0 {
		t.Fatalf("Stop cancelled %d calls, want none", n)
	}
}

func TestDrain_CancelsStragglersAtTheDeadline(t *testing.T) {
	d := NewDrain()
	started := make(chan struct{})
	stuck := d.Middleware(func(ctx context.Context, method string, req mcp.Request) (mcp.Result, error) {
		close(started)
		<-ctx.Done()
		return nil, context.Cause(ctx)
	})
	result := make(chan error, 1)
	go func() {
		_, err := stuck(context.Background(), "tools/call", nil)
		result <- err
	}()
	<-started
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	if n := d.Stop(ctx); n != 1 {
		t.Fatalf("Stop cancelled %d calls, want 1", n)
	}
	if err := <-result; !errors.Is(err, errShuttingDown) {
		t.Fatalf("the straggler ended with %v, want errShuttingDown", err)
	}
}

func TestDrain_StopWithNothingRunningReturnsAtOnce(t *testing.T) {
	d := NewDrain()
	done := make(chan int, 1)
	go func() { done <- d.Stop(context.Background()) }()
	select {
	case n := <-done:
		if n != 0 {
			t.Fatalf("cancelled %d", n)
		}
	case <-time.After(time.Second):
		t.Fatal("Stop waited with nothing running")
	}
}

// A stopping stdio server waits for its last answers to be written: at
// least quiet after it starts waiting, longer while writes go on, never
// more than max.
func TestQuietWriter_WaitsForWritesToStop(t *testing.T) {
	w := &quietWriter{Writer: io.Discard}
	start := time.Now()
	w.waitQuiet(50*time.Millisecond, time.Second)
	if d := time.Since(start); d < 50*time.Millisecond || d > 500*time.Millisecond {
		t.Fatalf("with nothing written it waited %v, want about 50 ms", d)
	}
	stop := make(chan struct{})
	go func() {
		for {
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
				_, _ = w.Write([]byte("{}\n"))
			}
		}
	}()
	start = time.Now()
	w.waitQuiet(50*time.Millisecond, 300*time.Millisecond)
	close(stop)
	if d := time.Since(start); d < 300*time.Millisecond {
		t.Fatalf("it returned after %v while writes went on every 20 ms", d)
	}
}

// Over HTTP a tool result goes out on its POST's event stream after the
// handler returned: Stop waits for those POSTs to end.
func TestDrain_StopWaitsForAnswersOnTheirWay(t *testing.T) {
	d := NewDrain()
	release := make(chan struct{})
	entered := make(chan struct{})
	h := d.HTTP(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(entered)
		<-release
	}))
	go h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodPost, "/mcp", nil))
	<-entered
	stopped := make(chan struct{})
	go func() { d.Stop(context.Background()); close(stopped) }()
	select {
	case <-stopped:
		t.Fatal("Stop returned while an answer was being written")
	case <-time.After(100 * time.Millisecond):
	}
	close(release)
	select {
	case <-stopped:
	case <-time.After(2 * time.Second):
		t.Fatal("Stop did not return once the answer was out")
	}
}

// A container orchestrator kills a process that has not exited 30 s after
// it asked it to stop. Stop must therefore be done within its context's
// time plus AfterDeadline however the calls misbehave: a handler that
// ignores its cancellation, and a POST whose answer never gets written.
// (It took the deadline plus 5 s for the handler plus 5 s more for the
// answers: 35 s with serve's 25 s.)
func TestDrain_StopIsDoneBeforeTheOrchestratorKillsTheProcess(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		d := NewDrain()
		release := make(chan struct{})
		started := make(chan struct{})
		deaf := d.Middleware(func(context.Context, string, mcp.Request) (mcp.Result, error) {
			close(started)
			<-release // ignores its context
			return nil, nil
		})
		post := d.HTTP(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
			_, _ = deaf(context.Background(), "tools/call", nil)
			<-release // and its answer is never written
		}))
		go post.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodPost, "/mcp", nil))
		<-started
		const drainTimeout = 25 * time.Second
		ctx, cancel := context.WithTimeout(context.Background(), drainTimeout)
		defer cancel()
		start := time.Now()
		if n := d.Stop(ctx); n != 1 {
			t.Errorf("Stop cancelled %d calls, want 1", n)
		}
		if took := time.Since(start); took > drainTimeout+AfterDeadline {
			t.Errorf("Stop took %v; the orchestrator's 30 s allow %v (drain timeout %v)", took, drainTimeout+AfterDeadline, drainTimeout)
		}
		close(release)
	})
}
