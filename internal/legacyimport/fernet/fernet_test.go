package fernet

import (
	"bytes"
	"errors"
	"os"
	"testing"
	"time"
)

// A token Python's cryptography package made (see
// ../testdata/make_python_fixtures.py) opens with its key.
func TestDecrypt_ReadsWhatPythonCryptographyWrote(t *testing.T) {
	rawKey, err := os.ReadFile("../testdata/python-2.11/fernet_key.txt")
	if err != nil {
		t.Fatal(err)
	}
	token, err := os.ReadFile("../testdata/python-2.11/fernet_token.txt")
	if err != nil {
		t.Fatal(err)
	}
	k, err := ParseKey(string(rawKey))
	if err != nil {
		t.Fatal(err)
	}
	got, err := Decrypt(k, token)
	if err != nil || string(got) != "made by Python's cryptography Fernet" {
		t.Fatalf("Decrypt = %q, %v", got, err)
	}
}

// Encrypt and Decrypt agree for every padding length, and a token from the
// published Fernet specification's test vector is reproduced exactly.
func TestEncrypt_MatchesTheSpecificationVector(t *testing.T) {
	// From the Fernet spec's generate.json.
	k, err := ParseKey("cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e4=")
	if err != nil {
		t.Fatal(err)
	}
	iv := [16]byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}
	now, _ := time.Parse(time.RFC3339, "1985-10-26T01:20:00-07:00")
	tok, err := Encrypt(k, []byte("hello"), now, iv)
	if err != nil {
		t.Fatal(err)
	}
	want := "gAAAAAAdwJ6wAAECAwQFBgcICQoLDA0ODy021cpGVWKZ_eEwCGM4BLLF_5CV9dOPmrhuVUPgJobwOz7JcbmrR64jVmpU4IwqDA=="
	if string(tok) != want {
		t.Fatalf("token = %s\nwant    %s", tok, want)
	}
	for n := range 40 {
		msg := bytes.Repeat([]byte{'x'}, n)
		tok, _ := Encrypt(k, msg, now, iv)
		if got, err := Decrypt(k, tok); err != nil || !bytes.Equal(got, msg) {
			t.Fatalf("round trip of %d bytes: %q, %v", n, got, err)
		}
	}
}

// A wrong key, a changed byte, a truncated token and garbage are all
// refused as ErrInvalidToken, never with a panic.
func TestDecrypt_RefusesWrongKeyAndTampering(t *testing.T) {
	k, _ := ParseKey("cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e4=")
	other, _ := ParseKey("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")
	tok, _ := Encrypt(k, []byte("secret"), time.Now(), [16]byte{})
	changed := bytes.Clone(tok)
	changed[20] ^= 1
	for name, c := range map[string]struct {
		k   Key
		tok []byte
	}{
		"wrong key": {other, tok}, "changed": {k, changed}, "truncated": {k, tok[:40]},
		"garbage": {k, []byte("not a token")}, "empty": {k, nil},
	} {
		if _, err := Decrypt(c.k, c.tok); !errors.Is(err, ErrInvalidToken) {
			t.Errorf("%s: err = %v", name, err)
		}
	}
	for _, bad := range []string{"", "short", "!!!!"} {
		if _, err := ParseKey(bad); !errors.Is(err, ErrInvalidKey) {
			t.Errorf("ParseKey(%q) = %v", bad, err)
		}
	}
}

func FuzzDecrypt(f *testing.F) {
	k, _ := ParseKey("cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e4=")
	tok, _ := Encrypt(k, []byte("hello"), time.Now(), [16]byte{})
	f.Add(tok)
	f.Fuzz(func(t *testing.T, b []byte) { _, _ = Decrypt(k, b) })
}
