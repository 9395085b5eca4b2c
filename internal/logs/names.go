package logs

import (
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/opentrail/opentrail/internal/server"
)

// Name constraints of the model.
const (
	maxNameLen        = 512
	maxIdentifierLen  = 2048
	groupNameRE       = `[\.\-_/#A-Za-z0-9]+`
	streamNameRE      = `[^:*]*`
	filterNameRE      = `[^:*]*`
	metricNameRE      = `[^:*$]*`
	maxMetricNameLen  = 255
	maxMetricValueLen = 100
)

var groupNameChars = regexp.MustCompile(`^` + groupNameRE + `$`)

// checkGroupName validates a logGroupName member (member names it in errors).
func checkGroupName(member, name string) error {
	if n := utf8.RuneCountInString(name); n < 1 || n > maxNameLen {
		return lengthError(name, member, 1, maxNameLen)
	}
	if !groupNameChars.MatchString(name) {
		return errConstraint(name, member, "Member must satisfy regular expression pattern: "+groupNameRE)
	}
	return nil
}

// checkStreamName validates a logStreamName member: 1-512 characters, no ':' or '*'.
func checkStreamName(member, name string) error {
	if n := utf8.RuneCountInString(name); n < 1 || n > maxNameLen {
		return lengthError(name, member, 1, maxNameLen)
	}
	if strings.ContainsAny(name, ":*") {
		return errConstraint(name, member, "Member must satisfy regular expression pattern: "+streamNameRE)
	}
	return nil
}

func checkFilterName(member, name string) error {
	if n := utf8.RuneCountInString(name); n < 1 || n > maxNameLen {
		return lengthError(name, member, 1, maxNameLen)
	}
	if strings.ContainsAny(name, ":*") {
		return errConstraint(name, member, "Member must satisfy regular expression pattern: "+filterNameRE)
	}
	return nil
}

func lengthError(value, member string, lo, hi int) error {
	if utf8.RuneCountInString(value) < lo {
		return errConstraint(value, member, "Member must have length greater than or equal to "+strconv.Itoa(lo))
	}
	return errConstraint(value, member, "Member must have length less than or equal to "+strconv.Itoa(hi))
}

// ARNs.

// GroupARN is a log group's ARN without the trailing ":*" (LogGroup.logGroupArn), the form
// the tagging operations take.
func GroupARN(region, acct, name string) string {
	return "arn:aws:logs:" + region + ":" + acct + ":log-group:" + name
}

// streamARN is a log stream's ARN.
func streamARN(region, acct, group, stream string) string {
	return GroupARN(region, acct, group) + ":log-stream:" + stream
}

// groupResource is the resource IAM authorizes most operations on: the group's ARN with
// ":*", as AWS names it in LogGroup.arn.
func groupResource(c *server.Call, name string) string {
	if name == "" {
		return GroupARN(c.Region, c.Account(), "*")
	}
	return GroupARN(c.Region, c.Account(), name) + ":*"
}

// parseGroupARN splits arn:aws:logs:<region>:<acct>:log-group:<name>[:*].
func parseGroupARN(arn string) (region, acct, name string, ok bool) {
	parts := strings.SplitN(arn, ":", 7)
	if len(parts) != 7 || parts[0] != "arn" || parts[1] != "aws" || parts[2] != "logs" || parts[5] != "log-group" {
		return "", "", "", false
	}
	name = strings.TrimSuffix(parts[6], ":*")
	if name == "" || strings.Contains(name, ":") {
		return "", "", "", false
	}
	return parts[3], parts[4], name, true
}

// groupRef resolves the logGroupName / logGroupIdentifier pair of an input: exactly one must
// be given; an identifier is a name or the group's ARN (with or without ":*"). A group ARN
// of another account or region names a group this caller cannot see.
func groupRef(c *server.Call, name, identifier string) (string, error) {
	switch {
	case name != "" && identifier != "":
		return "", errInvalid("LogGroup name and LogGroup ARN are mutually exclusive parameters.")
	case name == "" && identifier == "":
		return "", errInvalid("Should provide either name or ARN of the log group.")
	case name != "":
		return name, checkGroupName("logGroupName", name)
	}
	if len(identifier) > maxIdentifierLen {
		return "", lengthError(identifier, "logGroupIdentifier", 1, maxIdentifierLen)
	}
	if !strings.HasPrefix(identifier, "arn:") {
		return identifier, checkGroupName("logGroupIdentifier", identifier)
	}
	region, acct, gname, ok := parseGroupARN(identifier)
	if !ok {
		return "", errInvalid("Invalid log group identifier: %s. Give the log group's name or its ARN, arn:aws:logs:<region>:<account-id>:log-group:<name>.", identifier)
	}
	if acct != c.Account() || region != c.Region {
		return "", errGroupNotFound()
	}
	return gname, checkGroupName("logGroupIdentifier", gname)
}
