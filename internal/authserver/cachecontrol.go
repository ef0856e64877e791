package authserver

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// metadataLifetime reads Cache-Control: no-store and no-cache mean the
// shortest lifetime we allow, max-age is honoured within bounds, and
// otherwise the default applies.
func metadataLifetime(h http.Header, def time.Duration) time.Duration {
	floor := min(minMetadataTTL, def)
	lifetime := def
	for _, directive := range strings.Split(strings.Join(h.Values("Cache-Control"), ","), ",") {
		name, value, _ := strings.Cut(strings.TrimSpace(directive), "=")
		switch strings.ToLower(name) {
		case "no-store", "no-cache":
			return floor
		case "max-age":
			if secs, err := strconv.ParseInt(strings.Trim(value, `"`), 10, 64); err == nil && secs >= 0 {
				lifetime = time.Duration(min(secs, int64(maxMetadataTTL/time.Second))) * time.Second
			}
		}
	}
	return min(max(lifetime, floor), maxMetadataTTL)
}
