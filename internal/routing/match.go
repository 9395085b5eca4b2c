// Package routing decides which trails receive a CloudTrail record: the account, the regions
// the trail covers, its logging period, global service events, and its basic or advanced
// event selectors (docs/delivery.md, "What a trail receives"). Log file delivery and the
// CloudWatch Logs forwarder both route with it. Decode reads the few members routing needs
// from a journaled record quickly (scan.go).
package routing

import (
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/opentrail/opentrail"
	"github.com/opentrail/opentrail/internal/cloudtrail"
)

// Record holds the members of a CloudTrail record that decide which trails receive it,
// decoded from a journal payload (see opentrail.Event) without the rest.
type Record struct {
	EventTime                    string    `json:"eventTime"`
	RequestID                    string    `json:"requestID"`
	EventSource                  string    `json:"eventSource"`
	EventName                    string    `json:"eventName"`
	AWSRegion                    string    `json:"awsRegion"`
	ErrorCode                    string    `json:"errorCode"`
	ReadOnly                     looseBool `json:"readOnly"`
	EventType                    string    `json:"eventType"`
	ManagementEvent              looseBool `json:"managementEvent"`
	RecipientAccountID           string    `json:"recipientAccountId"`
	EventCategory                string    `json:"eventCategory"`
	SessionCredentialFromConsole string    `json:"sessionCredentialFromConsole"`
	VpcEndpointID                string    `json:"vpcEndpointId"`
	UserIdentity                 struct {
		ARN string `json:"arn"`
	} `json:"userIdentity"`
	Resources []opentrail.Resource `json:"resources"`

	Time time.Time `json:"-"` // EventTime, parsed
	Seq  uint64    `json:"-"` // journal sequence number
}

// Category is the record's event category; records written before eventCategory existed
// count as management events when managementEvent is not false.
func (f *Record) Category() string {
	if f.EventCategory != "" {
		return f.EventCategory
	}
	if f.ManagementEvent == looseFalse {
		return opentrail.CategoryData
	}
	return opentrail.CategoryManagement
}

func (f *Record) ReadOnlyValue() bool { return f.ReadOnly == looseTrue }

// looseBool is a boolean member as found in records from elsewhere (imports, other
// producers): true/false, the strings "true"/"false" in any case, or absent/null.
type looseBool uint8

const (
	looseUnset looseBool = iota
	looseFalse
	looseTrue
)

func (b *looseBool) UnmarshalJSON(v []byte) error {
	switch strings.ToLower(strings.Trim(string(v), `"`)) {
	case "true":
		*b = looseTrue
	case "false":
		*b = looseFalse
	default:
		*b = looseUnset
	}
	return nil
}

// globalSources are the services whose events CloudTrail records as global service events:
// recorded in us-east-1 and logged only by trails with IncludeGlobalServiceEvents.
var globalSources = []string{
	"iam.amazonaws.com", "cloudfront.amazonaws.com", "route53.amazonaws.com",
	"organizations.amazonaws.com", "signin.amazonaws.com",
}

// inLoggingPeriod reports whether the record happened while the trail was logging. With
// journal positions noted by StartLogging and StopLogging, that is exact: after the last
// record journaled before StartLogging and, for a trail stopped now, not after the last one
// before StopLogging, plus the StopLogging call itself (AWS delivers it). Without them,
// event times decide, at their whole-second precision.
func inLoggingPeriod(t *cloudtrail.Trail, f *Record) bool {
	st := t.Status
	if st.StartLoggingTime.IsZero() {
		return false
	}
	if st.StartLoggingSeq > 0 || st.StopLoggingSeq > 0 {
		if f.Seq <= st.StartLoggingSeq {
			return false
		}
		return st.IsLogging || f.Seq <= st.StopLoggingSeq || (f.RequestID != "" && f.RequestID == st.StopLoggingRequestID)
	}
	if f.Time.Before(st.StartLoggingTime.Truncate(time.Second)) {
		return false
	}
	return st.IsLogging || !f.Time.After(st.StopLoggingTime)
}

// Selects reports whether trail t receives the record: the record belongs to the trail's
// account, happened in a region the trail covers while it was logging, is not a global
// service event the trail leaves out, and matches its event selectors.
func Selects(t *cloudtrail.Trail, f *Record) bool {
	if f.RecipientAccountID != t.AccountID || !t.Covers(f.AWSRegion) || !inLoggingPeriod(t, f) {
		return false
	}
	if !t.IncludeGlobalServiceEvents && slices.Contains(globalSources, f.EventSource) {
		return false
	}
	if f.Category() == opentrail.CategoryInsight {
		return false // Insights events go to CloudTrail-Insight/, not to log files
	}
	if len(t.AdvancedEventSelectors) > 0 {
		for i := range t.AdvancedEventSelectors {
			if matchAdvanced(&t.AdvancedEventSelectors[i], f) {
				return true
			}
		}
		return false
	}
	sels := t.EventSelectors
	if len(sels) == 0 {
		sels = cloudtrail.DefaultEventSelectors()
	}
	for i := range sels {
		if matchBasic(&sels[i], f) {
			return true
		}
	}
	return false
}

// matchBasic evaluates a basic event selector: the read/write type, then management events
// (minus excluded sources) or data events whose resources fall under a data resource.
func matchBasic(s *cloudtrail.EventSelector, f *Record) bool {
	switch s.ReadWriteType {
	case cloudtrail.ReadWriteReadOnly:
		if !f.ReadOnlyValue() {
			return false
		}
	case cloudtrail.ReadWriteWriteOnly:
		if f.ReadOnlyValue() {
			return false
		}
	}
	switch f.Category() {
	case opentrail.CategoryManagement:
		return s.ManagementEvents() && !slices.Contains(s.ExcludeManagementEventSources, f.EventSource)
	case opentrail.CategoryData:
		for _, dr := range s.DataResources {
			for _, r := range f.Resources {
				if r.Type != dr.Type {
					continue
				}
				for _, v := range dr.Values {
					if dataResourceMatches(dr.Type, v, r.ARN) {
						return true
					}
				}
			}
		}
	}
	return false
}

// dataResourceMatches reports whether a data-resource value of a basic selector covers the
// resource ARN: "arn:aws:s3" (or "arn:aws:s3:::") covers every S3 object, "arn:aws:lambda"
// every function, "arn:aws:dynamodb" every table; other values are ARN prefixes
// ("arn:aws:s3:::bucket/" for the objects of a bucket) or, for functions and tables, exact ARNs.
func dataResourceMatches(typ, value, arn string) bool {
	switch value {
	case "arn:aws:s3", "arn:aws:s3:::", "arn:aws:lambda", "arn:aws:dynamodb":
		return strings.HasPrefix(arn, value)
	}
	if typ == "AWS::S3::Object" {
		return strings.HasPrefix(arn, value)
	}
	return arn == value
}

// matchAdvanced evaluates an advanced event selector: every field selector must hold.
func matchAdvanced(s *cloudtrail.AdvancedEventSelector, f *Record) bool {
	for i := range s.FieldSelectors {
		if !matchField(&s.FieldSelectors[i], f) {
			return false
		}
	}
	return true
}

// matchField evaluates one field selector. The record's value (or values, for resources.ARN
// and resources.type) must match one of the values of any positive operator (Equals,
// StartsWith, EndsWith) when there are positive operators, and none of the values of the
// negative ones (NotEquals, NotStartsWith, NotEndsWith).
func matchField(fs *cloudtrail.AdvancedFieldSelector, f *Record) bool {
	values := fieldValues(fs.Field, f)
	positive := len(fs.Equals)+len(fs.StartsWith)+len(fs.EndsWith) > 0
	if positive {
		hit := false
		for _, v := range values {
			if anyMatch(fs.Equals, v, eq) || anyMatch(fs.StartsWith, v, strings.HasPrefix) || anyMatch(fs.EndsWith, v, strings.HasSuffix) {
				hit = true
				break
			}
		}
		if !hit {
			return false
		}
	}
	for _, v := range values {
		if anyMatch(fs.NotEquals, v, eq) || anyMatch(fs.NotStartsWith, v, strings.HasPrefix) || anyMatch(fs.NotEndsWith, v, strings.HasSuffix) {
			return false
		}
	}
	return true
}

func eq(a, b string) bool { return a == b }

// anyMatch reports whether op(v, p) holds for one of patterns.
func anyMatch(patterns []string, v string, op func(s, p string) bool) bool {
	for _, p := range patterns {
		if op(v, p) {
			return true
		}
	}
	return false
}

// fieldValues returns the record's values of an advanced-selector field.
func fieldValues(field string, f *Record) []string {
	switch field {
	case "eventCategory":
		return []string{f.Category()}
	case "eventSource":
		return []string{f.EventSource}
	case "eventName":
		return []string{f.EventName}
	case "eventType":
		return []string{f.EventType}
	case "readOnly":
		return []string{strconv.FormatBool(f.ReadOnlyValue())}
	case "errorCode":
		return []string{f.ErrorCode}
	case "sessionCredentialFromConsole":
		return []string{f.SessionCredentialFromConsole}
	case "userIdentity.arn":
		return []string{f.UserIdentity.ARN}
	case "vpcEndpointId":
		return []string{f.VpcEndpointID}
	case "resources.ARN":
		out := make([]string, 0, len(f.Resources))
		for _, r := range f.Resources {
			out = append(out, r.ARN)
		}
		return out
	case "resources.type":
		out := make([]string, 0, len(f.Resources))
		for _, r := range f.Resources {
			out = append(out, r.Type)
		}
		return out
	}
	return []string{""}
}
