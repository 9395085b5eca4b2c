// Package filterpattern parses and evaluates CloudWatch Logs filter patterns, the one grammar
// shared by metric filters, subscription filters, FilterLogEvents and Live Tail.
//
// A pattern is parsed once with Parse and then matched against any number of log messages
// with Match, or with MatchFields when the caller needs the values a metric filter publishes
// (metricValue and dimension references). Matching never fails: a message that cannot be read
// the way the pattern needs (for example a non-JSON message under a JSON pattern) simply does
// not match.
//
// JSON messages are parsed into a Record. Callers that evaluate several patterns against the
// same message (every metric filter of a log group against each ingested event) should parse
// the message once with ParseRecord, or reuse a Record with Reset, and call MatchRecord for
// each pattern.
//
// The grammar, the AWS behaviours it reproduces and the choices made where AWS's documentation
// is ambiguous are described in docs/filterpattern.md.
package filterpattern

import (
	"fmt"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"
)

// recordPool holds Records for Match, which parses the message for one pattern only.
var recordPool = sync.Pool{New: func() any { return new(Record) }}

// Limits of the grammar.
const (
	// MaxLength is the longest pattern accepted, in characters (the filterPattern member of
	// PutMetricFilter, PutSubscriptionFilter, FilterLogEvents and TestMetricFilter is 0-1024).
	MaxLength = 1024
	// MaxRegexes is the number of %regex% terms allowed in one pattern.
	MaxRegexes = 2
	// MaxWildcardSelectors is the number of JSON selectors with a wildcard step ($.* or [*])
	// allowed in one pattern; each selector may hold at most one wildcard step.
	MaxWildcardSelectors = 3
)

// Kind is the form of a pattern, decided by its first non-blank character.
type Kind uint8

// The kinds of pattern.
const (
	// MatchAll is the empty or blank pattern: it matches every message.
	MatchAll Kind = iota
	// Terms is an unstructured pattern of terms, quoted phrases, ?alternatives, -exclusions
	// and %regex% terms.
	Terms
	// JSON is a pattern in braces that selects values from JSON messages: { $.a = "x" }.
	JSON
	// SpaceDelimited is a pattern in square brackets that splits messages into fields:
	// [ip, user, ..., status_code = 4*, size > 100].
	SpaceDelimited
)

func (k Kind) String() string {
	switch k {
	case MatchAll:
		return "match-all"
	case Terms:
		return "terms"
	case JSON:
		return "json"
	case SpaceDelimited:
		return "space-delimited"
	}
	return "Kind(" + strconv.Itoa(int(k)) + ")"
}

// SyntaxError describes why a pattern was rejected. Parse returns every error as a
// *SyntaxError.
type SyntaxError struct {
	// Pos is the byte offset in the pattern (0-based) where the problem was found.
	Pos int
	// Reason says what is wrong, in a sentence without final punctuation.
	Reason string
}

// Error returns an AWS-style message: "Invalid filter pattern: <reason> (at position <pos>)".
// The logs service wraps it in an InvalidParameterException; metric filters may prefer
// "Invalid metric filter pattern", which they can build from Reason and Pos.
func (e *SyntaxError) Error() string {
	return fmt.Sprintf("Invalid filter pattern: %s (at position %d)", e.Reason, e.Pos)
}

func errAt(pos int, format string, args ...any) *SyntaxError {
	return &SyntaxError{Pos: pos, Reason: fmt.Sprintf(format, args...)}
}

// Pattern is a parsed filter pattern. It is immutable and safe for concurrent use.
type Pattern struct {
	src     string
	kind    Kind
	terms   *termPattern
	json    *jsonPattern
	sd      *sdPattern
	regexes int
}

// Parse parses a filter pattern. Errors are *SyntaxError.
func Parse(pattern string) (*Pattern, error) {
	if len(pattern) > MaxLength && utf8.RuneCountInString(pattern) > MaxLength {
		pos := 0
		for n := 0; n < MaxLength; n++ {
			_, size := utf8.DecodeRuneInString(pattern[pos:])
			pos += size
		}
		return nil, errAt(pos, "the pattern is longer than %d characters", MaxLength)
	}
	p := &Pattern{src: pattern}
	trimmed := strings.TrimLeft(pattern, " \t\r\n\f\v")
	start := len(pattern) - len(trimmed)
	var err error
	switch {
	case trimmed == "":
		p.kind = MatchAll
	case trimmed[0] == '{':
		p.kind = JSON
		p.json, err = parseJSONPattern(pattern, start)
	case trimmed[0] == '[':
		p.kind = SpaceDelimited
		p.sd, err = parseSDPattern(pattern, start)
	default:
		p.kind = Terms
		p.terms, err = parseTerms(pattern, start)
		if err == nil {
			p.regexes = p.terms.regexes
			if p.terms.matchAll() {
				p.kind = MatchAll
				p.terms = nil
			}
		}
	}
	if err != nil {
		return nil, err
	}
	switch {
	case p.json != nil:
		p.regexes = p.json.regexes
	case p.sd != nil:
		p.regexes = p.sd.regexes
	}
	return p, nil
}

// String returns the pattern exactly as it was given to Parse.
func (p *Pattern) String() string { return p.src }

// Kind returns the form of the pattern.
func (p *Pattern) Kind() Kind { return p.kind }

// Regexes returns the number of %regex% terms in the pattern, for the per-log-group quota of
// regex-bearing metric and subscription filters.
func (p *Pattern) Regexes() int { return p.regexes }

// SupportsDimensions reports whether metric-filter dimensions (and metricValue references)
// can refer to values of matched messages: only JSON and space-delimited patterns extract
// values. AWS rejects dimensions on other patterns with "The specified filter pattern does
// not support dimensions".
func (p *Pattern) SupportsDimensions() bool { return p.kind == JSON || p.kind == SpaceDelimited }

// Match reports whether message matches the pattern.
func (p *Pattern) Match(message string) bool {
	switch p.kind {
	case MatchAll:
		return true
	case Terms:
		return p.terms.match(message)
	case JSON:
		r := recordPool.Get().(*Record)
		r.Reset(message)
		ok := p.json.match(r)
		r.Reset("")
		recordPool.Put(r)
		return ok
	case SpaceDelimited:
		return p.sd.match(message, nil)
	}
	return false
}

// MatchFields reports whether message matches the pattern and, on a match, returns the
// values that metricValue and dimension references may select (see Fields).
func (p *Pattern) MatchFields(message string) (Fields, bool) {
	switch p.kind {
	case JSON:
		r := ParseRecord(message)
		if !p.json.match(r) {
			return Fields{}, false
		}
		return Fields{rec: r}, true
	case SpaceDelimited:
		var f sdFields
		if !p.sd.match(message, &f) {
			return Fields{}, false
		}
		return Fields{sd: &f}, true
	}
	return Fields{}, p.Match(message)
}

// MatchRecord reports whether the message held by r matches the pattern. r is only read, so
// one Record can be matched against many patterns, also concurrently.
func (p *Pattern) MatchRecord(r *Record) bool {
	if p.kind == JSON {
		return p.json.match(r)
	}
	return p.Match(r.msg)
}

// MatchRecordFields is MatchFields for a parsed Record. The Fields it returns refer to r and
// are valid until r is Reset.
func (p *Pattern) MatchRecordFields(r *Record) (Fields, bool) {
	if p.kind == JSON {
		if !p.json.match(r) {
			return Fields{}, false
		}
		return Fields{rec: r}, true
	}
	return p.MatchFields(r.msg)
}
