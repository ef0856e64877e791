package drive

import (
	"context"
	"fmt"
)

// Update replaces the content of the existing file fileID with src, as a
// new version of the same file: its id, links, sharing and history stay
// (Drive API files.update with uploadType=resumable). It is resumable and
// md5-verified exactly as Upload is; meta.Name, if set, renames the file,
// and meta.Parents is ignored (an update does not move a file).
func (u *Uploader) Update(ctx context.Context, fileID string, meta FileMeta, src Source, progress Progress) (File, error) {
	if err := CheckID(fileID); err != nil {
		return File{}, fmt.Errorf("drive: updating %q: %w", fileID, err)
	}
	up, err := u.newUpload(meta, src, progress)
	if err != nil {
		return File{}, err
	}
	defer up.src.release()
	up.targetID = fileID
	return up.run(ctx)
}
