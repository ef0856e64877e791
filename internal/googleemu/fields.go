package googleemu

import (
	"fmt"
	"strings"
)

// Partial responses: the `fields` parameter. Drive answers with only a few
// fields unless asked (a file is {kind,id,name,mimeType}), and client code
// that forgets to ask for md5Checksum or webViewLink gets nothing back. The
// emulator does the same so such bugs show up in tests, not in production.

// fieldMask selects keys of a JSON object. A nil child selects the whole value.
type fieldMask map[string]fieldMask

// Default masks Drive applies when the request has no `fields`.
const (
	defaultFileFields           = "kind,id,name,mimeType"
	defaultFileListFields       = "kind,incompleteSearch,nextPageToken,files(kind,id,name,mimeType)"
	defaultPermissionFields     = "kind,id,type,role"
	defaultPermissionListFields = "kind,nextPageToken,permissions(kind,id,type,role)"
)

// parseFields parses Google's field-mask syntax: `a,b(c,d),e/f,*`.
func parseFields(s string) (fieldMask, error) {
	p := &fieldParser{s: s}
	m, err := p.list()
	if err != nil {
		return nil, err
	}
	p.skipSpace()
	if p.pos != len(p.s) {
		return nil, fmt.Errorf("invalid field selection %q: unexpected %q", s, p.s[p.pos:])
	}
	return m, nil
}

type fieldParser struct {
	s   string
	pos int
}

func (p *fieldParser) skipSpace() {
	for p.pos < len(p.s) && (p.s[p.pos] == ' ' || p.s[p.pos] == '\t') {
		p.pos++
	}
}

func (p *fieldParser) list() (fieldMask, error) {
	m := fieldMask{}
	for {
		if err := p.item(m); err != nil {
			return nil, err
		}
		p.skipSpace()
		if p.pos < len(p.s) && p.s[p.pos] == ',' {
			p.pos++
			continue
		}
		return m, nil
	}
}

// item parses `a/b/c` optionally followed by `(sub-list)` and merges it into m.
func (p *fieldParser) item(m fieldMask) error {
	var path []string
	for {
		p.skipSpace()
		start := p.pos
		for p.pos < len(p.s) && isFieldChar(p.s[p.pos]) {
			p.pos++
		}
		if start == p.pos {
			return fmt.Errorf("invalid field selection %q at offset %d", p.s, p.pos)
		}
		path = append(path, p.s[start:p.pos])
		if p.pos < len(p.s) && p.s[p.pos] == '/' {
			p.pos++
			continue
		}
		break
	}
	var leaf fieldMask
	p.skipSpace()
	if p.pos < len(p.s) && p.s[p.pos] == '(' {
		p.pos++
		sub, err := p.list()
		if err != nil {
			return err
		}
		p.skipSpace()
		if p.pos >= len(p.s) || p.s[p.pos] != ')' {
			return fmt.Errorf("invalid field selection %q: missing )", p.s)
		}
		p.pos++
		leaf = sub
	}
	cur := m
	for i, name := range path {
		last := i == len(path)-1
		existing, seen := cur[name]
		switch {
		case seen && existing == nil:
			return nil // already selected whole
		case last && leaf == nil:
			cur[name] = nil
		case last:
			if existing == nil {
				existing = fieldMask{}
				cur[name] = existing
			}
			for k, v := range leaf {
				existing[k] = v
			}
		default:
			if existing == nil {
				existing = fieldMask{}
				cur[name] = existing
			}
			cur = existing
		}
	}
	return nil
}

func isFieldChar(c byte) bool {
	return c == '_' || c == '*' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// apply returns v reduced to the mask. Arrays apply the mask to each element.
func (m fieldMask) apply(v any) any {
	if m == nil {
		return v
	}
	switch t := v.(type) {
	case map[string]any:
		if _, all := m["*"]; all {
			return t
		}
		out := make(map[string]any, len(m))
		for k, sub := range m {
			if val, ok := t[k]; ok {
				out[k] = sub.apply(val)
			}
		}
		return out
	case []map[string]any:
		out := make([]any, len(t))
		for i, el := range t {
			out[i] = m.apply(el)
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, el := range t {
			out[i] = m.apply(el)
		}
		return out
	}
	return v
}

// maskFor returns the mask named by the request's fields parameter, or def.
func maskFor(fields, def string) (fieldMask, *driveErr) {
	if strings.TrimSpace(fields) == "" {
		fields = def
	}
	m, err := parseFields(fields)
	if err != nil {
		return nil, &driveErr{code: 400, reason: "invalidParameter", message: err.Error(), location: "fields"}
	}
	return m, nil
}
