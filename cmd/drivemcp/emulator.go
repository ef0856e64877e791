package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/drivemcp/drivemcp/internal/googleemu"
)

func runEmulator(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("google-emulator", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:9090", "listen address")
	dir := fs.String("dir", "", "keep uploaded files on disk in this directory (default: in memory)")
	clientID := fs.String("client-id", googleemu.DemoClientID, "the OAuth client id the emulator accepts")
	clientSecret := fs.String("client-secret", googleemu.DemoClientSecret, "that client's secret")
	if err := fs.Parse(args); err != nil {
		return err
	}
	emu, err := googleemu.New(googleemu.Options{Clients: map[string]string{*clientID: *clientSecret}, Dir: *dir, Demo: true})
	if err != nil {
		return err
	}
	defer emu.Close()
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("--addr %s: %w", *addr, err)
	}
	fmt.Fprintf(stderr, "Google emulator (NOT Google) listening on http://%s\nclient id: %s\nclient secret: %s\nuse it with: drivemcp serve --google-endpoint http://%s --google-client-id %s --google-client-secret %s\n",
		ln.Addr(), *clientID, *clientSecret, ln.Addr(), *clientID, *clientSecret)
	return serveUntilDone(ctx, &http.Server{Handler: emu, ReadHeaderTimeout: 10 * time.Second}, ln)
}

// serveUntilDone serves until ctx ends, then shuts down gracefully: requests
// in flight (an upload, a token exchange) get time to finish.
func serveUntilDone(ctx context.Context, srv *http.Server, ln net.Listener) error {
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// A listener already closed is a shutdown that happened, not a failure.
	if err := srv.Shutdown(shutdownCtx); err != nil && !errors.Is(err, net.ErrClosed) && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
