package filterpattern

import (
	"math"
	"strconv"
	"strings"
)

// op is a comparison operator.
type op uint8

const (
	opEq op = iota + 1
	opNe
	opLt
	opGt
	opLe
	opGe
)

func (o op) String() string {
	return [...]string{"", "=", "!=", "<", ">", "<=", ">="}[o]
}

// literal is the right-hand side of a comparison.
type literal struct {
	text  string  // the value as written (unquoted and unescaped)
	isNum bool    // a bare number: compares numerically with numbers
	num   float64 // its value
	// Wildcards: a '*' as first and/or last character; the rest (core) is literal.
	lead, trail bool
	core        string
	re          *regex
}

// matchText reports whether a text value equals the literal (op = semantics, before
// negation): a regex search, a wildcard match, or exact equality.
func (l *literal) matchText(v string) bool {
	switch {
	case l.re != nil:
		return l.re.MatchString(v)
	case l.lead && l.trail:
		return strings.Contains(v, l.core)
	case l.lead:
		return strings.HasSuffix(v, l.core)
	case l.trail:
		return strings.HasPrefix(v, l.core)
	}
	return v == l.text
}

// newTextLiteral builds a quoted or bare non-numeric literal.
func newTextLiteral(text string) literal {
	l := literal{text: text, core: text}
	if strings.HasPrefix(l.core, "*") {
		l.lead = true
		l.core = l.core[1:]
	}
	if strings.HasSuffix(l.core, "*") {
		l.trail = true
		l.core = l.core[:len(l.core)-1]
	}
	if l.lead && !l.trail && l.core == "" { // "*" alone
		l.trail = true
	}
	return l
}

// cmpNum applies an operator to the comparison of two numbers.
func cmpNum(o op, a, b float64) bool {
	switch o {
	case opEq:
		return a == b
	case opNe:
		return a != b
	case opLt:
		return a < b
	case opGt:
		return a > b
	case opLe:
		return a <= b
	case opGe:
		return a >= b
	}
	return false
}

// testField applies "field op literal" to a space-delimited field: a numeric literal compares
// numerically with a numeric field; otherwise = and != compare text and ordering fails.
func (l *literal) testField(o op, v string) bool {
	if l.isNum {
		if f, ok := parseNumber(v); ok {
			return cmpNum(o, f, l.num)
		}
		switch o {
		case opEq:
			return v == l.text
		case opNe:
			return v != l.text
		}
		return false
	}
	switch o {
	case opEq:
		return l.matchText(v)
	case opNe:
		return !l.matchText(v)
	}
	return false
}

// parseNumber parses a number of the pattern grammar: [+-]?(d+(.d*)?|.d+)([eE][+-]?d+)?.
func parseNumber(s string) (float64, bool) {
	if !isNumber(s) {
		return 0, false
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil && !isRangeErr(err) {
		return 0, false
	}
	if math.IsInf(f, 0) {
		return 0, false
	}
	return f, true
}

func isRangeErr(err error) bool {
	ne, ok := err.(*strconv.NumError)
	return ok && ne.Err == strconv.ErrRange
}

func isNumber(s string) bool {
	i := 0
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	d := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
		d++
	}
	if i < len(s) && s[i] == '.' {
		i++
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
			d++
		}
	}
	if d == 0 {
		return false
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		e := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i == e {
			return false
		}
	}
	return i == len(s)
}
