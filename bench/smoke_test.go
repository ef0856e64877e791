package bench

import (
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/drivemcp/drivemcp/internal/e2etest"
)

// TestSmoke runs every benchmark's code on tiny sizes, checking every answer
// as the benchmarks do, so that `go test ./...` (and CI) keeps them working
// between benchmark runs. It measures nothing worth reading and takes
// seconds: the figures are `make load`'s.
func TestSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("starts servers and the TypeScript peer")
	}
	t.Run("ToolCall", func(t *testing.T) {
		runToolCall(smokeRunner{t}, loadSettings{Conns: []int{1, 4}, Duration: 300 * time.Millisecond})
	})
	t.Run("OAuthEndpoints", func(t *testing.T) {
		g := e2etest.StartGoogle(t)
		runOAuthEndpoints(smokeRunner{t}, oauthSettings{Requests: 40, Conns: 4, Limit: 20 * time.Second},
			startDrivemcp(t, g, filepath.Join(t.TempDir(), "drivemcp.db"), "--stateless"), startPeer(t))
	})
	t.Run("StoreScale", func(t *testing.T) {
		runStoreScale(smokeRunner{t}, scaleSettings{Accounts: 300, Tokens: 3000, Samples: 50})
	})
	t.Run("Upload", func(t *testing.T) {
		if _, err := exec.LookPath("curl"); err != nil {
			t.Fatal("curl is needed as the reference uploader: apt-get install curl")
		}
		data := t.TempDir()
		path, _ := e2etest.WriteRandomFile(t, data, "payload.bin", 3<<20)
		g := e2etest.StartGoogleOnDisk(t, t.TempDir())
		token := e2etest.AccessToken(t, g, "bench@example.com")
		s := e2etest.StartStdio(t, e2etest.Config{Binary: binary, DB: filepath.Join(t.TempDir(), "db"), UploadRoots: []string{data}, Google: g})
		e2etest.Connect(t, s.Session, "bench@example.com")
		toolUpload(t, s.Session, path)
		deleteAll(t, g, token)
		curlUpload(t, g.URL, token, path, 3<<20)
		if rss := peakRSS(t, s.PID()); rss <= 0 {
			t.Fatalf("peak RSS %d", rss)
		}
	})
}
