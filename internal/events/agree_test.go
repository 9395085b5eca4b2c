package events

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
)

// TestTestEventPatternAgreesWithDelivery feeds the shared CloudTrail records through the
// journal consumer to rules with SNS targets, and checks that TestEventPattern, given each
// record in its envelope, says true exactly for the rules that delivered it.
func TestTestEventPatternAgreesWithDelivery(t *testing.T) {
	f, err := os.Open("/work/shared/testdata/cloudtrail-records.jsonl")
	if err != nil {
		t.Skip("shared records not available:", err)
	}
	defer f.Close()
	var records [][]byte
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var rec map[string]any
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			t.Fatal(err)
		}
		rec["recipientAccountId"], rec["awsRegion"] = acctA, "us-east-1"
		b, _ := json.Marshal(rec)
		records = append(records, b)
	}
	patterns := []string{
		`{"source":["aws.iam"]}`,
		`{"source":["aws.s3"],"detail":{"eventName":[{"prefix":"Put"}]}}`,
		`{"detail":{"errorCode":[{"exists":true}]}}`,
		`{"detail":{"userIdentity":{"type":["Root"]}}}`,
		`{"detail":{"sourceIPAddress":[{"cidr":"10.0.0.0/8"},{"cidr":"203.0.113.0/24"}]}}`,
		`{"detail":{"readOnly":[true]}}`,
		`{"detail":{"eventName":[{"wildcard":"*Policy*"}],"userIdentity":{"type":[{"anything-but":"AWSService"}]}}}`,
		`{"detail-type":["AWS Console Sign In via CloudTrail"]}`,
		`{"$or":[{"source":["aws.ec2"]},{"detail":{"eventSource":[{"suffix":"kms.amazonaws.com"}]}}]}`,
		`{"detail":{"eventName":[{"equals-ignore-case":"consolelogin"}],"responseElements":{"ConsoleLogin":["Failure"]}}}`,
	}
	e := newEnv(t)
	ctx := context.Background()
	c := e.client()
	for i, p := range patterns {
		name := fmt.Sprintf("r%d", i)
		if _, err := c.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String(name), EventPattern: aws.String(p), State: types.RuleStateEnabledWithAllCloudtrailManagementEvents}); err != nil {
			t.Fatal(err)
		}
		if _, err := c.PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: aws.String(name), Targets: []types.Target{{Id: aws.String("t"), Arn: aws.String(topicOf(i))}}}); err != nil {
			t.Fatal(err)
		}
	}
	for _, r := range records {
		e.src.ch <- r
	}
	waitFor(t, "all records routed", func() bool { return e.svc.Cursor() == uint64(len(records)) && e.svc.Pending() == 0 })

	delivered := map[string]map[string]bool{} // topic → event ids
	for i := range patterns {
		delivered[topicOf(i)] = map[string]bool{}
		for _, m := range e.topics.get(topicOf(i)) {
			var ev struct {
				ID string `json:"id"`
			}
			if err := json.Unmarshal([]byte(m), &ev); err != nil {
				t.Fatal(err)
			}
			delivered[topicOf(i)][ev.ID] = true
		}
	}
	total := 0
	for n, r := range records {
		id := eventID(uint64(n+1), r)
		env, _, _, _, err := Envelope(r, id)
		if err != nil {
			t.Fatal(err)
		}
		for i, p := range patterns {
			out, err := c.TestEventPattern(ctx, &eventbridge.TestEventPatternInput{EventPattern: aws.String(p), Event: aws.String(string(env))})
			if err != nil {
				t.Fatal(err)
			}
			if got := delivered[topicOf(i)][id]; got != out.Result {
				t.Errorf("record %d, pattern %s: delivered %v, TestEventPattern %v", n+1, p, got, out.Result)
			}
			if out.Result {
				total++
			}
		}
	}
	t.Logf("%d records × %d patterns: %d matches", len(records), len(patterns), total)
	if total == 0 {
		t.Error("nothing matched")
	}
}

func topicOf(i int) string { return fmt.Sprintf("arn:aws:sns:us-east-1:%s:rule-%d", acctA, i) }
