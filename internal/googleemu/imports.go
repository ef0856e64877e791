package googleemu

import (
	"mime"
	"slices"
	"strings"
)

// importFormats is Drive's import map as about.get reports it under
// importFormats: which uploaded media types Drive will convert into which
// Google Workspace types (Drive API "Import to Google Docs types" in
// "Upload file data": /drive/api/guides/manage-uploads#import-docs, and
// about.importFormats: /drive/api/reference/rest/v3/about). Plain text
// becomes a Doc, never a Sheet; Sheets import from CSV and TSV.
var importFormats = map[string][]string{
	"text/plain":         {mimeDocument},
	"text/markdown":      {mimeDocument},
	"text/html":          {mimeDocument},
	"text/richtext":      {mimeDocument},
	"application/rtf":    {mimeDocument},
	"text/rtf":           {mimeDocument},
	"application/msword": {mimeDocument},
	"application/vnd.oasis.opendocument.text":                                 {mimeDocument},
	"application/vnd.openxmlformats-officedocument.wordprocessingml.document": {mimeDocument},
	"application/pdf":           {mimeDocument},
	"image/jpeg":                {mimeDocument},
	"image/png":                 {mimeDocument},
	"image/gif":                 {mimeDocument},
	"image/bmp":                 {mimeDocument},
	"text/csv":                  {mimeSpreadsheet},
	"text/tab-separated-values": {mimeSpreadsheet},
	"application/vnd.ms-excel":  {mimeSpreadsheet},
	"application/vnd.oasis.opendocument.spreadsheet":                            {mimeSpreadsheet},
	"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet":         {mimeSpreadsheet},
	"application/vnd.ms-powerpoint":                                             {mimePresentation},
	"application/vnd.oasis.opendocument.presentation":                           {mimePresentation},
	"application/vnd.openxmlformats-officedocument.presentationml.presentation": {mimePresentation},
}

// convertible types are Google types an upload may ask Drive to convert
// into; folders, shortcuts and the like are made without content.
var convertible = []string{mimeDocument, mimeSpreadsheet, mimePresentation}

// checkImport refuses an upload whose metadata asks for a Google type its
// media cannot be converted into, as Drive does: it does not store text
// that claims to be a Sheet. An upload that names no media type is left to
// Drive's content sniffing, as at Google.
func (e *Emulator) checkImport(target, media string) *driveErr {
	if e.lenientImports || !slices.Contains(convertible, target) || media == "" {
		return nil
	}
	mt, _, err := mime.ParseMediaType(media)
	if err != nil {
		mt = strings.ToLower(strings.TrimSpace(media))
	}
	if slices.Contains(importFormats[mt], target) {
		return nil
	}
	return &driveErr{code: 400, reason: "badRequest",
		message: "The requested conversion from " + mt + " to " + target + " is not supported. See about.importFormats for the conversions Drive offers."}
}

// importFormatsResource is about.importFormats: a copy, so a caller cannot
// change the emulator's map.
func importFormatsResource() map[string][]string {
	out := make(map[string][]string, len(importFormats))
	for k, v := range importFormats {
		out[k] = slices.Clone(v)
	}
	return out
}
