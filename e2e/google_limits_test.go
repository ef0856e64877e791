package e2e

import (
	"sync"
	"testing"
	"time"

	"github.com/drivemcp/drivemcp/internal/e2etest"
	"github.com/drivemcp/drivemcp/internal/googleemu"
)

// Drive's "Usage limits" guide, through the real binary: alice uploads a
// burst of files while Google allows her three writes a second and refuses
// the rest 403 userRateLimitExceeded. drivemcp waits and retries on Google's
// schedule; every file arrives once, with the right bytes.
func TestFaults_GoogleRateLimitBurstOfUploadsFinishesEveryFileOnce(t *testing.T) {
	d := startDrive(t, "--google-max-backoff", "2s")
	d.g.SetUsageLimits(googleemu.UsageLimits{UserWrites: 3, UserWindow: time.Second})
	const n = 6
	want := map[string]string{}
	for i := range n {
		name := "burst-" + string(rune('a'+i)) + ".bin"
		_, sum := e2etest.WriteRandomFile(t, d.root, name, 300<<10)
		want[name] = sum
	}
	var wg sync.WaitGroup
	for name := range want {
		wg.Go(func() {
			res := d.call(t, "upload_file_to_drive", map[string]any{"filepath": name})
			if res.IsError {
				t.Errorf("%s: %s", name, e2etest.ResultText(res))
			}
		})
	}
	wg.Wait()
	if d.g.Stats().Throttled == 0 {
		t.Fatal("Google never refused a write: the burst did not meet the limit")
	}
	for name, sum := range want {
		files := e2etest.FilesNamed(d.g, name)
		if len(files) != 1 || files[0].MD5 != sum {
			t.Errorf("%s: Drive has %v, want one file with md5 %s", name, files, sum)
		}
	}
}
