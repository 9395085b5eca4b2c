package filterpattern

import (
	"strings"
)

// termPattern is an unstructured pattern. Every include must occur in the message and no
// exclude may. The ?alternatives count only when there is no other term: then the message
// must contain at least one of them (AWS ignores ?terms combined with other terms).
type termPattern struct {
	includes  []term
	excludes  []term
	optionals []term
	regexes   int
}

// term is a case-sensitive substring test, or a regex search.
type term struct {
	text   string
	re     *regex
	always bool // a phrase of whitespace only, which AWS documents as matching everything
}

func (t *term) in(msg string) bool {
	switch {
	case t.always:
		return true
	case t.re != nil:
		return t.re.MatchString(msg)
	}
	return strings.Contains(msg, t.text)
}

func parseTerms(src string, start int) (*termPattern, error) {
	s := &scanner{src: src, pos: start, end: len(src)}
	tp := &termPattern{}
	for {
		s.skipSpace()
		if s.atEnd() {
			break
		}
		list := &tp.includes
		if c := s.peek(); (c == '-' || c == '?') && s.pos+1 < s.end && !isSpace(s.src[s.pos+1]) {
			if c == '-' {
				list = &tp.excludes
			} else {
				list = &tp.optionals
			}
			s.pos++
		}
		var t term
		switch s.peek() {
		case '"':
			text, err := s.quoted()
			if err != nil {
				return nil, err
			}
			t = term{text: text, always: strings.TrimSpace(text) == ""}
		case '%':
			re, err := s.regex()
			if err != nil {
				return nil, err
			}
			t = term{re: re}
		default:
			n := s.pos
			for s.pos < s.end && !isSpace(s.src[s.pos]) {
				if s.src[s.pos] == '"' {
					return nil, errAt(s.pos, "a term containing '\"' must be quoted, with \\\" for the quote")
				}
				s.pos++
			}
			t = term{text: s.src[n:s.pos]}
		}
		if !s.atEnd() && !isSpace(s.peek()) {
			return nil, errAt(s.pos, "expected whitespace after the term, found %s", s.describe())
		}
		*list = append(*list, t)
	}
	tp.regexes = s.regexes
	if len(tp.includes) > 0 || len(tp.excludes) > 0 {
		tp.optionals = nil // ignored, as AWS ignores them
	}
	return tp, nil
}

// matchAll reports whether the pattern matches every message.
func (tp *termPattern) matchAll() bool {
	if len(tp.excludes) > 0 {
		return false
	}
	for i := range tp.includes {
		if !tp.includes[i].always {
			return false
		}
	}
	if len(tp.includes) > 0 || len(tp.optionals) == 0 {
		return true
	}
	for i := range tp.optionals {
		if tp.optionals[i].always {
			return true
		}
	}
	return false
}

func (tp *termPattern) match(msg string) bool {
	if len(tp.optionals) > 0 {
		for i := range tp.optionals {
			if tp.optionals[i].in(msg) {
				return true
			}
		}
		return false
	}
	for i := range tp.includes {
		if !tp.includes[i].in(msg) {
			return false
		}
	}
	for i := range tp.excludes {
		if tp.excludes[i].in(msg) {
			return false
		}
	}
	return true
}
