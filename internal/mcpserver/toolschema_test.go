package mcpserver

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/drivemcp/drivemcp/internal/e2etest"
)

// listTools is tools/list as a client sees it, through the real MCP server.
func listTools(t *testing.T) []*mcp.Tool {
	t.Helper()
	f := newFixture(t, Deps{})
	res, err := f.session.ListTools(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Tools) == 0 {
		t.Fatal("tools/list returned no tools")
	}
	return res.Tools
}

// wireSchema is a schema as it travels in tools/list.
func wireSchema(t *testing.T, s any) map[string]any {
	t.Helper()
	data, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// Every tool's input and output schema stays inside the JSON Schema subset
// that the strictest common function-calling dialects accept, so a tool
// registers, and is called rightly, on every model and client:
//
//   - Google Gemini function declarations (ai.google.dev "Function calling
//     with the Gemini API", /gemini-api/docs/function-calling, and the
//     FunctionDeclaration / Schema reference, /api/caching#Schema): a
//     select subset of the OpenAPI 3.0 Schema object: one type per schema
//     (no type arrays, no "null" type), no $ref, no oneOf/allOf/not,
//     enums of strings, parameter names of letters, digits and
//     underscores starting with a letter or underscore, at most 64.
//   - OpenAI function calling and Structured Outputs ("Supported schemas",
//     platform.openai.com /docs/guides/structured-outputs#supported-schemas):
//     the root is an object and not anyOf, objects say
//     additionalProperties: false, at most 5 levels of nesting and 100
//     properties, string formats from a short list. (Strict mode further
//     wants every property required and optional ones spelled as a union
//     with null; that contradicts Gemini's single type, so the schemas use
//     the non-strict form every dialect accepts: optional is not required.)
//   - Anthropic tool use (docs.anthropic.com /en/docs/build-with-claude/tool-use):
//     input_schema is a JSON Schema object; tool names match
//     ^[a-zA-Z0-9_-]{1,64}$.
//
// The MCP Inspector CLI's schema-portability lint (2.12, `--method
// tools/list --strict`) checks type arrays, remote $ref and schemas that
// constrain nothing; the rules below include all three, so the Inspector
// e2e test and this one cannot disagree.
//
// Beyond portability, every property says what it is and, when it is not
// required, what happens when it is left out: a model has nothing else to
// go by.
func TestToolSchemas_PortableToEveryFunctionCallingDialect(t *testing.T) {
	for _, tool := range listTools(t) {
		if !toolNameRE.MatchString(tool.Name) {
			t.Errorf("tool %q: name does not match %s", tool.Name, toolNameRE)
		}
		if strings.TrimSpace(tool.Description) == "" || tool.Title == "" {
			t.Errorf("tool %q: no description or title", tool.Name)
		}
		for _, kind := range []string{"inputSchema", "outputSchema"} {
			raw := tool.InputSchema
			if kind == "outputSchema" {
				raw = tool.OutputSchema
			}
			if raw == nil {
				if kind == "inputSchema" {
					t.Errorf("tool %q: no input schema", tool.Name)
				}
				continue
			}
			c := &schemaChecker{tool: tool.Name, kind: kind}
			c.root(wireSchema(t, raw))
			for _, p := range c.problems {
				t.Error(p)
			}
		}
	}
}

var (
	toolNameRE  = regexp.MustCompile(`^[a-zA-Z0-9_-]{1,64}$`)
	paramNameRE = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]{0,63}$`)
	// optionalWords are how a description says what leaving a property
	// out means: its default, that it is optional, or when it is absent.
	optionalWords = []string{"default", "optional", "absent", "left out", "omitted"}
)

// portableKeywords are the keywords the dialects above all understand;
// anything else is a problem.
var portableKeywords = map[string]bool{
	"type": true, "description": true, "properties": true, "required": true,
	"items": true, "enum": true, "minimum": true, "maximum": true,
	"additionalProperties": true, "format": true, "title": true,
}

type schemaChecker struct {
	tool, kind string
	problems   []string
	properties int
}

func (c *schemaChecker) errorf(path, format string, args ...any) {
	c.problems = append(c.problems, fmt.Sprintf("tool %q %s%s: %s", c.tool, c.kind, path, fmt.Sprintf(format, args...)))
}

func (c *schemaChecker) root(s map[string]any) {
	if s["type"] != "object" {
		c.errorf("", "the root must be type object, is %v", s["type"])
	}
	c.node("", s, 0)
	if c.properties > 100 {
		c.errorf("", "%d properties; OpenAI allows at most 100", c.properties)
	}
}

func (c *schemaChecker) node(path string, s map[string]any, depth int) {
	keys := make([]string, 0, len(s))
	for k := range s {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if !portableKeywords[k] {
			c.errorf(path, "keyword %q is outside the portable subset (no $ref, $defs, anyOf, oneOf, allOf, not, const, patterns)", k)
		}
	}
	typ, ok := s["type"].(string)
	switch {
	case s["type"] == nil:
		c.errorf(path, "no type: a schema that constrains nothing (Inspector: untyped-schema)")
	case !ok:
		c.errorf(path, "type is %v; one type per schema (Inspector: type-union; Gemini has one type)", s["type"])
	case typ == "null":
		c.errorf(path, `type "null" (Gemini has none; optional means not required)`)
	}
	if f, ok := s["format"].(string); ok && f != "date-time" {
		c.errorf(path, "format %q: only date-time is in every dialect", f)
	}
	if e, ok := s["enum"]; ok {
		vals, _ := e.([]any)
		if typ != "string" || len(vals) == 0 {
			c.errorf(path, "enum %v on type %q: dialects take non-empty enums of strings", e, typ)
		}
		for _, v := range vals {
			if _, ok := v.(string); !ok {
				c.errorf(path, "enum value %v is not a string", v)
			}
		}
	}
	for _, k := range []string{"minimum", "maximum"} {
		if _, ok := s[k]; ok && typ != "integer" && typ != "number" {
			c.errorf(path, "%s on type %q", k, typ)
		}
	}
	switch typ {
	case "object":
		if depth >= 5 {
			c.errorf(path, "object nested %d deep; OpenAI allows 5 levels", depth+1)
		}
		if ap, ok := s["additionalProperties"]; ok && ap != false {
			c.errorf(path, "additionalProperties is %v; only false is portable", ap)
		}
		props, _ := s["properties"].(map[string]any)
		var required []string
		if r, ok := s["required"].([]any); ok {
			for _, n := range r {
				name, _ := n.(string)
				required = append(required, name)
				if _, ok := props[name]; !ok {
					c.errorf(path, "required %q is not a property", name)
				}
			}
		}
		names := make([]string, 0, len(props))
		for n := range props {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, name := range names {
			c.properties++
			p := path + "." + name
			if !paramNameRE.MatchString(name) {
				c.errorf(p, "property name does not match %s (Gemini)", paramNameRE)
			}
			ps, ok := props[name].(map[string]any)
			if !ok {
				c.errorf(p, "a bare %v where a schema object is expected", props[name])
				continue
			}
			desc, _ := ps["description"].(string)
			if strings.TrimSpace(desc) == "" {
				c.errorf(p, "no description")
			} else if !slices.Contains(required, name) && !saysWhenLeftOut(desc) {
				c.errorf(p, "neither required nor documented as optional: its description (%q) must say what happens when it is left out (one of %q)", desc, optionalWords)
			}
			c.node(p, ps, depth+1)
		}
	case "array":
		items, ok := s["items"].(map[string]any)
		if !ok {
			c.errorf(path, "array without an items schema")
			return
		}
		c.node(path+"[]", items, depth)
	}
}

func saysWhenLeftOut(desc string) bool {
	d := strings.ToLower(desc)
	for _, w := range optionalWords {
		if strings.Contains(d, w) {
			return true
		}
	}
	return false
}

// The constraints handlers already enforce are published, so a model can
// get an argument right the first time.
func TestToolSchemas_PublishEnumsAndRanges(t *testing.T) {
	want := map[string]string{ // tool.property: its constraint as JSON
		"list_drive_items.page_size":         `{"minimum":1,"maximum":1000}`,
		"search_drive_files.page_size":       `{"minimum":1,"maximum":1000}`,
		"share_drive_files.role":             `{"enum":["reader","commenter","writer"]}`,
		"make_drive_files_public.role":       `{"enum":["reader","commenter"]}`,
		"start_google_auth.scope":            `{"enum":["file","readonly","full"]}`,
		"update_drive_permission.role":       `{"enum":["reader","commenter","writer"]}`,
		"list_shared_drives.page_size":       `{"minimum":1,"maximum":100}`,
		"get_drive_file_content.offset":      `{"minimum":0}`,
		"get_drive_file_content.max_bytes":   `{"minimum":256,"maximum":1048576}`,
		"download_drive_file.export_format":  `{"enum":["pdf","docx","xlsx","pptx","csv","md","txt"]}`,
		"upload_folder_to_drive.if_exists":   `{"enum":["new","update","skip_unchanged","fail"]}`,
		"upload_folder_to_drive.concurrency": `{"minimum":1,"maximum":16}`,
	}
	tools := map[string]*mcp.Tool{}
	for _, tool := range listTools(t) {
		tools[tool.Name] = tool
	}
	for key, constraint := range want {
		toolName, prop, _ := strings.Cut(key, ".")
		tool := tools[toolName]
		if tool == nil {
			t.Errorf("no tool %s", toolName)
			continue
		}
		props, _ := wireSchema(t, tool.InputSchema)["properties"].(map[string]any)
		p, _ := props[prop].(map[string]any)
		var c map[string]any
		if err := json.Unmarshal([]byte(constraint), &c); err != nil {
			t.Fatal(err)
		}
		for k, v := range c {
			got, _ := json.Marshal(p[k])
			exp, _ := json.Marshal(v)
			if string(got) != string(exp) {
				t.Errorf("%s: %s is %s, want %s", key, k, got, exp)
			}
		}
	}
}

// Old clients send null for an argument they leave out; the schemas no
// longer admit null as a type, and the adapter still takes it as absent.
func TestTypedTool_NullArgumentsMeanAbsent(t *testing.T) {
	f := newFixture(t, Deps{})
	for _, c := range []struct {
		tool string
		args map[string]any
	}{
		{"list_drive_items", map[string]any{"page_size": nil, "folder_id": nil, "page_token": nil, "user_google_email": nil}},
		{"search_drive_files", map[string]any{"query": "x", "page_size": nil, "include_items_from_all_drives": nil, "drive_id": nil}},
		{"check_drive_auth", map[string]any{"user_google_email": nil}},
	} {
		res := f.call(t, c.tool, c.args)
		if res.IsError {
			t.Errorf("%s with nulls: %s", c.tool, resultText(res))
		}
	}
	// A required argument sent as null is missing, and the sentence says so.
	res := f.call(t, "search_drive_files", map[string]any{"query": nil})
	if !res.IsError || !strings.Contains(resultText(res), "query") {
		t.Errorf("search_drive_files with query null: %s (isError %v)", resultText(res), res.IsError)
	}
}

func resultText(res *mcp.CallToolResult) string {
	var b strings.Builder
	for _, c := range res.Content {
		if tc, ok := c.(*mcp.TextContent); ok {
			b.WriteString(tc.Text)
		}
	}
	return b.String()
}

// The schemas say an array is an array, so an output with a nil slice is
// sent with [], never null, and still skips validation.
func TestTypedTool_NilSliceOutputIsSentAsAnEmptyArray(t *testing.T) {
	type inner struct {
		Tags []string `json:"tags" jsonschema:"tags"`
	}
	type out struct {
		Items  []inner `json:"items" jsonschema:"items"`
		Nested inner   `json:"nested" jsonschema:"nested"`
	}
	s := mcp.NewServer(&mcp.Implementation{Name: "t", Version: "1"}, nil)
	addTool(s, nil, &mcp.Tool{Name: "nils", Description: "returns nil slices"},
		func(context.Context, *mcp.CallToolRequest, struct{}) (*mcp.CallToolResult, out, error) {
			return nil, out{}, nil
		})
	ct, st := mcp.NewInMemoryTransports()
	if _, err := s.Connect(context.Background(), st, nil); err != nil {
		t.Fatal(err)
	}
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "c", Version: "1"}, nil).Connect(context.Background(), ct, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cs.Close()
	res := e2etest.MustCall(t, cs, "nils", nil)
	raw, err := json.Marshal(res.StructuredContent)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"items":[],"nested":{"tags":[]}}`; string(raw) != want {
		t.Errorf("structured content %s, want %s", raw, want)
	}
}
