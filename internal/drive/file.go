package drive

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
)

// FileMeta is what a new file is called and where it goes.
type FileMeta struct {
	Name        string
	MimeType    string // empty lets Drive guess
	Description string
	Parents     []string // empty means Drive's default (the user's root)
}

// File is a file as Drive describes it.
type File struct {
	ID          string
	Name        string
	MimeType    string
	Parents     []string
	Size        int64 // 0 for Google Docs types, which have no stored size
	MD5         string
	WebViewLink string
	// Version is Drive's version number of the file, which grows with
	// every change (0 when Drive did not say).
	Version int64
	// Retries counts the requests of this upload that failed and were
	// resumed (set by Uploader.Upload only).
	Retries int
}

// fileFields is the partial response every file call asks Drive for.
const fileFields = "id,name,mimeType,parents,size,md5Checksum,webViewLink,version"

// fileResource is Drive's JSON for a file, as far as we read it.
type fileResource struct {
	ID          string    `json:"id"`
	Name        string    `json:"name"`
	MimeType    string    `json:"mimeType"`
	Parents     []string  `json:"parents"`
	Size        flexInt64 `json:"size"`
	MD5Checksum string    `json:"md5Checksum"`
	WebViewLink string    `json:"webViewLink"`
	Version     flexInt64 `json:"version"`
}

func (r fileResource) file() File {
	return File{
		ID:          r.ID,
		Name:        r.Name,
		MimeType:    r.MimeType,
		Parents:     r.Parents,
		Size:        int64(r.Size),
		MD5:         r.MD5Checksum,
		WebViewLink: r.WebViewLink,
		Version:     int64(r.Version),
	}
}

// flexInt64 is an int64 that Drive writes as a JSON string ("size": "123"),
// also accepted as a plain number.
type flexInt64 int64

func (n *flexInt64) UnmarshalJSON(b []byte) error {
	b = bytes.Trim(b, `"`)
	if len(b) == 0 || string(b) == "null" {
		return nil
	}
	v, err := strconv.ParseInt(string(b), 10, 64)
	if err != nil {
		return fmt.Errorf("drive: size %q is not a number", b)
	}
	*n = flexInt64(v)
	return nil
}

// fileMetadata is the JSON body that starts an upload.
type fileMetadata struct {
	Name        string   `json:"name,omitempty"`
	MimeType    string   `json:"mimeType,omitempty"`
	Description string   `json:"description,omitempty"`
	Parents     []string `json:"parents,omitempty"`
	// AppProperties tag a multipart upload so that it can be found after
	// an answer that never arrived (see multipart.go).
	AppProperties map[string]string `json:"appProperties,omitempty"`
}

func decodeFile(b []byte) (File, error) {
	var r fileResource
	if err := json.Unmarshal(b, &r); err != nil {
		return File{}, fmt.Errorf("drive: unreadable file resource: %w", err)
	}
	if r.ID == "" {
		return File{}, fmt.Errorf("drive: file resource without an id: %.200s", b)
	}
	return r.file(), nil
}
