package filterpattern

import (
	"strconv"
	"strings"
)

// Fields gives access to the values of a matched message that metric filters publish: the
// metricValue and the dimension values.
//
// A selector is
//   - "$.a.b[0]" (any JSON selector without wildcards, as in JSON patterns, including the
//     bracket form $.['key.with.dots']) for messages matched by a JSON pattern;
//   - "$name" (a named field) or "$N" (the N-th field of the message, 1-based) for messages
//     matched by a space-delimited pattern.
//
// Lookup returns the value as text: a JSON string unescaped, a JSON number as written in the
// message, a JSON boolean as "true" or "false". A selector that resolves to nothing, to null,
// to an object or to an array gives ("", false). Patterns of other kinds extract nothing, so
// their Fields answer every Lookup with ("", false).
//
// The zero Fields extracts nothing. Fields from MatchRecordFields refer to the Record and are
// valid until it is Reset.
type Fields struct {
	rec *Record
	sd  *sdFields
}

// Field is one extracted value of a space-delimited match, named as TestMetricFilter's
// extractedValues names it: "$name" for named fields, "$N" for fields covered by "..." or left
// unnamed.
type Field struct {
	Name  string
	Value string
}

// Lookup returns the value selector refers to.
func (f Fields) Lookup(selector string) (string, bool) {
	switch {
	case f.rec != nil:
		if !strings.HasPrefix(selector, "$.") && !strings.HasPrefix(selector, "$[") {
			return "", false
		}
		sel, err := parseSelector(selector, 0)
		if err != nil || sel.end != len(selector) {
			return "", false
		}
		return f.rec.lookupText(sel)
	case f.sd != nil:
		name, ok := strings.CutPrefix(selector, "$")
		if !ok || name == "" {
			return "", false
		}
		return f.sd.lookup(name)
	}
	return "", false
}

// Extracted returns the values TestMetricFilter reports as extractedValues, in field order.
// It is empty except for space-delimited patterns (AWS returns an empty map for JSON and term
// patterns).
func (f Fields) Extracted() []Field {
	if f.sd == nil {
		return nil
	}
	return f.sd.extracted()
}

// ValidSelector reports whether selector is a syntactically valid metricValue or dimension
// reference: a JSON selector without wildcards ("$.a.b[0]") or a space-delimited field
// reference ("$name" or "$N"). It does not check that the selector fits a particular pattern;
// see Pattern.CheckSelector.
func ValidSelector(selector string) error {
	_, err := checkSelector(selector)
	return err
}

// CheckSelector reports whether selector can take values from messages matched by p: JSON
// patterns accept JSON selectors, space-delimited patterns accept "$N" and the names of their
// own named fields. Other patterns accept none ("The specified filter pattern does not support
// dimensions").
func (p *Pattern) CheckSelector(selector string) error {
	isJSON, err := checkSelector(selector)
	if err != nil {
		return err
	}
	switch p.kind {
	case JSON:
		if !isJSON {
			return errAt(0, "%q is not a JSON selector; a JSON pattern takes values with $.field", selector)
		}
		return nil
	case SpaceDelimited:
		if isJSON {
			return errAt(0, "%q is a JSON selector; a space-delimited pattern takes values with $field or $N", selector)
		}
		name := selector[1:]
		if isDigits(name) || p.sd.hasName(name) {
			return nil
		}
		return errAt(1, "the pattern has no field named %q", name)
	}
	return errAt(0, "the specified filter pattern does not support dimensions")
}

// checkSelector validates a reference and reports whether it is a JSON selector.
func checkSelector(selector string) (isJSON bool, err error) {
	if !strings.HasPrefix(selector, "$") {
		return false, errAt(0, "a field reference must start with $")
	}
	if strings.HasPrefix(selector, "$.") || strings.HasPrefix(selector, "$[") {
		sel, err := parseSelector(selector, 0)
		if err != nil {
			return true, err
		}
		if sel.end != len(selector) {
			return true, errAt(sel.end, "unexpected %q after the selector", selector[sel.end:])
		}
		if sel.wild {
			return true, errAt(0, "a field reference cannot contain a wildcard")
		}
		return true, nil
	}
	name := selector[1:]
	if isDigits(name) {
		if n, err := strconv.Atoi(name); err != nil || n < 1 {
			return false, errAt(1, "field positions start at 1")
		}
		return false, nil
	}
	if !validFieldName(name) {
		return false, errAt(1, "%q is not a valid field name", name)
	}
	return false, nil
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
