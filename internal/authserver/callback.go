package authserver

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"golang.org/x/oauth2"

	"github.com/drivemcp/drivemcp/internal/google"
	"github.com/drivemcp/drivemcp/internal/reqlog"
	"github.com/drivemcp/drivemcp/internal/store"
	"github.com/drivemcp/drivemcp/internal/web"
)

// HandleGoogleCallback serves /oauth2callback, the one redirect URI Google
// knows for both flows: state → pending transaction → code exchange →
// userinfo → upsert the grant → finish the flow's own step.
func (s *Server) HandleGoogleCallback(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", http.MethodGet)
		s.fail(w, r, web.Error{Status: http.StatusMethodNotAllowed, Title: "Wrong request method",
			Message: "The Google callback only accepts GET."}, nil)
		return
	}
	q := r.URL.Query()
	state := q.Get("state")
	if state == "" || !cleanValue(state) || len(state) > 200 {
		s.fail(w, r, web.Error{Title: "Missing sign-in state",
			Message:  "This page is where Google sends you back after a sign-in, but the link carries no state.",
			NextStep: "Start the sign-in again from your assistant (start_google_auth) or MCP client."}, nil)
		return
	}
	ctx := r.Context()
	tx, err := s.store.TakeAuthTransaction(ctx, state, s.now())
	if errors.Is(err, store.ErrNotFound) {
		s.fail(w, r, web.Error{Title: "Sign-in link expired or already used",
			Message:  "This Google sign-in was already completed, or it took longer than 10 minutes.",
			NextStep: "Start the sign-in again from your assistant (start_google_auth) or MCP client."}, nil)
		return
	}
	if err != nil {
		s.fail(w, r, web.Error{Status: http.StatusServiceUnavailable, Title: "Storage unavailable",
			Message: "drivemcp could not read its database.", NextStep: "Try again in a moment."}, err)
		return
	}
	if tx.Kind == store.FlowConsent { // a consent id is not a Google state
		s.fail(w, r, web.Error{Title: "Sign-in link expired or already used",
			Message: "This link is not a Google sign-in in progress.", NextStep: "Go back to the application and connect again."}, nil)
		return
	}
	if !s.checkBrowserBinding(w, r, state, tx.Kind) {
		return
	}
	if gErr := q.Get("error"); gErr != "" {
		s.googleRefused(w, r, tx, gErr)
		return
	}
	acct, info, err := s.completeGoogleLogin(ctx, tx, q.Get("code"))
	if s.refusedByPolicy(w, r, tx, err) {
		return
	}
	if err != nil && tx.Kind == store.FlowProxy {
		s.log.Warn("google sign-in failed", "flow", tx.Kind, "err", err.Error())
		s.redirectError(w, r, tx.RedirectURI, tx.ClientState, errServerError, "the Google sign-in did not complete; try again")
		return
	}
	if errors.Is(err, errStoringGrant) {
		s.fail(w, r, web.Error{Status: http.StatusServiceUnavailable, Title: "Storage unavailable",
			Message: "Google accepted the sign-in, but drivemcp could not store it.", NextStep: "Start the sign-in again in a moment."}, err)
		return
	}
	if err != nil {
		s.fail(w, r, web.Error{Status: http.StatusBadGateway, Title: "Google sign-in did not complete",
			Message:  "Google did not accept the sign-in: " + err.Error() + ".",
			NextStep: "Start the sign-in again. If it keeps failing, the server's Google client settings may be wrong."}, err)
		return
	}
	if acct.NeedsReconsent && !tx.ForceConsent {
		// Google sends a refresh token only on a first consent; it withheld
		// one (it remembers an earlier grant we no longer hold), so without
		// this the account would stop working within the hour.
		s.askGoogleAgain(w, r, tx, acct.Email)
		return
	}
	if s.refusedForScopes(w, r, tx, acct) {
		return
	}
	switch tx.Kind {
	case store.FlowDirect:
		s.finishDirect(w, r, tx, acct, info)
	case store.FlowProxy:
		s.finishProxy(w, r, tx, acct)
	default:
		s.fail(w, r, web.Error{Status: http.StatusInternalServerError, Title: "Unknown sign-in kind",
			Message: "This sign-in belongs to a flow this server does not know."}, fmt.Errorf("transaction kind %q", tx.Kind))
	}
}

// errStoringGrant marks a sign-in Google accepted but the store did not
// take: the store's words are for the log, not the page.
var errStoringGrant = errors.New("storing the grant")

// completeGoogleLogin is the part both flows share: it turns Google's code
// into a stored, sealed grant for the account that logged in.
func (s *Server) completeGoogleLogin(ctx context.Context, tx store.AuthTransaction, code string) (store.GoogleAccount, google.UserInfo, error) {
	if code == "" {
		return store.GoogleAccount{}, google.UserInfo{}, errors.New("the callback carries no authorization code")
	}
	verifier, err := s.openLoginSecret(sealedVerifierFor, tx.State, tx.SealedVerifier)
	if err != nil {
		return store.GoogleAccount{}, google.UserInfo{}, err
	}
	up := s.grants.Upstream()
	tok, err := up.ExchangeAt(ctx, code, verifier, redirectURIFrom(ctx))
	if err != nil {
		return store.GoogleAccount{}, google.UserInfo{}, err
	}
	info, err := up.UserInfo(ctx, tok)
	if err != nil {
		return store.GoogleAccount{}, google.UserInfo{}, err
	}
	if err := s.admit(ctx, info, tok); err != nil {
		return store.GoogleAccount{}, google.UserInfo{}, err
	}
	acct, err := s.grants.Save(ctx, info, tok, grantedScopes(tok, tx.GoogleScopes))
	if err != nil {
		return store.GoogleAccount{}, google.UserInfo{}, fmt.Errorf("%w: %w", errStoringGrant, err)
	}
	// Save may have revoked another Google account's tokens (the address
	// changed hands) behind the cache's back: this replica stops honouring
	// them at once, others within the cache's bound.
	s.tokens.invalidate()
	s.log.Info("google account connected", "flow", tx.Kind, "account", info.Email)
	return acct, info, nil
}

// askGoogleAgain repeats the trip to Google with prompt=consent, under a
// new state, for the same pending flow.
func (s *Server) askGoogleAgain(w http.ResponseWriter, r *http.Request, tx store.AuthTransaction, email string) {
	now := s.now()
	sessionKey, err := s.openLoginSecret(sealedSessionIDFor, tx.State, tx.SealedSessionID)
	var verifier string
	if err == nil {
		verifier, err = s.newGoogleTrip(&tx, sessionKey)
	}
	tx.ForceConsent, tx.LoginHint, tx.CreatedAt, tx.ExpiresAt = true, email, now, now.Add(transactionTTL)
	if err == nil {
		err = s.store.CreateAuthTransaction(r.Context(), tx)
	}
	if err != nil {
		s.fail(w, r, web.Error{Status: http.StatusServiceUnavailable, Title: "Storage unavailable",
			Message: "drivemcp could not record the sign-in.", NextStep: "Try again in a moment."}, err)
		return
	}
	s.log.Info("google withheld a refresh token; asking for consent again", "account", email)
	s.bindToBrowser(w, tx.State)
	http.Redirect(w, r, s.grants.Upstream().AuthCodeURL(google.ConsentRequest{
		State: tx.State, Verifier: verifier, Scopes: tx.GoogleScopes, LoginHint: email, ForceConsent: true,
		RedirectURI: redirectURIFrom(r.Context()),
	}), http.StatusFound)
}

// grantedScopes prefers what Google says it granted (the user may untick
// scopes on the consent page) over what was asked.
func grantedScopes(tok *oauth2.Token, asked []string) []string {
	if s, ok := tok.Extra("scope").(string); ok && s != "" {
		return strings.Fields(s)
	}
	return asked
}

func (s *Server) finishDirect(w http.ResponseWriter, r *http.Request, tx store.AuthTransaction, acct store.GoogleAccount, info google.UserInfo) {
	page := web.Connected{Email: acct.Email}
	sessionKey, err := s.openLoginSecret(sealedSessionIDFor, tx.State, tx.SealedSessionID)
	if err == nil && sessionKey != "" {
		err = s.resolver.Bind(r.Context(), sessionKey, acct.Email, bindingTTL)
	}
	if err != nil {
		s.fail(w, r, web.Error{Status: http.StatusServiceUnavailable, Title: "Could not finish connecting",
			Message:  "Google accepted the sign-in, but drivemcp could not record it for your session.",
			NextStep: "Try start_google_auth again in a moment."}, err)
		return
	}
	if sessionKey != "" {
		page.Via = "your assistant's session"
	}
	if tx.LoginHint != "" && tx.LoginHint != acct.Email {
		page.Note = fmt.Sprintf("You signed in as %s, not %s as the request said; drivemcp uses the account you signed in with.", acct.Email, tx.LoginHint)
	}
	page.Note += missingDriveNote(tx, acct)
	if acct.NeedsReconsent {
		page.Note += " Google sent no refresh token, so this connection lasts about an hour; run start_google_auth with force to renew it for good."
	}
	s.pages.RenderConnected(w, page)
}

// googleRefused handles Google's own error answer (the user clicked Deny, or
// the request was wrong).
func (s *Server) googleRefused(w http.ResponseWriter, r *http.Request, tx store.AuthTransaction, code string) {
	if tx.Kind == store.FlowProxy {
		if code != errAccessDenied {
			s.log.Warn("google refused a proxy sign-in", "google_error", code)
			code = errServerError
		}
		s.redirectError(w, r, tx.RedirectURI, tx.ClientState, code, "the Google sign-in was not completed")
		return
	}
	if code == "access_denied" {
		s.fail(w, r, web.Error{Status: http.StatusForbidden, Title: "Access not granted",
			Message:  "You declined to give drivemcp access to Google Drive, so nothing was connected.",
			NextStep: "If that was a mistake, start the sign-in again and choose Allow."}, nil)
		return
	}
	s.fail(w, r, web.Error{Status: http.StatusBadGateway, Title: "Google refused the sign-in",
		Message:  fmt.Sprintf("Google answered %q.", code),
		NextStep: "Start the sign-in again; if it keeps failing, check the server's Google client settings."}, errors.New("google error "+code))
}

// fail renders an error page and logs it under a reference the page shows.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, page web.Error, cause error) {
	page.Reference = reqlog.RequestID(r.Context())
	if page.Reference == "" {
		page.Reference = randomToken(6)
	}
	s.metrics.OAuthOutcome("page", strings.ToLower(strings.ReplaceAll(http.StatusText(max(page.Status, 400)), " ", "_")))
	level := s.log.Info
	if page.Status >= 500 {
		level = s.log.Warn
	}
	attrs := []any{"reference", page.Reference, "path", r.URL.Path, "title", page.Title}
	if cause != nil {
		attrs = append(attrs, "err", cause.Error())
	}
	level("login page error", attrs...)
	s.pages.RenderError(w, page)
}
