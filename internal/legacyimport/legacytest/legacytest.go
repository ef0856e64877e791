// Package legacytest writes the older Python server's credential folder
// exactly as that server writes it (plaintext of both generations, Fernet
// .enc files, _backup.enc, version-2 envelopes, the linkage preferences),
// for tests of the import. Python-made files in ../testdata prove these
// writers and the reader agree with Python.
package legacytest

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/drivemcp/drivemcp/internal/legacyimport"
	"github.com/drivemcp/drivemcp/internal/legacyimport/fernet"
)

// Checkout is an older server's checkout: Dir holds .env, Creds the
// credential files.
type Checkout struct {
	t         testing.TB
	Dir       string
	Creds     string
	ServerKey fernet.Key
	APIKey    string
	subs      map[string]string
}

// NewCheckout makes a checkout under dir with .env holding env (which may
// set CREDENTIALS_DIR, CREDENTIAL_STORAGE_MODE, MCP_API_KEY) and a
// .auth_encryption_key in its credentials folder.
func NewCheckout(t testing.TB, dir string, env map[string]string) *Checkout {
	t.Helper()
	c := &Checkout{t: t, Dir: dir, Creds: filepath.Join(dir, "credentials"), APIKey: env["MCP_API_KEY"], subs: map[string]string{}}
	if d := env["CREDENTIALS_DIR"]; d != "" {
		c.Creds = d
		if !filepath.IsAbs(d) {
			c.Creds = filepath.Join(dir, d)
		}
	}
	must(t, os.MkdirAll(c.Creds, 0o700))
	var dotenv []byte
	for k, v := range env {
		dotenv = append(dotenv, k+"="+v+"\n"...)
	}
	must(t, os.WriteFile(filepath.Join(dir, ".env"), dotenv, 0o600))
	rand.Read(c.ServerKey[:])
	must(t, os.WriteFile(filepath.Join(c.Creds, ".auth_encryption_key"), []byte(c.ServerKey.String()), 0o600))
	return c
}

// Cred is what the Python server serialises of a google-auth Credentials.
type Cred struct {
	Token, RefreshToken, ClientID, ClientSecret string
	Scopes                                      []string
	Expiry                                      time.Time
}

// CredOf is tok as issued to clientID.
func CredOf(tok *oauth2.Token, clientID, clientSecret string) Cred {
	return Cred{Token: tok.AccessToken, RefreshToken: tok.RefreshToken, ClientID: clientID, ClientSecret: clientSecret,
		Scopes: []string{"openid", "https://www.googleapis.com/auth/userinfo.email", "https://www.googleapis.com/auth/drive"}, Expiry: tok.Expiry}
}

func (c Cred) fields() map[string]any {
	var expiry any
	if !c.Expiry.IsZero() {
		expiry = c.Expiry.UTC().Format("2006-01-02T15:04:05.999999") // naive, as google-auth keeps it
	}
	return map[string]any{"token": c.Token, "refresh_token": c.RefreshToken, "token_uri": "https://oauth2.googleapis.com/token",
		"client_id": c.ClientID, "client_secret": c.ClientSecret, "scopes": c.Scopes, "expiry": expiry}
}

// Path is where a file of the folder is.
func (c *Checkout) Path(name string) string { return filepath.Join(c.Creds, name) }

// WritePlaintext writes {stem}_credentials.json; newer adds saved_at,
// user_email and token_group, as files written since late 2025 have.
func (c *Checkout) WritePlaintext(email string, cr Cred, newer bool) string {
	f := cr.fields()
	if newer {
		f["saved_at"] = time.Now().Format("2006-01-02T15:04:05.999999")
		f["user_email"] = email
		f["token_group"] = "workspace"
	}
	raw, _ := json.MarshalIndent(f, "", "  ")
	return c.write(legacyimport.Stem(email)+"_credentials.json", raw)
}

// WriteEncrypted writes {stem}_credentials.enc (or _backup.enc) as
// base64url of a Fernet token, with the MCP_API_KEY-derived key when the
// checkout has one and withAPIKey is set, else with .auth_encryption_key.
func (c *Checkout) WriteEncrypted(email string, cr Cred, backup, withAPIKey bool) string {
	k := c.ServerKey
	if withAPIKey {
		k = legacyimport.APIKeyFernetKey(c.APIKey)
	}
	raw, _ := json.Marshal(cr.fields())
	name := legacyimport.Stem(email) + "_credentials.enc"
	if backup {
		name = legacyimport.Stem(email) + "_backup.enc"
	}
	return c.write(name, []byte(base64.URLEncoding.EncodeToString(c.seal(k, raw))))
}

// WriteServerEnvelope writes a version-2 "server" envelope.
func (c *Checkout) WriteServerEnvelope(email string, cr Cred) string {
	cek := c.newKey()
	raw, _ := json.Marshal(cr.fields())
	env := map[string]any{"v": 2, "enc": "server",
		"recipients":   map[string]any{"server": base64.URLEncoding.EncodeToString(c.seal(c.ServerKey, []byte(cek.String())))},
		"data":         base64.URLEncoding.EncodeToString(c.seal(cek, raw)),
		"token_expiry": nil}
	return c.writeEnvelope(email, env)
}

// WritePerUserEnvelope writes a version-2 "per_user" envelope for the
// user's own API key and, with oauthRecipient, for the OAuth recipient of
// sub, which it records in .oauth_linkage_prefs.json (as the Python server
// does at sign-in).
func (c *Checkout) WritePerUserEnvelope(email, sub string, cr Cred, oauthRecipient bool) string {
	cek := c.newKey()
	raw, _ := json.Marshal(cr.fields())
	secret := []byte(c.ServerKey.String())
	keys := []string{"user-api-key-" + rand.Text()}
	if oauthRecipient {
		keys = append(keys, legacyimport.OAuthRecipientKey(secret, sub))
		c.subs[email] = sub
		c.writeLinkage()
	}
	recipients := map[string]any{}
	for _, k := range keys {
		recipients[legacyimport.RecipientID(k)] = base64.URLEncoding.EncodeToString(c.seal(legacyimport.RecipientFernetKey(secret, k), []byte(cek.String())))
	}
	env := map[string]any{"v": 2, "enc": "per_user", "recipients": recipients,
		"data": base64.URLEncoding.EncodeToString(c.seal(cek, raw)), "token_expiry": nil}
	return c.writeEnvelope(email, env)
}

func (c *Checkout) writeEnvelope(email string, env map[string]any) string {
	// Round-trip through JSON so numbers are json.Number, as the reader sees them.
	raw, _ := json.Marshal(env)
	var generic map[string]any
	dec := json.NewDecoder(bytesReader(raw))
	dec.UseNumber()
	must(c.t, dec.Decode(&generic))
	mac, err := legacyimport.EnvelopeHMAC([]byte(c.ServerKey.String()), generic)
	must(c.t, err)
	env["hmac"] = mac
	raw, _ = json.Marshal(env)
	return c.write(legacyimport.Stem(email)+"_credentials.enc", raw)
}

func (c *Checkout) writeLinkage() {
	prefs := map[string]any{}
	for e, sub := range c.subs {
		prefs[e] = map[string]any{"enabled": true, "has_password": false, "google_sub": sub}
	}
	raw, _ := json.MarshalIndent(prefs, "", "  ")
	c.write(".oauth_linkage_prefs.json", c.seal(legacyimport.LinkageFernetKey([]byte(c.ServerKey.String())), raw))
}

func (c *Checkout) newKey() fernet.Key {
	var k fernet.Key
	rand.Read(k[:])
	return k
}

func (c *Checkout) seal(k fernet.Key, pt []byte) []byte {
	var iv [16]byte
	rand.Read(iv[:])
	tok, err := fernet.Encrypt(k, pt, time.Now(), iv)
	must(c.t, err)
	return tok
}

func (c *Checkout) write(name string, raw []byte) string {
	p := c.Path(name)
	must(c.t, os.WriteFile(p, raw, 0o600))
	return p
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func bytesReader(b []byte) *bytes.Reader { return bytes.NewReader(b) }
