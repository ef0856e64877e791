package secrets

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
)

// keyHint tells a user how to make a valid key.
const keyHint = "want base64 of 32 random bytes, e.g. from: openssl rand -base64 32"

// ParseKeys parses a --secret-key value: one or more base64 keys (standard or
// URL alphabet, padded or not) separated by commas, the sealing key first.
// Errors say which key is wrong and how, never what it was.
func ParseKeys(s string) ([][]byte, error) {
	if strings.TrimSpace(s) == "" {
		return nil, fmt.Errorf("secrets: no key given: %s", keyHint)
	}
	parts := strings.Split(s, ",")
	keys := make([][]byte, 0, len(parts))
	for i, part := range parts {
		key, err := decodeKey(part)
		if err != nil {
			if len(parts) == 1 {
				return nil, fmt.Errorf("secrets: key %w", err)
			}
			return nil, fmt.Errorf("secrets: key %d of %d %w", i+1, len(parts), err)
		}
		keys = append(keys, key)
	}
	return keys, nil
}

// decodeKey decodes one base64 key. Its errors complete the sentence
// "key N ..." and never include the input.
func decodeKey(s string) ([]byte, error) {
	s = strings.TrimRight(strings.TrimSpace(s), "=")
	if s == "" {
		return nil, errors.New("is empty (a stray comma?): " + keyHint)
	}
	enc := base64.RawStdEncoding
	if strings.ContainsAny(s, "-_") {
		enc = base64.RawURLEncoding
	}
	key, err := enc.DecodeString(s)
	if err != nil {
		// The decoder's error quotes an offset into the key; leave it out.
		return nil, errors.New("is not valid base64: " + keyHint)
	}
	if len(key) != KeySize {
		return nil, fmt.Errorf("decodes to %d bytes: %s", len(key), keyHint)
	}
	return key, nil
}
