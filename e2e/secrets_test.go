package e2e

import (
	"bytes"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	_ "modernc.org/sqlite" // the "sqlite" driver, to read the server's database as an attacker would

	"github.com/drivemcp/drivemcp/internal/e2etest"
	"github.com/drivemcp/drivemcp/internal/googleemu"
)

// exposure is everything of a server that someone other than the server
// could read: its log, tool results, pages, JSON answers and metrics.
type exposure struct {
	t     *testing.T
	parts map[string]*strings.Builder
}

func newExposure(t *testing.T) *exposure {
	return &exposure{t: t, parts: map[string]*strings.Builder{}}
}

func (e *exposure) add(where, s string) {
	if e.parts[where] == nil {
		e.parts[where] = &strings.Builder{}
	}
	e.parts[where].WriteString(s)
	e.parts[where].WriteString("\n")
}

// call calls a tool and keeps its whole result, text and structured.
func (e *exposure) call(s *mcp.ClientSession, tool string, args map[string]any) *mcp.CallToolResult {
	e.t.Helper()
	res := e2etest.Call(e.t, s, tool, args)
	raw, _ := json.Marshal(res)
	e.add("tool results", string(raw))
	return res
}

// get fetches a URL (without following redirects) and keeps the answer.
func (e *exposure) get(where, u string) *http.Response {
	e.t.Helper()
	resp, err := e2etest.NoRedirects.Get(u)
	if err != nil {
		e.t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	e.add(where, fmt.Sprintf("%s %v\n%s", resp.Status, resp.Header, body))
	return resp
}

// leaks names where a secret shows up.
func (e *exposure) leaks(secret string) []string {
	var where []string
	for name, b := range e.parts {
		if strings.Contains(b.String(), secret) {
			where = append(where, name)
		}
	}
	slices.Sort(where)
	return where
}

// Everything a user, an operator or an attacker with the database could
// read, after logins through both flows, uploads, refreshes and errors,
// holds no Google token or code and none of drivemcp's own tokens, codes or
// client secrets; Google tokens rest sealed, ours only as hashes; the key
// file is readable by its owner alone.
func TestSecrets_NeverLeaveTheServerAndRestSealed(t *testing.T) {
	g := e2etest.StartGoogle(t)
	root := t.TempDir()
	dir := t.TempDir()
	db := filepath.Join(dir, "drivemcp.db")
	srv := e2etest.StartHTTP(t, e2etest.Config{Binary: binary, DB: db, UploadRoots: []string{"sam@example.com=" + root}, Google: g,
		ExtraArgs: []string{"--allow-domains", "example.com"}}) // logs at debug level
	base := srv.BaseURL
	ex := newExposure(t)
	var ours []string // drivemcp's own codes, tokens and client secrets

	// The OAuth proxy flow, with the Go SDK, and the direct flow in the
	// same session (start_google_auth).
	sdk := connectOAuth(t, base, e2etest.NewBrowser("sam@example.com"))
	res := ex.call(sdk, "start_google_auth", map[string]any{"user_google_email": "sam@example.com", "force": true})
	authURL, _ := e2etest.Structured(t, res)["auth_url"].(string)
	status, page := e2etest.Consent(t, authURL)
	ex.add("pages", page)
	if status != http.StatusOK {
		t.Fatalf("direct flow: %d %s", status, page)
	}

	// The proxy flow by hand, so the test holds our code and tokens; a
	// confidential client too, for its secret.
	hand := registerHandClient(t, base)
	code, verifier := hand.code(t, base, "tess@example.com")
	tok, err := hand.redeem(base, code, verifier)
	if err != nil || tok.Status != http.StatusOK {
		t.Fatalf("redeem: %v %+v", err, tok)
	}
	rotated, err := hand.token(base, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}})
	if err != nil || rotated.Status != http.StatusOK {
		t.Fatalf("refresh: %v %+v", err, rotated)
	}
	ours = append(ours, code, tok.AccessToken, tok.RefreshToken, rotated.AccessToken, rotated.RefreshToken)
	// A replayed code (which revokes what it gave): an error answer.
	other := registerHandClient(t, base)
	code2, verifier2 := other.code(t, base, "ursula@example.com")
	first, _ := other.redeem(base, code2, verifier2)
	replay, _ := other.redeem(base, code2, verifier2)
	ex.add("token errors", replay.Body)
	ours = append(ours, code2, first.AccessToken, first.RefreshToken)
	confidential, secret := registerConfidential(t, base)
	bad, _ := (&handClient{id: confidential}).token(base, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"dmcp_rt_nope"}, "client_secret": {secret}})
	ex.add("token errors", bad.Body)
	ours = append(ours, secret)
	tess, err := bearerSession(t, base, rotated.AccessToken)
	if err != nil {
		t.Fatal(err)
	}

	// Uploads, a refresh at Google, and errors of every kind.
	path, _ := e2etest.WriteRandomFile(t, root, "report.bin", 3<<20)
	ex.call(sdk, "upload_file_to_drive", map[string]any{"filepath": path})
	ex.call(tess, "create_drive_file", map[string]any{"file_name": "note.txt", "content": "hello"})
	g.ExpireAccessTokens()
	ex.call(sdk, "list_drive_items", nil)
	ex.call(tess, "search_drive_files", map[string]any{"query": "note"})
	ex.call(sdk, "check_drive_auth", nil)
	ex.call(sdk, "get_drive_file_content", map[string]any{"file_id": "no-such-file"})
	ex.call(sdk, "upload_file_to_drive", map[string]any{"filepath": "/etc/passwd"})
	g.ExpireAccessTokens()
	g.InjectFault(googleemu.Fault{PathPrefix: "/token", Status: 500, Times: 100})
	ex.call(sdk, "list_drive_items", nil) // a failed refresh
	g.ClearFaults()
	g.InjectFault(googleemu.Fault{PathPrefix: "/token", Status: 400, Reason: "invalid_grant"})
	ex.call(tess, "list_drive_items", nil) // Google ends tess's grant
	ex.call(tess, "check_drive_auth", nil)
	ex.get("error pages", base+"/oauth2callback?state=forged&code=4/forged")
	ex.get("error pages", base+"/oauth/authorize?client_id=mcp_unknown&response_type=code")
	ex.get("error pages", authURL) // Google's own page, once more
	ex.get("metrics", base+"/metrics")

	// The database and its key, as they lie on disk while the server runs.
	var disk []byte
	for _, f := range []string{db, db + "-wal", db + "-shm"} {
		b, err := os.ReadFile(f)
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		disk = append(disk, b...)
	}
	keyFile := filepath.Join(dir, "secret.key")
	fi, err := os.Stat(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	if perm := fi.Mode().Perm(); perm != 0o600 {
		t.Fatalf("the key file is %v, want -rw------- (0600)", fi.Mode())
	}
	key, _ := os.ReadFile(keyFile)
	ex.add("server output", srv.Output())

	google := g.IssuedSecrets()
	if len(google) < 6 {
		t.Fatalf("the emulator issued only %d secrets: the story did not run", len(google))
	}
	secrets := map[string]string{"the Google client secret": googleemu.DemoClientSecret,
		"the sealing key": strings.TrimSpace(string(key))}
	for i, s := range google {
		secrets[fmt.Sprintf("Google secret #%d", i)] = s
	}
	for i, s := range ours {
		secrets[fmt.Sprintf("drivemcp secret #%d (%.8s…)", i, s)] = s
	}
	for name, s := range secrets {
		if len(s) < 8 {
			t.Fatalf("%s is too short to search for: %q", name, s)
		}
		if where := ex.leaks(s); len(where) > 0 {
			t.Errorf("%s appears in: %s", name, strings.Join(where, ", "))
		}
		if name != "the sealing key" && bytes.Contains(disk, []byte(s)) {
			t.Errorf("%s is stored in the clear in the database", name)
		}
	}

	// Read as rows, the database holds our tokens as SHA-256 hashes (the
	// search above would also have found them in the clear).
	srv.Stop()
	rows := dumpDatabase(t, db)
	for _, s := range []string{tok.AccessToken, rotated.RefreshToken} {
		sum := sha256.Sum256([]byte(s))
		if !strings.Contains(rows, hex.EncodeToString(sum[:])) {
			t.Errorf("the hash of a token (%.8s…) is not in the database: the test does not look where tokens are", s)
		}
	}
	for _, s := range append(google, ours...) {
		if strings.Contains(rows, s) {
			t.Errorf("a secret (%.8s…) is in a row of the database", s)
		}
	}
}

// registerConfidential registers a client that authenticates with a secret.
func registerConfidential(t *testing.T, base string) (id, secret string) {
	t.Helper()
	id, secret = e2etest.RegisterClient(t, base, map[string]any{"client_name": "confidential e2e", "redirect_uris": []string{handClientRedirect},
		"grant_types": []string{"authorization_code", "refresh_token"}, "token_endpoint_auth_method": "client_secret_post"})
	if secret == "" {
		t.Fatal("a client_secret_post client was registered without a secret")
	}
	return id, secret
}

// dumpDatabase renders every row of every table of a SQLite database.
func dumpDatabase(t *testing.T, path string) string {
	t.Helper()
	d, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	tables, err := d.Query(`SELECT name FROM sqlite_master WHERE type = 'table'`)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for tables.Next() {
		var n string
		if err := tables.Scan(&n); err != nil {
			t.Fatal(err)
		}
		names = append(names, n)
	}
	tables.Close()
	var b strings.Builder
	for _, table := range names {
		rows, err := d.Query(`SELECT * FROM "` + table + `"`)
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := rows.Columns()
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		for rows.Next() {
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			fmt.Fprintf(&b, "%s:", table)
			for _, v := range vals {
				if raw, ok := v.([]byte); ok {
					v = string(raw)
				}
				fmt.Fprintf(&b, " %v", v)
			}
			b.WriteString("\n")
		}
		rows.Close()
	}
	return b.String()
}

// Alice's token can never read, write as, share, publish or sign out Bob,
// whatever the arguments: every tool the server lists is called with Bob's
// email and with the ids of Bob's files. Bob's files stay unseen and
// untouched, and Bob stays signed in.
func TestIsolation_AnAccountsTokenNeverReachesAnother(t *testing.T) {
	g := e2etest.StartGoogle(t)
	root := t.TempDir()
	srv := e2etest.StartHTTP(t, e2etest.Config{Binary: binary, DB: filepath.Join(t.TempDir(), "db"),
		UploadRoots: []string{"alice@example.com,bob@example.com=" + root}, Google: g, ExtraArgs: []string{"--allow-domains", "example.com"}})
	const aliceEmail, bobEmail = "alice@example.com", "bob@example.com"
	const diary, words, folder = "bob-diary.txt", "words only bob knows", "Bob private"

	bob := connectOAuth(t, srv.BaseURL, e2etest.NewBrowser(bobEmail))
	bobFolder := e2etest.Structured(t, e2etest.MustCall(t, bob, "create_drive_folder", map[string]any{"folder_name": folder}))["folder_id"].(string)
	bobFile := e2etest.Structured(t, e2etest.MustCall(t, bob, "create_drive_file", map[string]any{"file_name": diary, "content": words, "folder_id": bobFolder}))["file_id"].(string)
	bobUpload := e2etest.Structured(t, e2etest.MustCall(t, bob, "create_upload_session", map[string]any{"file_name": diary, "size": 10, "folder_id": bobFolder}))["session_id"].(string)
	bobBefore := filesOf(g, bobEmail)
	permsBefore := [][]googleemu.Permission{g.Permissions(bobFile), g.Permissions(bobFolder)}

	alice := connectOAuth(t, srv.BaseURL, e2etest.NewBrowser(aliceEmail))
	alicePath, _ := e2etest.WriteRandomFile(t, root, "alice.bin", 1000)
	asBob := func(args map[string]any) map[string]any { args["user_google_email"] = bobEmail; return args }
	attempts := map[string][]map[string]any{
		"start_google_auth": {asBob(map[string]any{}), asBob(map[string]any{"force": true})},
		"check_drive_auth":  {asBob(map[string]any{})},
		"upload_file_to_drive": {asBob(map[string]any{"filepath": alicePath}),
			{"filepath": alicePath, "folder_id": bobFolder}},
		"create_drive_file": {asBob(map[string]any{"file_name": "x.txt", "content": "x"}),
			{"file_name": "x.txt", "content": "x", "folder_id": bobFolder}},
		"create_drive_folder": {asBob(map[string]any{"folder_name": "x"}),
			{"folder_name": "x", "parent_folder_id": bobFolder}},
		"list_drive_items": {asBob(map[string]any{}), {"folder_id": bobFolder}},
		"search_drive_files": {asBob(map[string]any{"query": "diary"}), {"query": "diary"},
			{"query": "'" + bobFolder + "' in parents"}, {"query": "'" + bobEmail + "' in owners"}},
		"get_drive_file_content": {asBob(map[string]any{"file_id": bobFile}), {"file_id": bobFile}, {"file_id": bobFolder}},
		"share_drive_files": {asBob(map[string]any{"file_ids": []string{bobFile}, "email_addresses": []string{aliceEmail}, "role": "writer"}),
			{"file_ids": []string{bobFile, bobFolder}, "email_addresses": []string{aliceEmail}, "role": "writer"}},
		"make_drive_files_public": {asBob(map[string]any{"file_ids": []string{bobFile}}),
			{"file_ids": []string{bobFile, bobFolder}, "public": true}},
		"sign_out": {asBob(map[string]any{"revoke": true}), asBob(map[string]any{})},
		// The file lifecycle: every tool that names a file id is tried with
		// Bob's; none may read, change or remove what is his.
		"update_drive_file": {asBob(map[string]any{"file_id": bobFile, "content": "x"}), {"file_id": bobFile, "content": "overwritten"}},
		"move_drive_file":   {asBob(map[string]any{"file_id": bobFile, "folder_id": "root"}), {"file_id": bobFile, "folder_id": "root"}},
		"rename_drive_file": {asBob(map[string]any{"file_id": bobFile, "new_name": "x"}), {"file_id": bobFile, "new_name": "renamed"}},
		"copy_drive_file":   {asBob(map[string]any{"file_id": bobFile}), {"file_id": bobFile}},
		"trash_drive_files": {asBob(map[string]any{"file_ids": []string{bobFile}}), {"file_ids": []string{bobFile, bobFolder}},
			{"file_ids": []string{bobFile}, "restore": true}},
		"delete_drive_files": {asBob(map[string]any{"file_ids": []string{bobFile}, "confirm": true}),
			{"file_ids": []string{bobFile, bobFolder}, "confirm": true}},
		"get_drive_file_metadata": {asBob(map[string]any{"file_id": bobFile}), {"file_id": bobFile}, {"file_id": bobFolder}},
		"list_drive_permissions":  {asBob(map[string]any{"file_id": bobFile}), {"file_id": bobFile}},
		"update_drive_permission": {asBob(map[string]any{"file_id": bobFile, "email_address": bobEmail, "role": "reader"}),
			{"file_id": bobFile, "email_address": aliceEmail, "role": "writer"}},
		"remove_drive_permission": {asBob(map[string]any{"file_id": bobFile, "email_address": bobEmail}),
			{"file_id": bobFile, "email_address": bobEmail}},
		"list_shared_drives":     {asBob(map[string]any{})},
		"download_drive_file":    {asBob(map[string]any{"file_id": bobFile}), {"file_id": bobFile}},
		"upload_folder_to_drive": {asBob(map[string]any{"local_path": root}), {"local_path": root, "folder_id": bobFolder}},
		// Bob's upload session, by its id: neither its state nor its name.
		"create_upload_session": {asBob(map[string]any{"file_name": "x", "size": 1}), {"file_name": "x", "size": 1, "folder_id": bobFolder}},
		"get_upload_status":     {asBob(map[string]any{"session_id": bobUpload}), {"session_id": bobUpload}},
	}
	listed, err := alice.ListTools(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tool := range listed.Tools {
		sets, ok := attempts[tool.Name]
		if !ok {
			t.Errorf("tool %s is not tried against another account: add it to this test", tool.Name)
			continue
		}
		for _, args := range sets {
			res := e2etest.Call(t, alice, tool.Name, args)
			raw, _ := json.Marshal(res)
			text := string(raw)
			for _, secret := range []string{diary, words, folder} {
				if strings.Contains(text, secret) {
					t.Errorf("%s %v showed alice Bob's %q: %s", tool.Name, args, secret, text)
				}
			}
			switch {
			case tool.Name == "start_google_auth" && !res.IsError:
				// Without force it may answer that this connection is
				// alice's already: no consent link, nothing about Bob.
				if out := e2etest.Structured(t, res); out["already_connected_as"] != aliceEmail || out["auth_url"] != nil {
					t.Errorf("%s %v: %s", tool.Name, args, text)
				}
			case args["user_google_email"] == bobEmail:
				if !res.IsError || !strings.Contains(e2etest.ResultText(res), "names another account") {
					t.Errorf("%s as Bob was not refused: %s", tool.Name, text)
				}
			case res.IsError:
			case tool.Name == "search_drive_files" || tool.Name == "list_drive_items":
				if n := len(items(t, e2etest.Structured(t, res))); n != 0 {
					t.Errorf("%s %v listed %d of Bob's items", tool.Name, args, n)
				}
			case tool.Name == "trash_drive_files" || tool.Name == "delete_drive_files":
				if out := e2etest.Structured(t, res); out["succeeded"] != float64(0) {
					t.Errorf("%s %v touched Bob's files: %s", tool.Name, args, text)
				}
			case tool.Name == "share_drive_files" || tool.Name == "make_drive_files_public":
				out := e2etest.Structured(t, res)
				if out["shared"] != nil && out["shared"] != float64(0) || out["changed"] != nil && out["changed"] != float64(0) {
					t.Errorf("%s %v changed Bob's files: %s", tool.Name, args, text)
				}
			default:
				t.Errorf("%s %v with Bob's ids succeeded: %s", tool.Name, args, text)
			}
		}
	}

	if after := filesOf(g, bobEmail); !slices.EqualFunc(after, bobBefore, sameFile) {
		t.Errorf("Bob's files changed:\nbefore %+v\nafter  %+v", bobBefore, after)
	}
	if after := [][]googleemu.Permission{g.Permissions(bobFile), g.Permissions(bobFolder)}; !slices.EqualFunc(after, permsBefore, slices.Equal) {
		t.Errorf("the sharing of Bob's files changed: %+v → %+v", permsBefore, after)
	}
	for _, f := range g.Files() {
		if f.Owner != bobEmail && slices.Contains(f.Parents, bobFolder) {
			t.Errorf("alice put %q into Bob's folder", f.Name)
		}
	}
	if n := g.Notifications(); len(n) != 0 {
		t.Errorf("sharing emails went out: %+v", n)
	}
	if r := g.RevokedTokens(); len(r) != 0 {
		t.Errorf("%d tokens were revoked at Google", len(r))
	}
	if who := e2etest.Structured(t, e2etest.MustCall(t, bob, "check_drive_auth", nil)); who["email"] != bobEmail || who["authenticated"] != true {
		t.Errorf("Bob after alice's attempts: %v", who)
	}
	if got := e2etest.ResultText(e2etest.MustCall(t, bob, "get_drive_file_content", map[string]any{"file_id": bobFile})); !strings.Contains(got, words) {
		t.Errorf("Bob's diary now reads %q", got)
	}
}

// filesOf is the snapshot of an owner's files, oldest first.
func filesOf(g *e2etest.Google, owner string) []googleemu.File {
	var out []googleemu.File
	for _, f := range g.Files() {
		if f.Owner == owner {
			out = append(out, f)
		}
	}
	return out
}

func sameFile(a, b googleemu.File) bool {
	return a.ID == b.ID && a.Name == b.Name && a.MD5 == b.MD5 && a.Trashed == b.Trashed &&
		slices.Equal(a.Parents, b.Parents) && a.ModifiedTime.Equal(b.ModifiedTime) && a.Description == b.Description
}
