package netguard

import (
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

func TestLimitBody(t *testing.T) {
	tests := []struct {
		body   string
		max    int64
		tooBig bool
	}{
		{"", 0, false},
		{"", 5, false},
		{"hello", 5, false},
		{"hello", 6, false},
		{"hello!", 5, true},
		{"h", 0, true},
		{strings.Repeat("x", 100_000), 65536, true},
	}
	for _, tt := range tests {
		for name, r := range map[string]io.Reader{
			"whole":        strings.NewReader(tt.body),
			"byte by byte": iotest.OneByteReader(strings.NewReader(tt.body)),
		} {
			got, err := io.ReadAll(LimitBody(r, tt.max))
			if tt.tooBig {
				if !errors.Is(err, ErrTooLarge) {
					t.Errorf("%s %d bytes, max %d: err = %v, want ErrTooLarge", name, len(tt.body), tt.max, err)
				}
				if int64(len(got)) != tt.max {
					t.Errorf("%s: read %d bytes before failing, want %d", name, len(got), tt.max)
				}
				continue
			}
			if err != nil || string(got) != tt.body {
				t.Errorf("%s %d bytes, max %d: got %d bytes, %v", name, len(tt.body), tt.max, len(got), err)
			}
		}
	}
}

func TestLimitBody_StaysFailed(t *testing.T) {
	r := LimitBody(strings.NewReader("abc"), 1)
	io.ReadAll(r)
	if _, err := r.Read(make([]byte, 8)); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("second Read = %v, want ErrTooLarge", err)
	}
}
