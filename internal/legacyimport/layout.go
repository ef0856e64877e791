package legacyimport

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/drivemcp/drivemcp/internal/safefile"
)

// Size bounds: a credential file the Python server wrote is a few KB; its
// .env and key files smaller still. Anything larger fails.
const (
	maxCredentialFile = 256 << 10
	maxSmallFile      = 64 << 10
)

// credentialName is the Python server's naming scheme: {stem}_credentials.json
// (FILE_PLAINTEXT), {stem}_credentials.enc (FILE_ENCRYPTED) and
// {stem}_backup.enc (MEMORY_WITH_BACKUP).
var credentialName = regexp.MustCompile(`^(.+)_(credentials\.json|credentials\.enc|backup\.enc)$`)

// Source is one credentials folder of the older server and the secrets
// that folder's server had: its .auth_encryption_key and MCP_API_KEY.
type Source struct {
	// Dir is the credentials folder (CREDENTIALS_DIR).
	Dir string
	// StorageMode is CREDENTIAL_STORAGE_MODE from the server's .env, if set.
	StorageMode string
	apiKeys     []string
	// Notes are things the user should know about this folder.
	Notes []string
}

// File is one credential file to import.
type File struct {
	Source *Source
	// Name is the file's name inside Source.Dir.
	Name string
	// Stem is the email part of a name that follows the Python scheme
	// ("" for a file named on the command line under another name).
	Stem string
}

// Path is where the file is.
func (f File) Path() string { return filepath.Join(f.Source.Dir, f.Name) }

// Find lists the credential files named by args: a checkout of the older
// server (its .env says where CREDENTIALS_DIR is, default ./credentials),
// a credentials folder, or single files. getenv supplies MCP_API_KEY when
// the user exports it rather than keeping it in .env.
func Find(args []string, getenv func(string) string) ([]File, error) {
	var files []File
	for _, arg := range args {
		fi, err := os.Stat(arg)
		if err != nil {
			return nil, fmt.Errorf("cannot read %s: %w", arg, err)
		}
		if !fi.IsDir() {
			dir, name := filepath.Split(filepath.Clean(arg))
			src := newSource(filepath.Clean(dir+"."), getenv, dir+".", filepath.Join(dir, ".."))
			files = append(files, File{Source: src, Name: name, Stem: stemOf(name)})
			continue
		}
		found, err := findInDir(arg, getenv)
		if err != nil {
			return nil, err
		}
		files = append(files, found...)
	}
	slices.SortFunc(files, func(a, b File) int { return strings.Compare(a.Path(), b.Path()) })
	return slices.CompactFunc(files, func(a, b File) bool { return a.Path() == b.Path() }), nil
}

func findInDir(arg string, getenv func(string) string) ([]File, error) {
	env := readEnv(arg)
	credsDir := filepath.Join(arg, "credentials")
	switch {
	case env["CREDENTIALS_DIR"] != "":
		credsDir = env["CREDENTIALS_DIR"]
		if !filepath.IsAbs(credsDir) {
			credsDir = filepath.Join(arg, credsDir)
		}
	case isTrue(env["FASTMCP_CLOUD"]):
		credsDir = "/tmp/credentials" // the Python server's cloud default
	case holdsCredentials(arg):
		credsDir = arg
	}
	src := newSource(credsDir, getenv, arg, filepath.Join(credsDir, ".."))
	entries, err := os.ReadDir(credsDir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s is neither the older server's checkout nor its credentials folder: %s does not exist%s", arg, credsDir, src.memoryAdvice())
	}
	if err != nil {
		return nil, fmt.Errorf("cannot list %s: %w", credsDir, err)
	}
	var files []File
	for _, e := range entries {
		if m := credentialName.FindStringSubmatch(e.Name()); m != nil {
			files = append(files, File{Source: src, Name: e.Name(), Stem: m[1]})
		}
		if e.Name() == "token_groups" && e.IsDir() {
			src.Notes = append(src.Notes, "token_groups/ holds grants for Google services the older server authorised separately (such as Photos); drivemcp needs only the Workspace grant, so they are left alone")
		}
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("%s holds no credential file of the older server (*_credentials.json, *_credentials.enc, *_backup.enc)%s", credsDir, src.memoryAdvice())
	}
	return files, nil
}

// newSource gathers a folder's secrets: MCP_API_KEY from the first .env
// found in envDirs, and from the environment.
func newSource(dir string, getenv func(string) string, envDirs ...string) *Source {
	src := &Source{Dir: filepath.Clean(dir)}
	for _, d := range envDirs {
		env := readEnv(d)
		if len(env) == 0 {
			continue
		}
		src.StorageMode = strings.ToUpper(env["CREDENTIAL_STORAGE_MODE"])
		if k := env["MCP_API_KEY"]; k != "" {
			src.apiKeys = append(src.apiKeys, k)
		}
		break
	}
	if k := getenv("MCP_API_KEY"); k != "" && !slices.Contains(src.apiKeys, k) {
		src.apiKeys = append(src.apiKeys, k)
	}
	if src.StorageMode == "MEMORY_ONLY" {
		src.Notes = append(src.Notes, src.memoryAdvice()[2:])
	}
	return src
}

// memoryAdvice explains, when the server kept grants in memory only, why
// there is nothing to import.
func (s *Source) memoryAdvice() string {
	if s.StorageMode != "MEMORY_ONLY" {
		return ""
	}
	return "; the older server ran with CREDENTIAL_STORAGE_MODE=MEMORY_ONLY, which never writes grants to disk (nor does its pkce_memory sign-in): those users sign in once with drivemcp login"
}

func holdsCredentials(dir string) bool {
	entries, _ := os.ReadDir(dir)
	return slices.ContainsFunc(entries, func(e fs.DirEntry) bool {
		return e.Name() == serverKeyFile || credentialName.MatchString(e.Name())
	})
}

func stemOf(name string) string {
	if m := credentialName.FindStringSubmatch(name); m != nil {
		return m[1]
	}
	return ""
}

// readEnv reads dir/.env as python-dotenv does for simple files: KEY=VALUE
// lines, optional "export ", quotes and comments. A missing or unreadable
// file is no settings.
func readEnv(dir string) map[string]string {
	raw, err := safefile.ReadRegular(dir, ".env", maxSmallFile)
	if err != nil {
		return nil
	}
	env := map[string]string{}
	for line := range strings.Lines(string(raw)) {
		line = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(line), "export "))
		k, v, ok := strings.Cut(line, "=")
		if !ok || strings.HasPrefix(line, "#") {
			continue
		}
		v = strings.TrimSpace(v)
		if len(v) >= 2 && (v[0] == '"' || v[0] == '\'') && v[len(v)-1] == v[0] {
			v = v[1 : len(v)-1]
		} else if i := strings.Index(v, " #"); i >= 0 {
			v = strings.TrimSpace(v[:i])
		}
		env[strings.TrimSpace(k)] = v
	}
	return env
}

func isTrue(s string) bool {
	return slices.Contains([]string{"true", "1", "yes", "on"}, strings.ToLower(s))
}
