package mcpserver

import "testing"

// Revisions are dates; a malformed or empty one (a client that sent
// nonsense, or a session that never said) must not count as a newer
// revision, which comparing strings does ("x" > "2026-07-28").
func TestRevisionAtLeast_ComparesDatesAndRefusesMalformedVersions(t *testing.T) {
	for _, c := range []struct {
		v    string
		want bool
	}{
		{"2026-07-28", true},
		{"2027-01-05", true},
		{"2025-11-25", false},
		{"2024-11-05", false},
		{"", false},
		{"draft", false},
		{"2026-7-28", false},
		{"2026-13-01", false},
		{"9999", false},
	} {
		if got := revisionAtLeast(c.v, sessionlessRevision); got != c.want {
			t.Errorf("revisionAtLeast(%q, %q) = %v, want %v", c.v, sessionlessRevision, got, c.want)
		}
	}
}
