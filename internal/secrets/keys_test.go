package secrets

import (
	"bytes"
	"encoding/base64"
	"strings"
	"testing"
)

func TestParseKeys_AcceptsEveryBase64Flavour(t *testing.T) {
	// 0xfb 0xff makes the standard and URL alphabets differ.
	key := bytes.Repeat([]byte{0xfb, 0xff, 0x01, 0x02}, 8)
	other := bytes.Repeat([]byte{7}, KeySize)
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		s := " " + enc.EncodeToString(key) + " ,\n" + enc.EncodeToString(other) + "\n"
		keys, err := ParseKeys(s)
		if err != nil {
			t.Fatalf("ParseKeys(%q): %v", s, err)
		}
		if len(keys) != 2 || !bytes.Equal(keys[0], key) || !bytes.Equal(keys[1], other) {
			t.Errorf("ParseKeys(%q) = %x, want [%x %x]", s, keys, key, other)
		}
	}
}

func TestParseKeys_ErrorsNeverEchoTheKey(t *testing.T) {
	good := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{9}, KeySize))
	short := base64.StdEncoding.EncodeToString([]byte("sixteen byte key"))
	notBase64 := "this-is*not+base64-at-all-SECRET"
	tests := []struct {
		in, want string
	}{
		{"", "no key given"},
		{"   ", "no key given"},
		{short, "decodes to 16 bytes"},
		{good + "," + short, "key 2 of 2 decodes to 16 bytes"},
		{good + ",", "key 2 of 2 is empty"},
		{notBase64, "not valid base64"},
	}
	for _, tt := range tests {
		_, err := ParseKeys(tt.in)
		if err == nil {
			t.Errorf("ParseKeys(%q): want error", tt.in)
			continue
		}
		if !strings.Contains(err.Error(), tt.want) {
			t.Errorf("ParseKeys(%q) = %q, want it to say %q", tt.in, err, tt.want)
		}
		for _, secret := range []string{good, short, notBase64, "SECRET"} {
			if strings.Contains(err.Error(), secret) {
				t.Errorf("ParseKeys error %q echoes key material", err)
			}
		}
	}
}
