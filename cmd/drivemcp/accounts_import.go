package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/drivemcp/drivemcp/internal/config"
	"github.com/drivemcp/drivemcp/internal/google"
)

// accountsImport moves the older Python server's plaintext credential files
// into the sealed store, so its users need not sign in again.
func accountsImport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cmd := config.Local("accounts import", "DIR|FILE... [flags]", true)
	cfg, err := parseCommand(cmd, args, stdout, stderr)
	if cfg == nil || err != nil {
		return err
	}
	if len(cmd.Args()) == 0 {
		cmd.Usage(stderr)
		return errors.New("accounts import needs the older server's credentials directory (or files)")
	}
	files, err := credentialFiles(cmd.Args())
	if err != nil {
		return err
	}
	b, err := openBackend(ctx, cfg, true)
	if err != nil {
		return err
	}
	defer b.Close()
	im := &importer{b: b}
	imported, failed := 0, 0
	for _, path := range files {
		res, err := im.importFile(ctx, path)
		name := filepath.Base(path)
		var skip *notCredentialsError
		switch {
		case errors.As(err, &skip):
			fmt.Fprintf(stdout, "skipped  %s: %s\n", name, skip.why)
		case err != nil:
			failed++
			fmt.Fprintf(stdout, "FAILED   %s: %v\n", name, err)
		default:
			imported++
			verb := "imported"
			if res.existed {
				verb = "updated "
			}
			fmt.Fprintf(stdout, "%s %s: %s (Google scopes: %s)\n", verb, name, res.email, shortScopes(res.scopes))
			for _, n := range res.notes {
				fmt.Fprintf(stdout, "         note: %s\n", n)
			}
		}
	}
	if imported > 0 {
		fmt.Fprintf(stderr, "\n%d account(s) now sealed in %s. The files you imported from still hold live Google tokens in plain text: delete them (and any backups) now.\n", imported, cfg.DB)
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d credential files could not be imported", failed, len(files))
	}
	if imported == 0 {
		return errors.New("no credential file was found to import")
	}
	return nil
}

// credentialFiles lists the JSON files to import: files named directly,
// the *.json of a directory, or of its credentials/ subdirectory (the
// older server's layout) when the directory itself has none.
func credentialFiles(args []string) ([]string, error) {
	var files []string
	for _, arg := range args {
		fi, err := os.Stat(arg)
		if err != nil {
			return nil, err
		}
		if !fi.IsDir() {
			files = append(files, arg)
			continue
		}
		found, _ := filepath.Glob(filepath.Join(arg, "*.json"))
		if len(found) == 0 {
			found, _ = filepath.Glob(filepath.Join(arg, "credentials", "*.json"))
		}
		if len(found) == 0 {
			return nil, fmt.Errorf("%s holds no .json credential files (nor does %s)", arg, filepath.Join(arg, "credentials"))
		}
		files = append(files, found...)
	}
	slices.Sort(files)
	return slices.Compact(files), nil
}

// legacyCredential is a Google authorized-user credential as google-auth
// (and the older server) writes it. Field spellings of neighbouring tools
// are accepted too.
type legacyCredential struct {
	Token        string          `json:"token"`
	AccessToken  string          `json:"access_token"`
	RefreshToken string          `json:"refresh_token"`
	ClientID     string          `json:"client_id"`
	Scopes       json.RawMessage `json:"scopes"` // a list, or a space-separated string
	Scope        string          `json:"scope"`
	Expiry       json.RawMessage `json:"expiry"` // ISO 8601, with or without a zone (naive means UTC)
	ExpiryDate   int64           `json:"expiry_date"`
	Account      string          `json:"account"`
	Email        string          `json:"email"`
	Type         string          `json:"type"`
	Web          json.RawMessage `json:"web"`
	Installed    json.RawMessage `json:"installed"`
}

// notCredentialsError is a JSON file that is something else (a client
// secrets file, a service account key): skipped, not failed.
type notCredentialsError struct{ why string }

func (e *notCredentialsError) Error() string { return e.why }

type importResult struct {
	email   string
	scopes  []string
	existed bool
	notes   []string
}

type importer struct {
	b *backend
}

func (im *importer) importFile(ctx context.Context, path string) (importResult, error) {
	raw, err := readSmallFile(path, 1<<20)
	if err != nil {
		return importResult{}, err
	}
	var cred legacyCredential
	if err := json.Unmarshal(raw, &cred); err != nil {
		return importResult{}, &notCredentialsError{"not a JSON credential file"}
	}
	switch {
	case cred.Web != nil || cred.Installed != nil:
		return importResult{}, &notCredentialsError{"a client secrets file, not an account's credentials (give it to --google-client-secrets)"}
	case cred.Type == "service_account":
		return importResult{}, &notCredentialsError{"a service account key, not an account's credentials"}
	case cred.RefreshToken == "" && cred.Token == "" && cred.AccessToken == "":
		return importResult{}, &notCredentialsError{"holds no Google token"}
	case cred.RefreshToken == "":
		return importResult{}, errors.New("has no refresh_token, so its access would end within the hour: connect this account with drivemcp login instead")
	}
	cfg := im.b.cfg
	if cred.ClientID != "" && cred.ClientID != cfg.GoogleClientID {
		return importResult{}, fmt.Errorf("was issued to the OAuth client %s, but drivemcp uses %s; Google only refreshes a token for the client it was issued to: configure drivemcp with the older server's client (--google-client-secrets), or connect this account with drivemcp login",
			cred.ClientID, cfg.GoogleClientID)
	}
	tok := &oauth2.Token{AccessToken: cred.Token, RefreshToken: cred.RefreshToken, TokenType: "Bearer"}
	if tok.AccessToken == "" {
		tok.AccessToken = cred.AccessToken
	}
	tok.Expiry = cred.expiry()
	scopes := cred.scopes()

	info, tok, err := im.whoIs(ctx, tok)
	if err != nil {
		return importResult{}, err
	}
	if s, ok := tok.Extra("scope").(string); ok && s != "" {
		scopes = strings.Fields(s)
	}
	res := importResult{email: info.Email, scopes: scopes}
	if _, err := im.b.grants.Account(ctx, info.Email); err == nil {
		res.existed = true
	}
	if _, err := im.b.grants.Save(ctx, info, tok, scopes); err != nil {
		return importResult{}, fmt.Errorf("storing the grant of %s: %w", info.Email, err)
	}
	if named := emailFromFile(path, cred); named != "" && named != info.Email {
		res.notes = append(res.notes, fmt.Sprintf("the file names %s, but Google says the token belongs to %s; it was stored as %s", named, info.Email, info.Email))
	}
	if !google.CanWrite(scopes) {
		res.notes = append(res.notes, fmt.Sprintf("this grant cannot create Drive files (no drive.file or drive scope): run drivemcp login --force --email %s to add it", info.Email))
	}
	return res, nil
}

// whoIs asks Google whose token this is, refreshing the access token first
// if it has expired or Google refuses it. The token it returns is the one
// to store.
func (im *importer) whoIs(ctx context.Context, tok *oauth2.Token) (google.UserInfo, *oauth2.Token, error) {
	up := im.b.upstream
	if tok.Valid() {
		if info, err := up.UserInfo(ctx, tok); err == nil {
			return info, tok, nil
		}
	}
	fresh, err := im.refresh(ctx, tok.RefreshToken)
	if err != nil {
		return google.UserInfo{}, nil, err
	}
	info, err := up.UserInfo(ctx, fresh)
	if err != nil {
		return google.UserInfo{}, nil, fmt.Errorf("%w (the grant may lack the email scope: connect this account with drivemcp login instead)", err)
	}
	return info, fresh, nil
}

// refresh trades the refresh token for a new access token at the same
// token endpoint, with the same client, as the server's refreshes.
func (im *importer) refresh(ctx context.Context, refreshToken string) (*oauth2.Token, error) {
	cfg := im.b.cfg
	oc := oauth2.Config{
		ClientID: cfg.GoogleClientID, ClientSecret: cfg.GoogleClientSecret,
		Endpoint: oauth2.Endpoint{TokenURL: im.b.upstream.Endpoints().TokenURL, AuthStyle: oauth2.AuthStyleInParams},
	}
	ctx = context.WithValue(ctx, oauth2.HTTPClient, im.b.upstream.HTTPClient())
	fresh, err := oc.TokenSource(ctx, &oauth2.Token{RefreshToken: refreshToken}).Token()
	var re *oauth2.RetrieveError
	switch {
	case errors.As(err, &re) && re.ErrorCode == "invalid_grant":
		return nil, errors.New("its refresh token is no longer accepted by Google (revoked, expired, or the password changed): connect this account with drivemcp login instead")
	case errors.As(err, &re) && (re.ErrorCode == "unauthorized_client" || re.ErrorCode == "invalid_client"):
		return nil, fmt.Errorf("refreshing it was refused by Google for this drivemcp's OAuth client (%s): the token was issued to another client; configure drivemcp with the older server's client, or use drivemcp login", re.ErrorCode)
	case err != nil:
		return nil, fmt.Errorf("refreshing its access token at Google: %w", err)
	}
	if fresh.RefreshToken == "" {
		fresh.RefreshToken = refreshToken
	}
	return fresh, nil
}

func (c legacyCredential) scopes() []string {
	var list []string
	if err := json.Unmarshal(c.Scopes, &list); err == nil {
		return list
	}
	var s string
	if err := json.Unmarshal(c.Scopes, &s); err == nil && s != "" {
		return strings.Fields(s)
	}
	return strings.Fields(c.Scope)
}

// expiry reads the expiry; unknown means zero, which the import treats as
// "ask Google" (a token that does not work is refreshed).
func (c legacyCredential) expiry() time.Time {
	if c.ExpiryDate > 0 {
		return time.UnixMilli(c.ExpiryDate)
	}
	var s string
	if err := json.Unmarshal(c.Expiry, &s); err != nil || s == "" {
		return time.Time{}
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02 15:04:05.999999999Z07:00", "2006-01-02 15:04:05.999999999"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t // a naive time parses as UTC, which is what google-auth means
		}
	}
	return time.Time{}
}

// emailFromFile is the account a file says it holds: its account field,
// or a name like alice@example.com.json or alice@example.com_credentials.json.
func emailFromFile(path string, c legacyCredential) string {
	for _, e := range []string{c.Account, c.Email} {
		if strings.Contains(e, "@") {
			return google.NormalizeEmail(e)
		}
	}
	name := strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	for _, suffix := range []string{"_credentials", "-credentials", ".credentials", "_token", "-token"} {
		name = strings.TrimSuffix(name, suffix)
	}
	if strings.Count(name, "@") == 1 {
		return google.NormalizeEmail(name)
	}
	return ""
}

func readSmallFile(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	raw, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(raw)) > limit {
		return nil, &notCredentialsError{"too large to be a credential file"}
	}
	return raw, nil
}
