package logs

import (
	"errors"

	"github.com/opentrail/opentrail/internal/filterpattern"
)

// This file adapts internal/filterpattern to what the service needs of a filter pattern.

// patternError is a pattern that does not parse: where, and why.
type patternError struct {
	Pos    int
	Reason string
}

func (e *patternError) Error() string { return e.Reason }

func asPatternError(err error) error {
	var se *filterpattern.SyntaxError
	if errors.As(err, &se) {
		return &patternError{Pos: se.Pos, Reason: se.Reason}
	}
	return err
}

// pattern is a parsed filter pattern.
type pattern struct{ p *filterpattern.Pattern }

func parsePattern(src string) (*pattern, error) {
	p, err := filterpattern.Parse(src)
	if err != nil {
		return nil, asPatternError(err)
	}
	return &pattern{p}, nil
}

func (p *pattern) isJSON() bool             { return p.p.Kind() == filterpattern.JSON }
func (p *pattern) supportsDimensions() bool { return p.p.SupportsDimensions() }
func (p *pattern) regexes() int             { return p.p.Regexes() }

// checkSelector reports whether sel ($.field, $name, $N) can take values from messages that
// p matches.
func (p *pattern) checkSelector(sel string) error { return asPatternError(p.p.CheckSelector(sel)) }

// message is one log message being matched against several patterns: a JSON message is
// parsed once, on first use, for every JSON pattern.
type message struct {
	text string
	rec  *filterpattern.Record
}

func newMessage(text string) *message { return &message{text: text} }

func (m *message) record() *filterpattern.Record {
	if m.rec == nil {
		m.rec = filterpattern.ParseRecord(m.text)
	}
	return m.rec
}

// match reports whether the message matches.
func (p *pattern) match(m *message) bool {
	if p.isJSON() {
		return p.p.MatchRecord(m.record())
	}
	return p.p.Match(m.text)
}

// fields are the values of a matched message that metric filters publish.
type fields struct{ f filterpattern.Fields }

func (f fields) lookup(sel string) (string, bool) { return f.f.Lookup(sel) }

// extracted is TestMetricFilter's extractedValues (empty but for space-delimited patterns).
func (f fields) extracted() map[string]string {
	out := map[string]string{}
	for _, x := range f.f.Extracted() {
		out[x.Name] = x.Value
	}
	return out
}

// matchFields reports whether the message matches and, if so, the values it holds.
func (p *pattern) matchFields(m *message) (fields, bool) {
	if p.isJSON() {
		f, ok := p.p.MatchRecordFields(m.record())
		return fields{f}, ok
	}
	f, ok := p.p.MatchFields(m.text)
	return fields{f}, ok
}
