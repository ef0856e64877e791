// Package drive is drivemcp's side of Google Drive: the operations tools
// perform on a user's Drive, starting with a resumable, streaming upload that
// survives a flaky network without holding the file in memory and without
// ever creating the same file twice.
//
// The uploader speaks Drive's resumable protocol directly over an already
// authorized *http.Client rather than through google.golang.org/api: the
// generated client copies every chunk into a buffer and, after a dropped
// connection, resends the whole chunk instead of asking the session what it
// kept. Here a file is sent in one streaming request, read straight from
// disk, and a failure resumes from the session's own account of its bytes.
// Everything else (list, search, content, folders, sharing) uses the
// generated drive/v3 client, pointed at the same endpoint.
package drive
