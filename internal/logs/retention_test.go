package logs

import (
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
)

func TestRetentionEnforced(t *testing.T) {
	e := newEnv(t)
	e.group("g", "s1", "s2")
	e.group("forever", "s")
	const day = 24 * time.Hour
	// Events at -3 d, -2 d and -1 h (no retention yet, so all are accepted).
	e.put("g", "s1", ev(e.ms(-3*day), "old-1"))
	e.put("g", "s1", ev(e.ms(-2*day), "old-2"))
	e.put("g", "s1", ev(e.ms(-time.Hour), "new-1"))
	e.put("g", "s2", ev(e.ms(-3*day), "old-3"), ev(e.ms(-3*day+time.Minute), "old-4"))
	e.put("forever", "s", ev(e.ms(-3*day), "kept"))
	c := e.client()
	if _, err := c.PutRetentionPolicy(ctx, &cloudwatchlogs.PutRetentionPolicyInput{LogGroupName: aws.String("g"), RetentionInDays: aws.Int32(1)}); err != nil {
		t.Fatal(err)
	}
	// Reads hide expired events at once.
	got, err := c.FilterLogEvents(ctx, &cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String("g")})
	if err != nil {
		t.Fatal(err)
	}
	if msgs := filteredMsgs(got.Events); !slices.Equal(msgs, []string{"new-1"}) {
		t.Fatalf("after retention: %v", msgs)
	}
	gl, _ := c.GetLogEvents(ctx, &cloudwatchlogs.GetLogEventsInput{LogGroupName: aws.String("g"), LogStreamName: aws.String("s1"), StartFromHead: aws.Bool(true)})
	if msgs := outMsgs(gl.Events); !slices.Equal(msgs, []string{"new-1"}) {
		t.Fatalf("GetLogEvents after retention: %v", msgs)
	}
	before := storedBytes(t, e, "g")

	// The sweep deletes them.
	n, err := e.svc.Sweep(ctx)
	if err != nil || n != 4 {
		t.Fatalf("Sweep = %d, %v; want 4", n, err)
	}
	if after := storedBytes(t, e, "g"); after != before-int64(len("old-1")*4) {
		t.Errorf("storedBytes %d -> %d", before, after)
	}
	// Removing the policy does not bring them back: they are gone.
	if _, err := c.DeleteRetentionPolicy(ctx, &cloudwatchlogs.DeleteRetentionPolicyInput{LogGroupName: aws.String("g")}); err != nil {
		t.Fatal(err)
	}
	got, _ = c.FilterLogEvents(ctx, &cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String("g")})
	if msgs := filteredMsgs(got.Events); !slices.Equal(msgs, []string{"new-1"}) {
		t.Fatalf("after sweep and policy removal: %v", msgs)
	}
	// As time passes, more expire; a group without a policy keeps everything.
	if _, err := c.PutRetentionPolicy(ctx, &cloudwatchlogs.PutRetentionPolicyInput{LogGroupName: aws.String("g"), RetentionInDays: aws.Int32(1)}); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(day)
	if n, err := e.svc.Sweep(ctx); err != nil || n != 1 {
		t.Fatalf("second Sweep = %d, %v; want 1", n, err)
	}
	if n, _ := e.svc.Sweep(ctx); n != 0 {
		t.Errorf("idle Sweep deleted %d", n)
	}
	kept, _ := c.GetLogEvents(ctx, &cloudwatchlogs.GetLogEventsInput{LogGroupName: aws.String("forever"), LogStreamName: aws.String("s")})
	if len(kept.Events) != 1 {
		t.Errorf("group without retention lost events")
	}
}

func TestRunSweepsInBackground(t *testing.T) {
	e := newEnvWith(t, Options{RetentionInterval: 10 * time.Millisecond})
	e.group("g", "s")
	e.put("g", "s", ev(e.ms(-2*24*time.Hour), "old"))
	if _, err := e.client().PutRetentionPolicy(ctx, &cloudwatchlogs.PutRetentionPolicyInput{LogGroupName: aws.String("g"), RetentionInDays: aws.Int32(1)}); err != nil {
		t.Fatal(err)
	}
	runCtx, cancel := contextWithCancel()
	done := make(chan error, 1)
	go func() { done <- e.svc.Run(runCtx) }()
	deadline := time.Now().Add(5 * time.Second)
	for storedBytes(t, e, "g") != 0 {
		if time.Now().After(deadline) {
			t.Fatal("Run did not expire the event")
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	if err := <-done; err == nil {
		t.Error("Run returned nil after cancel")
	}
}

func storedBytes(t *testing.T, e *env, group string) int64 {
	t.Helper()
	out, err := e.client().DescribeLogGroups(ctx, &cloudwatchlogs.DescribeLogGroupsInput{LogGroupNamePrefix: aws.String(group)})
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range out.LogGroups {
		if aws.ToString(g.LogGroupName) == group {
			return aws.ToInt64(g.StoredBytes)
		}
	}
	t.Fatalf("no group %s", group)
	return 0
}
