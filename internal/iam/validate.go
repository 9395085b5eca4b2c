package iam

import (
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/opentrail/opentrail"
	"github.com/opentrail/opentrail/internal/policy"
)

// pattern is a member constraint of the service model: the regular expression as the model
// (and AWS's messages) write it, compiled for Go.
type pattern struct {
	text string
	re   *regexp.Regexp
}

var unicodeEscape = regexp.MustCompile(`\\u([0-9A-Fa-f]{4})`)

// newPattern compiles a model pattern, which must match the whole value.
func newPattern(text string) *pattern {
	goRE := unicodeEscape.ReplaceAllString(text, `\x{$1}`)
	return &pattern{text: text, re: regexp.MustCompile(`^(?:` + goRE + `)$`)}
}

func (p *pattern) match(s string) bool { return p.re.MatchString(s) }

// The model's patterns. They are compiled once and never change.
var (
	patName        = newPattern(`[\w+=,.@-]+`)
	patPath        = newPattern(`(\u002F)|(\u002F[\u0021-\u007E]+\u002F)`)
	patPathPrefix  = newPattern(`\u002F[\u0021-\u007F]*`)
	patPolicyPath  = newPattern(`((/[A-Za-z0-9\.,\+@=_-]+)*)/`)
	patID          = newPattern(`[\w]+`)
	patVersionID   = newPattern(`v[1-9][0-9]*(\.[A-Za-z0-9-]*)?`)
	patDocument    = newPattern(`[\u0009\u000A\u000D\u0020-\u00FF]+`)
	patRoleDesc    = newPattern(`[\u0009\u000A\u000D\u0020-\u007E\u00A1-\u00FF]*`)
	patSessionName = newPattern(`[\w+=,.@-]*`)
	patExternalID  = newPattern(`[\w+=,.@:\/-]*`)
	patMarker      = newPattern(`[\u0020-\u00FF]+`)
	patTagKey      = newPattern(`[\p{L}\p{Z}\p{N}_.:/=+\-@]+`)
	patTagValue    = newPattern(`[\p{L}\p{Z}\p{N}_.:/=+\-@]*`)
)

// validation collects constraint violations in AWS's wording:
// "1 validation error detected: Value 'x' at 'userName' failed to satisfy constraint: ...".
type validation struct {
	errs []string
}

func (v *validation) fail(value *string, field, constraint string) {
	val := "null"
	if value != nil {
		val = "'" + *value + "'"
	}
	v.errs = append(v.errs, fmt.Sprintf("Value %s at '%s' failed to satisfy constraint: %s", val, field, constraint))
}

// required checks that a required member is present (not empty) and reports whether it is.
func (v *validation) required(field, value string) bool {
	if value == "" {
		v.fail(nil, field, "Member must not be null")
		return false
	}
	return true
}

// str checks the length (in characters) and pattern of a string member; empty means absent.
func (v *validation) str(field, value string, minLen, maxLen int, p *pattern) {
	if value == "" {
		return
	}
	n := utf8.RuneCountInString(value)
	switch {
	case n < minLen:
		v.fail(&value, field, "Member must have length greater than or equal to "+strconv.Itoa(minLen))
	case maxLen > 0 && n > maxLen:
		v.fail(&value, field, "Member must have length less than or equal to "+strconv.Itoa(maxLen))
	case p != nil && !p.match(value):
		v.fail(&value, field, "Member must satisfy regular expression pattern: "+p.text)
	}
}

// num checks the range of an optional integer member.
func (v *validation) num(field string, value *int32, minVal, maxVal int32) {
	if value == nil {
		return
	}
	s := strconv.Itoa(int(*value))
	switch {
	case *value < minVal:
		v.fail(&s, field, "Member must have value greater than or equal to "+strconv.Itoa(int(minVal)))
	case *value > maxVal:
		v.fail(&s, field, "Member must have value less than or equal to "+strconv.Itoa(int(maxVal)))
	}
}

// enum checks an optional member against its allowed values.
func (v *validation) enum(field, value string, allowed ...string) {
	if value == "" {
		return
	}
	for _, a := range allowed {
		if value == a {
			return
		}
	}
	v.fail(&value, field, "Member must satisfy enum value set: ["+strings.Join(allowed, ", ")+"]")
}

// paging checks Marker and MaxItems.
func (v *validation) paging(marker string, maxItems *int32) {
	v.str("marker", marker, 1, 320, patMarker)
	v.num("maxItems", maxItems, 1, 1000)
}

// name checks a required entity or policy name.
func (v *validation) name(field, value string, maxLen int) {
	if v.required(field, value) {
		v.str(field, value, 1, maxLen, patName)
	}
}

// document checks a required policy document member.
func (v *validation) document(field, value string) {
	if v.required(field, value) {
		v.str(field, value, 1, 131072, patDocument)
	}
}

// arn checks a required ARN member.
func (v *validation) arn(field, value string) {
	if v.required(field, value) {
		v.str(field, value, 20, 2048, nil)
	}
}

// tags checks a tag list.
func (v *validation) tags(tags []tag) {
	if len(tags) > 50 {
		n := strconv.Itoa(len(tags))
		v.fail(&n, "tags", "Member must have length less than or equal to 50")
	}
	for i, t := range tags {
		if v.required(fmt.Sprintf("tags.%d.member.key", i+1), t.Key) {
			v.str(fmt.Sprintf("tags.%d.member.key", i+1), t.Key, 1, 128, patTagKey)
		}
		v.str(fmt.Sprintf("tags.%d.member.value", i+1), t.Value, 0, 256, patTagValue)
	}
}

// err returns the collected violations as one ValidationError, or nil.
func (v *validation) err() error {
	switch len(v.errs) {
	case 0:
		return nil
	case 1:
		return validationError("1 validation error detected: " + v.errs[0])
	}
	return validationError(fmt.Sprintf("%d validation errors detected: %s", len(v.errs), strings.Join(v.errs, "; ")))
}

// The errors of the IAM and STS models, with their HTTP statuses.

func validationError(msg string) *opentrail.Error {
	return opentrail.Errorf("ValidationError", "%s", msg)
}

func noSuchEntity(format string, args ...any) *opentrail.Error {
	return opentrail.Errorf("NoSuchEntity", format, args...).WithStatus(http.StatusNotFound)
}

func entityExists(format string, args ...any) *opentrail.Error {
	return opentrail.Errorf("EntityAlreadyExists", format, args...).WithStatus(http.StatusConflict)
}

func deleteConflict(format string, args ...any) *opentrail.Error {
	return opentrail.Errorf("DeleteConflict", format, args...).WithStatus(http.StatusConflict)
}

func limitExceeded(format string, args ...any) *opentrail.Error {
	return opentrail.Errorf("LimitExceeded", format, args...).WithStatus(http.StatusConflict)
}

func invalidInput(format string, args ...any) *opentrail.Error {
	return opentrail.Errorf("InvalidInput", format, args...)
}

func accessDenied(format string, args ...any) *opentrail.Error {
	return opentrail.Errorf("AccessDenied", format, args...).WithStatus(http.StatusForbidden)
}

func malformedPolicy(msg string) *opentrail.Error {
	return opentrail.Errorf("MalformedPolicyDocument", "%s", msg)
}

// policyError turns a policy parse error into MalformedPolicyDocument.
func policyError(err error) error {
	var me *policy.MalformedError
	if errors.As(err, &me) {
		return malformedPolicy(me.Message)
	}
	return malformedPolicy("Syntax errors in policy.")
}

func notFound(k kind, name string) *opentrail.Error {
	return noSuchEntity("The %s with name %s cannot be found.", k.info().name, name)
}
