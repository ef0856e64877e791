// Package legacyimport reads the credential files of the older Python
// server (dipseth/google_workspace_fastmcp2, up to Release 2.11.0) so that
// `drivemcp accounts import` can move its users' Google grants into the
// sealed store: plaintext JSON of both generations, Fernet-encrypted .enc
// files (with .auth_encryption_key or the key derived from MCP_API_KEY),
// MEMORY_WITH_BACKUP's _backup.enc, and version-2 envelopes ("server", and
// "per_user" through their OAuth recipient). Nothing a file says is
// trusted: every grant is refreshed with drivemcp's own client and its
// identity and scopes are taken from Google's answer (importer.go).
//
// This file holds the facts of the Python server's storage: file names
// and key derivations, written from its auth/middleware.py,
// auth/user_api_keys.py and auth/google_auth.py.
package legacyimport

import (
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"unicode/utf16"

	"github.com/drivemcp/drivemcp/internal/legacyimport/fernet"
)

const (
	// serverKeyFile holds the server's random Fernet key, also used raw as
	// the "server secret" of envelopes and linkage preferences.
	serverKeyFile = ".auth_encryption_key"
	// linkageFile maps an email to its Google sub, Fernet-encrypted.
	linkageFile = ".oauth_linkage_prefs.json"
)

// Stem is the file-name form of an email in the Python server's folder:
// lower-cased, "@" → "_at_", "." → "_" (alice_at_example_com).
func Stem(email string) string {
	e := strings.ToLower(strings.TrimSpace(email))
	return strings.ReplaceAll(strings.ReplaceAll(e, "@", "_at_"), ".", "_")
}

func derive(secret, salt []byte, info string) fernet.Key {
	var k fernet.Key
	// HKDF-SHA256 only fails for a length over 255 hash blocks.
	raw, _ := hkdf.Key(sha256.New, secret, salt, info, len(k))
	copy(k[:], raw)
	return k
}

// APIKeyFernetKey is the Fernet key the Python server derives from
// MCP_API_KEY (since 2026-03): HKDF-SHA256, salt "mcp-google-workspace-v1",
// info "credential-encryption".
func APIKeyFernetKey(apiKey string) fernet.Key {
	return derive([]byte(apiKey), []byte("mcp-google-workspace-v1"), "credential-encryption")
}

// OAuthRecipientKey is the "OAuth recipient" of a per_user envelope whose
// owner set no passphrase: hex SHA-256 of server secret ":oauth-identity-
// recipient-v2:" sub.
func OAuthRecipientKey(serverSecret []byte, sub string) string {
	sum := sha256.Sum256(slices.Concat(serverSecret, []byte(":oauth-identity-recipient-v2:"), []byte(sub)))
	return hex.EncodeToString(sum[:])
}

// RecipientID names a recipient in an envelope: hex SHA-256 of its key.
func RecipientID(recipientKey string) string {
	sum := sha256.Sum256([]byte(recipientKey))
	return hex.EncodeToString(sum[:])
}

// RecipientFernetKey wraps the envelope's content key for one recipient:
// HKDF-SHA256 of the recipient key, salted with the server secret.
func RecipientFernetKey(serverSecret []byte, recipientKey string) fernet.Key {
	return derive([]byte(recipientKey), serverSecret, "per-user-credential-encryption-v1")
}

// LinkageFernetKey seals .oauth_linkage_prefs.json: HKDF-SHA256 of the
// server secret (white space trimmed, unlike elsewhere).
func LinkageFernetKey(serverSecret []byte) fernet.Key {
	return derive([]byte(strings.TrimSpace(string(serverSecret))), []byte("oauth-linkage-prefs-salt-v1"), "oauth-linkage-prefs-encryption-v1")
}

// EnvelopeHMAC is the integrity tag of a version-2 envelope: HMAC-SHA256,
// keyed with the server secret, over Python's json.dumps(sort_keys=True)
// of every field but "hmac", in hex.
func EnvelopeHMAC(serverSecret []byte, envelope map[string]any) (string, error) {
	var b strings.Builder
	without := make(map[string]any, len(envelope))
	for k, v := range envelope {
		if k != "hmac" {
			without[k] = v
		}
	}
	if err := pythonJSON(&b, without); err != nil {
		return "", err
	}
	mac := hmac.New(sha256.New, serverSecret)
	mac.Write([]byte(b.String()))
	return hex.EncodeToString(mac.Sum(nil)), nil
}

// pythonJSON writes v as Python's json.dumps(v, sort_keys=True) does: ", "
// and ": " separators, non-ASCII escaped as \uXXXX. Numbers must be
// json.Number (decode with UseNumber), so they keep their spelling.
func pythonJSON(b *strings.Builder, v any) error {
	switch v := v.(type) {
	case nil:
		b.WriteString("null")
	case bool:
		b.WriteString(fmt.Sprint(v))
	case json.Number:
		b.WriteString(v.String())
	case string:
		pythonString(b, v)
	case []any:
		b.WriteByte('[')
		for i, e := range v {
			if i > 0 {
				b.WriteString(", ")
			}
			if err := pythonJSON(b, e); err != nil {
				return err
			}
		}
		b.WriteByte(']')
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		b.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				b.WriteString(", ")
			}
			pythonString(b, k)
			b.WriteString(": ")
			if err := pythonJSON(b, v[k]); err != nil {
				return err
			}
		}
		b.WriteByte('}')
	default:
		return fmt.Errorf("a JSON value of type %T", v)
	}
	return nil
}

func pythonString(b *strings.Builder, s string) {
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"':
			b.WriteString(`\"`)
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\b':
			b.WriteString(`\b`)
		case r == '\f':
			b.WriteString(`\f`)
		case r < 0x20 || (r > 0x7e && r <= 0xffff):
			fmt.Fprintf(b, `\u%04x`, r)
		case r > 0xffff:
			r1, r2 := utf16.EncodeRune(r)
			fmt.Fprintf(b, `\u%04x\u%04x`, r1, r2)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
}
