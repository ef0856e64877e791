package googleemu

import (
	"testing"
	"time"
)

func TestQuery_ParseAndMatch(t *testing.T) {
	alice := &user{email: "alice@example.com", rootID: "root-a"}
	env := &queryEnv{caller: caller{user: alice, scopes: []string{scopeDrive}}, text: func(*driveFile) string { return "" }}
	created := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	file := func(name, mime string, parents ...string) *driveFile {
		return &driveFile{name: name, mimeType: mime, parents: parents, owner: "alice@example.com",
			created: created, modified: created, description: "quarterly numbers"}
	}
	bobs := file(`Bob's "report" \ final.txt`, "text/plain", "root-a")
	folder := file("Reports", mimeFolder, "root-a")
	trashed := file("old.txt", "text/plain", "f1")
	trashed.trashed = true
	camel := file("HelloWorld.md", "text/markdown", "f1")
	env.e = &Emulator{files: map[string]*driveFile{}}

	cases := []struct {
		q    string
		file *driveFile
		want bool
	}{
		{`name = 'Bob\'s "report" \\ final.txt'`, bobs, true},
		{`name = 'Bob\'s'`, bobs, false},
		{`name contains 'bob\'s'`, bobs, true},
		{`name contains 'final'`, bobs, true},
		{`name contains 'inal'`, bobs, false}, // Drive matches word prefixes
		{`name contains 'Hello'`, camel, true},
		{`name contains 'World'`, camel, false},
		{`'root' in parents`, bobs, true},
		{`'root-a' in parents and mimeType = 'application/vnd.google-apps.folder'`, folder, true},
		{`'root' in parents and mimeType != 'application/vnd.google-apps.folder'`, folder, false},
		{`not 'root' in parents`, trashed, true},
		{`trashed = false`, trashed, false},
		{`trashed = true and 'f1' in parents`, trashed, true},
		{`trashed != true`, bobs, true},
		{`(name = 'x' or name = 'Reports') and not trashed = true`, folder, true},
		{`name = 'x' or name = 'y' and name = 'Reports'`, folder, false}, // and binds tighter
		{`(name = 'x' or name = 'y') or name = 'Reports'`, folder, true},
		{`fullText contains 'quarterly'`, bobs, true},
		{`fullText contains '"quarterly numbers"'`, bobs, true},
		{`fullText contains 'missing'`, bobs, false},
		{`mimeType contains 'text/'`, camel, true},
		{`modifiedTime > '2024-01-01T00:00:00Z' and createdTime <= '2024-05-01T12:00:00'`, bobs, true},
		{`modifiedTime < '2024-01-01'`, bobs, false},
		{`'alice@example.com' in owners`, bobs, true},
		{`'bob@example.com' in readers`, bobs, false},
		{`name = 'x' OR trashed = false`, bobs, true}, // keywords are case-insensitive
		{``, bobs, true},
	}
	for _, tc := range cases {
		t.Run(tc.q, func(t *testing.T) {
			q, err := parseQuery(tc.q)
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			if got := q.match(tc.file, env); got != tc.want {
				t.Fatalf("match(%q) = %v, want %v", tc.file.name, got, tc.want)
			}
		})
	}
}

func TestQuery_Errors(t *testing.T) {
	for _, q := range []string{
		`name = 'unterminated`,
		`name = 'bad \n escape'`,
		`name = unquoted`,
		`name > 'x'`,
		`trashed = 'false'`,
		`'x' in nowhere`,
		`(name = 'x'`,
		`name = 'x')`,
		`name = 'x' and`,
		`not`,
		`size > 5`,
		`name ! 'x'`,
		`modifiedTime > 'yesterday'`,
		`name = 'a' name = 'b'`,
		`NAME = 'x'`, // field names are case-sensitive
	} {
		if _, err := parseQuery(q); err == nil {
			t.Errorf("parseQuery(%q) accepted", q)
		}
	}
}

func TestFields_ParseAndApply(t *testing.T) {
	res := map[string]any{
		"kind": "drive#fileList", "nextPageToken": "t",
		"files": []map[string]any{{"id": "1", "name": "a", "size": "3", "owners": []map[string]any{{"emailAddress": "x", "me": true}}}},
	}
	cases := map[string]string{
		"files(id,name),nextPageToken":   `{"files":[{"id":"1","name":"a"}],"nextPageToken":"t"}`,
		"files/id":                       `{"files":[{"id":"1"}]}`,
		"files(owners(emailAddress))":    `{"files":[{"owners":[{"emailAddress":"x"}]}]}`,
		"kind, files(size)":              `{"files":[{"size":"3"}],"kind":"drive#fileList"}`,
		"files(*)":                       `{"files":[{"id":"1","name":"a","owners":[{"emailAddress":"x","me":true}],"size":"3"}]}`,
		"files,files(id)":                `{"files":[{"id":"1","name":"a","owners":[{"emailAddress":"x","me":true}],"size":"3"}]}`,
		"nextPageToken,files/owners/me ": `{"files":[{"owners":[{"me":true}]}],"nextPageToken":"t"}`,
	}
	for fields, want := range cases {
		m, err := parseFields(fields)
		if err != nil {
			t.Fatalf("%q: %v", fields, err)
		}
		got := mustJSON(t, m.apply(res))
		if got != want {
			t.Errorf("%q: got %s, want %s", fields, got, want)
		}
	}
	for _, bad := range []string{"files(id", "files)", ",", "a,,b", "files()"} {
		if _, err := parseFields(bad); err == nil {
			t.Errorf("parseFields(%q) accepted", bad)
		}
	}
}
