package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/drivemcp/drivemcp/internal/config"
	"github.com/drivemcp/drivemcp/internal/drive"
	"github.com/drivemcp/drivemcp/internal/google"
	"github.com/drivemcp/drivemcp/internal/mcpserver"
	"github.com/drivemcp/drivemcp/internal/progressbar"
)

// download saves one Drive file on this computer on the code path of
// download_drive_file over stdio: inside a download root (default: the
// current directory), resumed after drops, md5-checked, never replacing a
// file unless --overwrite.
func download(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cmd := config.Download()
	format := cmd.Flags().String("export-format", "", "for a Google Doc, Sheet or Slides: "+strings.Join(drive.ExportFormats, ", ")+" (default docx, xlsx, pptx)")
	overwrite := cmd.Flags().Bool("overwrite", false, "replace a file already at PATH")
	account := cmd.Flags().String("account", "", "Google account to download as (needed when several are connected)")
	cfg, err := parseCommand(cmd, args, stdout, stderr)
	if cfg == nil || err != nil {
		return err
	}
	pos := cmd.Args()
	if len(pos) == 0 || len(pos) > 2 {
		cmd.Usage(stderr)
		return errors.New("download needs a FILE_ID, and at most one PATH")
	}
	fileID := pos[0]
	if err := drive.CheckID(fileID); err != nil {
		return fmt.Errorf("%q is not a Drive file id (search_drive_files or the file's URL give ids)", fileID)
	}
	if *format != "" && !slices.Contains(drive.ExportFormats, *format) {
		return fmt.Errorf("--export-format %q is not one of %s", *format, strings.Join(drive.ExportFormats, ", "))
	}
	roots := make([]string, 0, len(cfg.DownloadRoots))
	for _, r := range cfg.DownloadRoots {
		roots = append(roots, r.Dir)
	}
	if len(roots) == 0 {
		wd, err := os.Getwd()
		if err == nil {
			wd, err = filepath.EvalSymlinks(wd)
		}
		if err != nil {
			return fmt.Errorf("the current directory: %w (give --download-root DIR)", err)
		}
		roots = []string{wd}
	}
	path := ""
	if len(pos) == 2 {
		path = pos[1]
	}
	b, email, err := openAccount(ctx, cfg, *account)
	if err != nil {
		return err
	}
	defer b.Close()
	files, err := drive.NewFiles(ctx, b.Grants.HTTPClient(ctx, email, nil), b.Upstream.Endpoints().DriveBase, drive.Retry{MaxBackoff: b.Config.GoogleMaxBackoff})
	if err != nil {
		return err
	}
	plan, err := files.PlanDownload(ctx, fileID, *format)
	if err != nil {
		return explainCLIDownload(plan, err, fileID, email)
	}
	bar := progressbar.New(stderr, plan.Name, progressbar.IsTerminal(stderr))
	saved, res, err := mcpserver.SaveDownload(ctx, files, plan, roots, path, *overwrite, bar.Update)
	bar.Finish()
	if err != nil {
		return explainCLIDownload(plan, err, fileID, email)
	}
	check := "md5 " + res.MD5 + " matches Drive's"
	if !res.Verified {
		check = "exported as " + plan.Format + "; Drive keeps no checksum of exports"
	}
	fmt.Fprintf(stdout, "downloaded %s → %s (%d bytes, %s)\n", fileID, saved, res.Bytes, check)
	return nil
}

// explainCLIDownload turns a failed download into what to do next.
func explainCLIDownload(plan drive.Download, err error, fileID, email string) error {
	if e := mcpserver.ExplainDownload(plan, err); e != nil {
		msg := strings.NewReplacer("local_path", "PATH", "overwrite: true", "--overwrite", "export_format", "--export-format").Replace(e.Error())
		return errors.New(msg)
	}
	switch {
	case errors.Is(err, drive.ErrNotFound):
		return fmt.Errorf("no Drive file %q that %s can see: check the id (a drive.file grant sees only files drivemcp made or opened)", fileID, email)
	case errors.Is(err, google.ErrReconsentNeeded):
		return fmt.Errorf("%w: run drivemcp login --force --email %s", err, email)
	}
	return err
}
