package logs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	cwltypes "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
)

func TestPutLogEventsRejected(t *testing.T) {
	const (
		h   = time.Hour
		day = 24 * time.Hour
	)
	type want struct{ tooOld, expired, tooNew *int32 }
	i := aws.Int32
	for _, tc := range []struct {
		name      string
		retention int32
		offsets   []time.Duration // event timestamps relative to now
		want      *want
		stored    []int // indexes of the events stored
	}{
		{name: "all valid", offsets: []time.Duration{-h, 0, h}, stored: []int{0, 1, 2}},
		{name: "too old", offsets: []time.Duration{-15 * day, -14*day - time.Minute, -h}, want: &want{tooOld: i(2)}, stored: []int{2}},
		{name: "exactly 14 days is accepted", offsets: []time.Duration{-14 * day, -14*day + h}, stored: []int{0, 1}},
		{name: "too new", offsets: []time.Duration{0, h, 2*h + time.Minute, 3 * h}, want: &want{tooNew: i(2)}, stored: []int{0, 1}},
		{name: "exactly 2 hours ahead is accepted", offsets: []time.Duration{2 * h}, stored: []int{0}},
		{name: "expired by retention", retention: 1, offsets: []time.Duration{-3 * day, -2 * day, -h}, want: &want{expired: i(2)}, stored: []int{2}},
		{name: "too old and expired", retention: 7, offsets: []time.Duration{-20 * day, -10 * day, -h}, want: &want{tooOld: i(1), expired: i(2)}, stored: []int{2}},
		{name: "old, expired and new", retention: 3, offsets: []time.Duration{-15 * day, -4 * day, 0, 3 * h}, want: &want{tooOld: i(1), expired: i(2), tooNew: i(3)}, stored: []int{2}},
		{name: "all rejected", offsets: []time.Duration{-15 * day, 5 * h}, want: &want{tooOld: i(1), tooNew: i(1)}},
		{name: "rejected events do not count in the 24 h span", offsets: []time.Duration{-10 * day, 0}, stored: []int{0, 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			e.group("g", "s")
			if tc.retention > 0 {
				if _, err := e.client().PutRetentionPolicy(ctx, &cloudwatchlogs.PutRetentionPolicyInput{LogGroupName: aws.String("g"), RetentionInDays: aws.Int32(tc.retention)}); err != nil {
					t.Fatal(err)
				}
			}
			var evs []cwltypes.InputLogEvent
			for n, off := range tc.offsets {
				evs = append(evs, ev(e.ms(off), fmt.Sprint(n)))
			}
			if tc.name == "rejected events do not count in the 24 h span" {
				// -10 days is valid without retention: make the batch span > 24 h and expect failure.
				_, err := e.client().PutLogEvents(ctx, &cloudwatchlogs.PutLogEventsInput{LogGroupName: aws.String("g"), LogStreamName: aws.String("s"), LogEvents: evs})
				wantErr(t, err, "InvalidParameterException", "cannot span more than 24 hours")
				// With a retention of 7 days the old event is expired, and the rest fits.
				if _, err := e.client().PutRetentionPolicy(ctx, &cloudwatchlogs.PutRetentionPolicyInput{LogGroupName: aws.String("g"), RetentionInDays: aws.Int32(7)}); err != nil {
					t.Fatal(err)
				}
				out := e.put("g", "s", evs...)
				if r := out.RejectedLogEventsInfo; r == nil || aws.ToInt32(r.ExpiredLogEventEndIndex) != 1 || r.TooOldLogEventEndIndex != nil {
					t.Fatalf("rejected = %+v", r)
				}
				return
			}
			out := e.put("g", "s", evs...)
			r := out.RejectedLogEventsInfo
			if tc.want == nil {
				if r != nil {
					t.Fatalf("rejected = %+v; want none", r)
				}
			} else {
				if r == nil {
					t.Fatal("no rejectedLogEventsInfo")
				}
				for _, f := range []struct {
					what      string
					got, want *int32
				}{{"tooOldLogEventEndIndex", r.TooOldLogEventEndIndex, tc.want.tooOld}, {"expiredLogEventEndIndex", r.ExpiredLogEventEndIndex, tc.want.expired}, {"tooNewLogEventStartIndex", r.TooNewLogEventStartIndex, tc.want.tooNew}} {
					if (f.got == nil) != (f.want == nil) || (f.got != nil && *f.got != *f.want) {
						t.Errorf("%s = %v; want %v", f.what, ptrStr(f.got), ptrStr(f.want))
					}
				}
			}
			if out.NextSequenceToken == nil {
				t.Error("no nextSequenceToken")
			}
			got, err := e.client().GetLogEvents(ctx, &cloudwatchlogs.GetLogEventsInput{LogGroupName: aws.String("g"), LogStreamName: aws.String("s"), StartFromHead: aws.Bool(true)})
			if err != nil {
				t.Fatal(err)
			}
			var want []string
			for _, n := range tc.stored {
				want = append(want, fmt.Sprint(n))
			}
			if msgs := outMsgs(got.Events); !slices.Equal(msgs, want) && !(len(msgs) == 0 && len(want) == 0) {
				t.Errorf("stored %v; want %v", msgs, want)
			}
		})
	}
}

func ptrStr(p *int32) string {
	if p == nil {
		return "nil"
	}
	return fmt.Sprint(*p)
}

func TestPutLogEventsBatchRules(t *testing.T) {
	e := newEnv(t)
	e.group("g", "s")
	c := e.client()
	put := func(evs []cwltypes.InputLogEvent) error {
		_, err := c.PutLogEvents(ctx, &cloudwatchlogs.PutLogEventsInput{LogGroupName: aws.String("g"), LogStreamName: aws.String("s"), LogEvents: evs})
		return err
	}
	now := e.ms(0)

	wantErr(t, put([]cwltypes.InputLogEvent{ev(now, "b"), ev(now-1, "a")}), "InvalidParameterException",
		"Log events in a single PutLogEvents request must be in chronological order.")
	wantErr(t, put([]cwltypes.InputLogEvent{ev(now-25*3600_000, "a"), ev(now, "b")}), "InvalidParameterException",
		"The batch of log events in a single PutLogEvents request cannot span more than 24 hours.")
	if err := put([]cwltypes.InputLogEvent{ev(now-24*3600_000, "a"), ev(now, "b")}); err != nil {
		t.Errorf("exactly 24 h: %v", err)
	}
	if err := put([]cwltypes.InputLogEvent{ev(now, "same"), ev(now, "time")}); err != nil {
		t.Errorf("equal timestamps: %v", err)
	}

	many := make([]cwltypes.InputLogEvent, MaxBatchEvents+1)
	for i := range many {
		many[i] = ev(now, "x")
	}
	wantErr(t, put(many), "InvalidParameterException", "Member must have length less than or equal to 10000")
	if err := put(many[:MaxBatchEvents]); err != nil {
		t.Errorf("10,000 events: %v", err)
	}
	if status, body := e.raw("PutLogEvents", `{"logGroupName":"g","logStreamName":"s","logEvents":[]}`); status != 400 ||
		!strings.Contains(string(body), "Member must have length greater than or equal to 1") {
		t.Errorf("no events: %d %s", status, body)
	}

	// 1,048,576 bytes, counting 26 per event: two events that fill it exactly, then one more byte.
	half := MaxBatchBytes/2 - EventOverhead
	if err := put([]cwltypes.InputLogEvent{ev(now, strings.Repeat("a", half)), ev(now, strings.Repeat("b", half))}); err != nil {
		t.Errorf("exactly 1 MiB: %v", err)
	}
	wantErr(t, put([]cwltypes.InputLogEvent{ev(now, strings.Repeat("a", half)), ev(now, strings.Repeat("b", half+1))}),
		"InvalidParameterException", "Upload too large: 1048577 bytes exceeds limit of 1048576")

	wantErr(t, put([]cwltypes.InputLogEvent{ev(now, "")}), "InvalidParameterException", "logEvents.1.member.message")
	wantErr(t, put([]cwltypes.InputLogEvent{ev(-1, "x")}), "InvalidParameterException", "logEvents.1.member.timestamp")

	_, err := c.PutLogEvents(ctx, &cloudwatchlogs.PutLogEventsInput{LogGroupName: aws.String("g"), LogStreamName: aws.String("nope"), LogEvents: []cwltypes.InputLogEvent{ev(now, "x")}})
	wantErr(t, err, "ResourceNotFoundException", "The specified log stream does not exist.")
	_, err = c.PutLogEvents(ctx, &cloudwatchlogs.PutLogEventsInput{LogGroupName: aws.String("nope"), LogStreamName: aws.String("s"), LogEvents: []cwltypes.InputLogEvent{ev(now, "x")}})
	wantErr(t, err, "ResourceNotFoundException", "The specified log group does not exist.")

	// Sequence tokens are accepted and ignored, whatever they say.
	_, err = c.PutLogEvents(ctx, &cloudwatchlogs.PutLogEventsInput{LogGroupName: aws.String("g"), LogStreamName: aws.String("s"),
		LogEvents: []cwltypes.InputLogEvent{ev(now, "x")}, SequenceToken: aws.String("12345")})
	if err != nil {
		t.Errorf("sequence token: %v", err)
	}
}

func TestPutLogEventsEventSize(t *testing.T) {
	e := newEnvWith(t, Options{MaxEventBytes: 1000})
	e.group("g", "s")
	_, err := e.client().PutLogEvents(ctx, &cloudwatchlogs.PutLogEventsInput{LogGroupName: aws.String("g"), LogStreamName: aws.String("s"),
		LogEvents: []cwltypes.InputLogEvent{ev(e.ms(0), strings.Repeat("x", 1001))}})
	wantErr(t, err, "InvalidParameterException", "Log event too large: 1001 bytes exceeds limit of 1000")
	e.put("g", "s", ev(e.ms(0), strings.Repeat("x", 1000)))
}

func TestPutLogEventsStreamStats(t *testing.T) {
	e := newEnv(t)
	e.group("g", "s")
	e.put("g", "s", ev(e.ms(-time.Hour), "hello"), ev(e.ms(-time.Minute), "world!"))
	e.clock.Advance(time.Second)
	e.put("g", "s", ev(e.ms(-30*time.Minute), "x"))
	out, err := e.client().DescribeLogStreams(ctx, &cloudwatchlogs.DescribeLogStreamsInput{LogGroupName: aws.String("g")})
	if err != nil {
		t.Fatal(err)
	}
	s := out.LogStreams[0]
	if aws.ToInt64(s.FirstEventTimestamp) != t0.Add(-time.Hour).UnixMilli() || aws.ToInt64(s.LastEventTimestamp) != t0.Add(-time.Minute).UnixMilli() ||
		aws.ToInt64(s.LastIngestionTime) != t0.Add(time.Second).UnixMilli() {
		t.Errorf("stream = first %d last %d ingest %d", aws.ToInt64(s.FirstEventTimestamp), aws.ToInt64(s.LastEventTimestamp), aws.ToInt64(s.LastIngestionTime))
	}
	if aws.ToString(s.Arn) != "arn:aws:logs:us-east-1:"+acctA+":log-group:g:log-stream:s" {
		t.Errorf("arn = %s", aws.ToString(s.Arn))
	}
	groups, _ := e.client().DescribeLogGroups(ctx, &cloudwatchlogs.DescribeLogGroupsInput{})
	if n := aws.ToInt64(groups.LogGroups[0].StoredBytes); n != 12 {
		t.Errorf("storedBytes = %d; want 12", n)
	}
}

func TestPutLogEventsRecord(t *testing.T) {
	e := newEnv(t)
	e.group("g", "s")
	e.put("g", "s", ev(e.ms(0), "secret log line"))
	rec := e.rec.last("PutLogEvents")
	if rec == nil {
		t.Fatal("no record")
	}
	b, _ := json.Marshal(rec)
	if strings.Contains(string(b), "secret log line") {
		t.Errorf("the record holds the events: %s", rec.RequestParameters)
	}
	if !strings.Contains(string(rec.RequestParameters), `"logStreamName":"s"`) {
		t.Errorf("requestParameters = %s", rec.RequestParameters)
	}
}

func TestPutInternal(t *testing.T) {
	e := newEnv(t)
	e.group("trail")
	putFilter(t, e, "trail", "all", "", "1")
	now := e.clock.Now()
	rejected, err := e.svc.PutInternal(context.Background(), acctA, region1, "trail", "123456789012_CloudTrail_us-east-1", []InputEvent{
		{Timestamp: now.Add(-time.Second), Message: "b"},
		{Timestamp: now.Add(-2 * time.Second), Message: "a"}, // out of order: fine
		{Timestamp: now, Message: strings.Repeat("x", MaxInternalEventBytes+1)},
		{Timestamp: now, Message: ""},
		{Timestamp: now.Add(-15 * 24 * time.Hour), Message: "too old"},
		{Timestamp: now.Add(3 * time.Hour), Message: "too new"},
		{Timestamp: now, Message: strings.Repeat("y", MaxInternalEventBytes)},
	})
	if err != nil || rejected != 4 {
		t.Fatalf("PutInternal = %d, %v; want 4 rejected", rejected, err)
	}
	out, err := e.client().GetLogEvents(ctx, &cloudwatchlogs.GetLogEventsInput{LogGroupName: aws.String("trail"), LogStreamName: aws.String("123456789012_CloudTrail_us-east-1"), StartFromHead: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	if got := outMsgs(out.Events); len(got) != 3 || got[0] != "a" || got[1] != "b" {
		t.Fatalf("stored %d events: %.20v", len(got), got)
	}
	if n := len(e.sink.take()); n != 3 {
		t.Errorf("metric points = %d; want 3", n)
	}
	// Again: the stream exists now.
	if _, err := e.svc.PutInternal(context.Background(), acctA, region1, "trail", "123456789012_CloudTrail_us-east-1", []InputEvent{{Timestamp: now, Message: "c"}}); err != nil {
		t.Fatal(err)
	}
	_, err = e.svc.PutInternal(context.Background(), acctA, region1, "missing", "s", []InputEvent{{Timestamp: now, Message: "c"}})
	if !errors.Is(err, ErrGroupNotFound) {
		t.Errorf("missing group: %v", err)
	}
	if ok, err := e.svc.GroupExists(acctA, region1, "trail"); !ok || err != nil {
		t.Errorf("GroupExists(trail) = %v, %v", ok, err)
	}
	if ok, _ := e.svc.GroupExists(acctB, region1, "trail"); ok {
		t.Error("GroupExists sees another account's group")
	}
}

func TestConcurrentPuts(t *testing.T) {
	e := newEnv(t)
	e.group("g", "s1", "s2")
	errs := make(chan error, 8)
	for w := range 8 {
		go func() {
			stream := "s1"
			if w%2 == 1 {
				stream = "s2"
			}
			var err error
			for i := range 20 {
				_, err = e.client().PutLogEvents(ctx, &cloudwatchlogs.PutLogEventsInput{LogGroupName: aws.String("g"), LogStreamName: aws.String(stream),
					LogEvents: []cwltypes.InputLogEvent{ev(e.ms(0), fmt.Sprintf("w%d-%d", w, i))}})
				if err != nil {
					break
				}
			}
			errs <- err
		}()
	}
	for range 8 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	out, err := e.client().FilterLogEvents(ctx, &cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String("g")})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Events) != 160 {
		t.Fatalf("events = %d; want 160", len(out.Events))
	}
	ids := map[string]bool{}
	for _, x := range out.Events {
		ids[aws.ToString(x.EventId)] = true
	}
	if len(ids) != 160 {
		t.Errorf("distinct event IDs = %d", len(ids))
	}
}
