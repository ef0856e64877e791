package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/drivemcp/drivemcp/internal/config"
	"github.com/drivemcp/drivemcp/internal/drive"
	"github.com/drivemcp/drivemcp/internal/progressbar"
)

// syncCmd pushes a local folder into a Drive folder, one way, on the code
// path of upload_folder_to_drive (drive.FolderSync).
func syncCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cmd := config.Local("sync", "LOCAL_DIR DRIVE_PATH [--dry-run] [--trash-missing] [--account EMAIL] [flags]", true)
	dryRun := cmd.Flags().Bool("dry-run", false, "say what would be uploaded, updated and trashed, and change nothing")
	trashMissing := cmd.Flags().Bool("trash-missing", false, "trash what the Drive folders hold that LOCAL_DIR does not (restorable from Drive's trash for 30 days)")
	account := cmd.Flags().String("account", "", "Google account to sync as (needed when several are connected)")
	concurrency := cmd.Flags().Int("concurrency", drive.DefaultFolderConcurrency, "files uploaded at once, 1 to 16")
	ifExists := cmd.Flags().String("if-exists", string(drive.IfExistsSkipUnchanged), "same-named file in Drive: new, update, skip_unchanged or fail")
	cfg, err := parseCommand(cmd, args, stdout, stderr)
	if cfg == nil || err != nil {
		return err
	}
	if len(cmd.Args()) != 2 {
		cmd.Usage(stderr)
		return errors.New("sync needs LOCAL_DIR and DRIVE_PATH (a folder path from My Drive such as Backups/project, or / for My Drive itself)")
	}
	localDir, drivePath := cmd.Args()[0], cmd.Args()[1]
	if *concurrency < 1 || *concurrency > drive.MaxFolderConcurrency {
		return fmt.Errorf("--concurrency %d is not between 1 and %d", *concurrency, drive.MaxFolderConcurrency)
	}
	mode, err := drive.ParseIfExists(*ifExists, drive.IfExistsSkipUnchanged)
	if err != nil {
		return fmt.Errorf("--if-exists %q is not one of new, update, skip_unchanged, fail", *ifExists)
	}
	atRoot := strings.Trim(drivePath, "/ ") == ""
	if !atRoot {
		if _, err := drive.SplitFolderPath(drivePath); err != nil {
			return fmt.Errorf("DRIVE_PATH: %w", err)
		}
	}
	dir, err := os.OpenRoot(localDir)
	if err != nil {
		return fmt.Errorf("LOCAL_DIR: %w", err)
	}
	defer dir.Close()
	b, email, err := openAccount(ctx, cfg, *account)
	if err != nil {
		return err
	}
	defer b.Close()
	client := b.Grants.HTTPClient(ctx, email, nil)
	retry := drive.Retry{MaxBackoff: b.Config.GoogleMaxBackoff}
	files, err := drive.NewFiles(ctx, client, b.Upstream.Endpoints().DriveBase, retry)
	if err != nil {
		return err
	}
	folderID := "root"
	if !atRoot {
		fp, err := files.ResolveFolderPath(ctx, drivePath, !*dryRun)
		switch {
		case *dryRun && errors.Is(err, drive.ErrNotFound):
			folderID = "" // nothing there yet: everything would be uploaded
			fmt.Fprintf(stdout, "would create %s in My Drive\n", drivePath)
		case err != nil:
			return fmt.Errorf("DRIVE_PATH %s: %w", drivePath, explainCLIUpload(err, drivePath, email))
		default:
			folderID = fp.Folder.ID
			for _, c := range fp.Created {
				fmt.Fprintf(stderr, "created folder %s in My Drive\n", c)
			}
		}
	}
	bar := progressbar.New(stderr, "sync", progressbar.IsTerminal(stderr))
	fs := &drive.FolderSync{
		Files:        files,
		Uploader:     &drive.Uploader{Client: client, Endpoint: b.Upstream.Endpoints().UploadBase, DriveBase: b.Upstream.Endpoints().DriveBase, Cutoff: b.Config.DriveUploadCutoff(), Backoff: retry.Schedule()},
		Concurrency:  *concurrency,
		IfExists:     mode,
		DryRun:       *dryRun,
		TrashMissing: *trashMissing,
		Progress:     func(p drive.SyncProgress) { bar.Update(p.BytesDone, p.BytesTotal) },
	}
	rep, err := fs.Run(ctx, dir, folderID)
	bar.Finish()
	if err != nil && rep.Files == nil {
		return explainCLIUpload(err, drivePath, email)
	}
	printSync(stdout, rep, *dryRun)
	if err != nil {
		return fmt.Errorf("sync stopped before every file was done (%w); run it again to finish", err)
	}
	if rep.Failed > 0 {
		return fmt.Errorf("%d of %d files failed", rep.Failed, len(rep.Files))
	}
	return nil
}

// printSync writes one line per file that was or would be touched, the
// entries left out, and a summary.
func printSync(w io.Writer, rep drive.SyncReport, dryRun bool) {
	for _, c := range rep.FoldersCreated {
		verb := "created folder"
		if dryRun {
			verb = "would create folder"
		}
		fmt.Fprintf(w, "%s %s\n", verb, c)
	}
	for _, f := range rep.Files {
		switch f.Outcome {
		case drive.OutcomeUnchanged:
			continue
		case drive.OutcomeFailed:
			fmt.Fprintf(w, "failed %s: %v\n", f.Path, f.Err)
		case drive.OutcomeWouldUpload:
			fmt.Fprintf(w, "would upload %s\n", f.Path)
		case drive.OutcomeWouldUpdate:
			fmt.Fprintf(w, "would update %s (%s)\n", f.Path, f.File.ID)
		case drive.OutcomeWouldTrash:
			fmt.Fprintf(w, "would trash %s (%s)\n", f.Path, f.File.ID)
		case drive.OutcomeTrashed:
			fmt.Fprintf(w, "trashed %s (%s)\n", f.Path, f.File.ID)
		default:
			fmt.Fprintf(w, "%s %s (%d bytes, md5 %s) → %s\n", f.Outcome, f.Path, f.File.Size, f.File.MD5, f.File.ID)
		}
	}
	for _, s := range rep.Skipped {
		fmt.Fprintf(w, "skipped %s: %s\n", s.Path, s.Reason)
	}
	fmt.Fprintf(w, "%d uploaded, %d updated, %d unchanged, %d failed, %d trashed; %s sent\n",
		rep.Uploaded, rep.Updated, rep.Unchanged, rep.Failed, rep.Trashed, progressbar.Bytes(rep.BytesSent))
}
