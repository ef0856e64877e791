package googleemu

import (
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// The files.list `q` language, parsed by recursive descent:
//
//	expr    = and { "or" and }
//	and     = unary { "and" unary }
//	unary   = "not" unary | "(" expr ")" | term
//	term    = string "in" field                    'x' in parents
//	        | field ("=" | "!=" | "<" | "<=" | ">" | ">=" | "contains") value
//	        | "appProperties" "has" "{" "key" "=" string "and" "value" "=" string "}"
//	value   = string | "true" | "false"
//
// Strings are single-quoted; inside them \' is a quote and \\ a backslash, and
// any other escape is an error (Drive rejects it too, and accepting it would
// hide quoting bugs in callers). Keywords are case-insensitive; field names are not.

// query is a parsed q expression.
type query interface {
	match(f *driveFile, env *queryEnv) bool
}

// queryEnv is what a term needs beyond the file itself.
type queryEnv struct {
	e      *Emulator // for parents' and permissions' lookups; caller holds e.mu
	caller caller
	text   func(f *driveFile) string // file content for fullText, "" if not text
}

type andQuery struct{ a, b query }
type orQuery struct{ a, b query }
type notQuery struct{ q query }
type matchAll struct{}

func (q andQuery) match(f *driveFile, env *queryEnv) bool {
	return q.a.match(f, env) && q.b.match(f, env)
}
func (q orQuery) match(f *driveFile, env *queryEnv) bool {
	return q.a.match(f, env) || q.b.match(f, env)
}
func (q notQuery) match(f *driveFile, env *queryEnv) bool { return !q.q.match(f, env) }
func (matchAll) match(*driveFile, *queryEnv) bool         { return true }

// term is one comparison.
type term struct {
	field string
	op    string // = != < <= > >= contains in
	str   string
	bool  bool
	time  time.Time
}

type tokenKind int

const (
	tokEOF tokenKind = iota
	tokIdent
	tokString
	tokOp
	tokLParen
	tokRParen
	tokLBrace
	tokRBrace
)

type token struct {
	kind tokenKind
	text string // identifier, operator, or the unescaped string
	pos  int
}

func lexQuery(s string) ([]token, error) {
	var toks []token
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '(':
			toks = append(toks, token{tokLParen, "(", i})
			i++
		case c == ')':
			toks = append(toks, token{tokRParen, ")", i})
			i++
		case c == '{':
			toks = append(toks, token{tokLBrace, "{", i})
			i++
		case c == '}':
			toks = append(toks, token{tokRBrace, "}", i})
			i++
		case c == '\'':
			start := i
			var b strings.Builder
			i++
			for {
				if i >= len(s) {
					return nil, fmt.Errorf("unterminated string starting at offset %d", start)
				}
				if s[i] == '\\' {
					if i+1 >= len(s) || (s[i+1] != '\'' && s[i+1] != '\\') {
						return nil, fmt.Errorf("invalid escape at offset %d: only \\' and \\\\ are allowed", i)
					}
					b.WriteByte(s[i+1])
					i += 2
					continue
				}
				if s[i] == '\'' {
					i++
					break
				}
				b.WriteByte(s[i])
				i++
			}
			toks = append(toks, token{tokString, b.String(), start})
		case c == '=':
			toks = append(toks, token{tokOp, "=", i})
			i++
		case c == '!' || c == '<' || c == '>':
			if i+1 < len(s) && s[i+1] == '=' {
				toks = append(toks, token{tokOp, s[i : i+2], i})
				i += 2
			} else if c == '!' {
				return nil, fmt.Errorf("unexpected '!' at offset %d", i)
			} else {
				toks = append(toks, token{tokOp, s[i : i+1], i})
				i++
			}
		case isIdentByte(c):
			start := i
			for i < len(s) && isIdentByte(s[i]) {
				i++
			}
			toks = append(toks, token{tokIdent, s[start:i], start})
		default:
			return nil, fmt.Errorf("unexpected %q at offset %d", c, i)
		}
	}
	return append(toks, token{tokEOF, "", len(s)}), nil
}

func isIdentByte(c byte) bool {
	return c == '_' || c == '.' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// parseQuery parses q; an empty q matches everything.
func parseQuery(q string) (query, error) {
	if strings.TrimSpace(q) == "" {
		return matchAll{}, nil
	}
	toks, err := lexQuery(q)
	if err != nil {
		return nil, err
	}
	p := &queryParser{toks: toks}
	expr, err := p.or()
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind != tokEOF {
		return nil, fmt.Errorf("unexpected %q at offset %d", t.text, t.pos)
	}
	return expr, nil
}

type queryParser struct {
	toks []token
	pos  int
}

func (p *queryParser) peek() token { return p.toks[p.pos] }
func (p *queryParser) next() token {
	t := p.toks[p.pos]
	if t.kind != tokEOF {
		p.pos++
	}
	return t
}

func (p *queryParser) keyword(word string) bool {
	t := p.peek()
	if t.kind == tokIdent && strings.EqualFold(t.text, word) {
		p.pos++
		return true
	}
	return false
}

func (p *queryParser) or() (query, error) {
	left, err := p.and()
	if err != nil {
		return nil, err
	}
	for p.keyword("or") {
		right, err := p.and()
		if err != nil {
			return nil, err
		}
		left = orQuery{left, right}
	}
	return left, nil
}

func (p *queryParser) and() (query, error) {
	left, err := p.unary()
	if err != nil {
		return nil, err
	}
	for p.keyword("and") {
		right, err := p.unary()
		if err != nil {
			return nil, err
		}
		left = andQuery{left, right}
	}
	return left, nil
}

func (p *queryParser) unary() (query, error) {
	if p.keyword("not") {
		q, err := p.unary()
		if err != nil {
			return nil, err
		}
		return notQuery{q}, nil
	}
	if p.peek().kind == tokLParen {
		p.next()
		q, err := p.or()
		if err != nil {
			return nil, err
		}
		if t := p.next(); t.kind != tokRParen {
			return nil, fmt.Errorf("expected ) at offset %d", t.pos)
		}
		return q, nil
	}
	return p.term()
}

// Fields and what each accepts.
var (
	membershipFields = []string{"parents", "owners", "writers", "readers"}
	stringFields     = map[string][]string{
		"name":     {"=", "!=", "contains"},
		"fullText": {"contains"},
		"mimeType": {"=", "!=", "contains"},
	}
	boolFields = []string{"trashed", "starred", "sharedWithMe"}
	timeFields = []string{"modifiedTime", "createdTime", "viewedByMeTime"}
)

func (p *queryParser) term() (query, error) {
	first := p.next()
	switch first.kind {
	case tokString:
		if !p.keyword("in") {
			return nil, fmt.Errorf("expected 'in' after string at offset %d", first.pos)
		}
		f := p.next()
		if f.kind != tokIdent || !slices.Contains(membershipFields, f.text) {
			return nil, fmt.Errorf("unsupported collection %q at offset %d", f.text, f.pos)
		}
		return term{field: f.text, op: "in", str: first.text}, nil
	case tokIdent:
	default:
		return nil, fmt.Errorf("unexpected %q at offset %d", first.text, first.pos)
	}
	field := first.text
	if field == "appProperties" {
		return p.hasProperty(first)
	}
	opTok := p.next()
	op := opTok.text
	if opTok.kind == tokIdent && strings.EqualFold(op, "contains") {
		op = "contains"
	} else if opTok.kind != tokOp {
		return nil, fmt.Errorf("expected an operator after %s at offset %d", field, opTok.pos)
	}
	val := p.next()
	t := term{field: field, op: op}
	switch {
	case stringFields[field] != nil:
		if !slices.Contains(stringFields[field], op) {
			return nil, fmt.Errorf("operator %s is not supported for %s", op, field)
		}
		if val.kind != tokString {
			return nil, fmt.Errorf("%s needs a quoted string at offset %d", field, val.pos)
		}
		t.str = val.text
	case slices.Contains(boolFields, field):
		if op != "=" && op != "!=" {
			return nil, fmt.Errorf("operator %s is not supported for %s", op, field)
		}
		if val.kind != tokIdent || (!strings.EqualFold(val.text, "true") && !strings.EqualFold(val.text, "false")) {
			return nil, fmt.Errorf("%s needs true or false at offset %d", field, val.pos)
		}
		t.bool = strings.EqualFold(val.text, "true")
	case slices.Contains(timeFields, field):
		if op == "contains" {
			return nil, fmt.Errorf("operator contains is not supported for %s", field)
		}
		if val.kind != tokString {
			return nil, fmt.Errorf("%s needs a quoted RFC 3339 time at offset %d", field, val.pos)
		}
		tm, err := parseQueryTime(val.text)
		if err != nil {
			return nil, err
		}
		t.time = tm
	default:
		return nil, fmt.Errorf("unsupported query field %q at offset %d", field, first.pos)
	}
	return t, nil
}

// hasProperty parses the rest of `appProperties has { key='k' and value='v' }`,
// the only form Drive's "Search query terms" reference
// (/drive/api/guides/ref-search-terms) gives for custom properties: both key
// and value, each compared with =.
func (p *queryParser) hasProperty(field token) (query, error) {
	if !p.keyword("has") {
		return nil, fmt.Errorf("appProperties takes only the has operator, at offset %d", p.peek().pos)
	}
	if t := p.next(); t.kind != tokLBrace {
		return nil, fmt.Errorf("expected { after has at offset %d", t.pos)
	}
	pair := func(word string) (string, error) {
		if !p.keyword(word) {
			return "", fmt.Errorf("expected %s in appProperties has { key='…' and value='…' } at offset %d", word, p.peek().pos)
		}
		if t := p.next(); t.kind != tokOp || t.text != "=" {
			return "", fmt.Errorf("expected = after %s at offset %d", word, t.pos)
		}
		v := p.next()
		if v.kind != tokString {
			return "", fmt.Errorf("%s needs a quoted string at offset %d", word, v.pos)
		}
		return v.text, nil
	}
	key, err := pair("key")
	if err != nil {
		return nil, err
	}
	if !p.keyword("and") {
		return nil, fmt.Errorf("expected and between key and value at offset %d", p.peek().pos)
	}
	value, err := pair("value")
	if err != nil {
		return nil, err
	}
	if t := p.next(); t.kind != tokRBrace {
		return nil, fmt.Errorf("expected } at offset %d", t.pos)
	}
	return propertyTerm{key: key, value: value}, nil
}

// propertyTerm matches a file whose app properties, as the calling app
// sees them, hold key = value.
type propertyTerm struct{ key, value string }

func (t propertyTerm) match(f *driveFile, env *queryEnv) bool {
	v, ok := f.appProperties[env.caller.clientID][t.key]
	return ok && v == t.value
}

// parseQueryTime accepts RFC 3339, with the zone optional (then UTC), as Drive does.
func parseQueryTime(s string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02T15:04:05.000", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("invalid time %q: use RFC 3339, like 2012-06-04T12:00:00Z", s)
}

func (t term) match(f *driveFile, env *queryEnv) bool {
	switch t.field {
	case "name":
		switch t.op {
		case "=":
			return f.name == t.str
		case "!=":
			return f.name != t.str
		}
		return containsWordPrefix(f.name, t.str)
	case "fullText":
		needle := strings.Trim(t.str, `"`)
		return containsWordPrefix(f.name, needle) || containsWordPrefix(f.description, needle) ||
			containsWordPrefix(env.text(f), needle)
	case "mimeType":
		switch t.op {
		case "=":
			return f.mimeType == t.str
		case "!=":
			return f.mimeType != t.str
		}
		return strings.Contains(f.mimeType, t.str)
	case "trashed", "starred", "sharedWithMe":
		var v bool
		switch t.field {
		case "trashed":
			v = f.trashed
		case "sharedWithMe":
			_, listed := env.e.accessLocked(f, env.caller)
			v = listed && f.owner != env.caller.user.email
		}
		return (v == t.bool) == (t.op == "=")
	case "modifiedTime", "createdTime", "viewedByMeTime":
		v := f.modified
		if t.field == "createdTime" {
			v = f.created
		}
		return compareTime(v, t.op, t.time)
	case "parents":
		id := resolveID(t.str, env.caller)
		return slices.Contains(f.parents, id)
	case "owners":
		return strings.EqualFold(f.owner, t.str)
	case "writers", "readers":
		need := roleWriter
		if t.field == "readers" {
			need = roleReader
		}
		if strings.EqualFold(f.owner, t.str) {
			return true
		}
		for _, p := range f.perms {
			if strings.EqualFold(p.email, t.str) && roleRank(p.role) >= need {
				return true
			}
		}
		return false
	}
	return false
}

func compareTime(v time.Time, op string, want time.Time) bool {
	switch op {
	case "=":
		return v.Equal(want)
	case "!=":
		return !v.Equal(want)
	case "<":
		return v.Before(want)
	case "<=":
		return !v.After(want)
	case ">":
		return v.After(want)
	case ">=":
		return !v.Before(want)
	}
	return false
}

// containsWordPrefix is Drive's `contains` for names and text: case-insensitive
// and anchored at the start of a word, so 'Hello' finds "HelloWorld" and
// "say hello" but 'World' does not find "HelloWorld".
func containsWordPrefix(hay, needle string) bool {
	if needle == "" {
		return true
	}
	hay, needle = strings.ToLower(hay), strings.ToLower(needle)
	for i := 0; i <= len(hay)-len(needle); {
		j := strings.Index(hay[i:], needle)
		if j < 0 {
			return false
		}
		at := i + j
		prev, _ := utf8.DecodeLastRuneInString(hay[:at])
		if at == 0 || !(unicode.IsLetter(prev) || unicode.IsDigit(prev)) {
			return true
		}
		_, size := utf8.DecodeRuneInString(hay[at:])
		i = at + size
	}
	return false
}
