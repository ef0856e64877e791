package googleemu

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"testing/synctest"
	"time"
)

// With a simulated round trip, every answer comes that long after its
// request, and switching it off takes effect for the next request.
func TestRoundTrip_EveryAnswerWaitsTheSimulatedRoundTrip(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e, err := New(Options{RoundTrip: 50 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		defer e.Close()
		took := func() time.Duration {
			start := time.Now()
			e.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/drive/v3/about", nil))
			return time.Since(start)
		}
		if d := took(); d != 50*time.Millisecond {
			t.Fatalf("answer after %v, want 50ms", d)
		}
		e.SetRoundTrip(0)
		if d := took(); d != 0 {
			t.Fatalf("answer after %v with the round trip off", d)
		}
	})
}
