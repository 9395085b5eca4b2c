package filterpattern

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// scanner walks a pattern. pos is a byte offset into src.
type scanner struct {
	src     string
	pos     int
	end     int // parsing stops here (before the closing brace or bracket)
	regexes int
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'
}

func (s *scanner) skipSpace() {
	for s.pos < s.end && isSpace(s.src[s.pos]) {
		s.pos++
	}
}

func (s *scanner) atEnd() bool { return s.pos >= s.end }

func (s *scanner) peek() byte {
	if s.pos >= s.end {
		return 0
	}
	return s.src[s.pos]
}

func (s *scanner) hasPrefix(p string) bool {
	return strings.HasPrefix(s.src[s.pos:s.end], p)
}

// describe names what is at the scanner's position, for error messages.
func (s *scanner) describe() string {
	if s.atEnd() {
		return "the end of the pattern"
	}
	r, _ := utf8.DecodeRuneInString(s.src[s.pos:s.end])
	return "'" + string(r) + "'"
}

// quoted reads a double-quoted string at the scanner (which is at the opening quote). Inside,
// \" stands for a quote and \\ for a backslash; any other backslash is kept as written.
func (s *scanner) quoted() (string, error) {
	start := s.pos
	s.pos++
	var b strings.Builder
	for s.pos < s.end {
		c := s.src[s.pos]
		switch c {
		case '"':
			s.pos++
			return b.String(), nil
		case '\\':
			if s.pos+1 < s.end && (s.src[s.pos+1] == '"' || s.src[s.pos+1] == '\\') {
				b.WriteByte(s.src[s.pos+1])
				s.pos += 2
				continue
			}
		}
		b.WriteByte(c)
		s.pos++
	}
	return "", errAt(start, "unterminated quoted string")
}

// regex reads a %regex% at the scanner (which is at the opening '%').
func (s *scanner) regex() (*regex, error) {
	start := s.pos
	end := strings.IndexByte(s.src[s.pos+1:s.end], '%')
	if end < 0 {
		return nil, errAt(start, "unterminated regular expression: a regular expression must end with '%%'")
	}
	body := s.src[s.pos+1 : s.pos+1+end]
	re, err := compileRegex(body, start+1)
	if err != nil {
		return nil, err
	}
	s.regexes++
	if s.regexes > MaxRegexes {
		return nil, errAt(start, "at most %d regular expressions are allowed in a filter pattern", MaxRegexes)
	}
	s.pos += end + 2
	return re, nil
}

// value reads the right-hand side of a comparison: a quoted string, a %regex%, or a bare word
// ending at whitespace or at one of stop. Bare words that read as numbers are numeric.
func (s *scanner) value(stop string) (literal, error) {
	s.skipSpace()
	start := s.pos
	switch c := s.peek(); {
	case s.atEnd():
		return literal{}, errAt(s.pos, "expected a value after the operator")
	case c == '"':
		text, err := s.quoted()
		if err != nil {
			return literal{}, err
		}
		return newTextLiteral(text), nil
	case c == '%':
		re, err := s.regex()
		if err != nil {
			return literal{}, err
		}
		return literal{text: "%" + re.src + "%", re: re}, nil
	case c == '=' || c == '<' || c == '>' || c == '!':
		return literal{}, errAt(s.pos, "unexpected %s after the operator", s.describe())
	}
	for s.pos < s.end && !isSpace(s.src[s.pos]) && strings.IndexByte(stop, s.src[s.pos]) < 0 {
		if c := s.src[s.pos]; strings.IndexByte(`"(){}[]=<>!\`, c) >= 0 {
			return literal{}, errAt(s.pos, "'%c' is not allowed in an unquoted value; quote the value", c)
		}
		s.pos++
	}
	text := s.src[start:s.pos]
	if text == "" {
		return literal{}, errAt(start, "expected a value after the operator, found %s", s.describe())
	}
	if isNumber(text) {
		f, ok := parseNumber(text)
		if !ok {
			return literal{}, errAt(start, "the number %s is out of range", text)
		}
		return literal{text: text, isNum: true, num: f}, nil
	}
	return newTextLiteral(text), nil
}

// operator reads a comparison operator.
func (s *scanner) operator() (op, error) {
	s.skipSpace()
	rest := s.src[s.pos:s.end]
	var o op
	n := 1
	switch {
	case strings.HasPrefix(rest, "=="):
		return 0, errAt(s.pos, "'==' is not an operator; use '='")
	case strings.HasPrefix(rest, "!="):
		o, n = opNe, 2
	case strings.HasPrefix(rest, "<="):
		o, n = opLe, 2
	case strings.HasPrefix(rest, ">="):
		o, n = opGe, 2
	case strings.HasPrefix(rest, "="):
		o = opEq
	case strings.HasPrefix(rest, "<"):
		o = opLt
	case strings.HasPrefix(rest, ">"):
		o = opGt
	default:
		return 0, errAt(s.pos, "expected a comparison operator (=, !=, <, >, <=, >=), found %s", s.describe())
	}
	s.pos += n
	return o, nil
}

// comparison reads "op value" and checks that the value suits the operator.
func (s *scanner) comparison(stop string) (op, literal, error) {
	o, err := s.operator()
	if err != nil {
		return 0, literal{}, err
	}
	s.skipSpace()
	vpos := s.pos
	l, err := s.value(stop)
	if err != nil {
		return 0, literal{}, err
	}
	if o != opEq && o != opNe && !l.isNum {
		return 0, literal{}, errAt(vpos, "the operator %s needs a numeric value", o)
	}
	return o, l, nil
}

// Expressions: conditions joined with && and || (&& binds tighter) and grouped with
// parentheses, as in JSON patterns and in the conditions of a space-delimited field.

type exprKind uint8

const (
	exOr exprKind = iota + 1
	exAnd
	exCond
	exSet
)

type expr struct {
	kind exprKind
	kids []*expr
	cond *cond
	set  *eqSet
}

// atomFunc parses one condition.
type atomFunc func(s *scanner) (*cond, error)

// maxNesting bounds the parentheses of a pattern, so that parsing and matching recurse a
// bounded number of levels.
const maxNesting = 100

func (s *scanner) orExpr(atom atomFunc, depth int) (*expr, error) {
	first, err := s.andExpr(atom, depth)
	if err != nil {
		return nil, err
	}
	kids := []*expr{first}
	for {
		s.skipSpace()
		if !s.hasPrefix("||") {
			break
		}
		s.pos += 2
		k, err := s.andExpr(atom, depth)
		if err != nil {
			return nil, err
		}
		kids = append(kids, k)
	}
	if len(kids) == 1 {
		return first, nil
	}
	return &expr{kind: exOr, kids: kids}, nil
}

func (s *scanner) andExpr(atom atomFunc, depth int) (*expr, error) {
	first, err := s.unary(atom, depth)
	if err != nil {
		return nil, err
	}
	kids := []*expr{first}
	for {
		s.skipSpace()
		if !s.hasPrefix("&&") {
			break
		}
		s.pos += 2
		k, err := s.unary(atom, depth)
		if err != nil {
			return nil, err
		}
		kids = append(kids, k)
	}
	if len(kids) == 1 {
		return first, nil
	}
	return &expr{kind: exAnd, kids: kids}, nil
}

func (s *scanner) unary(atom atomFunc, depth int) (*expr, error) {
	s.skipSpace()
	switch {
	case s.atEnd():
		return nil, errAt(s.pos, "expected a condition, found the end of the pattern")
	case s.peek() == '(':
		if depth >= maxNesting {
			return nil, errAt(s.pos, "parentheses are nested more than %d levels deep", maxNesting)
		}
		open := s.pos
		s.pos++
		e, err := s.orExpr(atom, depth+1)
		if err != nil {
			return nil, err
		}
		s.skipSpace()
		if s.peek() != ')' {
			if s.atEnd() {
				return nil, errAt(open, "unbalanced parentheses: '(' is never closed")
			}
			return nil, errAt(s.pos, "expected '&&', '||' or ')', found %s", s.describe())
		}
		s.pos++
		return e, nil
	case s.hasPrefix("&&") || s.hasPrefix("||"):
		return nil, errAt(s.pos, "expected a condition before '%s'", s.src[s.pos:s.pos+2])
	}
	c, err := atom(s)
	if err != nil {
		return nil, err
	}
	return &expr{kind: exCond, cond: c}, nil
}

// A selector of a JSON pattern: $ followed by steps.

type stepKind uint8

const (
	stepKey stepKind = iota + 1
	stepIndex
	stepWild
)

type step struct {
	kind  stepKind
	key   string
	hash  uint32
	index int
	// For keys of 8 to 16 bytes: the first and last eight bytes, which identify the key.
	words       bool
	first, last uint64
}

func keyStep(key string) step {
	st := step{kind: stepKey, key: key, hash: keyHash(key)}
	if n := len(key); n >= 8 && n <= 16 {
		st.words, st.first, st.last = true, load64(key), load64(key[n-8:])
	}
	return st
}

type selector struct {
	text  string
	steps []step
	wild  bool
	end   int // offset just after the selector in the text it was parsed from
}

// maxIndex bounds array indexes in selectors.
const maxIndex = 1 << 30

// parseSelector parses the selector at src[pos:], which must start with '$'.
func parseSelector(src string, pos int) (*selector, error) {
	start := pos
	if pos >= len(src) || src[pos] != '$' {
		return nil, errAt(pos, "expected a property selector starting with '$'")
	}
	pos++
	sel := &selector{}
	wild := 0
	for pos < len(src) {
		c := src[pos]
		if c == '.' {
			pos++
			if pos < len(src) && src[pos] == '[' {
				continue // $.['key']
			}
			if pos < len(src) && src[pos] == '*' {
				sel.steps = append(sel.steps, step{kind: stepWild})
				wild++
				pos++
				continue
			}
			n := pos
			for pos < len(src) {
				r, size := utf8.DecodeRuneInString(src[pos:])
				if r == '_' || r == '-' || unicode.IsLetter(r) || unicode.IsDigit(r) {
					pos += size
					continue
				}
				break
			}
			if pos == n {
				return nil, errAt(pos, "expected a property name after '.'")
			}
			key := src[n:pos]
			sel.steps = append(sel.steps, keyStep(key))
			continue
		}
		if c != '[' {
			break
		}
		open := pos
		pos++
		switch {
		case pos < len(src) && (src[pos] == '\'' || src[pos] == '"'):
			q := src[pos]
			e := strings.IndexByte(src[pos+1:], q)
			if e < 0 {
				return nil, errAt(pos, "unterminated quoted property name")
			}
			key := src[pos+1 : pos+1+e]
			pos += e + 2
			sel.steps = append(sel.steps, keyStep(key))
		case pos < len(src) && src[pos] == '*':
			pos++
			sel.steps = append(sel.steps, step{kind: stepWild})
			wild++
		default:
			n, d := 0, pos
			for pos < len(src) && src[pos] >= '0' && src[pos] <= '9' {
				n = n*10 + int(src[pos]-'0')
				if n > maxIndex {
					return nil, errAt(d, "array index is too large")
				}
				pos++
			}
			if pos == d {
				return nil, errAt(pos, "expected an array index, '*' or a quoted property name after '['")
			}
			sel.steps = append(sel.steps, step{kind: stepIndex, index: n})
		}
		if pos >= len(src) || src[pos] != ']' {
			return nil, errAt(open, "expected ']' to close '['")
		}
		pos++
	}
	if len(sel.steps) == 0 {
		return nil, errAt(start, "expected '.' or '[' after '$'")
	}
	if wild > 1 {
		return nil, errAt(start, "at most one wildcard is allowed in a property selector")
	}
	sel.wild = wild > 0
	sel.text = src[start:pos]
	sel.end = pos
	return sel, nil
}
