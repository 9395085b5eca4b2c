// Package logforward sends trails' records to CloudWatch Logs: the journal consumer behind a
// trail's CloudWatchLogsLogGroupArn.
//
// Every record that a trail with a log group receives (internal/routing decides, as for log
// files) becomes one log event — the record's JSON as the message, its eventTime as the
// timestamp — in the stream <account>_CloudTrail_<region of the record> of the trail's log
// group, as CloudTrail writes them. Records are read from the journal and forwarded in small
// batches (at most forwardWindow after they are journaled); the consumer's cursor is stored
// after each batch is accepted. A crash between the two forwards the batch again, so a record
// may appear twice in a log group after a crash, never not at all (at least once, like AWS's
// own delivery to CloudWatch Logs). Events over the Logs service's size limit (256 KB) are
// dropped by the service, as AWS drops them.
package logforward

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/opentrail/opentrail/internal/cloudtrail"
	"github.com/opentrail/opentrail/internal/kv"
	"github.com/opentrail/opentrail/internal/readahead"
	"github.com/opentrail/opentrail/internal/routing"
)

// Source is the journal as the consumer reads it.
type Source interface {
	Next(ctx context.Context) (seq uint64, payload []byte, err error)
}

// Trails is what the forwarder needs of the trail control plane.
type Trails interface {
	EachTrail(fn func(cloudtrail.Trail) error) error
	UpdateDeliveryStatus(acct, region, name string, fn func(*cloudtrail.DeliveryStatus)) error
}

// Event is one log event to put.
type Event struct {
	Timestamp time.Time
	Message   string
}

// Sink puts log events into a stream of a log group, creating the stream when it is missing.
// rejected counts events it dropped (too large). ErrNoGroup (wrapped) means the group is
// gone: those events are dropped, since no retry can place them.
type Sink interface {
	Forward(ctx context.Context, acct, region, group, stream string, events []Event) (rejected int, err error)
}

// ErrNoGroup is what a Sink wraps when the log group does not exist.
var ErrNoGroup = errors.New("logforward: log group does not exist")

// Options configure a Forwarder.
type Options struct {
	Store  *kv.Store // required: the cursor
	Trails Trails    // required
	Sink   Sink      // required
	Now    func() time.Time
	Logger *slog.Logger
	// RetryMin and RetryMax bound the backoff after a failed put; default 200 ms to 30 s.
	RetryMin, RetryMax time.Duration
}

// Forwarder is the consumer. Run it with Run.
type Forwarder struct {
	opts Options
	log  *slog.Logger
	now  func() time.Time

	mu     sync.Mutex
	cursor uint64
}

const (
	keyCursor = "logforward/cursor"
	// forwardWindow is how long the first record of a batch waits for others.
	forwardWindow = 200 * time.Millisecond
	// maxBatch bounds the records of one batch.
	maxBatch = 5000
)

// New returns a Forwarder that resumes after its stored cursor.
func New(opts Options) (*Forwarder, error) {
	if opts.Store == nil || opts.Trails == nil || opts.Sink == nil {
		return nil, errors.New("logforward: Store, Trails and Sink are required")
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.RetryMin <= 0 {
		opts.RetryMin = 200 * time.Millisecond
	}
	if opts.RetryMax < opts.RetryMin {
		opts.RetryMax = max(30*time.Second, opts.RetryMin)
	}
	f := &Forwarder{opts: opts, log: opts.Logger, now: opts.Now}
	if err := opts.Store.Get(keyCursor, &f.cursor); err != nil && !errors.Is(err, kv.ErrNotFound) {
		return nil, fmt.Errorf("logforward: read cursor: %w", err)
	}
	return f, nil
}

// Cursor is the sequence number of the last record forwarded; reading resumes after it.
func (f *Forwarder) Cursor() uint64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.cursor
}

type item struct {
	seq     uint64
	payload []byte
}

// Run forwards until ctx ends (then it returns nil) or the journal or store fails.
func (f *Forwarder) Run(ctx context.Context, src Source) error {
	ch, stop := readahead.Start(ctx, src, 1024)
	defer stop()

	var batch []item
	var timer <-chan time.Time
	for {
		select {
		case <-ctx.Done():
			return nil
		case n := <-ch:
			if n.Err != nil {
				if ctx.Err() != nil {
					return nil
				}
				return fmt.Errorf("logforward: read journal: %w", n.Err)
			}
			batch = append(batch, item{n.Seq, n.Payload})
			if len(batch) == 1 {
				timer = time.After(forwardWindow)
			}
			if len(batch) < maxBatch {
				continue
			}
		case <-timer:
		}
		if len(batch) == 0 {
			continue
		}
		if err := f.forward(ctx, batch); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		batch, timer = batch[:0], nil
	}
}

// stream is one destination of a batch.
type stream struct {
	trail                 *cloudtrail.Trail
	region, group, stream string
	events                []Event
}

// forward routes a batch to the trails with log groups, puts the events, and stores the
// cursor past the batch.
func (f *Forwarder) forward(ctx context.Context, batch []item) error {
	var trails []*cloudtrail.Trail
	err := f.opts.Trails.EachTrail(func(t cloudtrail.Trail) error {
		if t.CloudWatchLogsLogGroupArn != "" && !t.Status.StartLoggingTime.IsZero() {
			trails = append(trails, &t)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("logforward: list trails: %w", err)
	}
	var order []*stream
	if len(trails) > 0 {
		streams := map[string]*stream{}
		var r routing.Record
		for _, it := range batch {
			if err := routing.Decode(it.payload, it.seq, &r); err != nil {
				f.log.Warn("journal record is not a CloudTrail record; not forwarded", "seq", it.seq, "err", err)
				continue
			}
			for _, t := range trails {
				if !routing.Selects(t, &r) {
					continue
				}
				region, group, ok := parseGroupARN(t.CloudWatchLogsLogGroupArn)
				if !ok {
					continue
				}
				name := t.AccountID + "_CloudTrail_" + r.AWSRegion
				k := t.ARN() + "\x00" + name
				s := streams[k]
				if s == nil {
					s = &stream{trail: t, region: region, group: group, stream: name}
					streams[k] = s
					order = append(order, s)
				}
				s.events = append(s.events, Event{Timestamp: r.Time, Message: string(it.payload)})
			}
		}
	}
	for _, s := range order {
		// PutLogEvents wants a batch in chronological order; journal order is nearly that.
		slices.SortStableFunc(s.events, func(a, b Event) int { return a.Timestamp.Compare(b.Timestamp) })
		if err := f.put(ctx, s); err != nil {
			return err
		}
	}
	last := batch[len(batch)-1].seq
	// A batch that forwarded nothing moves the cursor without waiting for the disk (see
	// kv.Batch.CommitUnsynced): forwarding those records again forwards nothing again.
	put := f.opts.Store.Put
	if len(order) == 0 {
		put = f.opts.Store.PutUnsynced
	}
	if err := put(keyCursor, last); err != nil {
		return fmt.Errorf("logforward: store cursor: %w", err)
	}
	f.mu.Lock()
	f.cursor = last
	f.mu.Unlock()
	return nil
}

// put sends one stream's events, retrying with backoff until they are accepted, the group
// turns out not to exist, or ctx ends.
func (f *Forwarder) put(ctx context.Context, s *stream) error {
	t := s.trail
	delay := f.opts.RetryMin
	for {
		rejected, err := f.opts.Sink.Forward(ctx, t.AccountID, s.region, s.group, s.stream, s.events)
		at := f.now().UTC()
		switch {
		case err == nil:
			if rejected > 0 {
				f.log.Warn("records over the log event size limit were not forwarded", "trail", t.ARN(), "dropped", rejected)
			}
			f.status(t, func(st *cloudtrail.DeliveryStatus) {
				st.LatestCloudWatchLogsDeliveryTime = at
				st.LatestCloudWatchLogsDeliveryError = ""
			})
			return nil
		case ctx.Err() != nil:
			return ctx.Err()
		case errors.Is(err, ErrNoGroup):
			f.log.Warn("log group of trail is gone; records not forwarded", "trail", t.ARN(), "group", s.group, "records", len(s.events))
			f.status(t, func(st *cloudtrail.DeliveryStatus) {
				st.LatestCloudWatchLogsDeliveryError = "ResourceNotFoundException"
			})
			return nil
		}
		f.log.Warn("forwarding to CloudWatch Logs failed; will retry", "trail", t.ARN(), "retry_in", delay, "err", err)
		f.status(t, func(st *cloudtrail.DeliveryStatus) { st.LatestCloudWatchLogsDeliveryError = errorCode(err) })
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(delay):
		}
		delay = min(delay*2, f.opts.RetryMax)
	}
}

func (f *Forwarder) status(t *cloudtrail.Trail, fn func(*cloudtrail.DeliveryStatus)) {
	if err := f.opts.Trails.UpdateDeliveryStatus(t.AccountID, t.HomeRegion, t.Name, fn); err != nil {
		f.log.Debug("logforward: trail status not updated", "trail", t.Name, "err", err)
	}
}

// errorCode is LatestCloudWatchLogsDeliveryError for a failed put: the AWS error code when
// the error carries one.
func errorCode(err error) string {
	var coded interface{ ErrorCode() string }
	if errors.As(err, &coded) && coded.ErrorCode() != "" {
		return coded.ErrorCode()
	}
	return err.Error()
}

// parseGroupARN splits arn:aws:logs:<region>:<acct>:log-group:<name>[:*].
func parseGroupARN(arn string) (region, group string, ok bool) {
	parts := strings.SplitN(arn, ":", 7)
	if len(parts) < 7 || parts[0] != "arn" || parts[2] != "logs" || parts[5] != "log-group" {
		return "", "", false
	}
	return parts[3], strings.TrimSuffix(parts[6], ":*"), true
}
