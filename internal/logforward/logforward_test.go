package logforward

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/opentrail/opentrail/internal/cloudtrail"
	"github.com/opentrail/opentrail/internal/kv"
)

const acct = "123456789012"

type fakeTrails struct {
	mu     sync.Mutex
	trails []cloudtrail.Trail
}

func (f *fakeTrails) EachTrail(fn func(cloudtrail.Trail) error) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, t := range f.trails {
		if err := fn(t); err != nil {
			return err
		}
	}
	return nil
}

func (f *fakeTrails) UpdateDeliveryStatus(acct, region, name string, fn func(*cloudtrail.DeliveryStatus)) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i := range f.trails {
		if f.trails[i].Name == name {
			fn(&f.trails[i].Status.Delivery)
		}
	}
	return nil
}

func (f *fakeTrails) status(name string) cloudtrail.DeliveryStatus {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, t := range f.trails {
		if t.Name == name {
			return t.Status.Delivery
		}
	}
	return cloudtrail.DeliveryStatus{}
}

type put struct {
	region, group, stream string
	events                []Event
}

type fakeSink struct {
	mu    sync.Mutex
	puts  []put
	fails int   // the next fails calls fail
	err   error // with this error
}

func (s *fakeSink) Forward(_ context.Context, acct, region, group, stream string, events []Event) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fails > 0 {
		s.fails--
		return 0, s.err
	}
	s.puts = append(s.puts, put{region, group, stream, events})
	return 0, nil
}

func (s *fakeSink) events(stream string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, p := range s.puts {
		if p.stream == stream {
			for _, e := range p.events {
				out = append(out, e.Message)
			}
		}
	}
	return out
}

type chanSource struct{ ch chan []byte }

func (c *chanSource) Next(ctx context.Context) (uint64, []byte, error) {
	select {
	case <-ctx.Done():
		return 0, nil, ctx.Err()
	case p := <-c.ch:
		var seq uint64
		_, _ = fmt.Sscanf(string(p), `{"requestID":"%d"`, &seq)
		return seq, p, nil
	}
}

func rec(seq int, region string) []byte {
	return fmt.Appendf(nil, `{"requestID":"%d","eventTime":"%s","eventSource":"ec2.amazonaws.com","eventName":"RunInstances","awsRegion":%q,"readOnly":false,"managementEvent":true,"recipientAccountId":"123456789012","eventCategory":"Management"}`,
		seq, time.Now().UTC().Format("2006-01-02T15:04:05Z"), region)
}

func trail(name, group string, multi bool) cloudtrail.Trail {
	t := cloudtrail.Trail{AccountID: acct, Name: name, HomeRegion: "us-east-1", IsMultiRegionTrail: multi,
		IncludeGlobalServiceEvents: true, EventSelectors: cloudtrail.DefaultEventSelectors(), CloudWatchLogsLogGroupArn: group}
	t.Status.IsLogging, t.Status.StartLoggingTime = true, time.Now().Add(-time.Minute)
	return t
}

func run(t *testing.T, store *kv.Store, trails *fakeTrails, sink Sink, src *chanSource) (*Forwarder, func()) {
	t.Helper()
	f, err := New(Options{Store: store, Trails: trails, Sink: sink, RetryMin: 10 * time.Millisecond, RetryMax: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- f.Run(ctx, src) }()
	return f, func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	}
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestForwardsToPerRegionStreams(t *testing.T) {
	store, err := kv.Open(filepath.Join(t.TempDir(), "kv"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	trails := &fakeTrails{trails: []cloudtrail.Trail{
		trail("multi", "arn:aws:logs:us-east-1:123456789012:log-group:audit:*", true),
		trail("single", "arn:aws:logs:us-east-1:123456789012:log-group:home", false),
		trail("none", "", true),
	}}
	sink := &fakeSink{fails: 2, err: errors.New("try again")}
	src := &chanSource{ch: make(chan []byte, 100)}
	f, stop := run(t, store, trails, sink, src)
	for i := 1; i <= 6; i++ {
		src.ch <- rec(i, []string{"us-east-1", "us-west-2"}[i%2])
	}
	eventually(t, "the cursor past 6", func() bool { return f.Cursor() == 6 })
	stop()
	if got := sink.events(acct + "_CloudTrail_us-east-1"); len(got) != 3+3 { // multi and single
		t.Errorf("us-east-1 stream got %d events, want 6 (3 per trail)", len(got))
	}
	if got := sink.events(acct + "_CloudTrail_us-west-2"); len(got) != 3 {
		t.Errorf("us-west-2 stream got %d events, want 3 (multi-region trail only)", len(got))
	}
	for _, p := range sink.puts {
		if p.region != "us-east-1" || (p.group != "audit" && p.group != "home") {
			t.Errorf("put to %s/%s", p.region, p.group)
		}
		for i := 1; i < len(p.events); i++ {
			if p.events[i].Timestamp.Before(p.events[i-1].Timestamp) {
				t.Error("events out of order")
			}
		}
	}
	if st := trails.status("multi"); st.LatestCloudWatchLogsDeliveryTime.IsZero() || st.LatestCloudWatchLogsDeliveryError != "" {
		t.Errorf("status %+v", st)
	}

	// A restart resumes after the cursor; a deleted group drops records with an error status.
	sink2 := &fakeSink{fails: 1000, err: fmt.Errorf("put: %w", ErrNoGroup)}
	f, stop = run(t, store, trails, sink2, src)
	if f.Cursor() != 6 {
		t.Fatalf("cursor after restart %d", f.Cursor())
	}
	src.ch <- rec(7, "us-east-1")
	eventually(t, "the cursor past 7", func() bool { return f.Cursor() == 7 })
	stop()
	if st := trails.status("single"); st.LatestCloudWatchLogsDeliveryError != "ResourceNotFoundException" {
		t.Errorf("status after a missing group: %+v", st)
	}
}

func TestParseGroupARN(t *testing.T) {
	for arn, want := range map[string]string{
		"arn:aws:logs:us-east-1:123456789012:log-group:a/b:*": "us-east-1 a/b",
		"arn:aws:logs:eu-west-1:123456789012:log-group:x":     "eu-west-1 x",
		"arn:aws:logs:eu-west-1:123456789012:x":               "",
		"arn:aws:sns:eu-west-1:123456789012:log-group:x":      "",
	} {
		r, g, ok := parseGroupARN(arn)
		got := ""
		if ok {
			got = r + " " + g
		}
		if got != want {
			t.Errorf("parseGroupARN(%s) = %q, want %q", arn, got, want)
		}
	}
}
