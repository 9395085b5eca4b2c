package cloudtrail

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/opentrail/opentrail"
)

func bp(b bool) *bool { return &b }

func fieldSel(field string, op string, values ...string) AdvancedFieldSelector {
	f := AdvancedFieldSelector{Field: field}
	switch op {
	case "Equals":
		f.Equals = values
	case "StartsWith":
		f.StartsWith = values
	case "EndsWith":
		f.EndsWith = values
	case "NotEquals":
		f.NotEquals = values
	case "NotStartsWith":
		f.NotStartsWith = values
	case "NotEndsWith":
		f.NotEndsWith = values
	}
	return f
}

func adv(name string, fs ...AdvancedFieldSelector) AdvancedEventSelector {
	return AdvancedEventSelector{Name: name, FieldSelectors: fs}
}

func s3Values(n int) []string {
	v := make([]string, n)
	for i := range v {
		v[i] = fmt.Sprintf("arn:aws:s3:::bucket-%d/", i)
	}
	return v
}

func TestValidateEventSelectors(t *testing.T) {
	tests := []struct {
		name string
		sels []EventSelector
		msg  string // "" = valid; else substring of the InvalidEventSelectorsException message
	}{
		{"default", []EventSelector{{}}, ""},
		{"write only, excluded kms", []EventSelector{{ReadWriteType: "WriteOnly", ExcludeManagementEventSources: []string{"kms.amazonaws.com", "rdsdata.amazonaws.com"}}}, ""},
		{"s3 all", []EventSelector{{DataResources: []DataResource{{Type: "AWS::S3::Object", Values: []string{"arn:aws:s3"}}}}}, ""},
		{"s3 all colons", []EventSelector{{DataResources: []DataResource{{Type: "AWS::S3::Object", Values: []string{"arn:aws:s3:::"}}}}}, ""},
		{"s3 bucket and prefix", []EventSelector{{DataResources: []DataResource{{Type: "AWS::S3::Object", Values: []string{"arn:aws:s3:::my-bucket/", "arn:aws:s3:::my-bucket/logs/2024"}}}}}, ""},
		{"lambda", []EventSelector{{DataResources: []DataResource{{Type: "AWS::Lambda::Function", Values: []string{"arn:aws:lambda", "arn:aws:lambda:us-west-2:111111111111:function:helloworld", "arn:aws:lambda:us-west-2:111111111111:function:hello:prod"}}}}}, ""},
		{"dynamodb", []EventSelector{{DataResources: []DataResource{{Type: "AWS::DynamoDB::Table", Values: []string{"arn:aws:dynamodb", "arn:aws:dynamodb:us-east-1:111111111111:table/my_table"}}}}}, ""},
		{"five", []EventSelector{{}, {}, {}, {}, {}}, ""},
		{"250 resources", []EventSelector{{DataResources: []DataResource{{Type: "AWS::S3::Object", Values: s3Values(250)}}}}, ""},
		{"all-values do not count", []EventSelector{{DataResources: []DataResource{{Type: "AWS::S3::Object", Values: append(s3Values(250), "arn:aws:s3")}}}}, ""},

		{"empty", []EventSelector{}, "1 to 5 event selectors"},
		{"six", []EventSelector{{}, {}, {}, {}, {}, {}}, "1 to 5 event selectors; the request has 6"},
		{"bad read write", []EventSelector{{ReadWriteType: "read-only"}}, "Value read-only for ReadWriteType is invalid"},
		{"bad exclusion", []EventSelector{{ExcludeManagementEventSources: []string{"s3.amazonaws.com"}}}, "Value s3.amazonaws.com for ExcludeManagementEventSources is invalid"},
		{"bad type", []EventSelector{{DataResources: []DataResource{{Type: "AWS::EC2::Snapshot", Values: []string{"arn:aws:ec2"}}}}}, "Value AWS::EC2::Snapshot for DataResources.Type is invalid"},
		{"no values", []EventSelector{{DataResources: []DataResource{{Type: "AWS::S3::Object"}}}}, "at least one value"},
		{"s3 wildcard", []EventSelector{{DataResources: []DataResource{{Type: "AWS::S3::Object", Values: []string{"arn:aws:s3:::*"}}}}}, "Value arn:aws:s3:::* for DataResources.Values is invalid."},
		{"s3 bucket without slash", []EventSelector{{DataResources: []DataResource{{Type: "AWS::S3::Object", Values: []string{"arn:aws:s3:::my-bucket"}}}}}, "is invalid"},
		{"s3 bad bucket", []EventSelector{{DataResources: []DataResource{{Type: "AWS::S3::Object", Values: []string{"arn:aws:s3:::My_Bucket/"}}}}}, "is invalid"},
		{"lambda wildcard", []EventSelector{{DataResources: []DataResource{{Type: "AWS::Lambda::Function", Values: []string{"arn:aws:lambda:*"}}}}}, "Value arn:aws:lambda:* for DataResources.Values is invalid."},
		{"s3 arn for lambda", []EventSelector{{DataResources: []DataResource{{Type: "AWS::Lambda::Function", Values: []string{"arn:aws:s3"}}}}}, "is invalid"},
		{"251 resources", []EventSelector{{DataResources: []DataResource{{Type: "AWS::S3::Object", Values: s3Values(200)}}}, {DataResources: []DataResource{{Type: "AWS::S3::Object", Values: s3Values(51)}}}}, "at most 250 data resources across all event selectors; the request has 251"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ValidateEventSelectors(tt.sels)
			checkSelectorErr(t, err, tt.msg)
			if err == nil {
				for _, s := range got {
					if s.ReadWriteType == "" || s.IncludeManagementEvents == nil || s.DataResources == nil || s.ExcludeManagementEventSources == nil {
						t.Errorf("not normalized: %+v", s)
					}
				}
			}
		})
	}
}

func TestValidateEventSelectorsNormalizes(t *testing.T) {
	got, err := ValidateEventSelectors([]EventSelector{{}})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, DefaultEventSelectors()) {
		t.Fatalf("normalized {} = %+v; want the default selector %+v", got, DefaultEventSelectors())
	}
	b, _ := json.Marshal(got)
	if want := `[{"ReadWriteType":"All","IncludeManagementEvents":true,"DataResources":[],"ExcludeManagementEventSources":[]}]`; string(b) != want {
		t.Fatalf("wire form %s; want %s", b, want)
	}
	got, _ = ValidateEventSelectors([]EventSelector{{IncludeManagementEvents: bp(false)}})
	if *got[0].IncludeManagementEvents {
		t.Fatal("IncludeManagementEvents false became true")
	}
}

func TestValidateAdvancedEventSelectors(t *testing.T) {
	mgmt := fieldSel("eventCategory", "Equals", "Management")
	data := fieldSel("eventCategory", "Equals", "Data")
	net := fieldSel("eventCategory", "Equals", "NetworkActivity")
	s3 := fieldSel("resources.type", "Equals", "AWS::S3::Object")
	many := make([]string, 498) // + eventCategory + resources.type = 500 values
	for i := range many {
		many[i] = fmt.Sprintf("Get%d", i)
	}
	tests := []struct {
		name string
		sels []AdvancedEventSelector
		msg  string
	}{
		{"management", []AdvancedEventSelector{adv("Log all management events", mgmt)}, ""},
		{"management write, no kms", []AdvancedEventSelector{adv("", mgmt, fieldSel("readOnly", "Equals", "false"), fieldSel("eventSource", "NotEquals", "kms.amazonaws.com", "rdsdata.amazonaws.com"))}, ""},
		{"s3 data", []AdvancedEventSelector{adv("s3", data, s3, fieldSel("resources.ARN", "StartsWith", "arn:aws:s3:::bucket/"), fieldSel("eventName", "NotEquals", "GetObject"), fieldSel("readOnly", "Equals", "true"))}, ""},
		{"data all fields", []AdvancedEventSelector{adv("", data, fieldSel("resources.type", "Equals", "AWS::DynamoDB::Stream"), fieldSel("eventSource", "Equals", "dynamodb.amazonaws.com"), fieldSel("eventType", "Equals", "AwsApiCall"), fieldSel("sessionCredentialFromConsole", "NotEquals", "true"), fieldSel("userIdentity.arn", "NotStartsWith", "arn:aws:sts::123456789012:assumed-role/x"), fieldSel("resources.ARN", "EndsWith", ".json"), fieldSel("resources.ARN", "NotEndsWith", ".tmp"))}, ""},
		{"network", []AdvancedEventSelector{adv("vpce", net, fieldSel("eventSource", "Equals", "ec2.amazonaws.com", "kms.amazonaws.com"), fieldSel("errorCode", "Equals", "VpceAccessDenied"), fieldSel("vpcEndpointId", "NotEquals", "vpce-1234"))}, ""},
		{"500 values", []AdvancedEventSelector{adv("", data, s3, fieldSel("eventName", "Equals", many...))}, ""},

		{"empty", []AdvancedEventSelector{}, "at least one selector"},
		{"no field selectors", []AdvancedEventSelector{adv("x")}, "must contain at least one field selector"},
		{"long name", []AdvancedEventSelector{adv(strings.Repeat("n", 1001), mgmt)}, "longer than 1000"},
		{"no category", []AdvancedEventSelector{adv("", fieldSel("readOnly", "Equals", "true"))}, "must contain an eventCategory field selector"},
		{"unknown field", []AdvancedEventSelector{adv("", mgmt, fieldSel("awsRegion", "Equals", "us-east-1"))}, `Field "awsRegion"`},
		{"bad field chars", []AdvancedEventSelector{adv("", mgmt, fieldSel("event Name", "Equals", "x"))}, "is not supported"},
		{"no operator", []AdvancedEventSelector{adv("", mgmt, AdvancedFieldSelector{Field: "readOnly"})}, "at least one operator"},
		{"empty operator", []AdvancedEventSelector{adv("", mgmt, AdvancedFieldSelector{Field: "eventName", Equals: []string{}})}, "must have at least one value"},
		{"empty value", []AdvancedEventSelector{adv("", data, s3, fieldSel("eventName", "Equals", ""))}, "1 to 2048 characters"},
		{"long value", []AdvancedEventSelector{adv("", data, s3, fieldSel("eventName", "Equals", strings.Repeat("x", 2049)))}, "1 to 2048 characters"},
		{"category not equals", []AdvancedEventSelector{adv("", fieldSel("eventCategory", "NotEquals", "Data"))}, "supports only the Equals operator"},
		{"category two values", []AdvancedEventSelector{adv("", fieldSel("eventCategory", "Equals", "Management", "Data"))}, "exactly one value"},
		{"category bad", []AdvancedEventSelector{adv("", fieldSel("eventCategory", "Equals", "Everything"))}, "Value Everything for eventCategory is invalid"},
		{"category eds only", []AdvancedEventSelector{adv("", fieldSel("eventCategory", "Equals", "Insight"))}, "only by event data stores"},
		{"category twice", []AdvancedEventSelector{adv("", mgmt, mgmt)}, "more than once"},
		{"data without type", []AdvancedEventSelector{adv("", data)}, "must contain a resources.type field selector"},
		{"type twice", []AdvancedEventSelector{adv("", data, s3, s3)}, "more than once"},
		{"type starts with", []AdvancedEventSelector{adv("", data, fieldSel("resources.type", "StartsWith", "AWS::S3"))}, "supports only the Equals operator"},
		{"type malformed", []AdvancedEventSelector{adv("", data, fieldSel("resources.type", "Equals", "S3 objects"))}, "exactly one resource type"},
		{"readOnly bad", []AdvancedEventSelector{adv("", mgmt, fieldSel("readOnly", "Equals", "yes"))}, `"true" or "false"`},
		{"readOnly not equals", []AdvancedEventSelector{adv("", mgmt, fieldSel("readOnly", "NotEquals", "true"))}, "supports only the Equals operator"},
		{"mgmt eventName", []AdvancedEventSelector{adv("", mgmt, fieldSel("eventName", "Equals", "RunInstances"))}, "Field eventName is not supported for Management events"},
		{"mgmt eventSource equals", []AdvancedEventSelector{adv("", mgmt, fieldSel("eventSource", "Equals", "ec2.amazonaws.com"))}, "supports only the NotEquals operator"},
		{"mgmt eventSource other", []AdvancedEventSelector{adv("", mgmt, fieldSel("eventSource", "NotEquals", "s3.amazonaws.com"))}, "Value s3.amazonaws.com for eventSource is invalid"},
		{"network without source", []AdvancedEventSelector{adv("", net)}, "must contain an eventSource field selector"},
		{"network source not equals", []AdvancedEventSelector{adv("", net, fieldSel("eventSource", "NotEquals", "ec2.amazonaws.com"))}, "supports only the Equals operator"},
		{"network bad source", []AdvancedEventSelector{adv("", net, fieldSel("eventSource", "Equals", "ec2"))}, "Value ec2 for eventSource is invalid"},
		{"network bad error code", []AdvancedEventSelector{adv("", net, fieldSel("eventSource", "Equals", "ec2.amazonaws.com"), fieldSel("errorCode", "Equals", "AccessDenied"))}, "Value AccessDenied for errorCode is invalid"},
		{"network resources.type", []AdvancedEventSelector{adv("", net, fieldSel("eventSource", "Equals", "ec2.amazonaws.com"), s3)}, "not supported for NetworkActivity events"},
		{"console bad", []AdvancedEventSelector{adv("", data, s3, fieldSel("sessionCredentialFromConsole", "Equals", "maybe"))}, "Value maybe for sessionCredentialFromConsole"},
		{"console starts", []AdvancedEventSelector{adv("", data, s3, fieldSel("sessionCredentialFromConsole", "StartsWith", "t"))}, "only the Equals and NotEquals operators"},
		{"501 values", []AdvancedEventSelector{adv("", data, s3, fieldSel("eventName", "Equals", many...)), adv("", mgmt)}, "at most 500 condition values in total per trail; the request has 501"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ValidateAdvancedEventSelectors(tt.sels)
			checkSelectorErr(t, err, tt.msg)
		})
	}
}

func TestValidateSelectorsExclusive(t *testing.T) {
	_, _, err := ValidateSelectors([]EventSelector{{}}, []AdvancedEventSelector{adv("", fieldSel("eventCategory", "Equals", "Management"))})
	checkSelectorErr(t, err, "but not both")
	_, _, err = ValidateSelectors(nil, nil)
	checkSelectorErr(t, err, "must specify either")
	b, a, err := ValidateSelectors([]EventSelector{{}}, []AdvancedEventSelector{})
	if err != nil || len(b) != 1 || a != nil {
		t.Fatalf("basic with empty advanced = %v, %v, %v", b, a, err)
	}
}

func checkSelectorErr(t *testing.T, err error, msg string) {
	t.Helper()
	if msg == "" {
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
		return
	}
	e := opentrail.ErrorOf(err)
	if e == nil || e.Code != CodeInvalidEventSelectors || !strings.Contains(e.Message, msg) {
		t.Fatalf("error = %v; want %s containing %q", err, CodeInvalidEventSelectors, msg)
	}
}

func TestValidateInsightSelectors(t *testing.T) {
	tests := []struct {
		sels []InsightSelector
		msg  string
	}{
		{nil, ""},
		{[]InsightSelector{}, ""},
		{[]InsightSelector{{InsightType: "ApiCallRateInsight"}, {InsightType: "ApiErrorRateInsight", EventCategories: []string{"Management", "Data"}}}, ""},
		{[]InsightSelector{{InsightType: "ApiCallRateInsight"}, {InsightType: "ApiCallRateInsight"}}, "more than once"},
		{[]InsightSelector{{InsightType: "Anomalies"}}, "Value Anomalies for InsightType is invalid"},
		{[]InsightSelector{{}}, "must have an InsightType"},
		{[]InsightSelector{{InsightType: "ApiCallRateInsight", EventCategories: []string{"Network"}}}, "Value Network for EventCategories is invalid"},
	}
	for _, tt := range tests {
		_, err := ValidateInsightSelectors(tt.sels)
		if tt.msg == "" {
			if err != nil {
				t.Errorf("ValidateInsightSelectors(%+v) = %v", tt.sels, err)
			}
			continue
		}
		if e := opentrail.ErrorOf(err); e == nil || e.Code != CodeInvalidInsightSelectors || !strings.Contains(e.Message, tt.msg) {
			t.Errorf("ValidateInsightSelectors(%+v) = %v; want %q", tt.sels, err, tt.msg)
		}
	}
}

func TestInsightPrerequisites(t *testing.T) {
	callRate := []InsightSelector{{InsightType: InsightAPICallRate}}
	errRate := []InsightSelector{{InsightType: InsightAPIErrorRate}}
	dataIns := []InsightSelector{{InsightType: InsightAPICallRate, EventCategories: []string{"Data"}}}
	readOnly := []EventSelector{{ReadWriteType: "ReadOnly", IncludeManagementEvents: bp(true)}}
	noMgmt := []EventSelector{{ReadWriteType: "All", IncludeManagementEvents: bp(false), DataResources: []DataResource{{Type: "AWS::S3::Object", Values: []string{"arn:aws:s3"}}}}}
	advRead := []AdvancedEventSelector{adv("", fieldSel("eventCategory", "Equals", "Management"), fieldSel("readOnly", "Equals", "true"))}
	advData := []AdvancedEventSelector{adv("", fieldSel("eventCategory", "Equals", "Data"), fieldSel("resources.type", "Equals", "AWS::S3::Object"))}
	tests := []struct {
		name     string
		ins      []InsightSelector
		basic    []EventSelector
		advanced []AdvancedEventSelector
		ok       bool
	}{
		{"default selector", append(callRate, errRate...), DefaultEventSelectors(), nil, true},
		{"call rate needs writes", callRate, readOnly, nil, false},
		{"error rate with reads", errRate, readOnly, nil, true},
		{"error rate without management", errRate, noMgmt, nil, false},
		{"data insights with data", dataIns, noMgmt, nil, true},
		{"data insights without data", dataIns, DefaultEventSelectors(), nil, false},
		{"advanced read only", callRate, nil, advRead, false},
		{"advanced read only error rate", errRate, nil, advRead, true},
		{"advanced data", dataIns, nil, advData, true},
		{"none", nil, readOnly, nil, true},
	}
	for _, tt := range tests {
		got := insightPrerequisites(tt.ins, tt.basic, tt.advanced)
		if (got == "") != tt.ok {
			t.Errorf("%s: insightPrerequisites = %q; want ok=%v", tt.name, got, tt.ok)
		}
	}
}

// FuzzValidateSelectors feeds arbitrary PutEventSelectors bodies to the validator: it must
// never panic, must fail only with InvalidEventSelectorsException, and what it accepts must be
// accepted again unchanged (normalization is idempotent).
func FuzzValidateSelectors(f *testing.F) {
	seeds := []string{
		`{"EventSelectors":[{}]}`,
		`{"EventSelectors":[{"ReadWriteType":"WriteOnly","IncludeManagementEvents":false,"DataResources":[{"Type":"AWS::S3::Object","Values":["arn:aws:s3:::b-1/p","arn:aws:s3"]}],"ExcludeManagementEventSources":["kms.amazonaws.com"]}]}`,
		`{"EventSelectors":[{"DataResources":[{"Type":"AWS::Lambda::Function","Values":["arn:aws:lambda:us-east-1:123456789012:function:f"]}]}]}`,
		`{"AdvancedEventSelectors":[{"Name":"m","FieldSelectors":[{"Field":"eventCategory","Equals":["Management"]},{"Field":"readOnly","Equals":["false"]}]}]}`,
		`{"AdvancedEventSelectors":[{"FieldSelectors":[{"Field":"eventCategory","Equals":["Data"]},{"Field":"resources.type","Equals":["AWS::S3::Object"]},{"Field":"resources.ARN","StartsWith":["arn:aws:s3:::b/"]}]}]}`,
		`{"AdvancedEventSelectors":[{"FieldSelectors":[{"Field":"eventCategory","Equals":["NetworkActivity"]},{"Field":"eventSource","Equals":["ec2.amazonaws.com"]},{"Field":"errorCode","Equals":["VpceAccessDenied"]}]}]}`,
		`{"AdvancedEventSelectors":[{"FieldSelectors":[{"Field":"eventCategory"}]}]}`,
		`{"EventSelectors":[{}],"AdvancedEventSelectors":[{"FieldSelectors":[]}]}`,
		`{}`,
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var in struct {
			EventSelectors         []EventSelector
			AdvancedEventSelectors []AdvancedEventSelector
		}
		if json.Unmarshal(body, &in) != nil {
			return
		}
		basic, advanced, err := ValidateSelectors(in.EventSelectors, in.AdvancedEventSelectors)
		if err != nil {
			if e := opentrail.ErrorOf(err); e == nil || e.Code != CodeInvalidEventSelectors {
				t.Fatalf("error %v is not %s", err, CodeInvalidEventSelectors)
			}
			return
		}
		basic2, advanced2, err := ValidateSelectors(basic, advanced)
		if err != nil {
			t.Fatalf("accepted selectors rejected on second pass: %v", err)
		}
		if !reflect.DeepEqual(basic, basic2) || !reflect.DeepEqual(advanced, advanced2) {
			t.Fatalf("normalization not idempotent:\n%+v\n%+v", basic, basic2)
		}
	})
}
