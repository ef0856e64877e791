package googleemu

import (
	"archive/zip"
	"bytes"
	"fmt"
	"html"
	"strings"
)

// Export renderings of the binary formats in Drive's export table. The
// emulator keeps a Docs Editors file as the text it was made from, so a
// rendering is that text in the smallest file of the right kind: a one-page
// PDF, an Office Open XML package (a zip whose first part is
// [Content_Types].xml), enough for a client to tell the format by its magic
// bytes and for a test to find the text inside.

const (
	mimePDF  = "application/pdf"
	mimeDocx = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
	mimeXlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
	mimePptx = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
)

func exportBody(target, name string, text []byte) []byte {
	switch target {
	case mimePDF:
		return pdfOf(string(text))
	case mimeDocx:
		return ooxmlOf(target, "word/document.xml", "w:document", text)
	case mimeXlsx:
		return ooxmlOf(target, "xl/workbook.xml", "workbook", text)
	case mimePptx:
		return ooxmlOf(target, "ppt/presentation.xml", "p:presentation", text)
	}
	// OpenDocument, RTF, EPUB and zipped HTML: a zip holding the text,
	// which is what most of them are.
	return ooxmlOf(target, strings.ReplaceAll(name, "/", "_")+".txt", "text", text)
}

// pdfOf is a minimal well-formed PDF whose content stream shows text.
func pdfOf(text string) []byte {
	esc := strings.NewReplacer(`\`, `\\`, "(", `\(`, ")", `\)`, "\r", "", "\n", `) Tj T* (`).Replace(text)
	stream := "BT /F1 11 Tf 14 TL 72 720 Td (" + esc + ") Tj ET"
	objs := []string{
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
		fmt.Sprintf("<< /Length %d >>\nstream\n%s\nendstream", len(stream), stream),
		"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
	}
	var b bytes.Buffer
	b.WriteString("%PDF-1.4\n")
	offsets := make([]int, len(objs))
	for i, o := range objs {
		offsets[i] = b.Len()
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", i+1, o)
	}
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(objs)+1)
	for _, off := range offsets {
		fmt.Fprintf(&b, "%010d 00000 n \n", off)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(objs)+1, xref)
	return b.Bytes()
}

// ooxmlOf is a zip package: [Content_Types].xml first, then one part
// holding the text.
func ooxmlOf(contentType, part, root string, text []byte) []byte {
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	w, _ := zw.Create("[Content_Types].xml")
	fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">`+
		`<Override PartName="/%s" ContentType="%s"/></Types>`, part, html.EscapeString(contentType))
	w, _ = zw.Create(part)
	fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><%s>%s</%s>`, root, html.EscapeString(string(text)), root)
	_ = zw.Close()
	return b.Bytes()
}
