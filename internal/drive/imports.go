package drive

import (
	"mime"
	"path"
	"slices"
	"strings"
)

// Google Workspace types an upload can be converted into.
const (
	DocumentMimeType     = "application/vnd.google-apps.document"
	SpreadsheetMimeType  = "application/vnd.google-apps.spreadsheet"
	PresentationMimeType = "application/vnd.google-apps.presentation"
)

// importSources is Drive's import map (about.importFormats) turned round:
// for each Google type, the media types Drive converts into it, the text
// formats first. Drive documents the map and keeps it stable; a fixed copy
// spares every upload an about.get, and a contract test holds it to the
// emulator's about.importFormats. Plain text becomes a Doc, never a Sheet.
var importSources = map[string][]string{
	DocumentMimeType: {"text/plain", "text/markdown", "text/html", "application/rtf",
		"application/vnd.openxmlformats-officedocument.wordprocessingml.document",
		"application/vnd.oasis.opendocument.text", "application/msword"},
	SpreadsheetMimeType: {"text/csv", "text/tab-separated-values",
		"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
		"application/vnd.oasis.opendocument.spreadsheet", "application/vnd.ms-excel"},
	PresentationMimeType: {"application/vnd.openxmlformats-officedocument.presentationml.presentation",
		"application/vnd.oasis.opendocument.presentation", "application/vnd.ms-powerpoint"},
}

// ImportSources lists the media types Drive converts into the Google type
// target, or nil when uploads cannot become that type at all.
func ImportSources(target string) []string {
	return slices.Clone(importSources[baseType(target)])
}

// CanImport reports whether Drive converts media of type source (parameters
// such as charset ignored) into the Google type target.
func CanImport(source, target string) bool {
	return slices.Contains(importSources[baseType(target)], baseType(source))
}

// textTypes are the text formats Drive imports, by file name extension.
var textTypes = map[string]string{
	".txt": "text/plain", ".text": "text/plain",
	".md": "text/markdown", ".markdown": "text/markdown",
	".html": "text/html", ".htm": "text/html",
	".csv": "text/csv",
	".tsv": "text/tab-separated-values", ".tab": "text/tab-separated-values",
}

// TextImportType is the media type text named name should be uploaded as to
// become the Google type target: what its extension says (notes.md is
// Markdown), else the text format Drive imports into target (CSV for a
// Sheet, plain text for a Doc). It returns "" when target takes no text.
func TextImportType(target, name string) string {
	if t, ok := textTypes[strings.ToLower(path.Ext(name))]; ok {
		return t
	}
	switch baseType(target) {
	case DocumentMimeType:
		return "text/plain"
	case SpreadsheetMimeType:
		return "text/csv"
	}
	return ""
}

func baseType(t string) string {
	if mt, _, err := mime.ParseMediaType(t); err == nil {
		return mt
	}
	return strings.ToLower(strings.TrimSpace(t))
}
