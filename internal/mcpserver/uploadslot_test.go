package mcpserver

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/drivemcp/drivemcp/internal/e2etest"
	"github.com/drivemcp/drivemcp/internal/googleemu"
)

// Through the tools: with one slot and no queue, a second upload of the
// same account while the first is held up at Google fails with a sentence,
// and creates nothing; once the first is done, uploads work again.
func TestCreateDriveFile_SecondConcurrentUploadRefusedWhenNoSlotIsFree(t *testing.T) {
	watch := newUploadWatch(1)
	f := newFixture(t, Deps{MaxUploadsPerAccount: 1, UploadQueue: -1, Transport: watch})
	// A small file is one multipart POST (--upload-cutoff): hold that one up.
	f.google.InjectFault(googleemu.Fault{Method: "POST", PathPrefix: "/upload/drive/v3/files", Latency: 500 * time.Millisecond})
	var wg sync.WaitGroup
	var first *mcp.CallToolResult
	wg.Go(func() {
		first = e2etest.Call(t, f.session, "create_drive_file", map[string]any{"file_name": "first.txt", "content": "1"})
	})
	<-watch.Reached // the first upload is sending its bytes to Google, holding the slot
	second := e2etest.Call(t, f.session, "create_drive_file", map[string]any{"file_name": "second.txt", "content": "2"})
	wg.Wait()
	if first.IsError {
		t.Fatalf("first upload: %s", e2etest.ResultText(first))
	}
	if text := e2etest.ResultText(second); !second.IsError || !strings.Contains(text, "uploads running") {
		t.Fatalf("second upload: error=%v %s", second.IsError, text)
	}
	if n := len(e2etest.FilesNamed(f.google, "second.txt")); n != 0 {
		t.Fatalf("the refused upload created %d files", n)
	}
	e2etest.MustCall(t, f.session, "create_drive_file", map[string]any{"file_name": "third.txt", "content": "3"})
}
