package mcpserver

import (
	"context"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// The version a client sees in the initialize handshake is the one the
// binary was built with, given to New, not a package variable set later.
func TestInitialize_ReportsTheVersionGivenToNew(t *testing.T) {
	for _, c := range []struct{ given, want string }{{"v1.2.3", "v1.2.3"}, {"", "dev"}} {
		s := New(Deps{Version: c.given})
		ct, st := mcp.NewInMemoryTransports()
		ctx := context.Background()
		ss, err := s.Connect(ctx, st, nil)
		if err != nil {
			t.Fatal(err)
		}
		cs, err := mcp.NewClient(&mcp.Implementation{Name: "test", Version: "1"}, nil).Connect(ctx, ct, nil)
		if err != nil {
			t.Fatal(err)
		}
		if got := cs.InitializeResult().ServerInfo.Version; got != c.want {
			t.Errorf("New(Deps{Version: %q}): initialize says version %q, want %q", c.given, got, c.want)
		}
		cs.Close()
		ss.Wait()
	}
}
