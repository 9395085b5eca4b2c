package filterpattern

import (
	"regexp"
	"strings"
)

// Characters allowed in a %regex%, besides ASCII letters and digits: the documented symbols
// (_ # = @ / ; , - and :), the space, and the operators ^ $ ? [ ] { } | \ * + .
const (
	regexSymbols   = "_#=@/;,-: "
	regexOperators = "^$?[]{}|\\*+."
	regexEscapes   = "dDsSwW"
)

// compileRegex checks a %regex% body (pos is its offset in the pattern) against the subset
// CloudWatch Logs supports and compiles it. Go's RE2 engine matches in linear time, so no
// pattern can make matching slow.
func compileRegex(body string, pos int) (*regex, error) {
	if body == "" {
		return nil, errAt(pos, "empty regular expression")
	}
	for i := 0; i < len(body); i++ {
		c := body[i]
		if c >= 0x80 {
			return nil, errAt(pos+i, "regular expressions support ASCII characters only")
		}
		if c == '\\' {
			if i+1 >= len(body) {
				return nil, errAt(pos+i, "regular expression ends with a backslash")
			}
			e := body[i+1]
			switch {
			case e == 'x':
				if i+3 >= len(body) || !isHex(body[i+2]) || !isHex(body[i+3]) {
					return nil, errAt(pos+i, `\x needs two hexadecimal digits`)
				}
				i += 3
			case isAlnum(e):
				if strings.IndexByte(regexEscapes, e) < 0 {
					return nil, errAt(pos+i, `'\%c' is not a supported escape`, e)
				}
				i++
			case strings.IndexByte(regexSymbols, e) >= 0 || strings.IndexByte(regexOperators, e) >= 0:
				i++
			default:
				return nil, errAt(pos+i+1, "'%c' is not supported in a regular expression", e)
			}
			continue
		}
		if !isAlnum(c) && strings.IndexByte(regexSymbols, c) < 0 && strings.IndexByte(regexOperators, c) < 0 {
			if c == '(' || c == ')' {
				return nil, errAt(pos+i, "parentheses are not supported in regular expressions")
			}
			return nil, errAt(pos+i, "'%c' is not supported in a regular expression", c)
		}
	}
	re, err := regexp.Compile(body)
	if err != nil {
		return nil, errAt(pos, "invalid regular expression: %s", strings.TrimPrefix(err.Error(), "error parsing regexp: "))
	}
	rx := &regex{src: body}
	// Without groups, '|' outside a character class splits the whole expression. Go's engine
	// scans for a literal prefix quickly but not for alternatives, so each alternative gets its
	// own compiled expression.
	if alts := splitAlternatives(body); len(alts) > 1 {
		for _, a := range alts {
			are, err := regexp.Compile(a)
			if err != nil { // cannot happen when the whole compiled; stay correct anyway
				rx.alts = []*regexp.Regexp{re}
				return rx, nil
			}
			rx.alts = append(rx.alts, are)
		}
		return rx, nil
	}
	rx.alts = []*regexp.Regexp{re}
	return rx, nil
}

// regex is a compiled %regex%: a search for any of its alternatives.
type regex struct {
	src  string
	alts []*regexp.Regexp
}

// MatchString reports whether s contains a match.
func (r *regex) MatchString(s string) bool {
	for _, re := range r.alts {
		if re.MatchString(s) {
			return true
		}
	}
	return false
}

// splitAlternatives splits a validated regex at the '|' that are outside character classes
// and not escaped.
func splitAlternatives(body string) []string {
	var out []string
	start, class := 0, false
	for i := 0; i < len(body); i++ {
		switch c := body[i]; {
		case c == '\\':
			i++
		case class:
			if c == ']' {
				class = false
			}
		case c == '[':
			class = true
			// A ']' right after '[' or '[^' is a literal member of the class.
			if i+1 < len(body) && body[i+1] == '^' {
				i++
			}
			if i+1 < len(body) && body[i+1] == ']' {
				i++
			}
		case c == '|':
			out = append(out, body[start:i])
			start = i + 1
		}
	}
	return append(out, body[start:])
}

func isAlnum(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}
