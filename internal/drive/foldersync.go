package drive

import (
	"cmp"
	"context"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"mime"
	"net/http"
	"os"
	"path"
	"slices"
	"strings"
	"sync"

	"github.com/drivemcp/drivemcp/internal/safefile"
)

// Folder upload concurrency: files at once unless told otherwise, and the
// most a caller may ask for (more only queues at Drive's per-user limits).
const (
	DefaultFolderConcurrency = 4
	MaxFolderConcurrency     = 16
)

// FolderSync mirrors a local directory tree into a Drive folder, one way:
// folders are created once, files uploaded in parallel, each resumable and
// md5-verified. Each Drive folder is listed once and compared by name and
// md5 (ListChildren, Decide), so a second run with nothing changed costs
// one request per folder, not one per file. upload_folder_to_drive and
// `drivemcp sync` both run it.
type FolderSync struct {
	Files    *Files
	Uploader *Uploader
	// Concurrency is how many files upload at once: default 4, at most 16.
	Concurrency int
	// IfExists is what to do about a same-named file; default skip_unchanged.
	IfExists IfExists
	// DryRun decides everything and changes nothing in Drive.
	DryRun bool
	// TrashMissing trashes what the mirrored Drive folders hold that the
	// local tree does not (files and folders; restorable for 30 days).
	TrashMissing bool
	// Progress, if set, is told how far the work is after every change,
	// from several goroutines (one at a time).
	Progress func(SyncProgress)
}

// SyncProgress counts files and bytes of the work to do.
type SyncProgress struct {
	FilesDone, FilesTotal int
	BytesDone, BytesTotal int64
}

// SyncOutcome is what happened to one local file (or, for trashed, one
// Drive item).
type SyncOutcome string

const (
	OutcomeUploaded    SyncOutcome = "uploaded"
	OutcomeUpdated     SyncOutcome = "updated"
	OutcomeUnchanged   SyncOutcome = "skipped_unchanged"
	OutcomeFailed      SyncOutcome = "failed"
	OutcomeWouldUpload SyncOutcome = "would_upload"
	OutcomeWouldUpdate SyncOutcome = "would_update"
	OutcomeTrashed     SyncOutcome = "trashed"
	OutcomeWouldTrash  SyncOutcome = "would_trash"
)

// SyncFile is one file's result. Path is relative to the local directory,
// with "/" separators.
type SyncFile struct {
	Path    string
	Outcome SyncOutcome
	File    File  // as Drive describes it after the upload; the existing file when skipped or trashed
	Err     error // with OutcomeFailed
}

// SyncSkip is a local entry that was left out on purpose, and why.
type SyncSkip struct {
	Path   string
	Reason string
}

// SyncReport is the whole run.
type SyncReport struct {
	Files                                         []SyncFile // sorted by Path
	Skipped                                       []SyncSkip // sorted by Path
	FoldersCreated                                []string   // local paths of the folders made in Drive
	Uploaded, Updated, Unchanged, Failed, Trashed int
	BytesSent                                     int64
	// ListRequests is how many folder listings the comparison cost.
	ListRequests int
}

// Reasons a local entry is skipped.
const (
	SkipHidden        = "hidden (its name starts with \".\"); hidden files often hold keys and credentials"
	SkipLinkToHidden  = "a symbolic link to a hidden file or folder (judged by where it leads); hidden files often hold keys and credentials"
	SkipEscapingLink  = "a symbolic link that leads out of the folder being uploaded"
	SkipFolderLink    = "a symbolic link to a folder (not followed, so a loop cannot make the upload endless)"
	SkipNotRegular    = "not a regular file (a device, pipe or socket)"
	SkipBadName       = "its name has a control character or invalid UTF-8, which Drive cannot hold"
	SkipFolderClashes = "Drive has a folder of that name where the file would go"
)

// localDir is a directory of the local tree and what it holds.
type localDir struct {
	rel     string // "" for the top
	info    fs.FileInfo
	files   []localFile
	subdirs []string // names, sorted
	// driveID is the mirrored Drive folder; "" while it does not exist
	// (a dry run, or a failure creating it).
	driveID  string
	existed  bool // driveID was there before this run, so it is listed
	children Children
}

type localFile struct {
	rel, name string
	size      int64
	info      fs.FileInfo // what the walk judged; syncOne opens this file or none
}

// Run mirrors the directory root into the Drive folder folderID ("root" is
// My Drive). With DryRun, folderID may be "" for a folder that does not
// exist yet. The error is for the run as a whole (the folder could not be
// listed, the context ended); a file's failure is in its SyncFile.
func (s *FolderSync) Run(ctx context.Context, root *os.Root, folderID string) (SyncReport, error) {
	var rep SyncReport
	dirs, err := walkLocal(root, &rep)
	if err != nil {
		return rep, err
	}
	mode := s.IfExists
	if mode == "" {
		mode = IfExistsSkipUnchanged
	}
	if _, err := ParseIfExists(string(mode), IfExistsNew); err != nil {
		return rep, err
	}
	// Folders first, a depth at a time (walkLocal's order): each is found
	// in its parent's listing or made, and the existing ones of a depth
	// are listed together.
	byRel := map[string]*localDir{}
	for _, d := range dirs {
		byRel[d.rel] = d
	}
	dirs[0].driveID, dirs[0].existed = folderID, folderID != ""
	for start := 0; start < len(dirs); {
		end := start
		for end < len(dirs) && depth(dirs[end].rel) == depth(dirs[start].rel) {
			end++
		}
		level := dirs[start:end]
		start = end
		var ids []string
		for _, d := range level {
			if d.rel != "" {
				parent := dirs[0]
				if p := path.Dir(d.rel); p != "." {
					parent = byRel[p]
				}
				if err := s.mirrorFolder(ctx, parent, d, &rep); err != nil {
					return rep, err
				}
			}
			if d.existed {
				ids = append(ids, d.driveID)
			}
		}
		if len(ids) == 0 {
			continue
		}
		kids, n, err := s.Files.ListChildrenOf(ctx, ids)
		rep.ListRequests += n
		if err != nil {
			return rep, err
		}
		for _, d := range level {
			if d.existed {
				d.children = kids[d.driveID]
			}
		}
	}
	var jobs []syncJob
	var total int64
	for _, d := range dirs {
		for _, f := range d.files {
			jobs = append(jobs, syncJob{dir: d, file: f})
			total += f.size
		}
	}
	rep.Files = make([]SyncFile, len(jobs))
	pr := &syncProgress{fn: s.Progress, p: SyncProgress{FilesTotal: len(jobs), BytesTotal: total}}
	pr.report()
	n := cmp.Or(s.Concurrency, DefaultFolderConcurrency)
	n = min(max(n, 1), MaxFolderConcurrency)
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(n, max(len(jobs), 1)) {
		wg.Go(func() {
			for i := range next {
				progress, done := pr.start(jobs[i].file.size)
				rep.Files[i] = s.syncOne(ctx, root, mode, jobs[i], progress)
				done()
			}
		})
	}
feed:
	for i := range jobs {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	for i, f := range rep.Files {
		if f.Outcome == "" { // never started: the context ended
			rep.Files[i] = SyncFile{Path: jobs[i].file.rel, Outcome: OutcomeFailed, Err: ctx.Err()}
		}
	}
	if s.TrashMissing && ctx.Err() == nil {
		s.trashMissing(ctx, dirs, &rep)
	}
	for _, f := range rep.Files {
		switch f.Outcome {
		case OutcomeUploaded:
			rep.Uploaded++
			rep.BytesSent += f.File.Size
		case OutcomeUpdated:
			rep.Updated++
			rep.BytesSent += f.File.Size
		case OutcomeUnchanged:
			rep.Unchanged++
		case OutcomeFailed:
			rep.Failed++
		case OutcomeTrashed:
			rep.Trashed++
		}
	}
	slices.SortFunc(rep.Files, func(a, b SyncFile) int { return strings.Compare(a.Path, b.Path) })
	slices.SortFunc(rep.Skipped, func(a, b SyncSkip) int { return strings.Compare(a.Path, b.Path) })
	return rep, ctx.Err()
}

// depth is how deep a local path is: 0 for the top.
func depth(rel string) int {
	if rel == "" {
		return 0
	}
	return strings.Count(rel, "/") + 1
}

// mirrorFolder finds d's Drive folder in its parent's listing, or makes
// it. Where Drive holds several folders of the name, the oldest is used,
// as ResolveFolderPath does, so repeated runs agree.
func (s *FolderSync) mirrorFolder(ctx context.Context, parent, d *localDir, rep *SyncReport) error {
	name := path.Base(d.rel)
	if parent.driveID == "" {
		return nil // the parent does not exist yet (dry run): neither does this one
	}
	if found := parent.children.Folders[name]; len(found) > 0 {
		d.driveID, d.existed = found[0].ID, true
		return nil
	}
	rep.FoldersCreated = append(rep.FoldersCreated, d.rel)
	if s.DryRun {
		return nil
	}
	folder, err := s.Files.CreateFolder(ctx, name, parent.driveID)
	if err != nil {
		return fmt.Errorf("creating the folder %s in Drive: %w", d.rel, err)
	}
	// A folder just made is empty: nothing to list.
	d.driveID = folder.ID
	d.children = Children{Files: map[string][]Item{}, Folders: map[string][]Item{}}
	return nil
}

type syncJob struct {
	dir  *localDir
	file localFile
}

// syncOne decides and does one file's part.
func (s *FolderSync) syncOne(ctx context.Context, root *os.Root, mode IfExists, j syncJob, progress Progress) SyncFile {
	out := SyncFile{Path: j.file.rel}
	fail := func(err error) SyncFile {
		out.Outcome, out.Err = OutcomeFailed, err
		return out
	}
	if err := ctx.Err(); err != nil {
		return fail(err)
	}
	if len(j.dir.children.Folders[j.file.name]) > 0 && len(j.dir.children.Files[j.file.name]) == 0 && mode != IfExistsNew {
		return fail(fmt.Errorf("%w: %s", ErrExists, SkipFolderClashes))
	}
	// The file opened must be the one the walk judged: a file swapped for
	// a link to a hidden one since then fails rather than uploads.
	f, err := safefile.OpenSame(root, j.file.rel, j.file.info)
	if err != nil {
		return fail(err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return fail(err)
	}
	same := j.dir.children.Files[j.file.name]
	sum := ""
	if mode == IfExistsSkipUnchanged && len(same) == 1 {
		h := md5.New()
		if _, err := io.Copy(h, io.NewSectionReader(f, 0, fi.Size())); err != nil {
			return fail(err)
		}
		sum = hex.EncodeToString(h.Sum(nil))
	}
	d, err := Decide(mode, j.file.name, same, sum)
	if err != nil {
		return fail(err)
	}
	switch {
	case d.Action == ActionSkip:
		out.Outcome, out.File = OutcomeUnchanged, d.Target.File
		return out
	case s.DryRun && d.Action == ActionUpdate:
		out.Outcome, out.File = OutcomeWouldUpdate, d.Target.File
		return out
	case s.DryRun:
		out.Outcome = OutcomeWouldUpload
		return out
	}
	meta := FileMeta{Name: j.file.name, MimeType: guessFileType(j.file.name, f), Parents: []string{j.dir.driveID}}
	src := Source{ReaderAt: f, Size: fi.Size()}
	if d.Action == ActionUpdate {
		out.File, err = s.Uploader.Update(ctx, d.Target.ID, FileMeta{MimeType: meta.MimeType}, src, progress)
		out.Outcome = OutcomeUpdated
	} else {
		out.File, err = s.Uploader.Upload(ctx, meta, src, progress)
		out.Outcome = OutcomeUploaded
	}
	if err != nil {
		return fail(err)
	}
	return out
}

// guessFileType is a file's MIME type from its extension, else its first bytes.
func guessFileType(name string, r io.ReaderAt) string {
	if t := mime.TypeByExtension(path.Ext(name)); t != "" {
		return t
	}
	head := make([]byte, 512)
	n, _ := r.ReadAt(head, 0)
	return http.DetectContentType(head[:n])
}

// trashMissing trashes what the mirrored folders hold that the local tree
// does not. Names the walk skipped on purpose (hidden files, links) are
// left alone: they were not compared, so they are not "missing".
func (s *FolderSync) trashMissing(ctx context.Context, dirs []*localDir, rep *SyncReport) {
	skipped := map[string]bool{}
	for _, sk := range rep.Skipped {
		skipped[sk.Path] = true
	}
	for _, d := range dirs {
		if d.driveID == "" {
			continue
		}
		local := map[string]bool{}
		for _, f := range d.files {
			local[f.name] = true
		}
		for _, sd := range d.subdirs {
			local[sd] = true
		}
		var gone []Item
		for name, items := range d.children.Files {
			if !local[name] && !skipped[path.Join(d.rel, name)] {
				gone = append(gone, items...)
			}
		}
		for name, items := range d.children.Folders {
			if !local[name] && !skipped[path.Join(d.rel, name)] {
				gone = append(gone, items...)
			}
		}
		for _, it := range gone {
			r := SyncFile{Path: path.Join(d.rel, it.Name), File: it.File, Outcome: OutcomeWouldTrash}
			if !s.DryRun {
				r.Outcome = OutcomeTrashed
				if _, err := s.Files.SetTrashed(ctx, it.ID, true); err != nil {
					r.Outcome, r.Err = OutcomeFailed, err
				}
			}
			rep.Files = append(rep.Files, r)
		}
	}
}

// walkLocal reads the tree below root: directories shallowest first, the
// top one first. Hidden entries, links to hidden files (judged by where
// they lead, as upload_file_to_drive judges them), links out of the tree,
// links to folders and special files are left out and listed in
// rep.Skipped. Each file keeps the FileInfo it was judged by, so syncOne
// opens that very file or none (safefile.OpenSame).
func walkLocal(root *os.Root, rep *SyncReport) ([]*localDir, error) {
	top, err := root.Stat(".")
	if err != nil {
		return nil, err
	}
	dirs := []*localDir{{rel: "", info: top}}
	for i := 0; i < len(dirs); i++ {
		d := dirs[i]
		entries, err := readJudgedDir(root, d)
		if err != nil {
			if i == 0 {
				return nil, err
			}
			rep.Skipped = append(rep.Skipped, SyncSkip{Path: d.rel, Reason: "could not be read: " + err.Error()})
			continue
		}
		for _, e := range entries {
			name := e.name
			rel := path.Join(d.rel, name)
			skip := func(reason string) { rep.Skipped = append(rep.Skipped, SyncSkip{Path: rel, Reason: reason}) }
			if strings.HasPrefix(name, ".") {
				skip(SkipHidden)
				continue
			}
			if CheckName(name) != nil {
				skip(SkipBadName)
				continue
			}
			fi := e.info
			if fi.Mode()&fs.ModeSymlink != 0 {
				// Resolved one component at a time inside root, so a
				// link out of the tree is not followed even to judge it.
				target, err := safefile.ResolveIn(root, rel)
				if err != nil {
					skip(SkipEscapingLink)
					continue
				}
				if safefile.Hidden(target) {
					skip(SkipLinkToHidden)
					continue
				}
				if fi, err = root.Lstat(target); err != nil {
					skip("could not be read: " + err.Error())
					continue
				}
				if fi.IsDir() {
					skip(SkipFolderLink)
					continue
				}
			}
			switch {
			case fi.IsDir():
				d.subdirs = append(d.subdirs, name)
				dirs = append(dirs, &localDir{rel: rel, info: fi})
			case fi.Mode().IsRegular():
				d.files = append(d.files, localFile{rel: rel, name: name, size: fi.Size(), info: fi})
			default:
				skip(SkipNotRegular)
			}
		}
	}
	return dirs, nil
}

type judgedEntry struct {
	name string
	info fs.FileInfo // the entry itself, not where a link leads
}

// readJudgedDir lists d through a handle on the very directory the parent's
// listing judged (os.SameFile), so a folder swapped for a link to a hidden
// one (.git) between the two listings is not read under a visible name.
func readJudgedDir(root *os.Root, d *localDir) ([]judgedEntry, error) {
	dir, err := root.OpenRoot(cmp.Or(d.rel, "."))
	if err != nil {
		return nil, err
	}
	defer dir.Close()
	if now, err := dir.Stat("."); err != nil || !os.SameFile(now, d.info) {
		return nil, ErrChangedSinceWalk
	}
	f, err := dir.Open(".")
	if err != nil {
		return nil, err
	}
	names, err := f.Readdirnames(-1)
	f.Close()
	if err != nil {
		return nil, err
	}
	slices.Sort(names)
	out := make([]judgedEntry, 0, len(names))
	for _, n := range names {
		fi, err := dir.Lstat(n)
		if err != nil {
			continue // gone since the listing
		}
		out = append(out, judgedEntry{name: n, info: fi})
	}
	return out, nil
}

// syncProgress adds up the progress of files uploading at once.
type syncProgress struct {
	fn func(SyncProgress)
	mu sync.Mutex
	p  SyncProgress
}

func (s *syncProgress) report() {
	if s.fn != nil {
		s.fn(s.p)
	}
}

// start begins a file of size bytes: progress is its upload's Progress,
// done counts it finished. A file's bytes all count as done at the end,
// whether they were sent, found unchanged or failed, so the totals meet.
func (s *syncProgress) start(size int64) (progress Progress, done func()) {
	var counted int64
	progress = func(sent, _ int64) {
		s.mu.Lock()
		defer s.mu.Unlock()
		// A file's last byte counts when it is done (and verified), so
		// that bytes and files reach their totals together.
		if sent = min(sent, size-1); sent > counted {
			s.p.BytesDone += sent - counted
			counted = sent
		}
		s.report()
	}
	done = func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.p.FilesDone++
		s.p.BytesDone += size - counted
		counted = size
		s.report()
	}
	return progress, done
}

// ErrChangedSinceWalk is a file (or folder) that is not the one the walk
// judged when it is opened (replaced, or a link retargeted, in between).
var ErrChangedSinceWalk = safefile.ErrChanged
