package mcpserver

import (
	"testing"

	"github.com/drivemcp/drivemcp/internal/e2etest"
)

// Tests talk to loopback only; the guard fails the run if a name reaches
// the system's resolver (fileUrl tests use Deps.URLResolver).
func TestMain(m *testing.M) { e2etest.MainWithoutSystemDNS(m) }
