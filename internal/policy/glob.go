package policy

import (
	"strings"
	"unicode/utf8"
)

type tokKind uint8

const (
	tLit   tokKind = iota // literal text
	tStar                 // "*": any sequence of characters
	tQuest                // "?": any single character
	tVar                  // ${key} or ${key, 'default'}
)

type token struct {
	kind tokKind
	lit  string // tLit: the text
	// tVar fields.
	key, keyLower string
	def           string
	hasDef        bool
}

type globMode uint8

const (
	gGeneral globMode = iota // token matching with backtracking
	gAll                     // "*"
	gExact                   // no wildcard, no variable
	gPrefix                  // literal followed by "*"
)

// glob is a compiled pattern: literal text, wildcards and policy variables.
type glob struct {
	mode    globMode
	fold    bool   // case-insensitive
	lit     string // gExact, gPrefix
	toks    []token
	hasVars bool
}

// compileGlob compiles s. With wildcards, "*" and "?" are wildcards; with
// vars, ${...} are policy variables; with fold, matching ignores case.
func compileGlob(s string, wildcards, vars, fold bool) glob {
	var toks []token
	addLit := func(l string) {
		if l == "" {
			return
		}
		if n := len(toks); n > 0 && toks[n-1].kind == tLit {
			toks[n-1].lit += l
			return
		}
		toks = append(toks, token{kind: tLit, lit: l})
	}
	start := 0 // start of pending literal run
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case vars && c == '$' && i+1 < len(s) && s[i+1] == '{':
			end := strings.IndexByte(s[i+2:], '}')
			if end < 0 {
				i++
				continue
			}
			addLit(s[start:i])
			inner := s[i+2 : i+2+end]
			i += end + 3
			start = i
			switch inner {
			case "*", "?", "$":
				addLit(inner)
			default:
				toks = append(toks, parseVar(inner))
			}
		case wildcards && (c == '*' || c == '?'):
			addLit(s[start:i])
			if c == '*' {
				if n := len(toks); n == 0 || toks[n-1].kind != tStar {
					toks = append(toks, token{kind: tStar})
				}
			} else {
				toks = append(toks, token{kind: tQuest})
			}
			i++
			start = i
		default:
			i++
		}
	}
	addLit(s[start:])

	g := glob{fold: fold, toks: toks}
	for _, t := range toks {
		if t.kind == tVar {
			g.hasVars = true
		}
	}
	switch {
	case len(toks) == 0:
		g.mode = gExact
	case len(toks) == 1 && toks[0].kind == tLit:
		g.mode, g.lit = gExact, toks[0].lit
	case len(toks) == 1 && toks[0].kind == tStar:
		g.mode = gAll
	case len(toks) == 2 && toks[0].kind == tLit && toks[1].kind == tStar:
		g.mode, g.lit = gPrefix, toks[0].lit
	}
	return g
}

// parseVar parses the inside of ${...}: "key" or "key, 'default'".
func parseVar(inner string) token {
	t := token{kind: tVar, key: strings.TrimSpace(inner)}
	if comma := strings.IndexByte(inner, ','); comma >= 0 {
		def := strings.TrimSpace(inner[comma+1:])
		if len(def) >= 2 && def[0] == '\'' && def[len(def)-1] == '\'' {
			t.key = strings.TrimSpace(inner[:comma])
			t.def, t.hasDef = def[1:len(def)-1], true
		}
	}
	t.keyLower = strings.ToLower(t.key)
	return t
}

// resolvable reports whether every variable of g has a value in r.
func (g *glob) resolvable(r *resolver) bool {
	if !g.hasVars {
		return true
	}
	for i := range g.toks {
		if g.toks[i].kind == tVar {
			if _, ok := r.variable(&g.toks[i]); !ok {
				return false
			}
		}
	}
	return true
}

func equalAt(s string, i int, lit string, fold bool) bool {
	if len(s)-i < len(lit) {
		return false
	}
	if fold {
		return strings.EqualFold(s[i:i+len(lit)], lit)
	}
	return s[i:i+len(lit)] == lit
}

// match reports whether s matches g. The caller must have checked
// resolvable when g has variables; an unresolvable variable fails the match.
func (g *glob) match(s string, r *resolver) bool {
	switch g.mode {
	case gAll:
		return true
	case gExact:
		if g.fold {
			return strings.EqualFold(s, g.lit)
		}
		return s == g.lit
	case gPrefix:
		return equalAt(s, 0, g.lit, g.fold)
	}
	toks := g.toks
	ti, si := 0, 0
	starTi, starSi := -1, 0
	for {
		if ti < len(toks) {
			t := &toks[ti]
			switch t.kind {
			case tStar:
				starTi, starSi = ti, si
				ti++
				continue
			case tQuest:
				if si < len(s) {
					_, size := utf8.DecodeRuneInString(s[si:])
					si += size
					ti++
					continue
				}
			default:
				lit := t.lit
				if t.kind == tVar {
					v, ok := r.variable(t)
					if !ok {
						return false
					}
					lit = v
				}
				if equalAt(s, si, lit, g.fold) {
					si += len(lit)
					ti++
					continue
				}
			}
		} else if si == len(s) {
			return true
		}
		// Mismatch: let the last star absorb one more character.
		if starTi < 0 || starSi >= len(s) {
			return false
		}
		_, size := utf8.DecodeRuneInString(s[starSi:])
		starSi += size
		ti, si = starTi+1, starSi
	}
}

// arnGlob matches ARNs: when both the pattern and the value have six
// colon-separated components, the first five are matched one by one and the
// sixth as a whole; otherwise the whole strings are matched.
type arnGlob struct {
	whole   glob
	segs    []glob // nil, or 6 components
	hasVars bool
}

func compileARN(s string, vars bool) arnGlob {
	a := arnGlob{whole: compileGlob(s, true, vars, false)}
	a.hasVars = a.whole.hasVars
	if a.whole.mode == gAll {
		return a
	}
	// Split on literal colons (not inside ${...}) into at most 6 parts.
	parts := make([]string, 0, 6)
	start := 0
	for i := 0; i < len(s) && len(parts) < 5; i++ {
		switch {
		case vars && s[i] == '$' && i+1 < len(s) && s[i+1] == '{':
			if end := strings.IndexByte(s[i+2:], '}'); end >= 0 {
				i += end + 2
			}
		case s[i] == ':':
			parts = append(parts, s[start:i])
			start = i + 1
		}
	}
	if len(parts) < 5 {
		return a
	}
	parts = append(parts, s[start:])
	a.segs = make([]glob, 6)
	for i, p := range parts {
		a.segs[i] = compileGlob(p, true, vars, false)
	}
	return a
}

// splitARN returns the end offsets of the first five components of s, or
// ok=false when s has fewer than six components.
func splitARN(s string) (ends [5]int, ok bool) {
	n := 0
	for i := 0; i < len(s) && n < 5; i++ {
		if s[i] == ':' {
			ends[n] = i
			n++
		}
	}
	return ends, n == 5
}

func (a *arnGlob) resolvable(r *resolver) bool { return a.whole.resolvable(r) }

// match reports whether s matches a; see glob.match for variables.
func (a *arnGlob) match(s string, r *resolver) bool {
	if a.whole.mode == gAll {
		return true
	}
	if a.segs != nil {
		if ends, ok := splitARN(s); ok {
			start := 0
			for i := 0; i < 5; i++ {
				if !a.segs[i].match(s[start:ends[i]], r) {
					return false
				}
				start = ends[i] + 1
			}
			return a.segs[5].match(s[start:], r)
		}
	}
	return a.whole.match(s, r)
}
