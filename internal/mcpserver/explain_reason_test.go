package mcpserver

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/drivemcp/drivemcp/internal/drive"
	"github.com/drivemcp/drivemcp/internal/e2etest"
	"github.com/drivemcp/drivemcp/internal/googleemu"
)

// Every reason Drive's "Resolve errors" guide documents that a drivemcp
// user can meet has a sentence of its own, with the fix in it, whichever
// tool met it — never "ask the owner for access" for a full Drive or a
// rate limit.
func TestExplainReason_EachDocumentedReasonHasItsOwnSentence(t *testing.T) {
	for _, tc := range []struct {
		status int
		reason string
		want   []string
	}{
		{403, "storageQuotaExceeded", []string{"Google Drive is full", "trash", "one.google.com"}},
		{403, "userRateLimitExceeded", []string{"Google is rate-limiting this account; try again in a minute"}},
		{403, "rateLimitExceeded", []string{"Google is rate-limiting this account; try again in a minute"}},
		{429, "rateLimitExceeded", []string{"Google is rate-limiting this account; try again in a minute"}},
		{429, "", []string{"Google is rate-limiting this account; try again in a minute"}},
		{403, "sharingRateLimitExceeded", []string{"shares one account may make in a day", "tomorrow"}},
		{403, "dailyLimitExceeded", []string{"daily Drive API quota", "operator"}},
		{403, "appNotAuthorizedToFile", []string{"drive.file", `scope: "full"`}},
		{403, "domainPolicy", []string{"administrator", "disabled Drive apps"}},
		{403, "publishOutNotPermitted", []string{"administrator", "by link", "share_drive_files"}},
		{403, "cannotDownloadAbusiveFile", []string{"malware", "drive.google.com"}},
		{403, "fileNotDownloadable", []string{"only exported", "browser"}},
		{403, "exportSizeLimitExceeded", []string{"too large for Google to export", "10 MB"}},
		{403, "teamDriveFileLimitExceeded", []string{"shared drive holds as many items", "My Drive"}},
		{403, "insufficientFilePermissions", []string{"not change it", "edit access"}},
	} {
		api := &drive.APIError{Status: tc.status, Reason: tc.reason, Message: "Google's words."}
		for _, err := range []error{api, &drive.Error{API: api}, fmt.Errorf("drive: upload gave up after 8 attempts: %w", api)} {
			got, ok := explainReason(err, alice)
			if !ok {
				t.Errorf("%d %s: no sentence", tc.status, tc.reason)
				continue
			}
			text := got.Error()
			for _, w := range tc.want {
				if !strings.Contains(text, w) {
					t.Errorf("%d %s: %q lacks %q", tc.status, tc.reason, text, w)
				}
			}
			if strings.Contains(text, "ask the owner") || strings.Contains(text, "check permissions") || !strings.HasSuffix(text, ".") {
				t.Errorf("%d %s: %q", tc.status, tc.reason, text)
			}
		}
	}
	if _, ok := explainReason(&drive.APIError{Status: 400, Reason: "badRequest"}, alice); ok {
		t.Error("a 400 badRequest got a reason sentence")
	}
}

// While an upload waits out Google's rate limit, MCP progress notifications
// keep coming, each larger than the last as MCP requires, saying why it
// waits.
func TestUpload_ProgressKeepsFlowingWhileWaitingOutARateLimit(t *testing.T) {
	clock := newTestClock()
	deps, g := fixtureDeps(t, Deps{Retry: retryOn(clock)})
	deps.Stdio = true
	server := New(deps)
	ct, st := mcp.NewInMemoryTransports()
	if _, err := server.Connect(t.Context(), st, nil); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var got []*mcp.ProgressNotificationParams
	client := mcp.NewClient(&mcp.Implementation{Name: "test", Version: "1"}, &mcp.ClientOptions{
		ProgressNotificationHandler: func(_ context.Context, r *mcp.ProgressNotificationClientRequest) {
			mu.Lock()
			got = append(got, r.Params)
			mu.Unlock()
		},
	})
	session, err := client.Connect(t.Context(), ct, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { session.Close() })

	// Google asks for 12 s: the wait is told at its start and every 5 s.
	g.InjectFault(googleemu.Fault{Method: "POST", PathPrefix: "/upload/drive/v3/files", Status: 429, RetryAfter: 12 * time.Second})
	params := &mcp.CallToolParams{Name: "create_drive_file", Arguments: map[string]any{"file_name": "a.txt", "content": "hello"}}
	params.SetProgressToken("p1")
	res, err := session.CallTool(t.Context(), params)
	if err != nil || res.IsError {
		t.Fatalf("upload: %v %s", err, e2etest.ResultText(res))
	}
	// Notifications travel beside the result; the final one (the whole
	// file) comes last.
	for range 100 {
		mu.Lock()
		n := len(got)
		done := n > 0 && got[n-1].Progress >= 5
		mu.Unlock()
		if done {
			break
		}
		if err := session.Ping(t.Context(), nil); err != nil { // a round trip lets pending notifications in
			t.Fatal(err)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	waits := 0
	for i, p := range got {
		if strings.Contains(p.Message, "trying again in") {
			waits++
		}
		if i > 0 && !(p.Progress > got[i-1].Progress) {
			t.Errorf("notification %d: progress %v after %v, not growing", i, p.Progress, got[i-1].Progress)
		}
	}
	if waits != 3 {
		for _, p := range got {
			t.Logf("progress %v %q", p.Progress, p.Message)
		}
		t.Fatalf("%d notifications during the 12 s wait, want 3 (at 12 s, 7 s and 2 s left)", waits)
	}
}
