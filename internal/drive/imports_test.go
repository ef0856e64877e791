package drive

import (
	"encoding/json"
	"slices"
	"testing"
)

// drivemcp's copy of Drive's import map offers no conversion Drive's
// about.importFormats (here the emulator's, itself held to Google's
// documentation) does not list: a refused conversion is refused before
// upload, never after.
func TestImportSources_AreInDrivesAboutImportFormats(t *testing.T) {
	e := newEmulated(t)
	resp, err := e.client.Get(e.url + "/drive/v3/about?fields=importFormats")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var about struct {
		ImportFormats map[string][]string `json:"importFormats"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&about); err != nil {
		t.Fatal(err)
	}
	for _, target := range []string{DocumentMimeType, SpreadsheetMimeType, PresentationMimeType} {
		for _, src := range ImportSources(target) {
			if !slices.Contains(about.ImportFormats[src], target) {
				t.Errorf("drivemcp converts %s into %s, which about.importFormats does not offer", src, target)
			}
		}
	}
	if CanImport("text/plain; charset=utf-8", SpreadsheetMimeType) || !CanImport("text/csv", SpreadsheetMimeType) {
		t.Error("Sheets import from CSV, not plain text")
	}
}
