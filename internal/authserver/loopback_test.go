package authserver

import (
	"context"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/drivemcp/drivemcp/internal/e2etest"
	"github.com/drivemcp/drivemcp/internal/google"
	"github.com/drivemcp/drivemcp/internal/googleemu"
	"github.com/drivemcp/drivemcp/internal/identity"
	"github.com/drivemcp/drivemcp/internal/secrets"
	"github.com/drivemcp/drivemcp/internal/store/sqlite"
)

// listenEvent is one callback listener opening or closing.
type listenEvent struct {
	uri  string
	open bool
}

// loopbackProcess is one drivemcp process in stdio mode: its own store
// connection to the shared database, and a Web client's fixed callback port.
func loopbackProcess(t *testing.T, db, addr, googleURL string) (*Server, chan listenEvent) {
	t.Helper()
	st, err := sqlite.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	ring, err := secrets.NewKeyring(make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	events := make(chan listenEvent, 16)
	up := google.NewUpstream(googleemu.DemoClientID, googleemu.DemoClientSecret, "http://"+addr+"/oauth2callback", google.EndpointsAt(googleURL), nil)
	s := New(Options{
		Store: st, Grants: google.NewGrants(st, ring, up), Resolver: identity.NewResolver(st, true), Keys: ring, BaseURL: "http://" + addr,
		Loopback: &LoopbackOptions{Addr: addr, Poll: 5 * time.Millisecond,
			OnListen: func(uri string, open bool) { events <- listenEvent{uri, open} }},
	})
	t.Cleanup(s.CloseCallbacks)
	return s, events
}

func expectEvent(t *testing.T, events chan listenEvent, want listenEvent, who string) {
	t.Helper()
	select {
	case got := <-events:
		if got != want {
			t.Fatalf("%s: listener event %+v, want %+v", who, got, want)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("%s: no listener event, want %+v", who, want)
	}
}

// Two stdio processes sign in at once with a Web client's one port: the
// second waits while the first holds it, takes the port over as soon as
// the first one's sign-in is done, completes its own there, and lets it go.
func TestLoopback_WaitingProcessTakesTheCallbackPortOverWhenItFrees(t *testing.T) {
	g := startGoogle(t, nil)
	addr := e2etest.FreeAddr(t)
	db := filepath.Join(t.TempDir(), "drivemcp.db")
	first, firstEvents := loopbackProcess(t, db, addr, g.URL)
	second, secondEvents := loopbackProcess(t, db, addr, g.URL)
	uri := "http://" + addr + "/oauth2callback"
	ctx := context.Background()

	alice, err := first.StartDirectLogin(ctx, DirectRequest{SessionKey: "stdio:local", LoginHint: "alice@example.com"})
	if err != nil || alice.Elsewhere || alice.RedirectURI != uri {
		t.Fatalf("first sign-in: %+v, %v", alice, err)
	}
	expectEvent(t, firstEvents, listenEvent{uri, true}, "first")
	bob, err := second.StartDirectLogin(ctx, DirectRequest{SessionKey: "stdio:local", LoginHint: "bob@example.com"})
	if err != nil || !bob.Elsewhere || bob.RedirectURI != uri {
		t.Fatalf("second sign-in while the port is held: %+v, %v", bob, err)
	}

	if status, page := e2etest.Consent(t, alice.URL); status != http.StatusOK || !strings.Contains(page, "alice@example.com") {
		t.Fatalf("first callback: %d\n%s", status, page)
	}
	expectEvent(t, firstEvents, listenEvent{uri, false}, "first")
	expectEvent(t, secondEvents, listenEvent{uri, true}, "second")

	if status, page := e2etest.Consent(t, bob.URL); status != http.StatusOK || !strings.Contains(page, "bob@example.com") {
		t.Fatalf("second callback: %d\n%s", status, page)
	}
	expectEvent(t, secondEvents, listenEvent{uri, false}, "second")
	if got := second.CallbackListeners(); len(got) != 0 {
		t.Fatalf("still listening on %v after every sign-in", got)
	}
}

// A sign-in whose callback another process served ends here too: the
// waiting process stops trying for the port once the store no longer holds
// the transaction, so it never opens a listener nobody needs.
func TestLoopback_SignInCompletedElsewhereStopsWaiting(t *testing.T) {
	g := startGoogle(t, nil)
	addr := e2etest.FreeAddr(t)
	db := filepath.Join(t.TempDir(), "drivemcp.db")
	first, firstEvents := loopbackProcess(t, db, addr, g.URL)
	second, secondEvents := loopbackProcess(t, db, addr, g.URL)
	uri := "http://" + addr + "/oauth2callback"
	ctx := context.Background()

	alice, err := first.StartDirectLogin(ctx, DirectRequest{SessionKey: "stdio:local", LoginHint: "alice@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	expectEvent(t, firstEvents, listenEvent{uri, true}, "first")
	bob, err := second.StartDirectLogin(ctx, DirectRequest{SessionKey: "stdio:local", LoginHint: "bob@example.com"})
	if err != nil || !bob.Elsewhere {
		t.Fatalf("second sign-in: %+v, %v", bob, err)
	}
	// The first process serves the second one's callback, then its own.
	for _, link := range []string{bob.URL, alice.URL} {
		if status, page := e2etest.Consent(t, link); status != http.StatusOK {
			t.Fatalf("callback: %d\n%s", status, page)
		}
	}
	expectEvent(t, firstEvents, listenEvent{uri, false}, "first")
	second.CloseCallbacks() // waits for its watcher to end
	select {
	case ev := <-secondEvents:
		t.Fatalf("the second process opened a listener after its sign-in was done elsewhere: %+v", ev)
	default:
	}
}
