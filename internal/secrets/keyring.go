// Package secrets seals the Google tokens drivemcp keeps at rest.
//
// A Keyring holds one or more AES-256 keys. The first key seals; every key
// opens, so an operator rotates by putting a new key first and keeping the old
// one until every account has been re-sealed. Each sealed blob names the key
// that sealed it, so a missing key is reported as such rather than as
// corruption.
package secrets

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
)

// KeySize is the length of every key: AES-256.
const KeySize = 32

// Sealed layout: version | key id | nonce | ciphertext+tag.
const (
	formatVersion = 1
	keyIDSize     = 4
	headerSize    = 1 + keyIDSize
	nonceSize     = 12
	tagSize       = 16
)

var (
	// ErrUnknownKey means the blob was sealed with a key this Keyring does
	// not hold.
	ErrUnknownKey = errors.New("secrets: sealed with a key that is not configured")
	// ErrCorrupt means the blob was altered, truncated, or sealed for
	// other associated data (another account's row).
	ErrCorrupt = errors.New("secrets: sealed data is corrupt or belongs to another record")
)

// Keyring seals with its first key and opens with any of its keys. Make one
// with NewKeyring; it is safe for concurrent use.
type Keyring struct {
	keys []ringKey
	raw  [][]byte // for deriving purpose-bound keys; never leaves the package
}

type ringKey struct {
	id   [keyIDSize]byte
	aead cipher.AEAD
}

// NewKeyring builds a Keyring from 32-byte keys; the first one seals.
func NewKeyring(keys ...[]byte) (*Keyring, error) {
	if len(keys) == 0 {
		return nil, errors.New("secrets: no key given")
	}
	ring := &Keyring{keys: make([]ringKey, 0, len(keys))}
	for i, key := range keys {
		if len(key) != KeySize {
			return nil, fmt.Errorf("secrets: key %d of %d is %d bytes, want %d", i+1, len(keys), len(key), KeySize)
		}
		block, err := aes.NewCipher(key)
		if err != nil {
			return nil, fmt.Errorf("secrets: key %d of %d: %w", i+1, len(keys), err)
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, fmt.Errorf("secrets: key %d of %d: %w", i+1, len(keys), err)
		}
		ring.keys = append(ring.keys, ringKey{id: keyID(key), aead: aead})
		ring.raw = append(ring.raw, bytes.Clone(key))
	}
	return ring, nil
}

// KeyID names a key without revealing it: the hex of the first four bytes of
// its SHA-256, as recorded in every blob it seals. Operators use it to tell
// which --secret-key a blob needs.
func KeyID(key []byte) string {
	id := keyID(key)
	return hex.EncodeToString(id[:])
}

func keyID(key []byte) [keyIDSize]byte {
	sum := sha256.Sum256(key)
	return [keyIDSize]byte(sum[:keyIDSize])
}

// Seal encrypts plaintext with the first key. associatedData is not stored
// but must be passed to Open unchanged: callers pass the account email so a
// blob copied to another account's row does not open.
func (k *Keyring) Seal(plaintext, associatedData []byte) ([]byte, error) {
	sealer := k.keys[0]
	out := make([]byte, headerSize+nonceSize, headerSize+nonceSize+len(plaintext)+tagSize)
	out[0] = formatVersion
	copy(out[1:headerSize], sealer.id[:])
	nonce := out[headerSize:]
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("secrets: reading random nonce: %w", err)
	}
	return sealer.aead.Seal(out, nonce, plaintext, additionalData(out[:headerSize], associatedData)), nil
}

// Open decrypts a blob made by Seal with any key of the ring. It returns
// ErrUnknownKey if none of the ring's keys sealed it, and ErrCorrupt if it
// does not authenticate.
func (k *Keyring) Open(sealed, associatedData []byte) ([]byte, error) {
	if len(sealed) < headerSize+nonceSize+tagSize {
		return nil, fmt.Errorf("%w: %d bytes is too short", ErrCorrupt, len(sealed))
	}
	if sealed[0] != formatVersion {
		return nil, fmt.Errorf("%w: unknown format version %d", ErrCorrupt, sealed[0])
	}
	id := [keyIDSize]byte(sealed[1:headerSize])
	nonce := sealed[headerSize : headerSize+nonceSize]
	ciphertext := sealed[headerSize+nonceSize:]
	aad := additionalData(sealed[:headerSize], associatedData)
	found := false
	// Two different keys can share an id (a 1 in 2^32 chance), so every key
	// with the id gets a try.
	for _, key := range k.keys {
		if key.id != id {
			continue
		}
		found = true
		if plaintext, err := key.aead.Open(nil, nonce, ciphertext, aad); err == nil {
			return plaintext, nil
		}
	}
	if !found {
		return nil, fmt.Errorf("%w: it needs the key with id %x; add that --secret-key after the current one (comma-separated), or have the user sign in again",
			ErrUnknownKey, id)
	}
	return nil, ErrCorrupt
}

// SealedBy names the key a blob was sealed with (as KeyID does) and reports
// whether this ring has a key with that id, without opening the blob: a
// server can check at start that it holds every key its database needs.
// A blob too short or of an unknown format reports ok false and id "".
func (k *Keyring) SealedBy(sealed []byte) (id string, ok bool) {
	if len(sealed) < headerSize || sealed[0] != formatVersion {
		return "", false
	}
	kid := [keyIDSize]byte(sealed[1:headerSize])
	for _, key := range k.keys {
		if key.id == kid {
			return hex.EncodeToString(kid[:]), true
		}
	}
	return hex.EncodeToString(kid[:]), false
}

// additionalData authenticates the header along with the caller's data, so
// the version and key id cannot be altered either.
func additionalData(header, associatedData []byte) []byte {
	aad := make([]byte, 0, len(header)+len(associatedData))
	aad = append(aad, header...)
	return append(aad, associatedData...)
}

// DeriveKeys returns one 32-byte key per configured key, for a purpose other
// than sealing (signing cookies, CSRF tokens), derived with HKDF so that a
// key used for one purpose reveals nothing about another. The first signs;
// all verify, so key rotation keeps cookies valid.
func (k *Keyring) DeriveKeys(purpose string) [][]byte {
	out := make([][]byte, 0, len(k.raw))
	for _, key := range k.raw {
		derived, err := hkdf.Key(sha256.New, key, nil, "drivemcp "+purpose, KeySize)
		if err != nil {
			panic(err) // only for impossible lengths
		}
		out = append(out, derived)
	}
	return out
}
