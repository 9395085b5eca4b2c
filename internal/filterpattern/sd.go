package filterpattern

import (
	"strconv"
	"strings"
)

// sdPattern is a space-delimited pattern: one entry per field of the message, with at most
// one "..." standing for any number of fields.
type sdPattern struct {
	before   []sdEntry // entries before the ellipsis (all entries when there is none)
	after    []sdEntry // entries after the ellipsis
	ellipsis bool
	regexes  int
}

// sdEntry is a field of the pattern: a name (empty for an unnamed field) and an optional
// condition on it.
type sdEntry struct {
	name string
	cond *expr
}

func parseSDPattern(src string, start int) (*sdPattern, error) {
	end := len(strings.TrimRight(src, " \t\r\n\f\v"))
	if src[end-1] != ']' || end-1 == start {
		return nil, errAt(end, "If a filter pattern starts with '[' it must end with ']'")
	}
	s := &scanner{src: src, pos: start + 1, end: end - 1}
	sp := &sdPattern{}
	names := map[string]bool{}
	s.skipSpace()
	if s.atEnd() { // [] matches every message and extracts every field
		sp.ellipsis = true
		return sp, nil
	}
	for {
		s.skipSpace()
		list := &sp.before
		if sp.ellipsis {
			list = &sp.after
		}
		switch {
		case s.hasPrefix("..."):
			if sp.ellipsis {
				return nil, errAt(s.pos, "only one '...' is allowed in a space-delimited pattern")
			}
			sp.ellipsis = true
			s.pos += 3
		case s.atEnd() || s.peek() == ',':
			*list = append(*list, sdEntry{})
		default:
			npos := s.pos
			name := s.fieldName()
			if name == "" && s.peek() != '(' {
				return nil, errAt(s.pos, "expected a field name, '...' or ',', found %s", s.describe())
			}
			s.skipSpace()
			var e sdEntry
			if name != "" && (s.atEnd() || s.peek() == ',') {
				e.name = name
			} else {
				// Conditions: the first name met is the field's; every condition must test it.
				s.pos = npos
				atom := func(s *scanner) (*cond, error) {
					s.skipSpace()
					apos := s.pos
					n := s.fieldName()
					if n == "" {
						return nil, errAt(s.pos, "expected a field name, found %s", s.describe())
					}
					if e.name == "" {
						e.name, npos = n, apos
					} else if n != e.name {
						return nil, errAt(apos, "a condition in field '%s' cannot test field '%s'; conditions on other fields go in their own positions", e.name, n)
					}
					o, l, err := s.comparison(",&|)")
					if err != nil {
						return nil, err
					}
					return &cond{kind: cCompare, field: n, op: o, lit: l}, nil
				}
				cond, err := s.orExpr(atom, 0)
				if err != nil {
					return nil, err
				}
				e.cond = cond
			}
			if names[e.name] {
				return nil, errAt(npos, "the field name '%s' is used more than once", e.name)
			}
			names[e.name] = true
			*list = append(*list, e)
		}
		s.skipSpace()
		if s.atEnd() {
			break
		}
		if s.peek() != ',' {
			if s.peek() == ')' {
				return nil, errAt(s.pos, "unbalanced parentheses: unexpected ')'")
			}
			return nil, errAt(s.pos, "expected ',' or the closing ']', found %s", s.describe())
		}
		s.pos++
		if s.pos == s.end { // a trailing comma: an unnamed last field
			list := &sp.before
			if sp.ellipsis {
				list = &sp.after
			}
			*list = append(*list, sdEntry{})
			break
		}
	}
	if !sp.ellipsis && len(sp.before) == 0 {
		sp.ellipsis = true
	}
	sp.regexes = s.regexes
	return sp, nil
}

// fieldName reads a field name: ASCII letters, digits, '_' and '-', not starting with a digit
// or '-'.
func (s *scanner) fieldName() string {
	n := s.pos
	for s.pos < s.end {
		c := s.src[s.pos]
		if c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || s.pos > n && (c == '-' || '0' <= c && c <= '9') {
			s.pos++
			continue
		}
		break
	}
	return s.src[n:s.pos]
}

func validFieldName(name string) bool {
	s := scanner{src: name, end: len(name)}
	return name != "" && s.fieldName() == name
}

func (sp *sdPattern) hasName(name string) bool {
	for _, e := range sp.before {
		if e.name == name {
			return true
		}
	}
	for _, e := range sp.after {
		if e.name == name {
			return true
		}
	}
	return false
}

// sdFields holds the fields of a matched message.
type sdFields struct {
	values []string
	names  []string // names[i] is the pattern's name for values[i], or ""
}

func (f *sdFields) lookup(name string) (string, bool) {
	if isDigits(name) {
		n, err := strconv.Atoi(name)
		if err != nil || n < 1 || n > len(f.values) {
			return "", false
		}
		return f.values[n-1], true
	}
	for i, n := range f.names {
		if n == name {
			return f.values[i], true
		}
	}
	return "", false
}

func (f *sdFields) extracted() []Field {
	out := make([]Field, len(f.values))
	for i, v := range f.values {
		if f.names[i] != "" {
			out[i] = Field{Name: "$" + f.names[i], Value: v}
		} else {
			out[i] = Field{Name: "$" + strconv.Itoa(i+1), Value: v}
		}
	}
	return out
}

// splitFields splits a message into fields: runs of non-whitespace, or text between double
// quotes or square brackets (without them). With limit > 0 and more than limit fields, the
// field at position limit holds the rest of the message as written (trailing whitespace
// trimmed). An unterminated quote or bracket extends to the end of the message.
func splitFields(msg string, limit int, out []string) []string {
	i, lastStart := 0, 0
	for i < len(msg) {
		for i < len(msg) && isSpace(msg[i]) {
			i++
		}
		if i >= len(msg) {
			break
		}
		if limit > 0 && len(out) == limit {
			// More fields than the pattern has: the last one takes the rest of the line.
			out[limit-1] = strings.TrimRight(msg[lastStart:], " \t\r\n\f\v")
			return out
		}
		lastStart = i
		if c := msg[i]; c == '"' || c == '[' {
			closing := byte('"')
			if c == '[' {
				closing = ']'
			}
			e := strings.IndexByte(msg[i+1:], closing)
			if e < 0 {
				out = append(out, msg[i+1:])
				break
			}
			out = append(out, msg[i+1:i+1+e])
			i += e + 2
			continue
		}
		n := i
		for i < len(msg) && !isSpace(msg[i]) {
			i++
		}
		out = append(out, msg[n:i])
	}
	return out
}

func (sp *sdPattern) match(msg string, f *sdFields) bool {
	var buf [16]string
	limit := 0
	if !sp.ellipsis {
		limit = len(sp.before)
	}
	values := splitFields(msg, limit, buf[:0])
	nb, na := len(sp.before), len(sp.after)
	if len(values) < nb+na || (!sp.ellipsis && len(values) != nb) {
		return false
	}
	for k, e := range sp.before {
		if e.cond != nil && !evalField(e.cond, values[k]) {
			return false
		}
	}
	off := len(values) - na
	for k, e := range sp.after {
		if e.cond != nil && !evalField(e.cond, values[off+k]) {
			return false
		}
	}
	if f != nil {
		f.values = append([]string(nil), values...)
		f.names = make([]string, len(values))
		for k, e := range sp.before {
			f.names[k] = e.name
		}
		for k, e := range sp.after {
			f.names[off+k] = e.name
		}
	}
	return true
}

func evalField(e *expr, v string) bool {
	switch e.kind {
	case exOr:
		for _, k := range e.kids {
			if evalField(k, v) {
				return true
			}
		}
		return false
	case exAnd:
		for _, k := range e.kids {
			if !evalField(k, v) {
				return false
			}
		}
		return true
	}
	return e.cond.lit.testField(e.cond.op, v)
}
