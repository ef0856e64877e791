package legacyimport

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/drivemcp/drivemcp/internal/google"
)

// Importer moves credential files into drivemcp's store. Nothing a file
// says is believed: its refresh token is refreshed with drivemcp's own
// client, and the account (sub and email) and its scopes are what Google
// answers for the refreshed token. A file whose name or user_email
// disagrees with Google is refused, so a file mixing one person's access
// token with another's refresh token can never be stored under the wrong
// name.
type Importer struct {
	// Upstream is drivemcp's Google client.
	Upstream *google.Upstream
	// Grants stores what is imported; nil for a dry run, which asks Google
	// (to say truthfully what would be imported) but stores nothing.
	Grants *google.Grants
	// Timeout bounds the Google calls for one file (default 30 s).
	Timeout time.Duration
}

// Result is one imported (or, in a dry run, importable) account.
type Result struct {
	Email   string
	Subject string
	Scopes  []string
	// Existed: the account was already connected and its grant was replaced.
	Existed bool
	// Format says how the file was stored and read.
	Format string
	Notes  []string
}

// Import imports one file, or says in a sentence why it cannot.
func (im *Importer) Import(ctx context.Context, f File) (Result, error) {
	cred, err := f.Source.Read(f)
	if err != nil {
		return Result{}, err
	}
	if cred.RefreshToken == "" {
		return Result{}, errors.New("has no refresh_token, so its access would end within the hour: connect this account with drivemcp login instead")
	}
	ours := im.Upstream.ClientID()
	if cred.ClientID != "" && cred.ClientID != ours {
		return Result{}, fmt.Errorf("was issued to the OAuth client %s, but drivemcp uses %s; Google only refreshes a token for the client it was issued to: configure drivemcp with the older server's client (--google-client-secrets), or connect this account with drivemcp login",
			cred.ClientID, ours)
	}
	timeout := im.Timeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	tok, err := im.Upstream.Refresh(ctx, cred.RefreshToken)
	if err != nil {
		return Result{}, im.refreshFailed(err, cred)
	}
	info, err := im.Upstream.UserInfo(ctx, tok)
	if err != nil {
		return Result{}, fmt.Errorf("was refreshed, but Google would not say whose it is (%v): connect this account with drivemcp login instead", err)
	}
	if err := checkIdentity(f, cred, info); err != nil {
		return Result{}, err
	}
	scope, _ := tok.Extra("scope").(string)
	scopes := strings.Fields(scope)
	if len(scopes) == 0 {
		return Result{}, fmt.Errorf("was refreshed, but Google did not say which scopes %s granted: connect this account with drivemcp login instead", info.Email)
	}
	res := Result{Email: info.Email, Subject: info.Subject, Scopes: scopes, Format: cred.Format}
	if !google.CanWrite(scopes) {
		res.Notes = append(res.Notes, fmt.Sprintf("this grant cannot create Drive files (no drive.file or drive scope): run drivemcp login --force --email %s to add it", info.Email))
	}
	if im.Grants == nil {
		return res, nil
	}
	if _, err := im.Grants.Account(ctx, info.Email); err == nil {
		res.Existed = true
	}
	// Only Google's own token is stored: the file's access token, which
	// may not even be this account's, is dropped.
	if _, err := im.Grants.Save(ctx, info, tok, scopes); err != nil {
		return Result{}, fmt.Errorf("could not be stored for %s: %w", info.Email, err)
	}
	return res, nil
}

// checkIdentity refuses a file that names someone other than the account
// Google says the refresh token belongs to.
func checkIdentity(f File, cred Credential, info google.UserInfo) error {
	if f.Stem != "" && f.Stem != Stem(info.Email) {
		return fmt.Errorf("is named for the account %s, but Google says its refresh token belongs to %s: refused, since the file mixes two accounts' tokens or was renamed; each person signs in once with drivemcp login instead",
			f.Stem, info.Email)
	}
	if cred.UserEmail != "" && google.NormalizeEmail(cred.UserEmail) != info.Email {
		return fmt.Errorf("says it holds %s (user_email), but Google says its refresh token belongs to %s: refused; each person signs in once with drivemcp login instead",
			google.NormalizeEmail(cred.UserEmail), info.Email)
	}
	if cred.Sub != "" && cred.Sub != info.Subject {
		return fmt.Errorf("was opened through the Google account id the older server recorded for it, but Google says its refresh token belongs to another account (%s): refused", info.Email)
	}
	return nil
}

// refreshFailed turns Google's refusal into what the user must do. The
// file's client_secret tells a wrong drivemcp secret from a token issued
// to another client.
func (im *Importer) refreshFailed(err error, cred Credential) error {
	code, re, ok := google.OAuthError(err)
	if !ok {
		return fmt.Errorf("could not be refreshed: Google did not answer (%v); run the import again", err)
	}
	id := im.Upstream.ClientID()
	switch code {
	case google.InvalidGrant:
		return errors.New("holds a refresh token Google no longer accepts (revoked, expired, or the password changed): connect this account with drivemcp login instead")
	case google.InvalidClient:
		msg := fmt.Sprintf("could not be refreshed: Google refused drivemcp's own client secret for %s (invalid_client), so nothing can be imported until it is right: check --google-client-secret (or --google-client-secrets)", id)
		if cred.ClientSecret != "" && cred.ClientID == id {
			msg += "; the older server used another secret for this same client, which is the one to give if it is still valid"
		}
		return errors.New(msg)
	case google.UnauthorizedClient:
		named := cred.ClientID
		if named == "" {
			named = "no client"
		}
		return fmt.Errorf("holds a refresh token Google says was issued to another OAuth client than drivemcp's %s, although the file names %s (unauthorized_client): refused; configure drivemcp with the client the token was really issued to, or connect this account with drivemcp login", id, named)
	}
	status := 0
	if re.Response != nil {
		status = re.Response.StatusCode
	}
	if slices.Contains([]int{429, 500, 502, 503, 504}, status) {
		return fmt.Errorf("could not be refreshed: Google answered HTTP %d, which passes; run the import again", status)
	}
	return fmt.Errorf("could not be refreshed: Google answered HTTP %d (%s): connect this account with drivemcp login instead", status, re.ErrorCode)
}
