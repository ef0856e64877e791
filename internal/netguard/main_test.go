package netguard

import (
	"testing"

	"github.com/drivemcp/drivemcp/internal/e2etest"
)

// Every test here resolves names through a fake resolver; the guard fails
// the run if one reaches the system's.
func TestMain(m *testing.M) { e2etest.MainWithoutSystemDNS(m) }
