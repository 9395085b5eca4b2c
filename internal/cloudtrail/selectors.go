package cloudtrail

import (
	"context"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/opentrail/opentrail/internal/blob"
	"github.com/opentrail/opentrail/internal/server"
)

// EventSelector is a basic event selector: which management events (by read/write type, with
// some event sources excluded) and which data events (by resource ARN prefix) a trail logs.
// The JSON names are the wire names.
type EventSelector struct {
	ReadWriteType                 string         `json:"ReadWriteType,omitempty"` // ReadOnly, WriteOnly or All
	IncludeManagementEvents       *bool          `json:"IncludeManagementEvents,omitempty"`
	DataResources                 []DataResource `json:"DataResources"`
	ExcludeManagementEventSources []string       `json:"ExcludeManagementEventSources"`
}

// ManagementEvents reports whether the selector logs management events (the default).
func (e EventSelector) ManagementEvents() bool {
	return e.IncludeManagementEvents == nil || *e.IncludeManagementEvents
}

// DataResource names data-event resources of one type by ARN or ARN prefix.
type DataResource struct {
	Type   string   `json:"Type,omitempty"`
	Values []string `json:"Values"`
}

// AdvancedEventSelector selects events by conditions on record fields; its field selectors
// are ANDed, and a trail's advanced selectors are ORed.
type AdvancedEventSelector struct {
	Name           string                  `json:"Name,omitempty"`
	FieldSelectors []AdvancedFieldSelector `json:"FieldSelectors"`
}

// AdvancedFieldSelector is one condition of an advanced event selector.
type AdvancedFieldSelector struct {
	Field         string   `json:"Field"`
	Equals        []string `json:"Equals,omitempty"`
	StartsWith    []string `json:"StartsWith,omitempty"`
	EndsWith      []string `json:"EndsWith,omitempty"`
	NotEquals     []string `json:"NotEquals,omitempty"`
	NotStartsWith []string `json:"NotStartsWith,omitempty"`
	NotEndsWith   []string `json:"NotEndsWith,omitempty"`
}

// Read/write types of basic event selectors.
const (
	ReadWriteAll       = "All"
	ReadWriteReadOnly  = "ReadOnly"
	ReadWriteWriteOnly = "WriteOnly"
)

// Event categories of advanced event selectors on trails.
const (
	CategoryManagement      = "Management"
	CategoryData            = "Data"
	CategoryNetworkActivity = "NetworkActivity"
)

// Limits on selectors (CloudTrail quotas; none is adjustable).
const (
	MaxEventSelectors     = 5    // basic event selectors per trail
	MaxDataResources      = 250  // data-resource values across a trail's basic selectors
	MaxAdvancedConditions = 500  // condition values across a trail's advanced selectors
	maxSelectorNameLen    = 1000 // AdvancedEventSelector.Name
	maxOperatorValueLen   = 2048 // each condition value
	maxFieldNameLen       = 1000
)

// DefaultEventSelectors is what a new trail logs: all management events, no data events.
func DefaultEventSelectors() []EventSelector {
	t := true
	return []EventSelector{{ReadWriteType: ReadWriteAll, IncludeManagementEvents: &t, DataResources: []DataResource{}, ExcludeManagementEventSources: []string{}}}
}

// ValidateSelectors checks the selectors of a PutEventSelectors request against AWS's rules
// and limits and returns them as they are stored and echoed: defaults filled in (ReadWriteType
// All, IncludeManagementEvents true) and empty lists present. Exactly one of basic and advanced
// must be non-empty. Every failure is an InvalidEventSelectorsException.
func ValidateSelectors(basic []EventSelector, advanced []AdvancedEventSelector) ([]EventSelector, []AdvancedEventSelector, error) {
	switch {
	case len(basic) > 0 && len(advanced) > 0:
		return nil, nil, errSelectors("You can specify EventSelectors or AdvancedEventSelectors in a PutEventSelectors request, but not both.")
	case len(basic) == 0 && len(advanced) == 0:
		return nil, nil, errSelectors("You must specify either EventSelectors (1 to %d) or AdvancedEventSelectors (at least 1).", MaxEventSelectors)
	case len(basic) > 0:
		out, err := ValidateEventSelectors(basic)
		return out, nil, err
	default:
		out, err := ValidateAdvancedEventSelectors(advanced)
		return nil, out, err
	}
}

var excludableSources = []string{"kms.amazonaws.com", "rdsdata.amazonaws.com"}

// basicDataTypes are the resource types basic event selectors accept.
var basicDataTypes = []string{"AWS::S3::Object", "AWS::Lambda::Function", "AWS::DynamoDB::Table"}

// ValidateEventSelectors checks basic event selectors: 1 to 5 selectors; ReadWriteType one of
// ReadOnly, WriteOnly, All; ExcludeManagementEventSources only kms.amazonaws.com and
// rdsdata.amazonaws.com; data resources of type AWS::S3::Object, AWS::Lambda::Function or
// AWS::DynamoDB::Table with well-formed ARN values; at most 250 data-resource values in total
// (values that select every resource of a type do not count). It returns a normalized copy.
func ValidateEventSelectors(sels []EventSelector) ([]EventSelector, error) {
	if len(sels) == 0 || len(sels) > MaxEventSelectors {
		return nil, errSelectors("A trail can have 1 to %d event selectors; the request has %d.", MaxEventSelectors, len(sels))
	}
	out := make([]EventSelector, 0, len(sels))
	total := 0
	for _, s := range sels {
		n := EventSelector{ReadWriteType: s.ReadWriteType, DataResources: []DataResource{}, ExcludeManagementEventSources: []string{}}
		switch s.ReadWriteType {
		case "":
			n.ReadWriteType = ReadWriteAll
		case ReadWriteAll, ReadWriteReadOnly, ReadWriteWriteOnly:
		default:
			return nil, errSelectors("Value %s for ReadWriteType is invalid. Valid values are ReadOnly, WriteOnly and All.", s.ReadWriteType)
		}
		mgmt := s.ManagementEvents()
		n.IncludeManagementEvents = &mgmt
		for _, src := range s.ExcludeManagementEventSources {
			if !slices.Contains(excludableSources, src) {
				return nil, errSelectors("Value %s for ExcludeManagementEventSources is invalid. Only kms.amazonaws.com and rdsdata.amazonaws.com can be excluded.", src)
			}
			if !slices.Contains(n.ExcludeManagementEventSources, src) {
				n.ExcludeManagementEventSources = append(n.ExcludeManagementEventSources, src)
			}
		}
		for _, dr := range s.DataResources {
			if !slices.Contains(basicDataTypes, dr.Type) {
				return nil, errSelectors("Value %s for DataResources.Type is invalid. Basic event selectors support AWS::S3::Object, AWS::Lambda::Function and AWS::DynamoDB::Table; use advanced event selectors for other resource types.", dr.Type)
			}
			if len(dr.Values) == 0 {
				return nil, errSelectors("DataResources.Values for %s must contain at least one value.", dr.Type)
			}
			for _, v := range dr.Values {
				all, ok := checkDataResourceValue(dr.Type, v)
				if !ok {
					return nil, errSelectors("Value %s for DataResources.Values is invalid.", v)
				}
				if !all {
					total++
				}
			}
			n.DataResources = append(n.DataResources, DataResource{Type: dr.Type, Values: slices.Clone(dr.Values)})
		}
		out = append(out, n)
	}
	if total > MaxDataResources {
		return nil, errSelectors("A trail can have at most %d data resources across all event selectors; the request has %d.", MaxDataResources, total)
	}
	return out, nil
}

const partitionRE = `arn:(?:aws|aws-cn|aws-us-gov)`

var (
	s3AllRE       = regexp.MustCompile(`^` + partitionRE + `:s3(?::::?)?$`)
	s3ObjectRE    = regexp.MustCompile(`^` + partitionRE + `:s3:::([^/]+)/(.*)$`)
	lambdaAllRE   = regexp.MustCompile(`^` + partitionRE + `:lambda$`)
	lambdaFuncRE  = regexp.MustCompile(`^` + partitionRE + `:lambda:[a-z0-9-]+:[0-9]{12}:function:[A-Za-z0-9_-]{1,64}(?::[A-Za-z0-9$_-]{1,128})?$`)
	dynamoAllRE   = regexp.MustCompile(`^` + partitionRE + `:dynamodb$`)
	dynamoTableRE = regexp.MustCompile(`^` + partitionRE + `:dynamodb:[a-z0-9-]+:[0-9]{12}:table/[A-Za-z0-9_.-]{3,255}$`)
)

// checkDataResourceValue checks one DataResources value of a basic selector: whether it is
// well formed, and whether it selects every resource of its type.
func checkDataResourceValue(typ, v string) (all, ok bool) {
	if len(v) > maxOperatorValueLen {
		return false, false
	}
	switch typ {
	case "AWS::S3::Object":
		if s3AllRE.MatchString(v) {
			return true, true
		}
		m := s3ObjectRE.FindStringSubmatch(v)
		return false, m != nil && blob.ValidBucketName(m[1])
	case "AWS::Lambda::Function":
		if lambdaAllRE.MatchString(v) {
			return true, true
		}
		return false, lambdaFuncRE.MatchString(v)
	case "AWS::DynamoDB::Table":
		if dynamoAllRE.MatchString(v) {
			return true, true
		}
		return false, dynamoTableRE.MatchString(v)
	}
	return false, false
}

// Advanced selector fields allowed on trails, by event category.
var (
	managementFields = []string{"eventCategory", "eventSource", "readOnly"}
	dataFields       = []string{"eventCategory", "eventName", "eventSource", "eventType", "resources.type", "readOnly", "resources.ARN", "sessionCredentialFromConsole", "userIdentity.arn"}
	networkFields    = []string{"eventCategory", "eventSource", "eventName", "errorCode", "vpcEndpointId", "userIdentity.arn"}
	// equalsOnlyFields accept only the Equals operator.
	equalsOnlyFields = []string{"eventCategory", "resources.type", "readOnly", "errorCode"}
	// singleFields may appear at most once in a selector.
	singleFields = []string{"eventCategory", "resources.type", "readOnly"}
	// edsOnlyCategories exist for event data stores only.
	edsOnlyCategories = []string{"Insight", "ConfigurationItem", "ActivityAuditLog"}

	resourceTypeRE = regexp.MustCompile(`^AWS::[A-Za-z0-9]+::[A-Za-z0-9]+$`)
	fieldNameRE    = regexp.MustCompile(`^[\w|\d|.|_]+$`)
)

func knownField(f string) bool {
	return slices.Contains(dataFields, f) || slices.Contains(networkFields, f)
}

// operators returns a field selector's operator lists by name, in model order.
func (f AdvancedFieldSelector) operators() []struct {
	name   string
	values []string
} {
	return []struct {
		name   string
		values []string
	}{
		{"Equals", f.Equals}, {"StartsWith", f.StartsWith}, {"EndsWith", f.EndsWith},
		{"NotEquals", f.NotEquals}, {"NotStartsWith", f.NotStartsWith}, {"NotEndsWith", f.NotEndsWith},
	}
}

// ValidateAdvancedEventSelectors checks advanced event selectors as AWS checks them for a
// trail: every selector has at least one field selector and exactly one eventCategory
// condition (Equals Management, Data or NetworkActivity); fields are those allowed for the
// category (Data requires resources.type, NetworkActivity requires eventSource); readOnly,
// eventCategory, resources.type and errorCode accept only Equals; every operator list holds
// 1 or more values of 1–2048 characters; and the selectors hold at most 500 condition values
// in total. It returns a copy.
func ValidateAdvancedEventSelectors(sels []AdvancedEventSelector) ([]AdvancedEventSelector, error) {
	if len(sels) == 0 {
		return nil, errSelectors("AdvancedEventSelectors must contain at least one selector.")
	}
	total := 0
	out := make([]AdvancedEventSelector, 0, len(sels))
	for i, s := range sels {
		label := selectorLabel(i, s.Name)
		if len(s.Name) > maxSelectorNameLen {
			return nil, errSelectors("The name of advanced event selector %d is longer than %d characters.", i+1, maxSelectorNameLen)
		}
		if len(s.FieldSelectors) == 0 {
			return nil, errSelectors("Advanced event selector %s must contain at least one field selector.", label)
		}
		seen := map[string]bool{}
		category := ""
		for _, fs := range s.FieldSelectors {
			n, err := checkFieldSelector(label, fs)
			if err != nil {
				return nil, err
			}
			total += n
			if slices.Contains(singleFields, fs.Field) {
				if seen[fs.Field] {
					return nil, errSelectors("Advanced event selector %s specifies the field %s more than once.", label, fs.Field)
				}
			}
			seen[fs.Field] = true
			if fs.Field == "eventCategory" {
				category = fs.Equals[0]
			}
		}
		if category == "" {
			return nil, errSelectors("Advanced event selector %s must contain an eventCategory field selector with the Equals operator.", label)
		}
		var allowed []string
		switch category {
		case CategoryManagement:
			allowed = managementFields
		case CategoryData:
			allowed = dataFields
			if !seen["resources.type"] {
				return nil, errSelectors("Advanced event selector %s selects data events and must contain a resources.type field selector.", label)
			}
		case CategoryNetworkActivity:
			allowed = networkFields
			if !seen["eventSource"] {
				return nil, errSelectors("Advanced event selector %s selects network activity events and must contain an eventSource field selector.", label)
			}
		}
		for _, fs := range s.FieldSelectors {
			if !slices.Contains(allowed, fs.Field) {
				return nil, errSelectors("Field %s is not supported for %s events in advanced event selector %s. Supported fields: %s.", fs.Field, category, label, strings.Join(allowed, ", "))
			}
			if err := checkFieldValues(label, category, fs); err != nil {
				return nil, err
			}
		}
		out = append(out, cloneAdvanced(s))
	}
	if total > MaxAdvancedConditions {
		return nil, errSelectors("Advanced event selectors can have at most %d condition values in total per trail; the request has %d.", MaxAdvancedConditions, total)
	}
	return out, nil
}

func selectorLabel(i int, name string) string {
	if name != "" && len(name) <= 100 {
		return "\"" + name + "\""
	}
	return "#" + strconv.Itoa(i+1)
}

// checkFieldSelector checks a field selector's field name and operator lists on their own,
// and returns its number of condition values.
func checkFieldSelector(label string, fs AdvancedFieldSelector) (int, error) {
	if fs.Field == "" || len(fs.Field) > maxFieldNameLen || !fieldNameRE.MatchString(fs.Field) || !knownField(fs.Field) {
		return 0, errSelectors("Field %q in advanced event selector %s is not supported. Supported fields for trails: eventCategory, eventSource, eventName, eventType, readOnly, resources.type, resources.ARN, sessionCredentialFromConsole, userIdentity.arn, errorCode, vpcEndpointId.", fs.Field, label)
	}
	count, ops := 0, 0
	for _, op := range fs.operators() {
		if op.values == nil {
			continue
		}
		ops++
		if len(op.values) == 0 {
			return 0, errSelectors("The %s operator of field %s in advanced event selector %s must have at least one value.", op.name, fs.Field, label)
		}
		if op.name != "Equals" && slices.Contains(equalsOnlyFields, fs.Field) {
			return 0, errSelectors("Field %s in advanced event selector %s supports only the Equals operator.", fs.Field, label)
		}
		for _, v := range op.values {
			if v == "" || len(v) > maxOperatorValueLen {
				return 0, errSelectors("Values of field %s in advanced event selector %s must be 1 to %d characters long.", fs.Field, label, maxOperatorValueLen)
			}
		}
		count += len(op.values)
	}
	if ops == 0 {
		return 0, errSelectors("Field %s in advanced event selector %s must have at least one operator (Equals, StartsWith, EndsWith, NotEquals, NotStartsWith or NotEndsWith).", fs.Field, label)
	}
	if fs.Field == "eventCategory" && len(fs.Equals) != 1 {
		return 0, errSelectors("The eventCategory field in advanced event selector %s must have exactly one value.", label)
	}
	if fs.Field == "eventCategory" {
		switch c := fs.Equals[0]; {
		case c == CategoryManagement || c == CategoryData || c == CategoryNetworkActivity:
		case slices.Contains(edsOnlyCategories, c):
			return 0, errSelectors("eventCategory %s is supported only by event data stores, not by trails.", c)
		default:
			return 0, errSelectors("Value %s for eventCategory is invalid. Valid values for trails are Management, Data and NetworkActivity.", c)
		}
	}
	return count, nil
}

// checkFieldValues checks the values of a field selector whose field is allowed for the
// selector's category.
func checkFieldValues(label, category string, fs AdvancedFieldSelector) error {
	switch fs.Field {
	case "readOnly":
		if len(fs.Equals) != 1 || (fs.Equals[0] != "true" && fs.Equals[0] != "false") {
			return errSelectors("The readOnly field in advanced event selector %s must be Equals \"true\" or \"false\".", label)
		}
	case "resources.type":
		if len(fs.Equals) != 1 || !resourceTypeRE.MatchString(fs.Equals[0]) {
			return errSelectors("The resources.type field in advanced event selector %s must be Equals exactly one resource type, such as AWS::S3::Object.", label)
		}
	case "errorCode":
		for _, v := range fs.Equals {
			if v != "VpceAccessDenied" {
				return errSelectors("Value %s for errorCode is invalid. The only valid value is VpceAccessDenied.", v)
			}
		}
	case "sessionCredentialFromConsole":
		if fs.StartsWith != nil || fs.EndsWith != nil || fs.NotStartsWith != nil || fs.NotEndsWith != nil {
			return errSelectors("The sessionCredentialFromConsole field in advanced event selector %s supports only the Equals and NotEquals operators.", label)
		}
		for _, v := range append(slices.Clone(fs.Equals), fs.NotEquals...) {
			if v != "true" && v != "false" {
				return errSelectors("Value %s for sessionCredentialFromConsole is invalid. Valid values are true and false.", v)
			}
		}
	case "eventSource":
		switch category {
		case CategoryManagement:
			if fs.NotEquals == nil || fs.Equals != nil || fs.StartsWith != nil || fs.EndsWith != nil || fs.NotStartsWith != nil || fs.NotEndsWith != nil {
				return errSelectors("For management events, the eventSource field in advanced event selector %s supports only the NotEquals operator.", label)
			}
			for _, v := range fs.NotEquals {
				if !slices.Contains(excludableSources, v) {
					return errSelectors("Value %s for eventSource is invalid. Management events can exclude only kms.amazonaws.com and rdsdata.amazonaws.com.", v)
				}
			}
		case CategoryNetworkActivity:
			if fs.Equals == nil || fs.StartsWith != nil || fs.EndsWith != nil || fs.NotEquals != nil || fs.NotStartsWith != nil || fs.NotEndsWith != nil {
				return errSelectors("For network activity events, the eventSource field in advanced event selector %s supports only the Equals operator.", label)
			}
			for _, v := range fs.Equals {
				if !strings.HasSuffix(v, ".amazonaws.com") || len(v) == len(".amazonaws.com") {
					return errSelectors("Value %s for eventSource is invalid. Network activity events need an AWS service event source such as ec2.amazonaws.com.", v)
				}
			}
		}
	}
	return nil
}

func cloneAdvanced(s AdvancedEventSelector) AdvancedEventSelector {
	c := AdvancedEventSelector{Name: s.Name, FieldSelectors: make([]AdvancedFieldSelector, len(s.FieldSelectors))}
	for i, f := range s.FieldSelectors {
		c.FieldSelectors[i] = AdvancedFieldSelector{
			Field: f.Field, Equals: slices.Clone(f.Equals), StartsWith: slices.Clone(f.StartsWith),
			EndsWith: slices.Clone(f.EndsWith), NotEquals: slices.Clone(f.NotEquals),
			NotStartsWith: slices.Clone(f.NotStartsWith), NotEndsWith: slices.Clone(f.NotEndsWith),
		}
	}
	return c
}

// --- operations ---

type putEventSelectorsInput struct {
	TrailName              string                  `json:"TrailName"`
	EventSelectors         []EventSelector         `json:"EventSelectors,omitempty"`
	AdvancedEventSelectors []AdvancedEventSelector `json:"AdvancedEventSelectors,omitempty"`
}

type eventSelectorsOutput struct {
	TrailARN               string                  `json:"TrailARN,omitempty"`
	EventSelectors         []EventSelector         `json:"EventSelectors,omitempty"`
	AdvancedEventSelectors []AdvancedEventSelector `json:"AdvancedEventSelectors,omitempty"`
}

func (s *Service) putEventSelectors(ctx context.Context, c *server.Call, in *putEventSelectorsInput) (*eventSelectorsOutput, error) {
	basic, advanced, err := ValidateSelectors(in.EventSelectors, in.AdvancedEventSelectors)
	if err != nil {
		return nil, err
	}
	t, err := s.mutate(c, "PutEventSelectors", in.TrailName, func(t *Trail) error {
		if why := insightPrerequisites(t.InsightSelectors, basic, advanced); why != "" {
			return errSelectors("These event selectors would stop events that the trail's Insights selectors need: %s Change or remove the Insights selectors first.", why)
		}
		t.EventSelectors, t.AdvancedEventSelectors = basic, advanced
		t.HasCustomEventSelectors = true
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &eventSelectorsOutput{TrailARN: t.ARN(), EventSelectors: t.EventSelectors, AdvancedEventSelectors: t.AdvancedEventSelectors}, nil
}

type getEventSelectorsInput struct {
	TrailName string `json:"TrailName"`
}

func (s *Service) getEventSelectors(ctx context.Context, c *server.Call, in *getEventSelectorsInput) (*eventSelectorsOutput, error) {
	t, err := s.lookup(c, in.TrailName)
	if err != nil {
		return nil, err
	}
	c.AddResource(resourceType, t.ARN())
	return &eventSelectorsOutput{TrailARN: t.ARN(), EventSelectors: t.EventSelectors, AdvancedEventSelectors: t.AdvancedEventSelectors}, nil
}
