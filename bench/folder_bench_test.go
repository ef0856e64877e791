package bench

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/drivemcp/drivemcp/internal/e2etest"
	"github.com/drivemcp/drivemcp/internal/googleemu"
)

// BenchmarkUploadFolder uploads a folder with upload_folder_to_drive (the
// real binary over stdio) into the emulator answering every request after
// a simulated 50 ms round trip, and, in the same run, the same files one by
// one with upload_file_to_drive: the reference. Then it runs the folder
// upload again with nothing changed and counts Google requests per 100
// files. It reports the speed-up, both rates, the requests of the second
// run and drivemcp's peak RSS.
//
// BENCH_FOLDER_SMALL (files of 64 KiB, default 1000) and BENCH_FOLDER_LARGE
// (files of 20 MiB, default 20) set the two trees; BENCH_FOLDER_RTT_MS the
// round trip (default 50).
func BenchmarkUploadFolder(b *testing.B) {
	rtt := time.Duration(envCount(b, "BENCH_FOLDER_RTT_MS", 50)) * time.Millisecond
	trees := []struct {
		name  string
		count int
		size  int64
	}{
		{"small", envCount(b, "BENCH_FOLDER_SMALL", 1000), 64 << 10},
		{"large", envCount(b, "BENCH_FOLDER_LARGE", 20), 20 << 20},
	}
	for _, tree := range trees {
		if tree.count == 0 {
			continue
		}
		b.Run(fmt.Sprintf("%dx%dKiB", tree.count, tree.size>>10), func(b *testing.B) {
			data := b.TempDir()
			dir := filepath.Join(data, "tree")
			var paths []string
			for i := range tree.count {
				sub := filepath.Join(dir, fmt.Sprintf("d%02d", i%10))
				if err := os.MkdirAll(sub, 0o700); err != nil {
					b.Fatal(err)
				}
				p, _ := e2etest.WriteRandomFile(b, sub, fmt.Sprintf("f%04d.bin", i), tree.size)
				paths = append(paths, p)
			}
			g := e2etest.StartGoogleWith(b, googleemu.Options{Dir: b.TempDir()})
			s := e2etest.StartStdio(b, e2etest.Config{Binary: binary, DB: filepath.Join(b.TempDir(), "db"), UploadRoots: []string{data}, Google: g})
			e2etest.Connect(b, s.Session, "bench@example.com")
			g.SetRoundTrip(rtt)
			b.ResetTimer()
			var folder, single time.Duration
			var perHundred float64
			for i := range b.N {
				target := fmt.Sprintf("bench/run%d", i)
				start := time.Now()
				e2etest.MustCall(b, s.Session, "upload_folder_to_drive", map[string]any{"local_path": dir, "folder_path": target, "concurrency": 8})
				folder += time.Since(start)

				before := g.Stats().Requests
				out := e2etest.Structured(b, e2etest.MustCall(b, s.Session, "upload_folder_to_drive", map[string]any{"local_path": dir, "folder_path": target, "concurrency": 8}))
				if out["skipped_unchanged"] != float64(tree.count) {
					b.Fatalf("second run: %v", out["skipped_unchanged"])
				}
				perHundred = float64(g.Stats().Requests-before) * 100 / float64(tree.count)

				start = time.Now()
				for _, p := range paths {
					e2etest.MustCall(b, s.Session, "upload_file_to_drive", map[string]any{"filepath": p})
				}
				single += time.Since(start)
			}
			b.StopTimer()
			bytes := float64(tree.count) * float64(tree.size) * float64(b.N)
			b.ReportMetric(single.Seconds()/folder.Seconds(), "x-faster-than-one-by-one")
			b.ReportMetric(bytes/folder.Seconds()/(1<<20), "folder-MiB/s")
			b.ReportMetric(bytes/single.Seconds()/(1<<20), "one-by-one-MiB/s")
			b.ReportMetric(perHundred, "requests-per-100-files-unchanged")
			b.ReportMetric(float64(peakRSS(b, s.PID()))/(1<<20), "peak-RSS-MiB")
		})
	}
}

func envCount(b testing.TB, name string, def int) int {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		b.Fatalf("%s=%q is not a count", name, v)
	}
	return n
}
