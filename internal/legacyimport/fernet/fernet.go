// Package fernet reads (and, for test fixtures, writes) Fernet tokens as
// Python's cryptography package makes them: the older Python server sealed
// its Google credentials with Fernet, and drivemcp must open them once, at
// import.
//
// It is a small reader of our own on crypto/aes and crypto/hmac rather than
// a third-party module: the format is fixed and short (version 0x80, 8-byte
// big-endian timestamp, 16-byte IV, AES-128-CBC with PKCS#7 padding, then an
// HMAC-SHA256 over all of that; the 32-byte key is its signing half followed
// by its encryption half), the maintained candidates have had no release in
// years (github.com/fernet/fernet-go has no tagged version), and
// the tests check this code against tokens Python itself produced.
package fernet

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"time"
)

const (
	version   = 0x80
	headerLen = 1 + 8 + aes.BlockSize
	macLen    = sha256.Size
)

// ErrInvalidToken is any token this key did not make, or that was changed:
// like Python's InvalidToken, it does not say which, so a wrong key and
// tampering look alike.
var ErrInvalidToken = errors.New("fernet: the token was not made with this key, or was changed")

// ErrInvalidKey is a key that is not 32 bytes in URL-safe base64.
var ErrInvalidKey = errors.New("fernet: a key is 32 bytes in URL-safe base64")

// Key is a Fernet key: signing half, then encryption half.
type Key [32]byte

// ParseKey reads a key as Python's Fernet(key) does: URL-safe base64 of 32
// bytes. Surrounding white space is ignored (a key file often ends in a
// newline), as is missing padding.
func ParseKey(s string) (Key, error) {
	var k Key
	raw, err := decodeB64(strings.TrimSpace(s))
	if err != nil || len(raw) != len(k) {
		return k, ErrInvalidKey
	}
	copy(k[:], raw)
	return k, nil
}

// String is the key in URL-safe base64, as Fernet.generate_key() prints it.
func (k Key) String() string { return base64.URLEncoding.EncodeToString(k[:]) }

// Decrypt opens a token (its URL-safe base64 text) and returns the
// plaintext. Like Python's Fernet.decrypt without a ttl, the token's age is
// not checked: the older server's files are as old as they are.
func Decrypt(k Key, token []byte) ([]byte, error) {
	raw, err := decodeB64(strings.TrimSpace(string(token)))
	if err != nil || len(raw) < headerLen+aes.BlockSize+macLen || raw[0] != version {
		return nil, ErrInvalidToken
	}
	body, sum := raw[:len(raw)-macLen], raw[len(raw)-macLen:]
	mac := hmac.New(sha256.New, k[:16])
	mac.Write(body)
	if !hmac.Equal(mac.Sum(nil), sum) {
		return nil, ErrInvalidToken
	}
	iv, ct := body[9:headerLen], body[headerLen:]
	if len(ct)%aes.BlockSize != 0 {
		return nil, ErrInvalidToken
	}
	block, err := aes.NewCipher(k[16:])
	if err != nil {
		return nil, ErrInvalidToken
	}
	pt := make([]byte, len(ct))
	cipher.NewCBCDecrypter(block, iv).CryptBlocks(pt, ct)
	n := int(pt[len(pt)-1])
	if n == 0 || n > aes.BlockSize || !bytes.Equal(pt[len(pt)-n:], bytes.Repeat([]byte{byte(n)}, n)) {
		return nil, ErrInvalidToken
	}
	return pt[:len(pt)-n], nil
}

// Encrypt makes a token as Python's Fernet.encrypt does, with the given
// time and IV (random in real use; fixed in tests that compare bytes).
// drivemcp itself never writes the older server's files: this exists so
// tests can write them exactly as that server did.
func Encrypt(k Key, plaintext []byte, now time.Time, iv [aes.BlockSize]byte) ([]byte, error) {
	block, err := aes.NewCipher(k[16:])
	if err != nil {
		return nil, fmt.Errorf("fernet: %w", err)
	}
	n := aes.BlockSize - len(plaintext)%aes.BlockSize
	padded := append(append([]byte(nil), plaintext...), bytes.Repeat([]byte{byte(n)}, n)...)
	out := make([]byte, headerLen, headerLen+len(padded)+macLen)
	out[0] = version
	binary.BigEndian.PutUint64(out[1:9], uint64(now.Unix()))
	copy(out[9:headerLen], iv[:])
	ct := make([]byte, len(padded))
	cipher.NewCBCEncrypter(block, iv[:]).CryptBlocks(ct, padded)
	out = append(out, ct...)
	mac := hmac.New(sha256.New, k[:16])
	mac.Write(out)
	out = mac.Sum(out)
	return []byte(base64.URLEncoding.EncodeToString(out)), nil
}

// decodeB64 accepts URL-safe base64 with or without padding, as Python's
// urlsafe_b64decode does for what Fernet writes.
func decodeB64(s string) ([]byte, error) {
	return base64.URLEncoding.WithPadding(base64.NoPadding).DecodeString(strings.TrimRight(s, "="))
}
