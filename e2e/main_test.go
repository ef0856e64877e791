package e2e

import (
	"fmt"
	"os"
	"testing"

	"github.com/drivemcp/drivemcp/internal/e2etest"
)

// binary is the drivemcp executable built once for all tests.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "drivemcp-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary, err = e2etest.BuildBinary(dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, "building drivemcp:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}
