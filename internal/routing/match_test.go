package routing

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/opentrail/opentrail/internal/cloudtrail"
)

const acct = "123456789012"

func loggingTrail(mod func(*cloudtrail.Trail)) *cloudtrail.Trail {
	t := &cloudtrail.Trail{
		AccountID: acct, Name: "t", HomeRegion: "us-east-1", S3BucketName: "b",
		IncludeGlobalServiceEvents: true, EventSelectors: cloudtrail.DefaultEventSelectors(),
	}
	t.Status.IsLogging = true
	t.Status.StartLoggingTime = time.Date(2026, 1, 1, 0, 0, 0, 500e6, time.UTC)
	if mod != nil {
		mod(t)
	}
	return t
}

func record(t *testing.T, js string) *Record {
	t.Helper()
	var f Record
	if err := json.Unmarshal([]byte(js), &f); err != nil {
		t.Fatal(err)
	}
	tm, err := time.Parse(time.RFC3339, f.EventTime)
	if err != nil {
		t.Fatal(err)
	}
	f.Time = tm
	return &f
}

const (
	mgmtWrite = `{"eventTime":"2026-01-01T00:00:10Z","eventSource":"ec2.amazonaws.com","eventName":"RunInstances","awsRegion":"us-east-1","readOnly":false,"managementEvent":true,"recipientAccountId":"123456789012","eventCategory":"Management"}`
	mgmtRead  = `{"eventTime":"2026-01-01T00:00:10Z","eventSource":"ec2.amazonaws.com","eventName":"DescribeInstances","awsRegion":"us-east-1","readOnly":true,"managementEvent":true,"recipientAccountId":"123456789012","eventCategory":"Management"}`
	kmsRead   = `{"eventTime":"2026-01-01T00:00:10Z","eventSource":"kms.amazonaws.com","eventName":"Decrypt","awsRegion":"us-east-1","readOnly":true,"managementEvent":true,"recipientAccountId":"123456789012","eventCategory":"Management"}`
	iamWrite  = `{"eventTime":"2026-01-01T00:00:10Z","eventSource":"iam.amazonaws.com","eventName":"CreateUser","awsRegion":"us-east-1","readOnly":false,"managementEvent":true,"recipientAccountId":"123456789012","eventCategory":"Management"}`
	westWrite = `{"eventTime":"2026-01-01T00:00:10Z","eventSource":"ec2.amazonaws.com","eventName":"RunInstances","awsRegion":"us-west-2","readOnly":false,"managementEvent":true,"recipientAccountId":"123456789012","eventCategory":"Management"}`
	s3Get     = `{"eventTime":"2026-01-01T00:00:10Z","eventSource":"s3.amazonaws.com","eventName":"GetObject","awsRegion":"us-east-1","readOnly":true,"managementEvent":false,"recipientAccountId":"123456789012","eventCategory":"Data",
		"resources":[{"type":"AWS::S3::Object","ARN":"arn:aws:s3:::logs-bucket/a/b.txt"},{"accountId":"123456789012","type":"AWS::S3::Bucket","ARN":"arn:aws:s3:::logs-bucket"}]}`
	s3Put = `{"eventTime":"2026-01-01T00:00:10Z","eventSource":"s3.amazonaws.com","eventName":"PutObject","awsRegion":"us-east-1","readOnly":false,"managementEvent":false,"recipientAccountId":"123456789012","eventCategory":"Data",
		"resources":[{"type":"AWS::S3::Object","ARN":"arn:aws:s3:::other/x"},{"type":"AWS::S3::Bucket","ARN":"arn:aws:s3:::other"}]}`
	otherAcct = `{"eventTime":"2026-01-01T00:00:10Z","eventSource":"ec2.amazonaws.com","eventName":"RunInstances","awsRegion":"us-east-1","readOnly":false,"managementEvent":true,"recipientAccountId":"999999999999","eventCategory":"Management"}`
	early     = `{"eventTime":"2025-12-31T23:59:59Z","eventSource":"ec2.amazonaws.com","eventName":"RunInstances","awsRegion":"us-east-1","readOnly":false,"managementEvent":true,"recipientAccountId":"123456789012","eventCategory":"Management"}`
	sameSec   = `{"eventTime":"2026-01-01T00:00:00Z","eventSource":"cloudtrail.amazonaws.com","eventName":"StartLogging","awsRegion":"us-east-1","readOnly":false,"managementEvent":true,"recipientAccountId":"123456789012","eventCategory":"Management"}`
	looseRec  = `{"eventTime":"2026-01-01T00:00:10Z","eventSource":"ec2.amazonaws.com","eventName":"DescribeVpcs","awsRegion":"us-east-1","readOnly":"True","managementEvent":"True","recipientAccountId":"123456789012"}`
)

func TestSelects(t *testing.T) {
	f := false
	readOnly := func(tr *cloudtrail.Trail) {
		tr.EventSelectors = []cloudtrail.EventSelector{{ReadWriteType: cloudtrail.ReadWriteReadOnly}}
	}
	writeOnly := func(tr *cloudtrail.Trail) {
		tr.EventSelectors = []cloudtrail.EventSelector{{ReadWriteType: cloudtrail.ReadWriteWriteOnly}}
	}
	excludeKMS := func(tr *cloudtrail.Trail) {
		tr.EventSelectors = []cloudtrail.EventSelector{{ReadWriteType: cloudtrail.ReadWriteAll, ExcludeManagementEventSources: []string{"kms.amazonaws.com"}}}
	}
	s3Data := func(tr *cloudtrail.Trail) {
		tr.EventSelectors = []cloudtrail.EventSelector{{ReadWriteType: cloudtrail.ReadWriteAll, IncludeManagementEvents: &f,
			DataResources: []cloudtrail.DataResource{{Type: "AWS::S3::Object", Values: []string{"arn:aws:s3:::logs-bucket/"}}}}}
	}
	allS3 := func(tr *cloudtrail.Trail) {
		tr.EventSelectors = []cloudtrail.EventSelector{{ReadWriteType: cloudtrail.ReadWriteWriteOnly,
			DataResources: []cloudtrail.DataResource{{Type: "AWS::S3::Object", Values: []string{"arn:aws:s3"}}}}}
	}
	advWrites := func(tr *cloudtrail.Trail) {
		tr.EventSelectors = nil
		tr.AdvancedEventSelectors = []cloudtrail.AdvancedEventSelector{{FieldSelectors: []cloudtrail.AdvancedFieldSelector{
			{Field: "eventCategory", Equals: []string{"Management"}},
			{Field: "readOnly", Equals: []string{"false"}},
			{Field: "eventSource", NotEquals: []string{"iam.amazonaws.com"}},
		}}}
	}
	advS3 := func(tr *cloudtrail.Trail) {
		tr.EventSelectors = nil
		tr.AdvancedEventSelectors = []cloudtrail.AdvancedEventSelector{{FieldSelectors: []cloudtrail.AdvancedFieldSelector{
			{Field: "eventCategory", Equals: []string{"Data"}},
			{Field: "resources.type", Equals: []string{"AWS::S3::Object"}},
			{Field: "resources.ARN", StartsWith: []string{"arn:aws:s3:::logs-bucket/"}},
			{Field: "eventName", NotStartsWith: []string{"Delete"}},
		}}}
	}
	noGlobal := func(tr *cloudtrail.Trail) { tr.IncludeGlobalServiceEvents = false }
	multi := func(tr *cloudtrail.Trail) { tr.IsMultiRegionTrail = true }
	stopped := func(tr *cloudtrail.Trail) {
		tr.Status.IsLogging = false
		tr.Status.StopLoggingTime = time.Date(2026, 1, 1, 0, 0, 5, 0, time.UTC)
	}

	cases := []struct {
		name  string
		trail func(*cloudtrail.Trail)
		rec   string
		want  bool
	}{
		{"default write", nil, mgmtWrite, true},
		{"default read", nil, mgmtRead, true},
		{"default skips data", nil, s3Get, false},
		{"read-only selector takes reads", readOnly, mgmtRead, true},
		{"read-only selector skips writes", readOnly, mgmtWrite, false},
		{"write-only selector takes writes", writeOnly, mgmtWrite, true},
		{"write-only selector skips reads", writeOnly, mgmtRead, false},
		{"excluded source", excludeKMS, kmsRead, false},
		{"not excluded source", excludeKMS, mgmtRead, true},
		{"data resource prefix", s3Data, s3Get, true},
		{"data resource other bucket", s3Data, s3Put, false},
		{"management off", s3Data, mgmtWrite, false},
		{"all S3 write-only takes put", allS3, s3Put, true},
		{"all S3 write-only skips get", allS3, s3Get, false},
		{"advanced writes", advWrites, mgmtWrite, true},
		{"advanced writes skip reads", advWrites, mgmtRead, false},
		{"advanced NotEquals", advWrites, iamWrite, false},
		{"advanced data", advS3, s3Get, true},
		{"advanced data other bucket", advS3, s3Put, false},
		{"advanced data skips management", advS3, mgmtWrite, false},
		{"global events in", nil, iamWrite, true},
		{"global events out", noGlobal, iamWrite, false},
		{"other region single-region", nil, westWrite, false},
		{"other region multi-region", multi, westWrite, true},
		{"other account", nil, otherAcct, false},
		{"before StartLogging", nil, early, false},
		{"StartLogging's own second", nil, sameSec, true},
		{"stopped: before stop", stopped, mgmtWrite, false},
		{"stopped: the StopLogging second", stopped, `{"eventTime":"2026-01-01T00:00:05Z","eventSource":"cloudtrail.amazonaws.com","eventName":"StopLogging","awsRegion":"us-east-1","readOnly":false,"managementEvent":true,"recipientAccountId":"123456789012","eventCategory":"Management"}`, true},
		{"loose booleans", readOnly, looseRec, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := Selects(loggingTrail(c.trail), record(t, c.rec)); got != c.want {
				t.Errorf("selects = %v, want %v", got, c.want)
			}
		})
	}
}

func TestLoggingPeriodBySequence(t *testing.T) {
	tr := loggingTrail(func(t *cloudtrail.Trail) {
		t.Status.IsLogging = false
		t.Status.StartLoggingSeq, t.Status.StopLoggingSeq = 10, 20
		t.Status.StopLoggingTime = t.Status.StartLoggingTime
		t.Status.StopLoggingRequestID = "stop-request"
	})
	for _, c := range []struct {
		seq  uint64
		req  string
		want bool
	}{{10, "", false}, {11, "", true}, {20, "", true}, {21, "", false}, {25, "stop-request", true}, {26, "other", false}} {
		f := record(t, mgmtWrite) // its time is after the stop time: only sequence numbers decide
		f.Seq, f.RequestID = c.seq, c.req
		if got := Selects(tr, f); got != c.want {
			t.Errorf("seq %d request %q: selects = %v, want %v", c.seq, c.req, got, c.want)
		}
	}
	tr.Status.IsLogging = true
	if f := record(t, mgmtWrite); true {
		f.Seq = 1000
		if !Selects(tr, f) {
			t.Error("a logging trail refuses a record after its StopLogging position")
		}
	}
}
