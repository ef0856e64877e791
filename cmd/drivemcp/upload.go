package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"os"
	"path/filepath"

	"github.com/drivemcp/drivemcp/internal/app"

	"github.com/drivemcp/drivemcp/internal/config"
	"github.com/drivemcp/drivemcp/internal/drive"
	"github.com/drivemcp/drivemcp/internal/google"
	"github.com/drivemcp/drivemcp/internal/identity"
	"github.com/drivemcp/drivemcp/internal/progressbar"
)

// upload sends local files to Drive with the uploader the
// upload_file_to_drive tool uses, one after the other.
func upload(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cmd := config.Local("upload", "FILE... [--folder-id ID | --folder-path PATH] [--account EMAIL] [flags]", true)
	folderID := cmd.Flags().String("folder-id", "", "Drive folder to upload into (default: root, i.e. My Drive)")
	folderPath := cmd.Flags().String("folder-path", "", "instead of --folder-id: a folder path from My Drive such as Reports/2026; missing folders are created")
	account := cmd.Flags().String("account", "", "Google account to upload as (needed when several are connected)")
	cfg, err := parseCommand(cmd, args, stdout, stderr)
	if cfg == nil || err != nil {
		return err
	}
	files := cmd.Args()
	if len(files) == 0 {
		cmd.Usage(stderr)
		return errors.New("upload needs at least one file")
	}
	if *folderID != "" && *folderPath != "" {
		return errors.New("give --folder-id or --folder-path, not both")
	}
	if *folderPath != "" {
		if _, err := drive.SplitFolderPath(*folderPath); err != nil {
			return fmt.Errorf("--folder-path: %w", err)
		}
	}
	b, email, err := openAccount(ctx, cfg, *account)
	if err != nil {
		return err
	}
	defer b.Close()
	client := b.Grants.HTTPClient(ctx, email, nil)
	if *folderPath != "" {
		if *folderID, err = resolveFolderPath(ctx, b, client, *folderPath, stderr); err != nil {
			return fmt.Errorf("--folder-path %s: %w", *folderPath, err)
		}
	}
	if *folderID == "" {
		*folderID = "root"
	}
	retry := drive.Retry{MaxBackoff: b.Config.GoogleMaxBackoff}
	up := &drive.Uploader{Client: client, Endpoint: b.Upstream.Endpoints().UploadBase, DriveBase: b.Upstream.Endpoints().DriveBase, Cutoff: b.Config.DriveUploadCutoff(), Backoff: retry.Schedule()}
	tty := progressbar.IsTerminal(stderr)
	failed := 0
	for _, path := range files {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("upload cancelled: %w", err)
		}
		f, err := uploadOne(ctx, up, path, *folderID, stderr, tty)
		if err != nil {
			failed++
			fmt.Fprintf(stderr, "upload of %s failed: %v\n", path, explainCLIUpload(err, *folderID, email))
			continue
		}
		fmt.Fprintf(stdout, "uploaded %s (%d bytes, md5 %s) → %s\n", path, f.Size, f.MD5, f.ID)
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d uploads failed", failed, len(files))
	}
	return nil
}

// uploadAccount picks the account the way the tools do in trusted local
// mode: the one named, or the only one connected.
// openAccount opens the store and finds the account a local command acts
// as (named, or the only one connected); the caller closes the backend.
func openAccount(ctx context.Context, cfg *config.Config, named string) (*app.Backend, string, error) {
	b, err := app.Open(ctx, cfg, app.Options{})
	if err != nil {
		return nil, "", err
	}
	email, err := uploadAccount(ctx, b, named)
	if err != nil {
		b.Close()
		return nil, "", err
	}
	return b, email, nil
}

func uploadAccount(ctx context.Context, b *app.Backend, named string) (string, error) {
	id, err := b.Resolver.Resolve(ctx, identity.Call{ExplicitEmail: named})
	var amb *identity.AmbiguousError
	switch {
	case errors.As(err, &amb):
		return "", fmt.Errorf("%w: say which to upload as with --account EMAIL", amb)
	case errors.Is(err, identity.ErrNotAuthenticated):
		return "", errors.New("no Google account is connected: run drivemcp login first")
	case errors.Is(err, google.ErrNoAccount):
		return "", fmt.Errorf("%w (drivemcp accounts list shows the connected ones; drivemcp login connects another)", err)
	case err != nil:
		return "", err
	}
	return id.Email, nil
}

// resolveFolderPath finds (making what is missing) the folder the files go
// to, as the upload tools' folder_path does.
func resolveFolderPath(ctx context.Context, b *app.Backend, client *http.Client, path string, stderr io.Writer) (string, error) {
	files, err := drive.NewFiles(ctx, client, b.Upstream.Endpoints().DriveBase, drive.Retry{MaxBackoff: b.Config.GoogleMaxBackoff})
	if err != nil {
		return "", err
	}
	fp, err := files.ResolveFolderPath(ctx, path, true)
	if err != nil {
		return "", err
	}
	for _, c := range fp.Created {
		fmt.Fprintf(stderr, "created folder %s in My Drive\n", c)
	}
	return fp.Folder.ID, nil
}

func uploadOne(ctx context.Context, up *drive.Uploader, path, folderID string, progress io.Writer, tty bool) (drive.File, error) {
	f, err := os.Open(path)
	if err != nil {
		return drive.File{}, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return drive.File{}, err
	}
	if !fi.Mode().IsRegular() {
		return drive.File{}, errors.New("not a regular file")
	}
	name := filepath.Base(path)
	bar := progressbar.New(progress, name, tty)
	defer bar.Finish()
	meta := drive.FileMeta{Name: name, MimeType: guessType(name, f), Parents: []string{folderID}}
	return up.Upload(ctx, meta, drive.Source{ReaderAt: f, Size: fi.Size()}, bar.Update)
}

// guessType is the file's MIME type from its extension, else its first bytes.
func guessType(name string, r io.ReaderAt) string {
	if t := mime.TypeByExtension(filepath.Ext(name)); t != "" {
		return t
	}
	head := make([]byte, 512)
	n, _ := r.ReadAt(head, 0)
	return http.DetectContentType(head[:n])
}

// explainCLIUpload turns the uploader's errors into what to do next.
func explainCLIUpload(err error, folderID, email string) error {
	var api *drive.APIError
	switch {
	case errors.As(err, &api) && api.Status == http.StatusNotFound:
		return fmt.Errorf("no Drive folder %q that %s can write to: check --folder-id (leave it out for My Drive)", folderID, email)
	case errors.As(err, &api) && (api.Status == http.StatusForbidden || api.Status == http.StatusUnauthorized):
		return fmt.Errorf("refused by Google (%s): %s may lack access to the folder, or its grant a Drive scope (drivemcp login --force --email %s)", api.Message, email, email)
	case errors.Is(err, google.ErrReconsentNeeded):
		return fmt.Errorf("%w: run drivemcp login --force --email %s", err, email)
	case errors.Is(err, drive.ErrChecksumMismatch):
		return fmt.Errorf("%w: the file may have changed while uploading; upload it again", err)
	}
	return err
}
