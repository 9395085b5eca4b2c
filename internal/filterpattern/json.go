package filterpattern

import (
	"strconv"
	"strings"
)

// jsonPattern is a pattern in braces: conditions on property selectors.
type jsonPattern struct {
	root    *expr
	regexes int
}

// condKind is what a condition tests.
type condKind uint8

const (
	cCompare condKind = iota + 1
	cIsNull
	cIsTrue
	cIsFalse
	cNotExists
)

// cond is one condition: "selector op literal" or a keyword test. In space-delimited
// patterns, field names the field instead of sel.
type cond struct {
	kind  condKind
	sel   *selector
	field string
	op    op
	lit   literal
}

// eqSet replaces several "selector = "word"" conditions on the same selector joined by ||:
// the selector is resolved once and its text compared with each word.
type eqSet struct {
	sel   *selector
	words []string
}

func parseJSONPattern(src string, start int) (*jsonPattern, error) {
	end := len(strings.TrimRight(src, " \t\r\n\f\v"))
	if src[end-1] != '}' || end-1 == start {
		return nil, errAt(end, "If a filter pattern starts with '{' it must end with '}'")
	}
	s := &scanner{src: src, pos: start + 1, end: end - 1}
	wildSelectors := 0
	atom := func(s *scanner) (*cond, error) {
		s.skipSpace()
		if s.peek() != '$' {
			return nil, errAt(s.pos, "expected a property selector starting with '$', found %s", s.describe())
		}
		sel, err := parseSelector(s.src[:s.end], s.pos)
		if err != nil {
			return nil, err
		}
		s.pos = sel.end
		if sel.wild {
			wildSelectors++
			if wildSelectors > MaxWildcardSelectors {
				return nil, errAt(s.pos-len(sel.text), "at most %d wildcard selectors are allowed in a filter pattern", MaxWildcardSelectors)
			}
		}
		s.skipSpace()
		if c := s.peek(); isAlnum(c) {
			kpos := s.pos
			kw := s.word()
			switch strings.ToUpper(kw) {
			case "IS":
				s.skipSpace()
				vpos := s.pos
				switch v := strings.ToUpper(s.word()); v {
				case "NULL":
					return &cond{kind: cIsNull, sel: sel}, nil
				case "TRUE":
					return &cond{kind: cIsTrue, sel: sel}, nil
				case "FALSE":
					return &cond{kind: cIsFalse, sel: sel}, nil
				case "NOT":
					return nil, errAt(vpos, "IS NOT is not supported; use != or NOT EXISTS")
				default:
					return nil, errAt(vpos, "IS must be followed by NULL, TRUE or FALSE")
				}
			case "NOT":
				s.skipSpace()
				vpos := s.pos
				if !strings.EqualFold(s.word(), "EXISTS") {
					return nil, errAt(vpos, "NOT must be followed by EXISTS")
				}
				return &cond{kind: cNotExists, sel: sel}, nil
			case "EXISTS":
				return nil, errAt(kpos, "EXISTS is not supported; use NOT EXISTS, or = \"*\" for a present value")
			default:
				return nil, errAt(kpos, "expected a comparison operator, IS or NOT EXISTS after %s, found '%s'", sel.text, kw)
			}
		}
		o, l, err := s.comparison("&|)")
		if err != nil {
			return nil, err
		}
		return &cond{kind: cCompare, sel: sel, op: o, lit: l}, nil
	}
	root, err := s.orExpr(atom, 0)
	if err != nil {
		return nil, err
	}
	s.skipSpace()
	if !s.atEnd() {
		if s.peek() == ')' {
			return nil, errAt(s.pos, "unbalanced parentheses: unexpected ')'")
		}
		return nil, errAt(s.pos, "expected '&&', '||' or the closing '}', found %s", s.describe())
	}
	return &jsonPattern{root: optimize(root), regexes: s.regexes}, nil
}

// word reads a run of ASCII letters and digits.
func (s *scanner) word() string {
	n := s.pos
	for s.pos < s.end && isAlnum(s.src[s.pos]) {
		s.pos++
	}
	return s.src[n:s.pos]
}

// optimize flattens nested || and && and merges exact string comparisons on one selector
// under || into an eqSet.
func optimize(e *expr) *expr {
	if e.kind != exOr && e.kind != exAnd {
		return e
	}
	var kids []*expr
	for _, k := range e.kids {
		k = optimize(k)
		if k.kind == e.kind {
			kids = append(kids, k.kids...)
		} else {
			kids = append(kids, k)
		}
	}
	if e.kind == exOr {
		var merged []*expr
		sets := map[string]*eqSet{}
		for _, k := range kids {
			if k.kind == exCond && k.cond.isPlainEq() {
				if set, ok := sets[k.cond.sel.text]; ok {
					set.words = append(set.words, k.cond.lit.text)
					continue
				}
				set := &eqSet{sel: k.cond.sel, words: []string{k.cond.lit.text}}
				sets[k.cond.sel.text] = set
				merged = append(merged, &expr{kind: exSet, set: set, cond: k.cond})
				continue
			}
			merged = append(merged, k)
		}
		for i, k := range merged {
			if k.kind == exSet && len(k.set.words) == 1 {
				merged[i] = &expr{kind: exCond, cond: k.cond}
			} else if k.kind == exSet {
				k.cond = nil
			}
		}
		kids = merged
	}
	if len(kids) == 1 {
		return kids[0]
	}
	return &expr{kind: e.kind, kids: kids}
}

// isPlainEq reports whether c is "selector = word" with a text literal without wildcards on a
// selector without wildcards: true exactly when the selector reaches a string or number whose
// text is word.
func (c *cond) isPlainEq() bool {
	return c.kind == cCompare && c.sel != nil && !c.sel.wild && c.op == opEq &&
		!c.lit.isNum && c.lit.re == nil && !c.lit.lead && !c.lit.trail
}

func (jp *jsonPattern) match(r *Record) bool {
	return r.ok && r.eval(jp.root)
}

func (r *Record) eval(e *expr) bool {
	switch e.kind {
	case exOr:
		for _, k := range e.kids {
			if r.eval(k) {
				return true
			}
		}
		return false
	case exAnd:
		for _, k := range e.kids {
			if !r.eval(k) {
				return false
			}
		}
		return true
	case exSet:
		i := r.resolve1(e.set.sel)
		if i < 0 {
			return false
		}
		k := r.nodes[i].kind
		if k != kString && k != kNumber {
			return false
		}
		v := r.text(i)
		for _, w := range e.set.words {
			if len(w) == len(v) && w == v {
				return true
			}
		}
		return false
	}
	c := e.cond
	if !c.sel.wild {
		i := r.resolve1(c.sel)
		if c.kind == cNotExists {
			return i < 0
		}
		return i >= 0 && r.test(c, i)
	}
	if c.kind == cNotExists {
		return !r.resolve(c.sel, 0, 0, func(int32) bool { return true })
	}
	return r.resolve(c.sel, 0, 0, func(i int32) bool { return r.test(c, i) })
}

// test applies a condition to one node the selector reached. Only strings and numbers take
// part in comparisons: null, booleans, objects and arrays satisfy none, not even !=.
func (r *Record) test(c *cond, i int32) bool {
	k := r.nodes[i].kind
	switch c.kind {
	case cIsNull:
		return k == kNull
	case cIsTrue:
		return k == kTrue
	case cIsFalse:
		return k == kFalse
	}
	if k != kString && k != kNumber {
		return false
	}
	l := &c.lit
	if l.isNum {
		if k == kNumber {
			nd := &r.nodes[i]
			f, err := strconv.ParseFloat(r.msg[nd.start:nd.end], 64)
			if err != nil && !isRangeErr(err) {
				return false
			}
			return cmpNum(c.op, f, l.num)
		}
		// A numeric literal and a string compare as text, and strings are never ordered.
		switch c.op {
		case opEq:
			return r.text(i) == l.text
		case opNe:
			return r.text(i) != l.text
		}
		return false
	}
	switch c.op {
	case opEq:
		return l.matchText(r.text(i))
	case opNe:
		return !l.matchText(r.text(i))
	}
	return false
}
