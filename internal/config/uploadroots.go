package config

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/drivemcp/drivemcp/internal/accesspolicy"
	"github.com/drivemcp/drivemcp/internal/loopback"
)

// UploadRoot is a directory upload_file_to_drive may read and the accounts
// that may read it.
type UploadRoot struct {
	Dir string // absolute and symlink-free
	// Accounts are lower-case emails; empty means every account the
	// server accepts.
	Accounts []string
}

// AccessPolicy is who may use the server (nil when the command takes no
// policy; a nil policy allows every account).
func (c *Config) AccessPolicy() *accesspolicy.Policy { return c.policy }

func (c *Config) completePolicy() []error {
	p, err := accesspolicy.New(c.AllowAccounts, c.AllowDomains)
	c.policy = p
	if err != nil {
		return []error{fmt.Errorf("%s / %s: %w", c.Ref("allow-accounts"), c.Ref("allow-domains"), err)}
	}
	return nil
}

// splitRootScope reads an --upload-root value: "EMAIL[,EMAIL...]=PATH" names
// the accounts that may read PATH; anything else is a path as it stands.
// The part before the first "=" counts as a scope only when every
// comma-separated piece is an email address (which cannot contain "/"), so
// "/srv/a=b" stays a path, and a relative path that looks like a scope is
// written "./a@b.com=c".
func splitRootScope(v string) (accounts []string, path string) {
	before, after, ok := strings.Cut(v, "=")
	if !ok || before == "" {
		return nil, v
	}
	for part := range strings.SplitSeq(before, ",") {
		part = strings.ToLower(strings.TrimSpace(part))
		if !accesspolicy.LooksLikeEmail(part) {
			return nil, v
		}
		accounts = append(accounts, part)
	}
	return accounts, after
}

// completeUploadRoots makes every root absolute and symlink-free, so the
// path check in the upload tool compares like with like. In stdio mode the
// default root is the user's home.
func (c *Config) completeUploadRoots(getenv func(string) string) []error {
	args := c.uploadRootArgs
	if len(args) == 0 && c.Stdio {
		if home := getenv("HOME"); home != "" {
			args = []string{home}
		}
	}
	var problems []error
	c.UploadRoots, problems = c.completeRoots("upload-root", args, getenv)
	return problems
}

// completeDownloadRoots makes every download root absolute and
// symlink-free, as upload roots are. In stdio mode the default is
// ~/Downloads, where there is one; over HTTP nothing is written to the
// server's disk, so a root given there is kept but never used.
func (c *Config) completeDownloadRoots(getenv func(string) string) []error {
	args := c.downloadRootArgs
	if len(args) == 0 && c.Stdio {
		if home := getenv("HOME"); home != "" {
			if fi, err := os.Stat(filepath.Join(home, "Downloads")); err == nil && fi.IsDir() {
				args = []string{filepath.Join(home, "Downloads")}
			}
		}
	}
	var problems []error
	c.DownloadRoots, problems = c.completeRoots("download-root", args, getenv)
	return problems
}

// completeRoots reads the values of a root setting (name) into roots.
func (c *Config) completeRoots(name string, args []string, getenv func(string) string) ([]UploadRoot, []error) {
	var roots []UploadRoot
	var problems []error
	for _, arg := range args {
		accounts, r := splitRootScope(arg)
		abs, err := filepath.Abs(expandHome(r, getenv))
		if err == nil {
			abs, err = filepath.EvalSymlinks(abs)
		}
		if err != nil {
			problems = append(problems, fmt.Errorf("%s %q: %v", c.Ref(name), arg, err))
			continue
		}
		fi, err := os.Stat(abs)
		if err != nil || !fi.IsDir() {
			problems = append(problems, fmt.Errorf("%s %q is not a directory", c.Ref(name), arg))
			continue
		}
		roots = append(roots, UploadRoot{Dir: abs, Accounts: accounts})
	}
	return roots, problems
}

// uploadRootExposure refuses upload roots that any Google account able to
// finish Google's sign-in could read: over HTTP with OAuth the caller is
// not the machine's user, so serve needs a policy saying who may use it,
// and each root must name who may read it.
func (c *Config) uploadRootExposure() []error {
	if c.Stdio || c.Auth != AuthOAuth || len(c.UploadRoots) == 0 {
		return nil
	}
	if c.Demo {
		// The demo's emulator signs in whatever address is typed, so no
		// allow-list could protect the roots: only loopback can.
		if !loopback.IsAddr(c.Addr) {
			return []error{fmt.Errorf("%s with %s must listen on loopback (such as 127.0.0.1:8080): its Google emulator lets anyone sign in as any address, so anyone who can reach %s could read the upload roots", c.Ref("demo"), c.Ref("upload-root"), c.Addr)}
		}
		return nil
	}
	var problems []error
	if !c.policy.Enabled() {
		problems = append(problems, fmt.Errorf("%s over HTTP lets every Google account that can sign in read those directories: say who may use this server with --allow-accounts alice@example.com or --allow-domains example.com (your Google Workspace domain), and name who may read each root", c.Ref("upload-root")))
	}
	for _, r := range c.UploadRoots {
		if len(r.Accounts) == 0 {
			problems = append(problems, fmt.Errorf("%s %s is readable by every account this server accepts: name the accounts that may read it, as in --upload-root alice@example.com=%s (several: alice@example.com,bob@example.com=DIR)", c.Ref("upload-root"), r.Dir, r.Dir))
			continue
		}
		for _, a := range r.Accounts {
			if c.policy.Enabled() && c.policy.AdmitStored(a) != nil {
				problems = append(problems, fmt.Errorf("%s %s names %s, which --allow-accounts and --allow-domains do not allow: add it there or remove it from the root", c.Ref("upload-root"), r.Dir, a))
			}
		}
	}
	return problems
}
