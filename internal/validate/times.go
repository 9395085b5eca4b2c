package validate

import (
	"fmt"
	"regexp"
	"strings"
	"time"
)

// DisplayFormat is how validate-logs prints times ("2024-01-10T08:00:00Z").
const DisplayFormat = "2006-01-02T15:04:05Z"

func display(t time.Time) string { return t.UTC().Format(DisplayFormat) }

// layouts are the date forms ParseTime accepts: the common subset of what the AWS CLI's
// dateutil parser takes.
var layouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05.999999999",
	"2006-01-02T15:04:05",
	"2006-01-02T15:04Z07:00",
	"2006-01-02T15:04",
	"2006-01-02 15:04:05.999999999Z07:00",
	"2006-01-02 15:04:05.999999999",
	"2006-01-02 15:04:05",
	"2006-01-02 15:04",
	"2006-01-02",
	"20060102T150405Z07:00",
	"20060102T150405",
	"20060102T1504Z07:00",
	"20060102T1504",
	"20060102",
	"2006/01/02 15:04:05",
	"2006/01/02",
	time.RFC1123Z,
	time.RFC1123,
	time.UnixDate,
}

// ParseTime parses a date as `aws cloudtrail validate-logs` does: any of the common ISO 8601
// and RFC forms, then *forced* to UTC by keeping the wall-clock time and dropping the zone
// (dateutil's parse followed by replace(tzinfo=UTC), so "10:00+02:00" is 10:00Z). The error
// reads as the CLI's: "Unable to parse date value: <s>".
func ParseTime(s string) (time.Time, error) {
	v := strings.TrimSpace(s)
	if strings.HasSuffix(v, "z") {
		v = v[:len(v)-1] + "Z"
	}
	for _, l := range layouts {
		if t, err := time.Parse(l, v); err == nil {
			return wallUTC(t), nil
		}
	}
	return time.Time{}, cliErrorf("Unable to parse date value: %s", s)
}

// cliError is an error worded as the AWS CLI words it (capitalised, printed as it is).
type cliError struct{ msg string }

func (e *cliError) Error() string { return e.msg }

func cliErrorf(format string, args ...any) error { return &cliError{fmt.Sprintf(format, args...)} }

// wallUTC keeps t's wall clock and sets its zone to UTC.
func wallUTC(t time.Time) time.Time {
	return time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), time.UTC)
}

var trailARNRe = regexp.MustCompile(`^arn:.+:cloudtrail:.+:\d{12}:trail/.+`)

// Trail is what validate-logs takes from a trail ARN.
type Trail struct {
	ARN        string
	HomeRegion string // the ARN's region
	Account    string // the ARN's account
	Name       string // after the last "/"
}

// ParseTrailARN checks a trail ARN as the AWS CLI does
// (arn:<partition>:cloudtrail:<region>:<12 digits>:trail/<name>) and splits it.
func ParseTrailARN(arn string) (Trail, error) {
	if !trailARNRe.MatchString(arn) {
		return Trail{}, cliErrorf("Invalid trail ARN provided: %s", arn)
	}
	parts := strings.Split(arn, ":")
	return Trail{ARN: arn, HomeRegion: parts[3], Account: parts[4], Name: arn[strings.LastIndexByte(arn, '/')+1:]}, nil
}
