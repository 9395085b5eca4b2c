// Package delivery writes CloudTrail log files and digest files to trails' buckets: the
// journal consumer that turns recorded calls into AWS's delivered output.
//
// The pipeline has three stages, each resumable after a crash (docs/delivery.md):
//
//  1. Route. The consumer reads the journal from its cursor and keeps the records in memory
//     until the delivery interval ends (or the pending bytes reach a limit). It then routes
//     every record to the trails that select it (account, regions, logging period, global
//     service events, basic or advanced event selectors), groups them per (trail, region),
//     splits groups at the file size cap, gzips each file and commits, in one atomic batch of
//     the metadata store, the files to the outbox and the cursor past the last record. A crash
//     before the commit re-reads the same records; after it, the files are safe in the outbox.
//  2. Upload. The uploader writes outbox files to their buckets with retries and backoff per
//     trail (one trail's broken bucket does not hold up the others) and, in one batch, removes
//     each file from the outbox, adds it to its digest window and queues its SNS notification.
//     A crash between the write and the batch writes the same file again under the same key.
//  3. Digest and notify. Each validating trail's digest windows are closed every digest
//     interval and written as signed digest files (digests.go); queued notifications are
//     published to the trail's SNS topic (at least once).
//
// Trail status (GetTrailStatus's LatestDeliveryTime, LatestDeliveryError, ...) is updated as
// each stage succeeds or fails.
package delivery

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/opentrail/opentrail/internal/blob"
	"github.com/opentrail/opentrail/internal/cloudtrail"
	"github.com/opentrail/opentrail/internal/kv"
)

// Source is the journal as the consumer reads it: records in sequence order, waiting at the
// end for new ones.
type Source interface {
	Next(ctx context.Context) (seq uint64, payload []byte, err error)
}

// Trails is what delivery needs of the trail control plane.
type Trails interface {
	// EachTrail calls fn with every trail of every account.
	EachTrail(fn func(cloudtrail.Trail) error) error
	// UpdateDeliveryStatus edits a trail's delivery status durably.
	UpdateDeliveryStatus(acct, region, name string, fn func(*cloudtrail.DeliveryStatus)) error
}

// Notifier publishes log-delivery notifications to SNS topics.
type Notifier interface {
	PublishInternal(ctx context.Context, topicARN, subject, message string) (messageID string, err error)
}

// Defaults for Options.
const (
	DefaultInterval        = 5 * time.Minute
	DefaultDigestInterval  = time.Hour
	DefaultMaxFileBytes    = 32 << 20 // uncompressed bytes per log file
	DefaultMaxPendingBytes = 64 << 20 // records held in memory before an early flush
	defaultRetryMin        = time.Second
	defaultRetryMax        = 5 * time.Minute
)

// Options configure a Deliverer.
type Options struct {
	Store   *kv.Store  // required: cursor, outbox, digest windows, queued notifications
	Buckets blob.Store // required: where trails' buckets are
	Trails  Trails     // required
	// Notifier publishes to trails' SNS topics; without it, notifications are dropped with a
	// LatestNotificationError.
	Notifier Notifier
	// Keys signs digest files; without it, trails with log file validation get no digests and
	// a LatestDigestDeliveryError.
	Keys Keys

	Interval        time.Duration // how long records wait before they are written; default 5m
	DigestInterval  time.Duration // digest window length; default 1h
	MaxFileBytes    int           // size cap of one log file, uncompressed
	MaxPendingBytes int           // records read but not yet routed, before an early flush
	// Regions are the regions the server serves: a multi-region trail gets a digest chain in
	// each of them.
	Regions []string
	// ServerSideEncryption is sent with every object written (x-amz-server-side-encryption).
	ServerSideEncryption string
	RetryMin, RetryMax   time.Duration // backoff of failed uploads; default 1s doubling to 5m

	Now    func() time.Time
	Logger *slog.Logger
}

// Deliverer is the delivery pipeline. Run it with Run.
type Deliverer struct {
	opts  Options
	store *kv.Store
	log   *slog.Logger
	now   func() time.Time

	mu     sync.Mutex // cursor
	cursor uint64

	// windowMu serialises changes to digest windows (uploader adds files, digester closes).
	windowMu sync.Mutex

	wakeUpload chan struct{}
	wakeNotify chan struct{}
}

// Metadata-store keys.
const (
	keyCursor       = "delivery/cursor"
	keyOutbox       = "delivery/outbox/" // + file id → outboxEntry
	keyOutboxBody   = "delivery/body/"   // + file id → gzip bytes
	keyWindow       = "delivery/window/" // + account/home region/trail/region → window
	keyNotification = "delivery/notify/" // + trail ARN + "/" + file id → notification
)

// New returns a Deliverer that resumes after its stored cursor.
func New(opts Options) (*Deliverer, error) {
	switch {
	case opts.Store == nil:
		return nil, errors.New("delivery: Options.Store is required")
	case opts.Buckets == nil:
		return nil, errors.New("delivery: Options.Buckets is required")
	case opts.Trails == nil:
		return nil, errors.New("delivery: Options.Trails is required")
	}
	if opts.Interval <= 0 {
		opts.Interval = DefaultInterval
	}
	if opts.DigestInterval <= 0 {
		opts.DigestInterval = DefaultDigestInterval
	}
	if opts.MaxFileBytes <= 0 {
		opts.MaxFileBytes = DefaultMaxFileBytes
	}
	if opts.MaxPendingBytes <= 0 {
		opts.MaxPendingBytes = DefaultMaxPendingBytes
	}
	if opts.RetryMin <= 0 {
		opts.RetryMin = defaultRetryMin
	}
	if opts.RetryMax < opts.RetryMin {
		opts.RetryMax = max(defaultRetryMax, opts.RetryMin)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	d := &Deliverer{
		opts: opts, store: opts.Store, log: opts.Logger, now: opts.Now,
		wakeUpload: make(chan struct{}, 1), wakeNotify: make(chan struct{}, 1),
	}
	if err := d.store.Get(keyCursor, &d.cursor); err != nil && !errors.Is(err, kv.ErrNotFound) {
		return nil, fmt.Errorf("delivery: read cursor: %w", err)
	}
	return d, nil
}

// Cursor is the sequence number of the last journal record routed to the outbox; reading
// resumes after it.
func (d *Deliverer) Cursor() uint64 {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.cursor
}

// Run delivers until ctx ends: it routes records from src (which must start after Cursor),
// uploads, digests and notifies. It returns nil when ctx ends and an error when the journal
// or the metadata store fails.
func (d *Deliverer) Run(ctx context.Context, src Source) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	for _, loop := range []func(context.Context){d.uploadLoop, d.notifyLoop, d.digestLoop} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			loop(ctx)
		}()
	}
	err := d.route(ctx, src)
	cancel()
	wg.Wait()
	if ctx.Err() != nil && errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}

func wake(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

// sleep waits for d, a wake-up on ch, or the end of ctx; it reports whether ctx is still live.
func sleep(ctx context.Context, d time.Duration, ch <-chan struct{}) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-ch:
	case <-t.C:
	}
	return true
}

// statusError is what GetTrailStatus shows for a failed write: the S3 error code where there
// is one (as AWS shows it), else a short description (an unreachable endpoint has no code).
func statusError(err error) string {
	if code := blob.ErrorCode(err); code != "" {
		return code
	}
	msg := err.Error()
	if len(msg) > 200 {
		msg = msg[:200]
	}
	return msg
}

// Outbox returns the number of log files routed but not yet written to their buckets.
func (d *Deliverer) Outbox() (int, error) {
	n := 0
	err := d.store.Scan(keyOutbox, func(string, []byte) error { n++; return nil })
	return n, err
}
