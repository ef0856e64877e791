package mcpserver

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/drivemcp/drivemcp/internal/e2etest"
	"github.com/drivemcp/drivemcp/internal/netguard"
	"github.com/drivemcp/drivemcp/internal/netguard/netguardtest"
)

// No test here sends a packet to a non-loopback address: internal
// addresses come from a fake resolver, and every test first checks that
// the policy refuses them, so a broken policy fails the test before any
// request is made.

func mustParseURL(t *testing.T, raw string) *url.URL {
	t.Helper()
	u, err := parseFileURL(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// internalAddrs are the addresses fileUrl must never reach by default.
var internalAddrs = []string{
	"10.1.2.3", "172.16.5.4", "192.168.1.10", // private
	"169.254.169.254", "::ffff:169.254.169.254", "fd00:ec2::254", // cloud metadata
	"169.254.10.20", "fe80::1", // link-local
	"fd00::1", "fd12:3456::7", // unique local (fd00::/8)
	"127.0.0.1", "::1", "0.0.0.0", // loopback, "this host"
}

func TestFileURL_PolicyRefusesInternalAddressesWithoutDialling(t *testing.T) {
	tl := &tools{Deps: Deps{}}
	policy := tl.urlPolicy()
	for _, a := range internalAddrs {
		if err := policy.Allowed(netip.MustParseAddr(a)); !errors.Is(err, netguard.ErrBlockedAddress) {
			t.Fatalf("the fileUrl policy allows %s (%v); stopping before any request could be made", a, err)
		}
	}
	for _, a := range internalAddrs {
		t.Run(a, func(t *testing.T) {
			r := &netguardtest.Resolver{Answers: map[string][]string{"files.example": {a}}}
			p := policy
			p.Resolver = r
			_, err := openURL(t.Context(), p, mustParseURL(t, "https://files.example/report.pdf"), 1<<20, "test")
			var blocked *netguard.BlockedError
			if !errors.As(err, &blocked) || blocked.Addr != netip.MustParseAddr(a) {
				t.Fatalf("openURL = %v, want a refusal of %s", err, a)
			}
			if len(r.Asked()) == 0 {
				t.Fatal("the resolver was not asked: the address was not checked where the tool connects")
			}
			msg := tl.explainFetch(mustParseURL(t, "https://files.example/report.pdf"), err).Error()
			wayOut := "content_base64"
			if unlockedByAllowingPrivate(netip.MustParseAddr(a)) {
				wayOut = "--allow-private-urls"
			}
			// A name's address stays unsaid (it would map internal DNS), its kind is said.
			if strings.Contains(msg, a) || !strings.Contains(msg, "files.example resolves to "+blocked.Class) || !strings.Contains(msg, wayOut) || !strings.HasSuffix(msg, ".") {
				t.Fatalf("explanation %q does not name the host, the kind of address (not the address) and the way out (%s)", msg, wayOut)
			}
		})
	}
}

func TestFileURL_AllowingPrivateURLsStillRefusesMetadataAndLinkLocal(t *testing.T) {
	tl := &tools{Deps: Deps{AllowPrivateURLs: true}}
	policy := tl.urlPolicy()
	for _, a := range []string{"127.0.0.1", "::1", "10.1.2.3", "192.168.1.10", "fd00::1"} {
		if err := policy.Allowed(netip.MustParseAddr(a)); err != nil {
			t.Errorf("with private URLs allowed, %s is refused: %v", a, err)
		}
	}
	never := []string{"169.254.169.254", "::ffff:169.254.169.254", "fd00:ec2::254", "169.254.10.20", "fe80::1", "0.0.0.0"}
	for _, a := range never {
		if err := policy.Allowed(netip.MustParseAddr(a)); !errors.Is(err, netguard.ErrBlockedAddress) {
			t.Fatalf("with private URLs allowed, %s is allowed (%v); stopping before any request could be made", a, err)
		}
	}
	for _, a := range never {
		r := &netguardtest.Resolver{Answers: map[string][]string{"metadata.example": {a}}}
		p := policy
		p.Resolver = r
		_, err := openURL(t.Context(), p, mustParseURL(t, "http://metadata.example/computeMetadata/v1/"), 1<<20, "test")
		if !errors.Is(err, netguard.ErrBlockedAddress) {
			t.Errorf("openURL(%s) = %v, want ErrBlockedAddress", a, err)
		}
	}
}

// A redirect is checked like the first request: a loopback server (allowed
// here) that redirects to the metadata service gets no further.
func TestFileURL_RedirectsAreCheckedAgain(t *testing.T) {
	tl := &tools{Deps: Deps{AllowPrivateURLs: true}}
	policy := tl.urlPolicy()
	if err := policy.Allowed(netip.MustParseAddr("169.254.169.254")); err == nil {
		t.Fatal("the policy allows the metadata address; stopping before any request could be made")
	}
	var hits atomic.Int32
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		switch r.URL.Path {
		case "/to-metadata":
			http.Redirect(w, r, "http://metadata.example/computeMetadata/v1/", http.StatusFound)
		case "/to-file-scheme":
			http.Redirect(w, r, "file:///etc/passwd", http.StatusFound)
		default:
			http.Redirect(w, r, r.URL.Path, http.StatusFound) // forever
		}
	}))
	t.Cleanup(origin.Close)
	p := policy
	p.Resolver = &netguardtest.Resolver{Answers: map[string][]string{"metadata.example": {"169.254.169.254"}}}

	tests := []struct {
		path string
		want error
	}{
		{"/to-metadata", netguard.ErrBlockedAddress},
		{"/to-file-scheme", netguard.ErrSchemeNotAllowed},
		{"/loop", netguard.ErrTooManyRedirects},
	}
	for _, tt := range tests {
		u := mustParseURL(t, origin.URL+tt.path)
		_, err := openURL(t.Context(), p, u, 1<<20, "test")
		if !errors.Is(err, tt.want) {
			t.Errorf("%s: %v, want %v", tt.path, err, tt.want)
			continue
		}
		if e := tl.explainFetch(u, err); e == nil || !strings.HasSuffix(e.Error(), ".") {
			t.Errorf("%s: explanation %v", tt.path, e)
		}
	}
	if n := hits.Load(); n != 2+fileURLMaxRedirects+1 {
		t.Errorf("origin got %d requests, want %d", n, 2+fileURLMaxRedirects+1)
	}
}

// The body streams into Drive: the source server holds back the end of the
// file until Drive has received the first chunk, which a tool that read
// the whole body first would never let happen.
func TestCreateFromURL_StreamsIntoDrive(t *testing.T) {
	const first, rest = 9 << 20, 3 << 20
	watch := newUploadWatch(8 << 20)
	f := newFixture(t, Deps{AllowPrivateURLs: true, Transport: watch})
	body := bytes.Repeat([]byte("0123456789abcdef"), (first+rest)/16)
	sum := md5.Sum(body)
	held := make(chan bool, 1)
	src := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/csv")
		w.Write(body[:first]) // no Content-Length: the size is unknown to the tool
		w.(http.Flusher).Flush()
		select { // the rest of the body waits until Drive has been sent 8 MiB
		case <-watch.Reached:
			held <- true
		case <-time.After(30 * time.Second):
			held <- false
		}
		w.Write(body[first:])
	}))
	t.Cleanup(src.Close)

	out := f.mustCall(t, "create_drive_file", map[string]any{"file_name": "big.csv", "fileUrl": src.URL + "/export", "folder_path": "Imports/2026"})
	if !<-held {
		t.Fatal("Drive received nothing before the download finished: the body was not streamed")
	}
	if out["size"] != float64(len(body)) || out["md5"] != hex.EncodeToString(sum[:]) || out["mime_type"] != "text/csv" {
		t.Fatalf("created %v", out)
	}
	if files := e2etest.FilesNamed(f.google, "2026"); len(files) != 1 || files[0].ID != out["folder_id"] {
		t.Fatalf("the file is not in Imports/2026: %v, folders %v", out["folder_id"], files)
	}
}

func TestCreateFromURL_SizeCap(t *testing.T) {
	f := newFixture(t, Deps{AllowPrivateURLs: true, MaxDownloadBytes: 1000})
	var sent atomic.Int64
	src := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, _ := strconv.Atoi(r.URL.Query().Get("n"))
		if r.URL.Query().Get("announce") == "yes" {
			w.Header().Set("Content-Length", strconv.Itoa(n))
		}
		c, _ := io.Copy(w, io.LimitReader(zeros{}, int64(n)))
		sent.Add(c)
	}))
	t.Cleanup(src.Close)

	ok := f.mustCall(t, "create_drive_file", map[string]any{"file_name": "fits.bin", "fileUrl": src.URL + "/?n=1000"})
	if ok["size"] != float64(1000) {
		t.Fatalf("a file of exactly the cap: %v", ok)
	}
	for _, q := range []string{"?n=1001&announce=yes", "?n=5000"} {
		res := f.call(t, "create_drive_file", map[string]any{"file_name": "big.bin", "fileUrl": src.URL + "/" + q})
		if text := e2etest.ResultText(res); !res.IsError || !strings.Contains(text, "larger than the 1000 B") {
			t.Errorf("%s: %q", q, text)
		}
	}
	if files := e2etest.FilesNamed(f.google, "big.bin"); len(files) != 0 {
		t.Fatalf("oversized downloads created %v", files)
	}
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }

func TestCreateFromURL_ServerErrorsAreExplained(t *testing.T) {
	f := newFixture(t, Deps{AllowPrivateURLs: true})
	src := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/short":
			w.Header().Set("Content-Length", "100")
			w.Write([]byte("only part"))
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(src.Close)
	for path, want := range map[string]string{"/missing": "404 Not Found", "/short": "ended before the size it announced"} {
		res := f.call(t, "create_drive_file", map[string]any{"file_name": "x", "fileUrl": src.URL + path})
		if text := e2etest.ResultText(res); !res.IsError || !strings.Contains(text, want) || !strings.Contains(text, "nothing was created") {
			t.Errorf("%s: %q", path, text)
		}
	}
	if n := len(f.google.Files()); n != 0 {
		t.Fatalf("%d files created", n)
	}
}

// Without --allow-private-urls, a loopback URL is refused through the real
// tool and the server behind it sees nothing.
func TestCreateFromURL_LoopbackRefusedByDefault(t *testing.T) {
	f := newFixture(t, Deps{})
	var hits atomic.Int32
	bait := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	t.Cleanup(bait.Close)
	res := f.call(t, "create_drive_file", map[string]any{"file_name": "x", "fileUrl": bait.URL + "/secret"})
	if text := e2etest.ResultText(res); !res.IsError || !strings.Contains(text, "a loopback address") {
		t.Fatalf("result %q", text)
	}
	if hits.Load() != 0 || len(f.google.Files()) != 0 {
		t.Fatalf("bait hits %d, files %v", hits.Load(), f.google.Files())
	}
}

// fileUrl hosts that are addresses in disguise (a trailing dot, the
// numeric forms getaddrinfo accepts) are judged as the address or refused,
// through the real tool, with no lookup (the fixture fails any) and nothing
// sent to the server behind them.
func TestCreateFromURL_DisguisedLoopbackLiteralsRefused(t *testing.T) {
	f := newFixture(t, Deps{})
	var hits atomic.Int32
	bait := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	t.Cleanup(bait.Close)
	port := bait.Listener.Addr().(*net.TCPAddr).Port
	for host, want := range map[string]string{
		"127.0.0.1.": "a loopback address",
		"2130706433": "not a host name",
		"0x7f.1":     "not a host name",
		"127.1":      "not a host name",
	} {
		res := f.call(t, "create_drive_file", map[string]any{"file_name": "x", "fileUrl": "http://" + net.JoinHostPort(host, strconv.Itoa(port)) + "/secret"})
		if text := e2etest.ResultText(res); !res.IsError || !strings.Contains(text, want) || !strings.HasSuffix(text, ".") {
			t.Errorf("%s: %q, want an error naming %q", host, text, want)
		}
	}
	if hits.Load() != 0 || len(f.google.Files()) != 0 {
		t.Fatalf("bait hits %d, files %v", hits.Load(), f.google.Files())
	}
}
