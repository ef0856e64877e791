package legacyimport

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/drivemcp/drivemcp/internal/legacyimport/fernet"
	"github.com/drivemcp/drivemcp/internal/safefile"
)

// ErrNotCredentials is a file that is something else (a client secrets
// file, a service account key): skipped, not failed.
var ErrNotCredentials = errors.New("not an account's credentials")

// ErrNeedsUser is a file only its user could open (their own per-user API
// key or passphrase): that user signs in once instead.
var ErrNeedsUser = errors.New("readable only with a secret the user holds")

// Credential is what a file holds, before Google has said whether any of
// it is true.
type Credential struct {
	AccessToken  string
	RefreshToken string
	ClientID     string
	ClientSecret string
	// UserEmail is the newer plaintext files' user_email.
	UserEmail string
	// Sub is the Google sub a per_user envelope was opened through.
	Sub string
	// Format says how the file was stored and read, for the report.
	Format string
}

// rawCredential is google-auth's authorized-user JSON as the Python server
// writes it; neighbouring tools' spellings are accepted too.
type rawCredential struct {
	Token        string          `json:"token"`
	AccessToken  string          `json:"access_token"`
	RefreshToken string          `json:"refresh_token"`
	ClientID     string          `json:"client_id"`
	ClientSecret string          `json:"client_secret"`
	UserEmail    string          `json:"user_email"`
	Type         string          `json:"type"`
	Web          json.RawMessage `json:"web"`
	Installed    json.RawMessage `json:"installed"`
}

// envelope is a version-2 credential file.
type envelope struct {
	V          int               `json:"v"`
	Enc        string            `json:"enc"`
	Type       string            `json:"type"`
	Recipients map[string]string `json:"recipients"`
	Data       string            `json:"data"`
	HMAC       string            `json:"hmac"`
}

// Read opens one file and decodes it, with the folder's own secrets only.
func (s *Source) Read(f File) (Credential, error) {
	raw, err := safefile.ReadRegular(s.Dir, f.Name, maxCredentialFile)
	switch {
	case errors.Is(err, safefile.ErrEscapes):
		return Credential{}, fmt.Errorf("is a link that leads out of %s: refused, since only files the older server wrote there are imported", s.Dir)
	case errors.Is(err, safefile.ErrNotRegular):
		return Credential{}, errors.New("is not a regular file (a pipe, device or folder): refused")
	case errors.Is(err, safefile.ErrTooLarge):
		return Credential{}, fmt.Errorf("is larger than %d KiB, far more than a credential file the older server writes: refused", maxCredentialFile>>10)
	case err != nil:
		return Credential{}, fmt.Errorf("cannot be read: %w", err)
	}
	trimmed := bytes.TrimSpace(raw)
	if len(trimmed) > 0 && trimmed[0] == '{' {
		return s.readJSON(trimmed, f.Stem)
	}
	if strings.HasSuffix(f.Name, ".json") {
		return Credential{}, fmt.Errorf("%w: not JSON", ErrNotCredentials)
	}
	// FILE_ENCRYPTED before envelopes: base64url of a Fernet token.
	token, err := base64.URLEncoding.DecodeString(string(trimmed))
	if err != nil {
		return Credential{}, errors.New("is neither JSON nor the older server's encrypted format: it may be damaged")
	}
	pt, how, err := s.openServerFernet(token)
	if err != nil {
		return Credential{}, err
	}
	return decodePlain(pt, "encrypted with "+how)
}

func (s *Source) readJSON(raw []byte, stem string) (Credential, error) {
	var env envelope
	if err := json.Unmarshal(raw, &env); err == nil && env.V == 2 {
		return s.readEnvelope(raw, env, stem)
	}
	return decodePlain(raw, "plaintext")
}

func decodePlain(raw []byte, format string) (Credential, error) {
	var c rawCredential
	if err := json.Unmarshal(raw, &c); err != nil {
		return Credential{}, fmt.Errorf("%w: not a JSON credential file", ErrNotCredentials)
	}
	switch {
	case c.Web != nil || c.Installed != nil:
		return Credential{}, fmt.Errorf("%w: a client secrets file (give it to --google-client-secrets)", ErrNotCredentials)
	case c.Type == "service_account":
		return Credential{}, fmt.Errorf("%w: a service account key", ErrNotCredentials)
	case c.RefreshToken == "" && c.Token == "" && c.AccessToken == "":
		return Credential{}, fmt.Errorf("%w: it holds no Google token", ErrNotCredentials)
	}
	cred := Credential{AccessToken: c.Token, RefreshToken: c.RefreshToken, ClientID: c.ClientID,
		ClientSecret: c.ClientSecret, UserEmail: c.UserEmail, Format: format}
	if cred.AccessToken == "" {
		cred.AccessToken = c.AccessToken
	}
	if format == "plaintext" && c.UserEmail != "" {
		cred.Format = "plaintext (with user_email)"
	}
	return cred, nil
}

// serverSecret is the raw content of .auth_encryption_key, which the
// Python server uses both as its Fernet key and, unparsed, as the secret
// of envelopes.
func (s *Source) serverSecret() ([]byte, error) {
	raw, err := safefile.ReadRegular(s.Dir, serverKeyFile, maxSmallFile)
	if err != nil {
		return nil, err
	}
	return raw, nil
}

// openServerFernet opens a token sealed with the server's own key, trying
// each key the Python server would: MCP_API_KEY's derived key, then
// .auth_encryption_key.
func (s *Source) openServerFernet(token []byte) ([]byte, string, error) {
	for _, k := range s.apiKeys {
		if pt, err := fernet.Decrypt(APIKeyFernetKey(k), token); err == nil {
			return pt, "the key derived from MCP_API_KEY", nil
		}
	}
	secret, err := s.serverSecret()
	if err == nil {
		k, kerr := fernet.ParseKey(string(secret))
		if kerr != nil {
			return nil, "", fmt.Errorf("cannot be decrypted: %s in %s is not a Fernet key", serverKeyFile, s.Dir)
		}
		if pt, err := fernet.Decrypt(k, token); err == nil {
			return pt, serverKeyFile, nil
		}
	}
	have := []string{}
	if err == nil {
		have = append(have, serverKeyFile)
	}
	if len(s.apiKeys) > 0 {
		have = append(have, "MCP_API_KEY")
	}
	if len(have) == 0 {
		return nil, "", fmt.Errorf("is encrypted, but %s has no %s and no MCP_API_KEY was found (in the checkout's .env or the environment): point the import at the older server's checkout, or export MCP_API_KEY as that server had it", s.Dir, serverKeyFile)
	}
	return nil, "", fmt.Errorf("is encrypted with a key that is neither %s: the older server must have run with another MCP_API_KEY (export MCP_API_KEY as it had it and run the import again), or the file was changed", strings.Join(have, " nor "))
}

func (s *Source) readEnvelope(raw []byte, env envelope, stem string) (Credential, error) {
	if env.Type != "" {
		return Credential{}, fmt.Errorf("%w: a %s envelope", ErrNotCredentials, env.Type)
	}
	secret, err := s.serverSecret()
	if err != nil {
		return Credential{}, fmt.Errorf("is a version-2 envelope, which needs the older server's %s, and %s has none: point the import at the folder the server used", serverKeyFile, s.Dir)
	}
	var generic map[string]any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&generic); err != nil {
		return Credential{}, errors.New("is a damaged version-2 envelope")
	}
	if want, err := EnvelopeHMAC(secret, generic); err != nil || want != env.HMAC {
		return Credential{}, fmt.Errorf("is a version-2 envelope whose integrity check fails with this folder's %s: it was changed, or belongs to another server", serverKeyFile)
	}
	data, err := base64.URLEncoding.DecodeString(env.Data)
	if err != nil {
		return Credential{}, errors.New("is a damaged version-2 envelope")
	}
	switch env.Enc {
	case "server":
		wrapped, err := base64.URLEncoding.DecodeString(env.Recipients["server"])
		if err != nil {
			return Credential{}, errors.New("is a damaged server envelope")
		}
		cek, how, err := s.openServerFernet(wrapped)
		if err != nil {
			return Credential{}, err
		}
		pt, err := openWithCEK(cek, data)
		if err != nil {
			return Credential{}, err
		}
		return decodePlain(pt, "server envelope, key wrapped with "+how)
	case "per_user":
		return s.readPerUser(secret, env, data, stem)
	}
	return Credential{}, fmt.Errorf("is a version-2 envelope of an unknown kind %q", env.Enc)
}

func openWithCEK(cek, data []byte) ([]byte, error) {
	k, err := fernet.ParseKey(string(cek))
	if err != nil {
		return nil, errors.New("is a damaged version-2 envelope")
	}
	pt, err := fernet.Decrypt(k, data)
	if err != nil {
		return nil, errors.New("is a damaged version-2 envelope: its content key does not open its data")
	}
	return pt, nil
}

// linkage is one entry of .oauth_linkage_prefs.json.
type linkage struct {
	Enabled     *bool  `json:"enabled"`
	HasPassword bool   `json:"has_password"`
	GoogleSub   string `json:"google_sub"`
}

func (s *Source) linkages(secret []byte) map[string]linkage {
	raw, err := safefile.ReadRegular(s.Dir, linkageFile, maxSmallFile)
	if err != nil {
		return nil
	}
	if pt, err := fernet.Decrypt(LinkageFernetKey(secret), raw); err == nil {
		raw = pt
	}
	var prefs map[string]linkage
	if json.Unmarshal(raw, &prefs) != nil {
		return nil
	}
	return prefs
}

// readPerUser opens a per_user envelope through its OAuth recipient, the
// one recipient the server's own secrets reach: derived from the server
// secret and the user's Google sub, which the linkage preferences keep.
func (s *Source) readPerUser(secret []byte, env envelope, data []byte, stem string) (Credential, error) {
	var link linkage
	var ok bool
	who := "its user"
	for e, l := range s.linkages(secret) {
		if stem != "" && Stem(e) == stem {
			who, link, ok = e, l, true
		}
	}
	unreadable := func(why string) error {
		return fmt.Errorf("%w: it is encrypted per user and %s, so only %s's own per-user API key opens it; %s signs in once with drivemcp login instead", ErrNeedsUser, why, who, who)
	}
	switch {
	case env.Recipients == nil:
		return Credential{}, unreadable("it predates OAuth recipients")
	case !ok || link.GoogleSub == "":
		return Credential{}, unreadable(fmt.Sprintf("%s records no Google sub for it", linkageFile))
	case link.Enabled != nil && !*link.Enabled:
		return Credential{}, unreadable(fmt.Sprintf("%s turned sign-in access to it off", who))
	case link.HasPassword:
		return Credential{}, fmt.Errorf("%w: it is encrypted per user and %s protected its OAuth recipient with a passphrase the server never stored, so drivemcp cannot open it; %s signs in once with drivemcp login instead", ErrNeedsUser, who, who)
	}
	rk := OAuthRecipientKey(secret, link.GoogleSub)
	wrapped64, found := env.Recipients[RecipientID(rk)]
	if !found {
		return Credential{}, unreadable(fmt.Sprintf("none of its recipients is the OAuth recipient of the Google sub %s records", linkageFile))
	}
	wrapped, err := base64.URLEncoding.DecodeString(wrapped64)
	if err != nil {
		return Credential{}, errors.New("is a damaged per_user envelope")
	}
	cek, err := fernet.Decrypt(RecipientFernetKey(secret, rk), wrapped)
	if err != nil {
		return Credential{}, unreadable("its OAuth recipient does not open with this folder's server secret")
	}
	pt, err := openWithCEK(cek, data)
	if err != nil {
		return Credential{}, err
	}
	cred, err := decodePlain(pt, "per_user envelope, opened through its OAuth recipient")
	cred.Sub = link.GoogleSub
	return cred, err
}
