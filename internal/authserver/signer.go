package authserver

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"strconv"
	"strings"
	"time"
)

// signer makes values that only this server (or a replica with the same
// key) can have made: consent cookies and CSRF tokens. The first key signs,
// every key verifies, so rotating --secret-key keeps them valid.
type signer struct {
	keys [][]byte
}

func newSigner(keys [][]byte) *signer { return &signer{keys: keys} }

func (s *signer) mac(key []byte, parts ...string) []byte {
	m := hmac.New(sha256.New, key)
	for _, p := range parts {
		m.Write([]byte(strconv.Itoa(len(p))))
		m.Write([]byte{':'})
		m.Write([]byte(p))
	}
	return m.Sum(nil)
}

// sign returns a MAC over parts (length-prefixed, so parts cannot be shifted).
func (s *signer) sign(parts ...string) string {
	return base64.RawURLEncoding.EncodeToString(s.mac(s.keys[0], parts...))
}

// verify checks a MAC in constant time against every key.
func (s *signer) verify(sig string, parts ...string) bool {
	raw, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil {
		return false
	}
	ok := false
	for _, k := range s.keys {
		if hmac.Equal(raw, s.mac(k, parts...)) {
			ok = true
		}
	}
	return ok
}

// sealValue makes "payload.expiry.mac", a signed value that expires.
func (s *signer) sealValue(purpose, payload string, expires time.Time) string {
	exp := strconv.FormatInt(expires.Unix(), 10)
	enc := base64.RawURLEncoding.EncodeToString([]byte(payload))
	return enc + "." + exp + "." + s.sign(purpose, enc, exp)
}

// openValue returns the payload of a sealValue result if it is authentic and
// not expired at now.
func (s *signer) openValue(purpose, value string, now time.Time) (string, bool) {
	enc, rest, ok := strings.Cut(value, ".")
	if !ok {
		return "", false
	}
	exp, sig, ok := strings.Cut(rest, ".")
	if !ok || !s.verify(sig, purpose, enc, exp) {
		return "", false
	}
	unix, err := strconv.ParseInt(exp, 10, 64)
	if err != nil || now.Unix() > unix {
		return "", false
	}
	payload, err := base64.RawURLEncoding.DecodeString(enc)
	if err != nil {
		return "", false
	}
	return string(payload), true
}
