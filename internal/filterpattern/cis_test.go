package filterpattern

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

const cloudTrailRecords = "/work/shared/testdata/cloudtrail-records.jsonl"

// cisPatterns are the metric-filter patterns of CIS AWS Foundations Benchmark v1.4.0-v3.0.0,
// section 4.1-4.15, exactly as published (cloudwatch-monitoring.md §7.1).
var cisPatterns = []struct{ id, pattern string }{
	{"4.1", `{ ($.errorCode = "*UnauthorizedOperation") || ($.errorCode = "AccessDenied*") || ($.sourceIPAddress!="delivery.logs.amazonaws.com") || ($.eventName!="HeadBucket") }`},
	{"4.2", `{ ($.eventName = "ConsoleLogin") && ($.additionalEventData.MFAUsed != "Yes") }`},
	{"4.3", `{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType != "AwsServiceEvent" }`},
	{"4.4", `{($.eventName=DeleteGroupPolicy)||($.eventName=DeleteRolePolicy)||($.eventName=DeleteUserPolicy)||($.eventName=PutGroupPolicy)||($.eventName=PutRolePolicy)||($.eventName=PutUserPolicy)||($.eventName=CreatePolicy)||($.eventName=DeletePolicy)||($.eventName=CreatePolicyVersion)||($.eventName=DeletePolicyVersion)||($.eventName=AttachRolePolicy)||($.eventName=DetachRolePolicy)||($.eventName=AttachUserPolicy)||($.eventName=DetachUserPolicy)||($.eventName=AttachGroupPolicy)||($.eventName=DetachGroupPolicy)}`},
	{"4.5", `{ ($.eventName = CreateTrail) || ($.eventName = UpdateTrail) || ($.eventName = DeleteTrail) || ($.eventName = StartLogging) || ($.eventName = StopLogging) }`},
	{"4.6", `{ ($.eventName = ConsoleLogin) && ($.errorMessage = "Failed authentication") }`},
	{"4.7", `{($.eventSource = kms.amazonaws.com) && (($.eventName=DisableKey)||($.eventName=ScheduleKeyDeletion)) }`},
	{"4.8", `{ ($.eventSource = s3.amazonaws.com) && (($.eventName = PutBucketAcl) || ($.eventName = PutBucketPolicy) || ($.eventName = PutBucketCors) || ($.eventName = PutBucketLifecycle) || ($.eventName = PutBucketReplication) || ($.eventName = DeleteBucketPolicy) || ($.eventName = DeleteBucketCors) || ($.eventName = DeleteBucketLifecycle) || ($.eventName = DeleteBucketReplication)) }`},
	{"4.9", `{ ($.eventSource = config.amazonaws.com) && (($.eventName=StopConfigurationRecorder)||($.eventName=DeleteDeliveryChannel)||($.eventName=PutDeliveryChannel)||($.eventName=PutConfigurationRecorder)) }`},
	{"4.10", `{ ($.eventName = AuthorizeSecurityGroupIngress) || ($.eventName = AuthorizeSecurityGroupEgress) || ($.eventName = RevokeSecurityGroupIngress) || ($.eventName = RevokeSecurityGroupEgress) || ($.eventName = CreateSecurityGroup) || ($.eventName = DeleteSecurityGroup) }`},
	{"4.11", `{ ($.eventName = CreateNetworkAcl) || ($.eventName = CreateNetworkAclEntry) || ($.eventName = DeleteNetworkAcl) || ($.eventName = DeleteNetworkAclEntry) || ($.eventName = ReplaceNetworkAclEntry) || ($.eventName = ReplaceNetworkAclAssociation) }`},
	{"4.12", `{ ($.eventName = CreateCustomerGateway) || ($.eventName = DeleteCustomerGateway) || ($.eventName = AttachInternetGateway) || ($.eventName = CreateInternetGateway) || ($.eventName = DeleteInternetGateway) || ($.eventName = DetachInternetGateway) }`},
	{"4.13", `{ ($.eventName = CreateRoute) || ($.eventName = CreateRouteTable) || ($.eventName = ReplaceRoute) || ($.eventName = ReplaceRouteTableAssociation) || ($.eventName = DeleteRouteTable) || ($.eventName = DeleteRoute) || ($.eventName = DisassociateRouteTable) }`},
	{"4.14", `{ ($.eventName = CreateVpc) || ($.eventName = DeleteVpc) || ($.eventName = ModifyVpcAttribute) || ($.eventName = AcceptVpcPeeringConnection) || ($.eventName = CreateVpcPeeringConnection) || ($.eventName = DeleteVpcPeeringConnection) || ($.eventName = RejectVpcPeeringConnection) || ($.eventName = AttachClassicLinkVpc) || ($.eventName = DetachClassicLinkVpc) || ($.eventName = DisableVpcClassicLink) || ($.eventName = EnableVpcClassicLink) }`},
	{"4.15", `{ ($.eventSource = organizations.amazonaws.com) && (($.eventName = "AcceptHandshake") || ($.eventName = "AttachPolicy") || ($.eventName = "CreateAccount") || ($.eventName = "CreateOrganizationalUnit") || ($.eventName = "CreatePolicy") || ($.eventName = "DeclineHandshake") || ($.eventName = "DeleteOrganization") || ($.eventName = "DeleteOrganizationalUnit") || ($.eventName = "DeletePolicy") || ($.eventName = "DetachPolicy") || ($.eventName = "DisablePolicyType") || ($.eventName = "EnablePolicyType") || ($.eventName = "InviteAccountToOrganization") || ($.eventName = "LeaveOrganization") || ($.eventName = "MoveAccount") || ($.eventName = "RemoveAccountFromOrganization") || ($.eventName = "UpdatePolicy") || ($.eventName = "UpdateOrganizationalUnit")) }`},
}

// cisVariants are the other published versions (§7.1 alternative, §7.2).
var cisVariants = []struct{ id, pattern string }{
	{"4.2-alt", `{ ($.eventName = "ConsoleLogin") && ($.additionalEventData.MFAUsed != "Yes") && ($.userIdentity.type = "IAMUser") && ($.responseElements.ConsoleLogin = "Success") }`},
	{"4.1-v4", `{ ($.errorCode ="*UnauthorizedOperation") || ($.errorCode ="AccessDenied*") && ($.sourceIPAddress!="delivery.logs.amazonaws.com") && ($.eventName!="HeadBucket") }`},
	{"3.1-v1.2", `{($.errorCode="*UnauthorizedOperation") || ($.errorCode="AccessDenied*")}`},
	{"3.3-v1.2", `{$.userIdentity.type="Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType !="AwsServiceEvent"}`},
	{"3.5-v1.2", `{($.eventName=CreateTrail) || ($.eventName=UpdateTrail) || ($.eventName=DeleteTrail) || ($.eventName=StartLogging) || ($.eventName=StopLogging)}`},
	{"3.6-v1.2", `{($.eventName=ConsoleLogin) && ($.errorMessage="Failed authentication")}`},
	{"3.1-prowler-v2", `{ $.errorCode = "*UnauthorizedOperation" || $.errorCode = "AccessDenied*" }`},
	{"4.10-v5", `{ ($.eventName = AuthorizeSecurityGroupIngress) || ($.eventName = AuthorizeSecurityGroupEgress) || ($.eventName = RevokeSecurityGroupIngress) || ($.eventName = RevokeSecurityGroupEgress) || ($.eventName = CreateSecurityGroup) || ($.eventName = DeleteSecurityGroup) || ($.eventName = ModifySecurityGroupRules) }`},
}

func loadRecords(tb testing.TB) []string {
	tb.Helper()
	f, err := os.Open(cloudTrailRecords)
	if err != nil {
		tb.Skipf("no CloudTrail records: %v", err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if line := strings.TrimSpace(sc.Text()); line != "" {
			out = append(out, line)
		}
	}
	if err := sc.Err(); err != nil {
		tb.Fatal(err)
	}
	return out
}

// The oracle: an independent evaluation of each CIS control written directly in Go over
// encoding/json's decoding, following the semantics of the reference (a comparison needs a
// string or number; != on a missing value is false; NOT EXISTS means the key is absent).

type jsonDoc map[string]any

// scalar returns the text of the string or number at path.
func (d jsonDoc) scalar(path ...string) (string, bool) {
	v, ok := d.get(path...)
	if !ok {
		return "", false
	}
	switch v := v.(type) {
	case string:
		return v, true
	case json.Number:
		return v.String(), true
	}
	return "", false
}

func (d jsonDoc) get(path ...string) (any, bool) {
	var cur any = map[string]any(d)
	for _, k := range path {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = m[k]; !ok {
			return nil, false
		}
	}
	return cur, true
}

func (d jsonDoc) eq(want string, path ...string) bool {
	v, ok := d.scalar(path...)
	return ok && v == want
}

func (d jsonDoc) ne(want string, path ...string) bool {
	v, ok := d.scalar(path...)
	return ok && v != want
}

func (d jsonDoc) in(set []string, path ...string) bool {
	v, ok := d.scalar(path...)
	return ok && slices.Contains(set, v)
}

var cisOracle = map[string]func(d jsonDoc) bool{
	"4.1": func(d jsonDoc) bool {
		ec, ok := d.scalar("errorCode")
		return ok && (strings.HasSuffix(ec, "UnauthorizedOperation") || strings.HasPrefix(ec, "AccessDenied")) ||
			d.ne("delivery.logs.amazonaws.com", "sourceIPAddress") || d.ne("HeadBucket", "eventName")
	},
	"4.1-v4": func(d jsonDoc) bool {
		ec, ok := d.scalar("errorCode")
		return ok && strings.HasSuffix(ec, "UnauthorizedOperation") ||
			ok && strings.HasPrefix(ec, "AccessDenied") && d.ne("delivery.logs.amazonaws.com", "sourceIPAddress") && d.ne("HeadBucket", "eventName")
	},
	"3.1-v1.2": func(d jsonDoc) bool {
		ec, ok := d.scalar("errorCode")
		return ok && (strings.HasSuffix(ec, "UnauthorizedOperation") || strings.HasPrefix(ec, "AccessDenied"))
	},
	"4.2": func(d jsonDoc) bool {
		return d.eq("ConsoleLogin", "eventName") && d.ne("Yes", "additionalEventData", "MFAUsed")
	},
	"4.2-alt": func(d jsonDoc) bool {
		return d.eq("ConsoleLogin", "eventName") && d.ne("Yes", "additionalEventData", "MFAUsed") &&
			d.eq("IAMUser", "userIdentity", "type") && d.eq("Success", "responseElements", "ConsoleLogin")
	},
	"4.3": func(d jsonDoc) bool {
		_, invoked := d.get("userIdentity", "invokedBy")
		return d.eq("Root", "userIdentity", "type") && !invoked && d.ne("AwsServiceEvent", "eventType")
	},
	"4.4": func(d jsonDoc) bool {
		return d.in([]string{"DeleteGroupPolicy", "DeleteRolePolicy", "DeleteUserPolicy", "PutGroupPolicy", "PutRolePolicy", "PutUserPolicy", "CreatePolicy", "DeletePolicy", "CreatePolicyVersion", "DeletePolicyVersion", "AttachRolePolicy", "DetachRolePolicy", "AttachUserPolicy", "DetachUserPolicy", "AttachGroupPolicy", "DetachGroupPolicy"}, "eventName")
	},
	"4.5": func(d jsonDoc) bool {
		return d.in([]string{"CreateTrail", "UpdateTrail", "DeleteTrail", "StartLogging", "StopLogging"}, "eventName")
	},
	"4.6": func(d jsonDoc) bool {
		return d.eq("ConsoleLogin", "eventName") && d.eq("Failed authentication", "errorMessage")
	},
	"4.7": func(d jsonDoc) bool {
		return d.eq("kms.amazonaws.com", "eventSource") && d.in([]string{"DisableKey", "ScheduleKeyDeletion"}, "eventName")
	},
	"4.8": func(d jsonDoc) bool {
		return d.eq("s3.amazonaws.com", "eventSource") && d.in([]string{"PutBucketAcl", "PutBucketPolicy", "PutBucketCors", "PutBucketLifecycle", "PutBucketReplication", "DeleteBucketPolicy", "DeleteBucketCors", "DeleteBucketLifecycle", "DeleteBucketReplication"}, "eventName")
	},
	"4.9": func(d jsonDoc) bool {
		return d.eq("config.amazonaws.com", "eventSource") && d.in([]string{"StopConfigurationRecorder", "DeleteDeliveryChannel", "PutDeliveryChannel", "PutConfigurationRecorder"}, "eventName")
	},
	"4.10": func(d jsonDoc) bool {
		return d.in([]string{"AuthorizeSecurityGroupIngress", "AuthorizeSecurityGroupEgress", "RevokeSecurityGroupIngress", "RevokeSecurityGroupEgress", "CreateSecurityGroup", "DeleteSecurityGroup"}, "eventName")
	},
	"4.10-v5": func(d jsonDoc) bool {
		return d.in([]string{"AuthorizeSecurityGroupIngress", "AuthorizeSecurityGroupEgress", "RevokeSecurityGroupIngress", "RevokeSecurityGroupEgress", "CreateSecurityGroup", "DeleteSecurityGroup", "ModifySecurityGroupRules"}, "eventName")
	},
	"4.11": func(d jsonDoc) bool {
		return d.in([]string{"CreateNetworkAcl", "CreateNetworkAclEntry", "DeleteNetworkAcl", "DeleteNetworkAclEntry", "ReplaceNetworkAclEntry", "ReplaceNetworkAclAssociation"}, "eventName")
	},
	"4.12": func(d jsonDoc) bool {
		return d.in([]string{"CreateCustomerGateway", "DeleteCustomerGateway", "AttachInternetGateway", "CreateInternetGateway", "DeleteInternetGateway", "DetachInternetGateway"}, "eventName")
	},
	"4.13": func(d jsonDoc) bool {
		return d.in([]string{"CreateRoute", "CreateRouteTable", "ReplaceRoute", "ReplaceRouteTableAssociation", "DeleteRouteTable", "DeleteRoute", "DisassociateRouteTable"}, "eventName")
	},
	"4.14": func(d jsonDoc) bool {
		return d.in([]string{"CreateVpc", "DeleteVpc", "ModifyVpcAttribute", "AcceptVpcPeeringConnection", "CreateVpcPeeringConnection", "DeleteVpcPeeringConnection", "RejectVpcPeeringConnection", "AttachClassicLinkVpc", "DetachClassicLinkVpc", "DisableVpcClassicLink", "EnableVpcClassicLink"}, "eventName")
	},
	"4.15": func(d jsonDoc) bool {
		return d.eq("organizations.amazonaws.com", "eventSource") && d.in([]string{"AcceptHandshake", "AttachPolicy", "CreateAccount", "CreateOrganizationalUnit", "CreatePolicy", "DeclineHandshake", "DeleteOrganization", "DeleteOrganizationalUnit", "DeletePolicy", "DetachPolicy", "DisablePolicyType", "EnablePolicyType", "InviteAccountToOrganization", "LeaveOrganization", "MoveAccount", "RemoveAccountFromOrganization", "UpdatePolicy", "UpdateOrganizationalUnit"}, "eventName")
	},
}

func init() {
	cisOracle["3.3-v1.2"] = cisOracle["4.3"]
	cisOracle["3.5-v1.2"] = cisOracle["4.5"]
	cisOracle["3.6-v1.2"] = cisOracle["4.6"]
	cisOracle["3.1-prowler-v2"] = cisOracle["3.1-v1.2"]
}

func decodeDoc(t *testing.T, rec string) jsonDoc {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader([]byte(rec)))
	dec.UseNumber()
	var d jsonDoc
	if err := dec.Decode(&d); err != nil {
		t.Fatalf("record does not decode: %v", err)
	}
	return d
}

// TestCISRecords matches every CIS pattern against every CloudTrail record of the shared test
// data and compares with the oracle, through Match and through a Record shared by all
// patterns.
func TestCISRecords(t *testing.T) {
	records := loadRecords(t)
	all := append(slices.Clone(cisPatterns), cisVariants...)
	pats := make([]*Pattern, len(all))
	for i, c := range all {
		p, err := Parse(c.pattern)
		if err != nil {
			t.Fatalf("CIS %s: %v", c.id, err)
		}
		if p.String() != c.pattern || p.Kind() != JSON {
			t.Fatalf("CIS %s: String() = %q, Kind() = %v", c.id, p.String(), p.Kind())
		}
		pats[i] = p
	}
	counts := make([]int, len(all))
	var rec Record
	for n, line := range records {
		d := decodeDoc(t, line)
		rec.Reset(line)
		if !rec.IsJSON() {
			t.Fatalf("record %d is not JSON to the Record parser", n+1)
		}
		for i, c := range all {
			want := cisOracle[c.id](d)
			if got := pats[i].Match(line); got != want {
				t.Errorf("CIS %s on record %d: Match = %v; want %v\n%s", c.id, n+1, got, want, line)
			}
			if got := pats[i].MatchRecord(&rec); got != want {
				t.Errorf("CIS %s on record %d: MatchRecord = %v; want %v", c.id, n+1, got, want)
			}
			if want {
				counts[i]++
			}
		}
	}
	for i, c := range all {
		t.Logf("CIS %-15s matches %3d of %d records", c.id, counts[i], len(records))
	}
	// The data holds events for most controls; make sure the test exercises them.
	for i, c := range all {
		if counts[i] == 0 && c.id != "4.12" && c.id != "4.13" && c.id != "4.14" {
			t.Logf("note: CIS %s matches no record", c.id)
		}
	}
}

// BenchmarkCIS measures matching the 15 CIS patterns against the CloudTrail records: each
// record is parsed once into a reused Record and matched against every pattern, as a log
// group with 15 metric filters does. records/s is per core when run with GOMAXPROCS=1
// (go test -bench CIS -cpu 1).
func BenchmarkCIS(b *testing.B) {
	records := loadRecords(b)
	pats := make([]*Pattern, len(cisPatterns))
	for i, c := range cisPatterns {
		pats[i] = mustParse(b, c.pattern)
	}
	var size int
	for _, r := range records {
		size += len(r)
	}
	b.Run("Record", func(b *testing.B) {
		var rec Record
		b.SetBytes(int64(size / len(records)))
		b.ReportAllocs()
		cpu0 := cpuTime()
		matches := 0
		for i := 0; b.Loop(); i++ {
			rec.Reset(records[i%len(records)])
			for _, p := range pats {
				if p.MatchRecord(&rec) {
					matches++
				}
			}
		}
		reportRate(b, cpu0)
	})
	b.Run("Match", func(b *testing.B) {
		b.SetBytes(int64(size / len(records)))
		b.ReportAllocs()
		cpu0 := cpuTime()
		for i := 0; b.Loop(); i++ {
			for _, p := range pats {
				p.Match(records[i%len(records)])
			}
		}
		reportRate(b, cpu0)
	})
	b.Run("MatchOnly", func(b *testing.B) {
		recs := make([]*Record, len(records))
		for i, r := range records {
			recs[i] = ParseRecord(r)
		}
		b.ReportAllocs()
		cpu0 := cpuTime()
		for i := 0; b.Loop(); i++ {
			for _, p := range pats {
				p.MatchRecord(recs[i%len(recs)])
			}
		}
		reportRate(b, cpu0)
	})
	b.Run("ParseRecord", func(b *testing.B) {
		var rec Record
		b.SetBytes(int64(size / len(records)))
		b.ReportAllocs()
		cpu0 := cpuTime()
		for i := 0; b.Loop(); i++ {
			rec.Reset(records[i%len(records)])
		}
		reportRate(b, cpu0)
	})
}

// reportRate reports records per second of wall time and per second of CPU time (user+system
// time of the process since cpu0), which stays meaningful on a machine shared with other work.
func reportRate(b *testing.B, cpu0 time.Duration) {
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
	if cpu := cpuTime() - cpu0; cpu > 0 {
		b.ReportMetric(float64(b.N)/cpu.Seconds(), "records/cpu-s")
	}
	b.ReportMetric(0, "ns/op")
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func mustParse(tb testing.TB, s string) *Pattern {
	tb.Helper()
	p, err := Parse(s)
	if err != nil {
		tb.Fatalf("Parse(%q): %v", s, err)
	}
	return p
}

// BenchmarkKinds measures single patterns of each kind through Match (records/s per pattern).
func BenchmarkKinds(b *testing.B) {
	records := loadRecords(b)
	apache := []string{
		lineA,
		`10.0.0.7 - alice [10/Oct/2000:13:26:01 -0700] "POST /api/v1/items HTTP/1.1" 201 87`,
		`192.168.1.20 - - [10/Oct/2000:13:27:44 -0700] "GET /static/app.js HTTP/1.1" 200 48213`,
	}
	for _, c := range []struct {
		name, pattern string
		msgs          []string
	}{
		{"Terms", `"AccessDenied" -"delivery.logs.amazonaws.com"`, records},
		{"TermsRegex", `%AccessDenied|UnauthorizedOperation%`, records},
		{"JSONSingle", `{ $.errorCode = "AccessDenied*" }`, records},
		{"SpaceDelimited", `[ip, user, username, timestamp, request = *.html*, status_code = 4*, bytes > 1000]`, apache},
	} {
		p := mustParse(b, c.pattern)
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			cpu0 := cpuTime()
			for i := 0; b.Loop(); i++ {
				p.Match(c.msgs[i%len(c.msgs)])
			}
			reportRate(b, cpu0)
		})
	}
}

// TestSharedRecord matches one Record from several goroutines (run with -race): matching
// only reads the Record and the Patterns.
func TestSharedRecord(t *testing.T) {
	records := loadRecords(t)
	pats := make([]*Pattern, len(cisPatterns))
	for i, c := range cisPatterns {
		pats[i] = mustParse(t, c.pattern)
	}
	for _, line := range records[:20] {
		r := ParseRecord(line)
		want := make([]bool, len(pats))
		for i, p := range pats {
			want[i] = p.MatchRecord(r)
		}
		done := make(chan error, 4)
		for range 4 {
			go func() {
				for i, p := range pats {
					if got := p.MatchRecord(r); got != want[i] {
						done <- fmt.Errorf("pattern %d: got %v; want %v", i, got, want[i])
						return
					}
					if f, ok := p.MatchRecordFields(r); ok {
						f.Lookup("$.eventName")
					}
				}
				done <- nil
			}()
		}
		for range 4 {
			if err := <-done; err != nil {
				t.Fatal(err)
			}
		}
	}
}
