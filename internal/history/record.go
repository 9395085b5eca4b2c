package history

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// attr is a lookup attribute; its value is part of the index key kind.
type attr byte

// The lookup attributes, numbered as in the model's LookupAttributeKey enum.
const (
	attrEventID attr = 1 + iota
	attrEventName
	attrReadOnly
	attrUsername
	attrResourceType
	attrResourceName
	attrEventSource
	attrAccessKeyID
)

// Attribute keys as the API spells them.
const (
	AttrEventID      = "EventId"
	AttrEventName    = "EventName"
	AttrReadOnly     = "ReadOnly"
	AttrUsername     = "Username"
	AttrResourceType = "ResourceType"
	AttrResourceName = "ResourceName"
	AttrEventSource  = "EventSource"
	AttrAccessKeyID  = "AccessKeyId"
)

// attrByName maps the case-sensitive API attribute keys to attributes.
var attrByName = map[string]attr{
	AttrEventID:      attrEventID,
	AttrEventName:    attrEventName,
	AttrReadOnly:     attrReadOnly,
	AttrUsername:     attrUsername,
	AttrResourceType: attrResourceType,
	AttrResourceName: attrResourceName,
	AttrEventSource:  attrEventSource,
	AttrAccessKeyID:  attrAccessKeyID,
}

// insightAttrs are the attributes Insights events can be looked up by.
var insightAttrs = map[attr]bool{attrEventID: true, attrEventName: true, attrEventSource: true}

// maxIndexValue is the longest attribute value (in bytes) that gets an index entry. Lookup
// values are at most 2,000 characters, so longer values could never be asked for.
const maxIndexValue = 8000

// errNotIndexed marks records that are valid but do not belong in Event History (data and
// network-activity events, events older than the retention period).
var errNotIndexed = errors.New("not an Event History event")

// entry is what Event History keeps of one record: the LookupEvents columns derived from it
// and the record itself.
type entry struct {
	acct, region string
	insight      bool
	sec          int64

	eventID, eventName, readOnly, accessKeyID, eventSource, username string

	resources []Resource
	// altNames are further ResourceName index values (full ARNs whose short name is listed
	// in resources).
	altNames []string

	payload []byte
}

// rawRecord is the part of a CloudTrail record Event History reads. Fields whose JSON type
// varies among real-world records are kept raw.
type rawRecord struct {
	UserIdentity       *rawIdentity    `json:"userIdentity"`
	EventTime          string          `json:"eventTime"`
	EventSource        string          `json:"eventSource"`
	EventName          string          `json:"eventName"`
	AWSRegion          string          `json:"awsRegion"`
	RequestParameters  json.RawMessage `json:"requestParameters"`
	ResponseElements   json.RawMessage `json:"responseElements"`
	EventID            string          `json:"eventID"`
	ReadOnly           json.RawMessage `json:"readOnly"`
	Resources          json.RawMessage `json:"resources"`
	EventType          string          `json:"eventType"`
	ManagementEvent    json.RawMessage `json:"managementEvent"`
	RecipientAccountID string          `json:"recipientAccountId"`
	EventCategory      string          `json:"eventCategory"`
	InsightDetails     *struct {
		EventName   string `json:"eventName"`
		EventSource string `json:"eventSource"`
	} `json:"insightDetails"`
}

type rawIdentity struct {
	Type        string `json:"type"`
	PrincipalID string `json:"principalId"`
	ARN         string `json:"arn"`
	AccountID   string `json:"accountId"`
	AccessKeyID string `json:"accessKeyId"`
	UserName    string `json:"userName"`
	InvokedBy   string `json:"invokedBy"`
}

// rawResource is one element of a record's resources. encoding/json matches keys without
// regard to case, so both "ARN" (as AWS writes it) and "arn" are read.
type rawResource struct {
	ARN  string `json:"ARN"`
	Type string `json:"type"`
}

// parseRecord derives the entry of one record. It returns errNotIndexed for records that do
// not belong in Event History and another error for malformed records.
func parseRecord(payload []byte, oldest int64) (*entry, error) {
	var r rawRecord
	if !scanRecord(payload, &r) {
		r = rawRecord{}
		if err := json.Unmarshal(payload, &r); err != nil {
			return nil, fmt.Errorf("decode record: %w", err)
		}
	}
	switch {
	case r.EventCategory == "Data", r.EventCategory == "NetworkActivity", r.EventType == "AwsVpceEvent":
		return nil, errNotIndexed
	case isFalse(r.ManagementEvent):
		return nil, errNotIndexed
	}
	t, err := parseEventTime(r.EventTime)
	if err != nil {
		return nil, err
	}
	sec := t.Unix()
	if !validSec(sec) {
		return nil, fmt.Errorf("eventTime %q out of range", r.EventTime)
	}
	if sec < oldest {
		return nil, errNotIndexed
	}
	e := &entry{
		acct:        r.RecipientAccountID,
		region:      r.AWSRegion,
		sec:         sec,
		eventID:     r.EventID,
		eventName:   r.EventName,
		eventSource: r.EventSource,
		readOnly:    boolString(r.ReadOnly),
		payload:     payload,
	}
	if e.acct == "" && r.UserIdentity != nil {
		e.acct = r.UserIdentity.AccountID
	}
	if e.acct == "" {
		return nil, errors.New("record names no account (recipientAccountId)")
	}
	if len(e.acct) > 255 || len(e.region) > 255 {
		return nil, errors.New("account or region too long")
	}
	if r.EventCategory == "Insight" || r.EventType == "AwsCloudTrailInsight" {
		e.insight = true
		e.readOnly = ""
		if d := r.InsightDetails; d != nil {
			e.eventName, e.eventSource = d.EventName, d.EventSource
		}
		return e, nil
	}
	if id := r.UserIdentity; id != nil {
		e.accessKeyID = id.AccessKeyID
		e.username = username(id)
	}
	e.resources, e.altNames = resources(&r)
	return e, nil
}

// eventTimeLayouts are the eventTime forms accepted: CloudTrail's own (RFC 3339, in UTC,
// whole seconds) and, read as UTC, the space-separated form some log pipelines rewrite it to.
var eventTimeLayouts = []string{time.RFC3339Nano, "2006-01-02 15:04:05.999999999", "2006-01-02T15:04:05.999999999"}

func parseEventTime(s string) (time.Time, error) {
	for _, layout := range eventTimeLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("eventTime %q is not a timestamp", s)
}

// isFalse reports whether a raw JSON value is false or "false".
func isFalse(v json.RawMessage) bool {
	v = bytes.TrimSpace(v)
	return bytes.Equal(v, []byte("false")) || bytes.Equal(v, []byte(`"false"`))
}

// boolString renders a raw JSON boolean (or its string form) as "true" or "false"; anything
// else gives "".
func boolString(v json.RawMessage) string {
	switch string(bytes.TrimSpace(v)) {
	case "true", `"true"`:
		return "true"
	case "false", `"false"`:
		return "false"
	}
	return ""
}

// username is the Username column of LookupEvents: the friendly name of the caller.
func username(id *rawIdentity) string {
	switch id.Type {
	case "Root":
		return "root"
	case "IAMUser":
		if id.UserName != "" {
			return id.UserName
		}
		return lastSegment(id.ARN)
	case "AssumedRole", "FederatedUser":
		// principalId is <roleId>:<sessionName> (or <account>:<federated user name>).
		if i := strings.IndexByte(id.PrincipalID, ':'); i >= 0 && i < len(id.PrincipalID)-1 {
			return id.PrincipalID[i+1:]
		}
		if id.ARN != "" {
			return lastSegment(id.ARN)
		}
		return id.UserName
	case "AWSService":
		if id.InvokedBy != "" {
			return id.InvokedBy
		}
	}
	return id.UserName
}

// lastSegment returns what follows the last '/' of an ARN (or the whole string).
func lastSegment(s string) string {
	if i := strings.LastIndexByte(s, '/'); i >= 0 && i < len(s)-1 {
		return s[i+1:]
	}
	return s
}

// resourceName is the ResourceName CloudTrail shows for a resource identifier: for an ARN
// the resource part without its type ("user/dev/bob" gives "bob" for IAM, "bucket" for S3,
// "function:f" gives "f"), for anything else the identifier itself.
func resourceName(id string) string {
	if !strings.HasPrefix(id, "arn:") {
		return id
	}
	parts := strings.SplitN(id, ":", 6)
	if len(parts) < 6 || parts[5] == "" {
		return id
	}
	res := parts[5]
	switch parts[2] {
	case "iam", "sts":
		return lastSegment(res)
	case "s3":
		return res
	}
	if i := strings.IndexAny(res, "/:"); i >= 0 && i < len(res)-1 {
		return res[i+1:]
	}
	return res
}

// paramRule names a member of requestParameters (or responseElements) that identifies a
// resource of a type. path is dot-separated; arrays on the way are walked element by element.
type paramRule struct {
	response bool
	path     string
	typ      string
}

// requestResources lists, per event source, the request and response members CloudTrail's
// Event history derives resources from when a record's resources list does not name them.
// docs/history.md lists them.
var requestResources = map[string][]paramRule{
	"iam.amazonaws.com": {
		{path: "userName", typ: "AWS::IAM::User"},
		{path: "roleName", typ: "AWS::IAM::Role"},
		{path: "groupName", typ: "AWS::IAM::Group"},
		{path: "policyArn", typ: "AWS::IAM::Policy"},
		{path: "instanceProfileName", typ: "AWS::IAM::InstanceProfile"},
		{path: "accessKeyId", typ: "AWS::IAM::AccessKey"},
		{response: true, path: "accessKey.accessKeyId", typ: "AWS::IAM::AccessKey"},
	},
	"sts.amazonaws.com": {
		{path: "roleArn", typ: "AWS::IAM::Role"},
		{response: true, path: "credentials.accessKeyId", typ: "AWS::IAM::AccessKey"},
	},
	"cloudtrail.amazonaws.com": {
		{path: "name", typ: "AWS::CloudTrail::Trail"},
		{path: "trailName", typ: "AWS::CloudTrail::Trail"},
		{path: "trailNameList", typ: "AWS::CloudTrail::Trail"},
		{path: "s3BucketName", typ: "AWS::S3::Bucket"},
	},
	"s3.amazonaws.com": {
		{path: "bucketName", typ: "AWS::S3::Bucket"},
	},
	"ec2.amazonaws.com": {
		{path: "instanceId", typ: "AWS::EC2::Instance"},
		{path: "instancesSet.items.instanceId", typ: "AWS::EC2::Instance"},
		{response: true, path: "instancesSet.items.instanceId", typ: "AWS::EC2::Instance"},
		{path: "groupId", typ: "AWS::EC2::SecurityGroup"},
		{path: "volumeId", typ: "AWS::EC2::Volume"},
		{path: "vpcId", typ: "AWS::EC2::VPC"},
		{path: "subnetId", typ: "AWS::EC2::Subnet"},
	},
	"lambda.amazonaws.com": {
		{path: "functionName", typ: "AWS::Lambda::Function"},
	},
	"kms.amazonaws.com": {
		{path: "keyId", typ: "AWS::KMS::Key"},
	},
	"sns.amazonaws.com": {
		{path: "topicArn", typ: "AWS::SNS::Topic"},
	},
	"logs.amazonaws.com": {
		{path: "logGroupName", typ: "AWS::Logs::LogGroup"},
	},
	"monitoring.amazonaws.com": {
		{path: "alarmName", typ: "AWS::CloudWatch::Alarm"},
		{path: "alarmNames", typ: "AWS::CloudWatch::Alarm"},
	},
	"dynamodb.amazonaws.com": {
		{path: "tableName", typ: "AWS::DynamoDB::Table"},
	},
}

// maxResources bounds the resources derived from one record.
const maxResources = 64

// resources derives the Resources column of a record and the extra ResourceName values to
// index (full ARNs).
func resources(r *rawRecord) ([]Resource, []string) {
	var (
		out  []Resource
		alts []string
		seen = map[Resource]bool{}
	)
	add := func(typ, id string) {
		if id == "" || len(out) >= maxResources {
			return
		}
		res := Resource{ResourceType: typ, ResourceName: resourceName(id)}
		if !seen[res] {
			seen[res] = true
			out = append(out, res)
		}
		if res.ResourceName != id {
			alts = append(alts, id)
		}
	}
	if len(r.Resources) > 0 && r.Resources[0] == '[' {
		var list []json.RawMessage
		if json.Unmarshal(r.Resources, &list) == nil {
			for _, raw := range list {
				var rr rawResource
				if json.Unmarshal(raw, &rr) != nil {
					continue // a malformed element (seen in the wild) is ignored
				}
				add(rr.Type, rr.ARN)
			}
		}
	}
	if rules := requestResources[r.EventSource]; rules != nil {
		var req, resp any
		if hasObject(r.RequestParameters) {
			_ = json.Unmarshal(r.RequestParameters, &req)
		}
		if hasObject(r.ResponseElements) {
			_ = json.Unmarshal(r.ResponseElements, &resp)
		}
		for _, rule := range rules {
			src := req
			if rule.response {
				src = resp
			}
			if src == nil {
				continue
			}
			walk(src, strings.Split(rule.path, "."), func(s string) { add(rule.typ, s) })
		}
	}
	return out, alts
}

func hasObject(v json.RawMessage) bool {
	v = bytes.TrimSpace(v)
	return len(v) > 0 && v[0] == '{'
}

// walk calls fn with every string found at path in a decoded JSON value.
func walk(v any, path []string, fn func(string)) {
	switch t := v.(type) {
	case []any:
		for _, x := range t {
			walk(x, path, fn)
		}
	case map[string]any:
		if len(path) > 0 {
			walk(t[path[0]], path[1:], fn)
		}
	case string:
		if len(path) == 0 {
			fn(t)
		}
	}
}

// indexValues calls fn with every (attribute, value) pair an entry is indexed under.
func (e *entry) indexValues(fn func(attr, string)) {
	add := func(a attr, v string) {
		if v != "" && len(v) <= maxIndexValue {
			fn(a, v)
		}
	}
	add(attrEventID, e.eventID)
	add(attrEventName, e.eventName)
	add(attrEventSource, e.eventSource)
	if e.insight {
		return
	}
	add(attrReadOnly, e.readOnly)
	add(attrUsername, e.username)
	add(attrAccessKeyID, e.accessKeyID)
	var types, names []string
	for _, r := range e.resources {
		if r.ResourceType != "" && !contains(types, r.ResourceType) {
			types = append(types, r.ResourceType)
		}
		if !contains(names, r.ResourceName) {
			names = append(names, r.ResourceName)
		}
	}
	for _, n := range e.altNames {
		if !contains(names, n) {
			names = append(names, n)
		}
	}
	for _, t := range types {
		add(attrResourceType, t)
	}
	for _, n := range names {
		add(attrResourceName, n)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// valueVersion is the first byte of a stored entry.
const valueVersion = 1

// encodeValue renders an entry as the value of its event key: the derived columns followed
// by the record JSON, stored once.
func (e *entry) encodeValue(dst []byte) []byte {
	dst = append(dst, valueVersion)
	for _, s := range [...]string{e.eventID, e.eventName, e.readOnly, e.accessKeyID, e.eventSource, e.username} {
		dst = appendString(dst, s)
	}
	dst = binary.AppendUvarint(dst, uint64(len(e.resources)))
	for _, r := range e.resources {
		dst = appendString(dst, r.ResourceType)
		dst = appendString(dst, r.ResourceName)
	}
	return append(dst, e.payload...)
}

func appendString(dst []byte, s string) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(s)))
	return append(dst, s...)
}

var errBadValue = errors.New("history: damaged entry")

// decodeValue turns a stored entry into a LookupEvents Event. It copies everything it keeps.
func decodeValue(v []byte, sec int64) (Event, error) {
	if len(v) == 0 || v[0] != valueVersion {
		return Event{}, errBadValue
	}
	d := decoder{b: v[1:]}
	ev := Event{
		EventID:     d.str(),
		EventName:   d.str(),
		ReadOnly:    d.str(),
		AccessKeyID: d.str(),
		EventSource: d.str(),
		Username:    d.str(),
		EventTime:   unixToTime(sec),
	}
	n := d.uvarint()
	if n > maxResources {
		return Event{}, errBadValue
	}
	ev.Resources = make([]Resource, 0, n)
	for range n {
		ev.Resources = append(ev.Resources, Resource{ResourceType: d.str(), ResourceName: d.str()})
	}
	if d.bad {
		return Event{}, errBadValue
	}
	ev.CloudTrailEvent = string(d.b)
	return ev, nil
}

type decoder struct {
	b   []byte
	bad bool
}

func (d *decoder) uvarint() uint64 {
	x, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.bad = true
		d.b = nil
		return 0
	}
	d.b = d.b[n:]
	return x
}

func (d *decoder) str() string {
	n := d.uvarint()
	if n > uint64(len(d.b)) {
		d.bad = true
		d.b = nil
		return ""
	}
	s := string(d.b[:n])
	d.b = d.b[n:]
	return s
}
