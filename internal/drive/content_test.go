package drive

import (
	"errors"
	"strings"
	"testing"
)

func TestContent(t *testing.T) {
	d := newDrive(t)
	png := append([]byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), make([]byte, 64)...)
	tests := []struct {
		name, mimeType string
		content        []byte
		wantText       string
		wantFormat     string
		exported       bool
		binary         bool
	}{
		{"notes.txt", "text/plain", []byte("\ufeffhello\nworld"), "hello\nworld", "text/plain", false, false},
		{"data.json", "application/json", []byte(`{"a":1}`), `{"a":1}`, "application/json", false, false},
		{"Plan", "application/vnd.google-apps.document", []byte("# Plan\nShip it."), "# Plan\nShip it.", "text/markdown", true, false},
		{"Budget", "application/vnd.google-apps.spreadsheet", []byte("a,b\n1,2\n"), "a,b\n1,2\n", "text/csv", true, false},
		{"Deck", "application/vnd.google-apps.presentation", []byte("Slide 1"), "Slide 1", "text/plain", true, false},
		{"logo.png", "image/png", png, "", "", false, true},
		{"blob.bin", "application/octet-stream", png, "", "", false, true},
		{"readme", "application/octet-stream", []byte("plain words"), "plain words", "text/plain", false, false},
		{"latin1.txt", "text/plain", []byte("caf\xe9"), "", "", false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := d.put(t, tt.name, tt.mimeType, "", tt.content)
			c, err := d.files.Content(t.Context(), f.ID, 1<<20)
			if err != nil {
				t.Fatal(err)
			}
			if c.Text != tt.wantText || c.Format != tt.wantFormat || c.Exported != tt.exported || c.Binary != tt.binary {
				t.Fatalf("Content = text %q format %q exported %v binary %v; want %q %q %v %v",
					c.Text, c.Format, c.Exported, c.Binary, tt.wantText, tt.wantFormat, tt.exported, tt.binary)
			}
			if c.ID != f.ID || c.Name != tt.name || c.MimeType != tt.mimeType {
				t.Fatalf("metadata = %+v", c.Item)
			}
		})
	}
}

func TestContent_TooLargeSaysSoWithTheMetadata(t *testing.T) {
	d := newDrive(t)
	big := d.put(t, "big.txt", "text/plain", "", []byte(strings.Repeat("x", 100)))
	c, err := d.files.Content(t.Context(), big.ID, 99)
	if !errors.Is(err, ErrContentTooLarge) || c.Name != "big.txt" || c.Size != 100 {
		t.Fatalf("Content = %+v, %v; want ErrContentTooLarge with the metadata", c.Item, err)
	}
	doc := d.put(t, "Long doc", "application/vnd.google-apps.document", "", []byte(strings.Repeat("y", 100)))
	if _, err := d.files.Content(t.Context(), doc.ID, 99); !errors.Is(err, ErrContentTooLarge) {
		t.Fatalf("export of 100 bytes capped at 99 = %v, want ErrContentTooLarge", err)
	}
	if c, err := d.files.Content(t.Context(), big.ID, 100); err != nil || len(c.Text) != 100 {
		t.Fatalf("Content at exactly the cap = %d bytes, %v", len(c.Text), err)
	}
}

func TestContent_FoldersAndFormsHaveNone(t *testing.T) {
	d := newDrive(t)
	folder := d.folder(t, "Stuff", "")
	if _, err := d.files.Content(t.Context(), folder.ID, 1<<20); !errors.Is(err, ErrIsFolder) {
		t.Fatalf("Content(folder) = %v, want ErrIsFolder", err)
	}
	form := d.put(t, "Survey", "application/vnd.google-apps.form", "", nil)
	if c, err := d.files.Content(t.Context(), form.ID, 1<<20); err != nil || !c.Binary {
		t.Fatalf("Content(form) = %+v, %v; want metadata only", c, err)
	}
	if _, err := d.files.Content(t.Context(), "missing", 1<<20); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Content(missing) = %v, want ErrNotFound", err)
	}
}
