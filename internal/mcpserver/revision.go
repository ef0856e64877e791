package mcpserver

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/felixge/httpsnoop"
)

// sessionlessRevision is the first MCP revision without initialize and
// sessions (SEP-2575): each request carries its own version, so any replica
// or handler can answer it.
const sessionlessRevision = "2026-07-28"

// ByRevision sends requests at a sessionless revision (2026-07-28 and
// later, by their MCP-Protocol-Version header) to sessionless, and every
// other request to sessions. The go-sdk serves those revisions only on a
// stateless handler, while the older revisions need the stateful one for
// the direct flow's session binding (docs/architecture.md); dispatching on
// the header lets one /mcp serve both. Revisions are dates, so they compare
// as strings, as the go-sdk compares them.
//
// The body is never read here, not even for a server/discover that comes
// without the header: the go-sdk refuses such a request on either handler
// (-32020 "header is required" when it carries _meta, "method not found"
// when it does not, since without the header it is a legacy request), as
// SEP-2575 wants the header on every request; routing it elsewhere would
// change nothing and cost a copy of every session's first body
// (e2e TestMCP_DiscoverWithoutVersionHeaderIsToldTheHeaderIsRequiredInBothModes).
func ByRevision(sessions, sessionless http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if v := r.Header.Get("Mcp-Protocol-Version"); v >= sessionlessRevision && r.Header.Get("Mcp-Session-Id") == "" {
			sessionless.ServeHTTP(w, r)
			return
		}
		sessions.ServeHTTP(w, r)
	})
}

// SSERetry puts an SSE retry field (in milliseconds) into the first event of
// every event stream h answers, so a client whose stream breaks knows how
// long to wait before it resumes with Last-Event-ID (SEP-1699). The go-sdk
// sends the priming event but no retry field; in SSE the fields of one
// event may come in any order, so adding the line before the first event's
// own lines changes nothing else.
func SSERetry(h http.Handler, after time.Duration) http.Handler {
	field := []byte("retry: " + strconv.FormatInt(after.Milliseconds(), 10) + "\n")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		first := true
		w = httpsnoop.Wrap(w, httpsnoop.Hooks{
			Write: func(next httpsnoop.WriteFunc) httpsnoop.WriteFunc {
				return func(b []byte) (int, error) {
					if first {
						first = false
						if strings.HasPrefix(w.Header().Get("Content-Type"), "text/event-stream") && len(b) > 0 {
							if _, err := next(field); err != nil {
								return 0, err
							}
						}
					}
					return next(b)
				}
			},
		})
		h.ServeHTTP(w, r)
	})
}

// revisionAtLeast reports whether the MCP revision v is min or later.
// Revisions are dates (YYYY-MM-DD), so they are read as dates: a malformed
// or empty version counts as older, never as a newer revision that would
// change how the server talks to the client.
func revisionAtLeast(v, min string) bool {
	tv, err := time.Parse(time.DateOnly, v)
	if err != nil {
		return false
	}
	tm, err := time.Parse(time.DateOnly, min)
	return err == nil && !tv.Before(tm)
}
