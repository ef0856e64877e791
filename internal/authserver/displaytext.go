package authserver

import (
	"strings"
	"unicode"
)

// displayText keeps a string someone else chose (a client name, a value
// from a request or a metadata document) printable and short: it ends up
// on the consent page or in an error, where a newline or a right-to-left
// override could mislead. It counts characters, not bytes, so it never
// splits a UTF-8 sequence, and marks a cut with "…".
func displayText(s string, maxRunes int) string {
	var b strings.Builder
	n := 0
	for _, r := range s {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
			continue
		}
		if n == maxRunes {
			b.WriteString("…")
			break
		}
		b.WriteRune(r)
		n++
	}
	return strings.TrimSpace(b.String())
}

// quoteShort quotes a value from a request for an error message.
func quoteShort(s string) string {
	return `"` + displayText(s, 40) + `"`
}
