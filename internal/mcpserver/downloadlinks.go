package mcpserver

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/modelcontextprotocol/go-sdk/auth"

	"github.com/drivemcp/drivemcp/internal/drive"
	"github.com/drivemcp/drivemcp/internal/google"
	"github.com/drivemcp/drivemcp/internal/secrets"
)

// DownloadLinkTTL is how long a download link works.
const DownloadLinkTTL = 15 * time.Minute

// DownloadLinks mints and serves download_drive_file's links over HTTP:
// GET /files/{token}/{name} streams one file from one account's Drive.
// The token is the link's whole state, sealed with the server's keys
// (AES-GCM): unguessable, unforgeable, and served by any replica that
// shares the keys, with nothing stored. Nothing is written to the
// server's disk; the bytes pass through.
type DownloadLinks struct {
	o DownloadLinkOptions
}

// DownloadLinkOptions configure DownloadLinks; BaseURL, Keys and Grants are required.
type DownloadLinkOptions struct {
	BaseURL string // the server's public base URL; links are BaseURL + "/files/…"
	Keys    *secrets.Keyring
	Grants  *google.Grants
	// Transport is the base transport for Google calls (nil: default).
	Transport http.RoundTripper
	Retry     drive.Retry
	// Verify checks a bearer token sent with a link (the authorization
	// server's verifier). A link fetched with a token of another account is
	// refused; nil: tokens sent with a link are not looked at.
	Verify auth.TokenVerifier
	Now    func() time.Time // default time.Now; tests move it on
	Logger *slog.Logger
}

// NewDownloadLinks returns the links of one server.
func NewDownloadLinks(o DownloadLinkOptions) *DownloadLinks {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	o.BaseURL = strings.TrimSuffix(o.BaseURL, "/")
	return &DownloadLinks{o: o}
}

// linkClaims are what a link's token seals.
type linkClaims struct {
	Account string   `json:"a"`
	FileID  string   `json:"f"`
	Format  string   `json:"x,omitempty"`
	Scopes  []string `json:"s,omitempty"` // the OAuth token's scopes; none: the account's grant
	Expires int64    `json:"e"`           // Unix seconds
}

// linkAD binds sealed tokens to this use, so no other sealed value of the
// server passes for a link.
var linkAD = []byte("drivemcp download link v1")

// Mint returns a link to d for account, working until expires.
func (l *DownloadLinks) Mint(account string, scopes []string, d drive.Download) (link string, expires time.Time, err error) {
	expires = l.o.Now().Add(DownloadLinkTTL)
	claims, _ := json.Marshal(linkClaims{Account: account, FileID: d.ID, Format: d.Format, Scopes: scopes, Expires: expires.Unix()})
	sealed, err := l.o.Keys.Seal(claims, linkAD)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("sealing a download link: %w", err)
	}
	return l.o.BaseURL + "/files/" + base64.RawURLEncoding.EncodeToString(sealed) + "/" + url.PathEscape(downloadName(d)), expires, nil
}

// ServeHTTP serves GET /files/{token}/{name}.
func (l *DownloadLinks) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Cache-Control", "private, no-store")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Content-Type-Options", "nosniff")
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		h.Set("Allow", "GET, HEAD")
		http.Error(w, "Download links are opened with GET.", http.StatusMethodNotAllowed)
		return
	}
	token, _, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/files/"), "/")
	c, ok := l.open(token)
	if !ok {
		http.Error(w, "This is not a drivemcp download link (or it was cut short). Ask the assistant for a new one with download_drive_file.", http.StatusNotFound)
		return
	}
	if l.o.Now().Unix() >= c.Expires {
		http.Error(w, "This download link expired at "+time.Unix(c.Expires, 0).UTC().Format(time.RFC3339)+
			" (links work for 15 minutes). Ask the assistant for a new one with download_drive_file.", http.StatusGone)
		return
	}
	if bearer, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok && l.o.Verify != nil {
		info, err := l.o.Verify(r.Context(), strings.TrimSpace(bearer), r)
		switch {
		case err != nil:
			http.Error(w, "The access token sent with this link is not valid here. Open the link without it, or sign in again.", http.StatusUnauthorized)
			return
		case !strings.EqualFold(info.UserID, c.Account):
			// A link acts as one account only; another account's token
			// says someone else is using it.
			http.Error(w, "This download link belongs to another Google account than the one signed in. Ask for the file with download_drive_file as your own account.", http.StatusForbidden)
			return
		}
	}
	l.serve(w, r, c)
}

func (l *DownloadLinks) open(token string) (linkClaims, bool) {
	var c linkClaims
	sealed, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil || len(token) > 2048 {
		return c, false
	}
	plain, err := l.o.Keys.Open(sealed, linkAD)
	if err != nil || json.Unmarshal(plain, &c) != nil || c.Account == "" || drive.CheckID(c.FileID) != nil {
		return c, false
	}
	return c, true
}

// serve streams the file from Drive, passing a Range through.
func (l *DownloadLinks) serve(w http.ResponseWriter, r *http.Request, c linkClaims) {
	ctx := r.Context()
	var client *http.Client
	if c.Scopes != nil {
		client = l.o.Grants.LimitedHTTPClient(ctx, c.Account, c.Scopes, l.o.Transport)
	} else {
		client = l.o.Grants.HTTPClient(ctx, c.Account, l.o.Transport)
	}
	client.Timeout = 0
	files, err := drive.NewFiles(ctx, client, l.o.Grants.Upstream().Endpoints().DriveBase, l.o.Retry)
	if err != nil {
		l.fail(w, r, err)
		return
	}
	d, err := files.PlanDownload(ctx, c.FileID, c.Format)
	if err != nil {
		l.fail(w, r, err)
		return
	}
	resp, err := files.Open(ctx, d, r.Header.Get("Range"))
	if err != nil {
		l.fail(w, r, err)
		return
	}
	defer resp.Body.Close()
	h := w.Header()
	// Always an attachment, never rendered: a Drive file is someone's
	// content, and on drivemcp's origin an HTML or SVG file would run as
	// drivemcp's own page. The sandbox CSP holds even if a browser renders it.
	h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": downloadName(d)}))
	h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	h.Set("Content-Type", d.ContentType())
	for _, k := range []string{"Content-Length", "Content-Range", "Accept-Ranges", "Last-Modified", "ETag"} {
		if v := resp.Header.Get(k); v != "" {
			h.Set(k, v)
		}
	}
	if d.ExportMIME == "" && h.Get("Accept-Ranges") == "" {
		h.Set("Accept-Ranges", "bytes")
	}
	w.WriteHeader(resp.StatusCode)
	if r.Method == http.MethodHead {
		return
	}
	if _, err := io.Copy(w, resp.Body); err != nil && ctx.Err() == nil {
		l.o.Logger.Warn("download link: the copy from Drive broke off", "err", err)
	}
}

// fail answers a link Drive would not serve, with a status that says whose
// problem it is and a sentence that says what to do.
func (l *DownloadLinks) fail(w http.ResponseWriter, r *http.Request, err error) {
	status, msg := http.StatusBadGateway, "Google Drive failed to send the file. Try the link again in a moment."
	switch {
	case errors.Is(err, drive.ErrNotFound):
		status, msg = http.StatusNotFound, "Google Drive no longer has this file for this account (it was deleted, or its sharing changed)."
	case errors.Is(err, drive.ErrPermissionDenied), errors.Is(err, drive.ErrInsufficientScope):
		status, msg = http.StatusForbidden, "Google Drive refused to send this file to this account any more. Sign in again, or ask the file's owner for access."
	case errors.Is(err, drive.ErrRateLimited):
		status, msg = http.StatusServiceUnavailable, "Google Drive asks drivemcp to slow down. Try the link again in a minute."
		w.Header().Set("Retry-After", strconv.Itoa(60))
	case errors.Is(err, drive.ErrContentTooLarge):
		status, msg = http.StatusUnprocessableEntity, "This file is too large for Google Drive to export (at most 10 MB). Open it in Drive and download it from there."
	case errors.Is(err, context.Canceled):
		return // the client went away
	default:
		var api *drive.APIError
		if !errors.As(err, &api) {
			// Not Google's answer: the grant (signed out, revoked) or the store.
			status, msg = http.StatusForbidden, "drivemcp can no longer reach this Google account's Drive (it was signed out, or its access revoked). Sign in again and ask for a new link."
			l.o.Logger.Warn("download link: no Drive for the account", "err", err)
		}
	}
	http.Error(w, msg, status)
}
