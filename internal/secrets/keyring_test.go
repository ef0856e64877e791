package secrets

import (
	"bytes"
	"crypto/rand"
	"errors"
	"strings"
	"testing"
)

func newKey(t testing.TB) []byte {
	t.Helper()
	key := make([]byte, KeySize)
	if _, err := rand.Read(key); err != nil {
		t.Fatal(err)
	}
	return key
}

func mustKeyring(t testing.TB, keys ...[]byte) *Keyring {
	t.Helper()
	ring, err := NewKeyring(keys...)
	if err != nil {
		t.Fatal(err)
	}
	return ring
}

func TestSealOpenRoundTrip(t *testing.T) {
	ring := mustKeyring(t, newKey(t))
	for _, plaintext := range [][]byte{nil, []byte("x"), bytes.Repeat([]byte{0, 1, 2, 255}, 300)} {
		sealed, err := ring.Seal(plaintext, []byte("ada@example.com"))
		if err != nil {
			t.Fatal(err)
		}
		// A short plaintext can appear in random bytes by chance; a long one cannot.
		if len(plaintext) >= 16 && bytes.Contains(sealed, plaintext) {
			t.Errorf("sealed blob contains the plaintext")
		}
		got, err := ring.Open(sealed, []byte("ada@example.com"))
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		if !bytes.Equal(got, plaintext) {
			t.Errorf("Open = %q, want %q", got, plaintext)
		}
	}
}

func TestSealUsesFreshNonces(t *testing.T) {
	ring := mustKeyring(t, newKey(t))
	a, _ := ring.Seal([]byte("same"), nil)
	b, _ := ring.Seal([]byte("same"), nil)
	if bytes.Equal(a, b) {
		t.Error("sealing the same plaintext twice gave the same blob")
	}
}

func TestOpen_BlobMovedToAnotherAccountFails(t *testing.T) {
	ring := mustKeyring(t, newKey(t))
	sealed, _ := ring.Seal([]byte("token"), []byte("ada@example.com"))
	_, err := ring.Open(sealed, []byte("eve@example.com"))
	if !errors.Is(err, ErrCorrupt) {
		t.Errorf("Open with another account's email: err = %v, want ErrCorrupt", err)
	}
}

func TestRotation_OldKeyOpensNewKeySeals(t *testing.T) {
	oldKey, newK := newKey(t), newKey(t)
	before := mustKeyring(t, oldKey)
	sealedOld, _ := before.Seal([]byte("old"), []byte("a"))

	after := mustKeyring(t, newK, oldKey)
	got, err := after.Open(sealedOld, []byte("a"))
	if err != nil || string(got) != "old" {
		t.Fatalf("rotated ring opening old blob = %q, %v", got, err)
	}
	sealedNew, _ := after.Seal([]byte("new"), []byte("a"))
	if _, err := mustKeyring(t, newK).Open(sealedNew, []byte("a")); err != nil {
		t.Errorf("new key alone cannot open what the rotated ring sealed: %v", err)
	}
	if _, err := before.Open(sealedNew, []byte("a")); !errors.Is(err, ErrUnknownKey) {
		t.Errorf("old key alone opening new blob: err = %v, want ErrUnknownKey", err)
	}
}

func TestOpen_UnknownKeyNamesTheMissingKey(t *testing.T) {
	key := newKey(t)
	sealed, _ := mustKeyring(t, key).Seal([]byte("t"), nil)
	_, err := mustKeyring(t, newKey(t)).Open(sealed, nil)
	if !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("err = %v, want ErrUnknownKey", err)
	}
	if !strings.Contains(err.Error(), KeyID(key)) || !strings.Contains(err.Error(), "--secret-key") {
		t.Errorf("error %q should name key id %s and the --secret-key flag", err, KeyID(key))
	}
}

func TestOpen_TamperingIsDetected(t *testing.T) {
	ring := mustKeyring(t, newKey(t))
	sealed, _ := ring.Seal([]byte("a token worth stealing"), []byte("a"))
	for i := range sealed {
		tampered := bytes.Clone(sealed)
		tampered[i] ^= 0x01
		_, err := ring.Open(tampered, []byte("a"))
		// Flipping a key-id bit yields an unknown key; anything else is
		// corruption. Either way nothing opens.
		if !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrUnknownKey) {
			t.Errorf("byte %d flipped: err = %v, want ErrCorrupt or ErrUnknownKey", i, err)
		}
	}
	for _, n := range []int{0, 1, headerSize, headerSize + nonceSize + tagSize - 1, len(sealed) - 1} {
		if _, err := ring.Open(sealed[:n], []byte("a")); !errors.Is(err, ErrCorrupt) {
			t.Errorf("truncated to %d bytes: err = %v, want ErrCorrupt", n, err)
		}
	}
}

func TestNewKeyring_RejectsBadKeys(t *testing.T) {
	if _, err := NewKeyring(); err == nil {
		t.Error("NewKeyring() with no key: want error")
	}
	if _, err := NewKeyring(newKey(t), make([]byte, 16)); err == nil || !strings.Contains(err.Error(), "key 2 of 2") {
		t.Errorf("NewKeyring with a 16-byte key: err = %v, want one naming key 2 of 2", err)
	}
}

func BenchmarkSeal(b *testing.B) {
	ring := mustKeyring(b, newKey(b))
	token := bytes.Repeat([]byte("x"), 1024)
	aad := []byte("ada@example.com")
	b.SetBytes(int64(len(token)))
	for b.Loop() {
		if _, err := ring.Seal(token, aad); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkOpen(b *testing.B) {
	ring := mustKeyring(b, newKey(b), newKey(b), newKey(b))
	token := bytes.Repeat([]byte("x"), 1024)
	aad := []byte("ada@example.com")
	sealed, _ := ring.Seal(token, aad)
	b.SetBytes(int64(len(token)))
	for b.Loop() {
		if _, err := ring.Open(sealed, aad); err != nil {
			b.Fatal(err)
		}
	}
}

func TestDeriveKeys_PurposeBoundAndRotating(t *testing.T) {
	a, b := bytes.Repeat([]byte{1}, 32), bytes.Repeat([]byte{2}, 32)
	ring, _ := NewKeyring(a, b)
	cookies, csrf := ring.DeriveKeys("cookies"), ring.DeriveKeys("csrf")
	if len(cookies) != 2 || bytes.Equal(cookies[0], csrf[0]) || bytes.Equal(cookies[0], a) {
		t.Fatal("derived keys must differ per purpose and from the sealing key")
	}
	rotated, _ := NewKeyring(b, a)
	if !bytes.Equal(rotated.DeriveKeys("cookies")[1], cookies[0]) {
		t.Fatal("an old key must still derive the same verifying key after rotation")
	}
}
