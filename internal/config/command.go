package config

import (
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"
)

// Command is the command line of one drivemcp command: the settings it
// shares with the others (each also an environment variable and a key of
// the configuration file) plus flags of its own, which the command adds to
// Flags before Parse.
type Command struct {
	name     string
	synopsis string
	fs       *flag.FlagSet
	c        *Config
	takes    map[string]bool
	kind     kind
	// needsClient: the command talks OAuth to Google, so the client id and
	// secret must be set.
	needsClient bool
	args        []string
}

type kind int

const (
	kindServe kind = iota
	kindDoctor
	kindLocal
)

// Serve is the command line of `drivemcp serve`.
func Serve() *Command {
	return newCommand("serve", "[flags]", kindServe, true, nil)
}

// Doctor is the command line of `drivemcp doctor`: every setting serve
// takes, so that it checks the configuration serve would run with. Its
// Parse reports problems (as *Invalid, with the Config) instead of stopping
// at the first.
func Doctor() *Command {
	return newCommand("doctor", "[flags]", kindDoctor, true, nil)
}

// Local is the command line of a local command (login, accounts, upload):
// the store, its sealing key and the Google client, as the server uses
// them. needsClient says whether the command talks OAuth to Google (log in,
// refresh tokens) and so needs the client id and secret. synopsis follows
// the command's name in its usage line.
func Local(name, synopsis string, needsClient bool) *Command {
	return newCommand(name, synopsis, kindLocal, needsClient, localSettings)
}

// Download is the command line of `drivemcp download`: a local command
// that also takes --download-root.
func Download() *Command {
	return newCommand("download", "FILE_ID [PATH] [--export-format F] [--overwrite] [--account EMAIL] [flags]", kindLocal, true,
		append(slices.Clone(localSettings), "download-root"))
}

func newCommand(name, synopsis string, k kind, needsClient bool, only []string) *Command {
	cmd := &Command{
		name: name, synopsis: synopsis, kind: k, needsClient: needsClient,
		fs: flag.NewFlagSet(name, flag.ContinueOnError), c: &Config{}, takes: map[string]bool{},
	}
	cmd.fs.SetOutput(io.Discard) // errors are returned; Usage prints help
	for _, s := range settings {
		if only != nil && !slices.Contains(only, s.name) {
			continue
		}
		s.bind(cmd.fs, cmd.c, s)
		cmd.takes[s.name] = true
	}
	return cmd
}

// Flags is the command's flag set, for adding the command's own flags.
func (cmd *Command) Flags() *flag.FlagSet { return cmd.fs }

// Args are the positional arguments after Parse.
func (cmd *Command) Args() []string { return cmd.args }

// Usage writes the command's help: its synopsis and every flag.
func (cmd *Command) Usage(w io.Writer) {
	fmt.Fprintf(w, "Usage: drivemcp %s %s\n\nFlags:\n", cmd.name, cmd.synopsis)
	cmd.fs.SetOutput(w)
	cmd.fs.PrintDefaults()
	cmd.fs.SetOutput(io.Discard)
	fmt.Fprintf(w, "\nEvery setting can also come from DRIVEMCP_<FLAG> (dashes become underscores) or a --config\nfile; flags win over the environment, which wins over the file. See docs/configuration.md.\n")
}

// Invalid lists every problem found in a configuration. Parse returns it
// together with the Config it describes, so that doctor can report them
// all; other commands stop on it.
type Invalid struct {
	Problems []error
}

func (e *Invalid) Error() string {
	if len(e.Problems) == 1 {
		return e.Problems[0].Error()
	}
	var b strings.Builder
	fmt.Fprintf(&b, "the configuration has %d problems:", len(e.Problems))
	for _, p := range e.Problems {
		b.WriteString("\n  - ")
		b.WriteString(p.Error())
	}
	return b.String()
}

func (e *Invalid) Unwrap() []error { return e.Problems }

// Parse reads the command line, then DRIVEMCP_* variables for settings not
// given as flags, then the --config file for settings given neither way,
// fills defaults and validates. getenv is os.Getenv in production and a map
// lookup in tests.
//
// A command line that does not parse is an error with a nil Config (it
// matches flag.ErrHelp for -h). A configuration that parses but is wrong
// comes back as the Config and an *Invalid naming each problem.
func (cmd *Command) Parse(args []string, getenv func(string) string) (*Config, error) {
	c := cmd.c
	c.origins = map[string]origin{}
	if err := cmd.parseArgs(args); err != nil {
		return nil, err
	}
	if cmd.kind != kindLocal && len(cmd.args) > 0 {
		return nil, fmt.Errorf("unexpected argument %q: %s takes only flags", cmd.args[0], cmd.name)
	}
	cmd.fs.Visit(func(f *flag.Flag) {
		if cmd.takes[f.Name] {
			c.origins[f.Name] = origin{kind: FromFlag}
		}
	})
	var problems []error
	problems = append(problems, cmd.applyEnv(getenv)...)
	if c.File != "" {
		problems = append(problems, cmd.applyFile(getenv)...)
	}
	problems = append(problems, cmd.complete(getenv)...)
	if len(problems) > 0 {
		return c, &Invalid{Problems: problems}
	}
	return c, nil
}

// parseArgs parses flags wherever they stand among the positional
// arguments (`upload a.txt --account me@x`), up to a "--".
func (cmd *Command) parseArgs(args []string) error {
	for {
		if err := cmd.fs.Parse(args); err != nil {
			return err
		}
		rest := cmd.fs.Args()
		if len(rest) == 0 {
			return nil
		}
		// flag stops at the first non-flag, or after a "--" it consumed.
		if n := len(args) - len(rest); n > 0 && args[n-1] == "--" {
			cmd.args = append(cmd.args, rest...)
			return nil
		}
		cmd.args = append(cmd.args, rest[0])
		args = rest[1:]
	}
}

// applyEnv fills each setting not given on the command line from its
// environment variable.
func (cmd *Command) applyEnv(getenv func(string) string) []error {
	var problems []error
	for _, s := range settings {
		if !cmd.takes[s.name] || cmd.c.origins[s.name].kind == FromFlag {
			continue
		}
		env := EnvName(s.name)
		v := getenv(env)
		if v == "" {
			continue
		}
		f := cmd.fs.Lookup(s.name)
		if _, repeatable := f.Value.(*stringList); repeatable {
			for _, part := range filepath.SplitList(v) {
				if part != "" {
					_ = f.Value.Set(part)
				}
			}
		} else if err := f.Value.Set(v); err != nil {
			problems = append(problems, fmt.Errorf("environment variable %s=%q: %v", env, v, err))
			continue
		}
		cmd.c.origins[s.name] = origin{kind: FromEnvironment}
	}
	return problems
}

// origin is where a setting's value came from, so that a problem names the
// place the user must edit.
type origin struct {
	kind Source
	file string
}

// Source is where a setting's value came from. Callers compare it with the
// constants, never with its String form.
type Source int

const (
	FromDefault Source = iota
	FromFlag
	FromEnvironment
	FromFile
)

// String names the source for people: "default", "flag", "environment" or
// "file".
func (s Source) String() string {
	switch s {
	case FromFlag:
		return "flag"
	case FromEnvironment:
		return "environment"
	case FromFile:
		return "file"
	}
	return "default"
}

// Origin says where a setting's value came from.
func (c *Config) Origin(name string) Source {
	return c.origins[name].kind
}

// Ref names a setting the way the user gave it: --name for a flag or a
// default, DRIVEMCP_NAME for the environment, "name in FILE" for the
// configuration file.
func (c *Config) Ref(name string) string {
	o := c.origins[name]
	switch o.kind {
	case FromEnvironment:
		return EnvName(name)
	case FromFile:
		return name + " in " + o.file
	}
	return "--" + name
}
