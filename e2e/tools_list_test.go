package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/drivemcp/drivemcp/internal/e2etest"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/ from what the binary says")

// toolSurface is what a client relies on in one tool: a change to any of
// it shows up in review as a change to testdata/tools_list.golden.json.
type toolSurface struct {
	Name        string            `json:"name"`
	Title       string            `json:"title"`
	Annotations map[string]any    `json:"annotations"`
	Required    []string          `json:"required"`
	Properties  map[string]string `json:"properties"` // name: type (with its enum or range)
	Output      map[string]string `json:"output"`
}

// The public surface of the real binary, tools/list, is the golden file:
// names, annotations, required arguments, property names and types. Run
// `go test ./e2e -run TestToolsList_MatchesGolden -update` to accept a
// change on purpose.
func TestToolsList_MatchesGolden(t *testing.T) {
	g := e2etest.StartGoogle(t)
	srv := e2etest.StartStdio(t, e2etest.Config{Binary: binary, DB: filepath.Join(t.TempDir(), "db"), Google: g})
	res, err := srv.Session.ListTools(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	var surface []toolSurface
	for _, tool := range res.Tools {
		s := toolSurface{Name: tool.Name, Title: tool.Title}
		raw, _ := json.Marshal(tool.Annotations)
		_ = json.Unmarshal(raw, &s.Annotations)
		in := schemaOf(t, tool.InputSchema)
		s.Required = in.Required
		if s.Required == nil {
			s.Required = []string{}
		}
		s.Properties = in.summary()
		if tool.OutputSchema != nil {
			s.Output = schemaOf(t, tool.OutputSchema).summary()
		}
		surface = append(surface, s)
	}
	sort.Slice(surface, func(i, j int) bool { return surface[i].Name < surface[j].Name })
	got, err := json.MarshalIndent(surface, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	golden := filepath.Join("testdata", "tools_list.golden.json")
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update to write it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("tools/list changed; if that is meant, run with -update and review the diff of %s.\ngot:\n%s", golden, got)
	}
}

type wireSchema struct {
	Type       any                    `json:"type"`
	Required   []string               `json:"required"`
	Properties map[string]*wireSchema `json:"properties"`
	Items      *wireSchema            `json:"items"`
	Enum       []any                  `json:"enum"`
	Minimum    *float64               `json:"minimum"`
	Maximum    *float64               `json:"maximum"`
}

func schemaOf(t *testing.T, s any) *wireSchema {
	t.Helper()
	raw, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	var w wireSchema
	if err := json.Unmarshal(raw, &w); err != nil {
		t.Fatal(err)
	}
	return &w
}

// summary maps each property, nested ones as a.b and array items as a[],
// to its type as written (a type array shows as such), with its enum or
// range.
func (w *wireSchema) summary() map[string]string {
	m := map[string]string{}
	var walk func(prefix string, s *wireSchema)
	walk = func(prefix string, s *wireSchema) {
		for name, p := range s.Properties {
			key := prefix + name
			desc := typeText(p.Type)
			if p.Enum != nil {
				e, _ := json.Marshal(p.Enum)
				desc += " enum " + string(e)
			}
			if p.Minimum != nil || p.Maximum != nil {
				r, _ := json.Marshal([]*float64{p.Minimum, p.Maximum})
				desc += " range " + string(r)
			}
			m[key] = desc
			if p.Items != nil {
				m[key+"[]"] = typeText(p.Items.Type)
				walk(key+"[].", p.Items)
			}
			walk(key+".", p)
		}
	}
	walk("", w)
	return m
}

// typeText is a schema's type: a single type as it is, anything else (a
// type array, none) as JSON, so that it stands out in a diff.
func typeText(typ any) string {
	if s, ok := typ.(string); ok {
		return s
	}
	raw, _ := json.Marshal(typ)
	return string(raw)
}
