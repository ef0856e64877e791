package config

import (
	"strings"
	"testing"
	"time"
)

// Real Drive is polled at most once a minute per subscribed account; a
// shorter interval is for emulators only.
func TestParseServe_ResourcePollFasterThanAMinuteOnlyAgainstAnEmulator(t *testing.T) {
	home := env(map[string]string{"HOME": t.TempDir()})
	if _, err := ParseServe(append(append([]string{}, client...), "--stdio", "--resource-poll-interval", "5s"), home); err == nil ||
		!strings.Contains(err.Error(), "--resource-poll-interval") {
		t.Errorf("5s against Google: %v; want it refused", err)
	}
	c, err := ParseServe(append(append([]string{}, client...), "--stdio", "--google-endpoint", "http://127.0.0.1:9", "--resource-poll-interval", "50ms"), home)
	if err != nil || c.ResourcePollInterval != 50*time.Millisecond {
		t.Fatalf("50ms against an emulator: %v, %v", c, err)
	}
	c, err = ParseServe(append(append([]string{}, client...), "--stdio"), home)
	if err != nil || c.ResourcePollInterval != time.Minute {
		t.Fatalf("default: %v, %v; want 1m", c.ResourcePollInterval, err)
	}
}
