package main

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/drivemcp/drivemcp/internal/e2etest"
	"github.com/drivemcp/drivemcp/internal/googleemu"
)

// A person runs drivemcp login, signs in on Google's page as carol, and the
// terminal says carol is connected; the account is then listed.
func TestLogin_CompletesThroughTheBrowser(t *testing.T) {
	e := newCLIEnv(t)
	out := e.login("carol@example.com")
	if !strings.Contains(out, "Connected carol@example.com") || !strings.Contains(out, "drive.file") {
		t.Fatalf("login output:\n%s", out)
	}
	if !strings.Contains(out, "/o/oauth2/v2/auth?") {
		t.Fatalf("login printed no Google URL:\n%s", out)
	}
	list, _, err := e.run([]string{"accounts", "list"})
	if err != nil || !strings.Contains(list, "carol@example.com") || !strings.Contains(list, " ok") {
		t.Fatalf("after login, accounts list: %v\n%s", err, list)
	}
}

// Nobody completes the sign-in: login gives up with a message that says
// what to check, instead of hanging.
func TestLogin_TimesOutWithAClearMessage(t *testing.T) {
	e := newCLIEnv(t)
	_, _, err := e.run([]string{"login", "--no-browser", "--timeout", "300ms", "--callback-addr", freeAddr(t)})
	if err == nil || !strings.Contains(err.Error(), "no sign-in completed within 300ms") || !strings.Contains(err.Error(), "redirect_uri_mismatch") {
		t.Fatalf("err = %v", err)
	}
}

// The callback port is taken (as by drivemcp serve --stdio): login says so
// and still waits, since a server on the same database completes it.
func TestLogin_CallbackPortInUseIsExplained(t *testing.T) {
	e := newCLIEnv(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	start := time.Now()
	_, errOut, err := e.run([]string{"login", "--no-browser", "--timeout", "300ms", "--callback-addr", ln.Addr().String()})
	if !strings.Contains(errOut, "already listens on "+ln.Addr().String()) || err == nil || time.Since(start) < 300*time.Millisecond {
		t.Fatalf("err %v stderr %q", err, errOut)
	}
}

// With a Desktop app client login needs no fixed port: it signs in on a
// port of its own even while something else holds --callback-addr, and
// Google (strict about Desktop app redirects) is sent that real port.
func TestLogin_DesktopClientSignsInOnItsOwnPortWhileTheCallbackAddrIsBusy(t *testing.T) {
	e := newCLIEnv(t)
	e.google = e2etest.StartGoogleWith(t, googleemu.Options{Registrations: map[string]googleemu.Registration{
		googleemu.DemoClientID: {Secret: googleemu.DemoClientSecret, Type: googleemu.ClientInstalled},
	}})
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	out := e.login("dana@example.com", "--google-client-type", "installed", "--callback-addr", busy.Addr().String())
	if !strings.Contains(out, "Connected dana@example.com") || strings.Contains(out, busy.Addr().String()) {
		t.Fatalf("login output:\n%s", out)
	}
}

func TestLogin_NeedsAGoogleClient(t *testing.T) {
	e := newCLIEnv(t)
	err := run(t.Context(), []string{"login", "--db", e.db}, strings.NewReader(""), new(strings.Builder), new(strings.Builder))
	if err == nil || !strings.Contains(err.Error(), "--google-client-id") {
		t.Fatalf("err = %v", err)
	}
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// Google's granular consent: the person unticks the Google Drive box on
// Google's page. drivemcp login must fail saying so and what to do, not
// report a connection that cannot reach Drive.
func TestLogin_DriveBoxUntickedSaysLeaveItTicked(t *testing.T) {
	e := newCLIEnv(t)
	callback := e2etest.FreeAddr(t)
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	go func() {
		err := run(ctx, append([]string{"login", "--no-browser", "--callback-addr", callback}, e.args()...), strings.NewReader(""), pw, io.Discard)
		pw.CloseWithError(io.EOF)
		done <- err
	}()
	lines := bufio.NewScanner(pr)
	authURL := ""
	for authURL == "" && lines.Scan() {
		if l := strings.TrimSpace(lines.Text()); strings.HasPrefix(l, "http") {
			authURL = l
		}
	}
	b := e2etest.NewBrowser("carol@example.com")
	b.Untick = []string{"drive.file"}
	back, err := b.Run(ctx, authURL, "http://"+callback+"/oauth2callback")
	if err != nil {
		t.Fatal(err)
	}
	resp, err := b.Open(ctx, back.String())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	go func() {
		for lines.Scan() {
		}
	}()
	err = <-done
	if resp.StatusCode != http.StatusForbidden || err == nil || !strings.Contains(err.Error(), "leave the Google Drive box ticked") {
		t.Fatalf("callback %d, login: %v", resp.StatusCode, err)
	}
}
