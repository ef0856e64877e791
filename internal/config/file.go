package config

import (
	"fmt"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/BurntSushi/toml"
)

// applyFile fills the settings given neither as flags nor in the
// environment from the --config file. The file is TOML: typed values
// (booleans are booleans, upload-root is a list), comments, and no
// indentation to get wrong in a hand-edited file that holds secrets.
//
// Every key must be a setting's name, so a typo is an error rather than a
// silently ignored line. A key that names a setting this command does not
// take (addr, for `drivemcp login`) is skipped: one file serves every
// command.
func (cmd *Command) applyFile(getenv func(string) string) []error {
	c := cmd.c
	path := expandHome(c.File, getenv)
	if abs, err := filepath.Abs(path); err == nil {
		path = abs
	}
	c.File = path
	var raw map[string]any
	if _, err := toml.DecodeFile(path, &raw); err != nil {
		return []error{fmt.Errorf("%s %s: %v", c.Ref("config"), path, err)}
	}
	keys := make([]string, 0, len(raw))
	for k := range raw {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var problems []error
	for _, key := range keys {
		s, known := lookupSetting(key)
		_, isTable := raw[key].(map[string]any)
		switch {
		case isTable:
			problems = append(problems, fmt.Errorf("%s: [%s] is a table, but every key belongs at the top of the file, before any [section]", path, key))
			continue
		case !known:
			problems = append(problems, fmt.Errorf("%s: unknown key %q (keys are the flag names, such as google-client-id; see docs/configuration.md)", path, key))
			continue
		case key == "config":
			problems = append(problems, fmt.Errorf("%s: a configuration file cannot name another one (key \"config\")", path))
			continue
		case !cmd.takes[key] || c.origins[key].kind != FromDefault:
			continue
		}
		values, err := fileValues(raw[key])
		if err != nil {
			problems = append(problems, fmt.Errorf("%s: %s %v", path, key, err))
			continue
		}
		f := cmd.fs.Lookup(key)
		_, isList := raw[key].([]any)
		_, commas := f.Value.(*commaList)
		if _, repeatable := f.Value.(*stringList); !repeatable && !commas && isList {
			problems = append(problems, fmt.Errorf("%s: %s takes one value, not a list", path, key))
			continue
		}
		for _, v := range values {
			if s.path && !strings.Contains(v, "://") {
				// An upload root's account scope stays as written; only
				// its path is the file's to resolve.
				scope, p := splitRootScope(v)
				v = resolvePath(p, filepath.Dir(path), getenv)
				if scope != nil {
					v = strings.Join(scope, ",") + "=" + v
				}
			}
			if err := f.Value.Set(v); err != nil {
				problems = append(problems, fmt.Errorf("%s: %s = %q: %v", path, key, v, err))
				break
			}
		}
		c.origins[key] = origin{kind: FromFile, file: path}
	}
	return problems
}

// fileValues turns a TOML value into the strings a flag would be given.
func fileValues(v any) ([]string, error) {
	switch v := v.(type) {
	case string:
		return []string{v}, nil
	case bool:
		return []string{strconv.FormatBool(v)}, nil
	case int64:
		return []string{strconv.FormatInt(v, 10)}, nil
	case []any:
		out := make([]string, 0, len(v))
		for _, e := range v {
			s, ok := e.(string)
			if !ok {
				return nil, fmt.Errorf("must list strings, not %T", e)
			}
			out = append(out, s)
		}
		return out, nil
	}
	return nil, fmt.Errorf("has a value of type %T; give a string, a boolean or a list of strings", v)
}

// resolvePath makes a path in the file independent of the directory
// drivemcp was started from.
func resolvePath(p, dir string, getenv func(string) string) string {
	p = expandHome(p, getenv)
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(dir, p)
}

// expandHome replaces a leading ~/ with $HOME, as a shell would have done
// for a flag.
func expandHome(p string, getenv func(string) string) string {
	if home := getenv("HOME"); home != "" && (p == "~" || strings.HasPrefix(p, "~/")) {
		return filepath.Join(home, p[1:])
	}
	return p
}
