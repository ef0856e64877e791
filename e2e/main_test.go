package e2e

import (
	"testing"

	"github.com/drivemcp/drivemcp/internal/e2etest"
)

// binary is the drivemcp executable built once for all tests.
var binary string

func TestMain(m *testing.M) { e2etest.MainWithBinary(m, &binary) }
