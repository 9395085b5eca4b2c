package delivery

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/opentrail/opentrail/internal/blob"
	"github.com/opentrail/opentrail/internal/cloudtrail"
	"github.com/opentrail/opentrail/internal/kv"
)

// logFileContentType is the Content-Type of log and digest objects. AWS's is not documented;
// the object is the .json.gz file itself, so there is no Content-Encoding.
const logFileContentType = "application/x-gzip"

// retryState is the backoff of one trail whose bucket refused a write.
type retryState struct {
	until time.Time
	delay time.Duration
}

// idleWait is how long the background loops sleep when they have nothing to do and are not
// woken.
const idleWait = time.Minute

func (d *Deliverer) uploadLoop(ctx context.Context) {
	backoff := map[string]*retryState{}
	for {
		wait, err := d.uploadPass(ctx, backoff)
		if err != nil && ctx.Err() == nil {
			d.log.Error("delivery: upload pass", "err", err)
			wait = d.opts.RetryMin
		}
		if !sleep(ctx, wait, d.wakeUpload) {
			return
		}
	}
}

// uploadPass writes every outbox file whose trail is not backing off, oldest first, and
// returns how long to wait before the next pass.
func (d *Deliverer) uploadPass(ctx context.Context, backoff map[string]*retryState) (time.Duration, error) {
	var entries []outboxEntry
	err := d.store.Scan(keyOutbox, func(_ string, v []byte) error {
		var e outboxEntry
		if err := json.Unmarshal(v, &e); err != nil {
			return err
		}
		entries = append(entries, e)
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("scan outbox: %w", err)
	}
	wait := idleWait
	blocked := map[string]bool{}
	succeeded := map[string]outboxEntry{} // by trail ARN: the last file delivered this pass
	for _, e := range entries {
		if ctx.Err() != nil {
			break
		}
		if blocked[e.TrailARN] {
			continue
		}
		if rs := backoff[e.TrailARN]; rs != nil {
			if left := rs.until.Sub(d.now()); left > 0 {
				blocked[e.TrailARN] = true
				wait = min(wait, left)
				continue
			}
		}
		body, err := d.store.GetRaw(keyOutboxBody + e.ID)
		if err != nil {
			return 0, fmt.Errorf("read outbox file %s: %w", e.ID, err)
		}
		err = d.opts.Buckets.Put(ctx, e.Bucket, e.Key, body, blob.PutOptions{
			ContentType:          logFileContentType,
			ServerSideEncryption: d.opts.ServerSideEncryption,
		})
		at := d.now().UTC()
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			rs := backoff[e.TrailARN]
			if rs == nil {
				rs = &retryState{delay: d.opts.RetryMin}
				backoff[e.TrailARN] = rs
			} else {
				rs.delay = min(rs.delay*2, d.opts.RetryMax)
			}
			rs.until = at.Add(rs.delay)
			blocked[e.TrailARN] = true
			wait = min(wait, rs.delay)
			d.log.Warn("log file delivery failed; will retry", "trail", e.TrailARN, "bucket", e.Bucket, "key", e.Key, "retry_in", rs.delay, "err", err)
			d.status(e.Account, e.HomeRegion, e.TrailName, func(s *cloudtrail.DeliveryStatus) {
				s.LatestDeliveryAttemptTime = at
				s.LatestDeliveryError = statusError(err)
			})
			continue
		}
		delete(backoff, e.TrailARN)
		if err := d.delivered(e, at); err != nil {
			return 0, err
		}
		e.Created = at
		succeeded[e.TrailARN] = e
	}
	for _, e := range succeeded {
		at := e.Created
		d.status(e.Account, e.HomeRegion, e.TrailName, func(s *cloudtrail.DeliveryStatus) {
			s.LatestDeliveryTime = at
			s.LatestDeliveryAttemptTime = at
			s.LatestDeliveryAttemptSucceeded = at
			s.LatestDeliveryError = ""
		})
	}
	if len(succeeded) > 0 {
		wake(d.wakeNotify)
	}
	return wait, nil
}

// notification is a delivered log file whose SNS notification has not been published yet.
type notification struct {
	Topic      string `json:"topic"`
	Account    string `json:"account"`
	HomeRegion string `json:"homeRegion"`
	TrailName  string `json:"trailName"`
	Bucket     string `json:"bucket"`
	Key        string `json:"key"`
}

// delivered records that outbox file e is in its bucket: in one batch it leaves the outbox,
// joins its digest window when the trail validates log files, and is queued for notification.
func (d *Deliverer) delivered(e outboxEntry, at time.Time) error {
	d.windowMu.Lock()
	defer d.windowMu.Unlock()
	b := d.store.NewBatch()
	b.Delete(keyOutbox + e.ID)
	b.Delete(keyOutboxBody + e.ID)
	if e.Validate {
		wk := windowKey(e.Account, e.HomeRegion, e.TrailName, e.Region)
		var w window
		if err := d.store.Get(wk, &w); err != nil {
			if !errors.Is(err, kv.ErrNotFound) {
				return fmt.Errorf("read digest window: %w", err)
			}
			w = window{Account: e.Account, HomeRegion: e.HomeRegion, TrailName: e.TrailName, Region: e.Region, Start: at.Truncate(time.Second)}
		}
		w.Files = append(w.Files, windowFile{Bucket: e.Bucket, Key: e.Key, Hash: e.Hash, Oldest: e.Oldest, Newest: e.Newest})
		if err := b.Put(wk, &w); err != nil {
			return err
		}
	}
	if e.Topic != "" {
		n := notification{Topic: e.Topic, Account: e.Account, HomeRegion: e.HomeRegion, TrailName: e.TrailName, Bucket: e.Bucket, Key: e.Key}
		if err := b.Put(keyNotification+e.TrailARN+"/"+e.ID, &n); err != nil {
			return err
		}
	}
	if err := b.Commit(); err != nil {
		return fmt.Errorf("delivery: commit delivered file: %w", err)
	}
	return nil
}

// status edits a trail's delivery status; a trail deleted meanwhile is ignored.
func (d *Deliverer) status(acct, home, name string, fn func(*cloudtrail.DeliveryStatus)) {
	if err := d.opts.Trails.UpdateDeliveryStatus(acct, home, name, fn); err != nil {
		d.log.Debug("delivery: trail status not updated", "trail", name, "err", err)
	}
}

// maxKeysPerNotification bounds one notification's s3ObjectKey list, so that the message
// stays far below SNS's 256 KiB limit.
const maxKeysPerNotification = 500

func (d *Deliverer) notifyLoop(ctx context.Context) {
	for {
		if err := d.notifyPass(ctx); err != nil && ctx.Err() == nil {
			d.log.Warn("delivery: notification pass", "err", err)
			if !sleep(ctx, d.opts.RetryMin, nil) {
				return
			}
			continue
		}
		if !sleep(ctx, idleWait, d.wakeNotify) {
			return
		}
	}
}

// notifyPass publishes the queued notifications, one message per (trail, topic, bucket)
// listing the keys delivered since the last one (at most maxKeysPerNotification), as
// CloudTrail does.
func (d *Deliverer) notifyPass(ctx context.Context) error {
	type batchKey struct{ trail, topic, bucket string }
	type batch struct {
		n    notification
		keys []string
		ids  []string
	}
	var order []*batch
	batches := map[batchKey]*batch{}
	err := d.store.Scan(keyNotification, func(k string, v []byte) error {
		var n notification
		if err := json.Unmarshal(v, &n); err != nil {
			return err
		}
		trail := strings.TrimPrefix(k[:strings.LastIndexByte(k, '/')], keyNotification)
		bk := batchKey{trail, n.Topic, n.Bucket}
		b := batches[bk]
		if b == nil || len(b.keys) >= maxKeysPerNotification {
			b = &batch{n: n}
			batches[bk] = b
			order = append(order, b)
		}
		b.keys = append(b.keys, n.Key)
		b.ids = append(b.ids, k)
		return nil
	})
	if err != nil {
		return fmt.Errorf("scan notifications: %w", err)
	}
	for _, b := range order {
		if ctx.Err() != nil {
			return nil
		}
		if err := d.publish(ctx, b.n, b.keys); err != nil {
			return err
		}
		del := d.store.NewBatch()
		for _, id := range b.ids {
			del.Delete(id)
		}
		if err := del.Commit(); err != nil {
			return err
		}
	}
	return nil
}

// publish sends one log-delivery notification and records the outcome in the trail's
// status. It returns an error only for a failure worth retrying; a permanent one (the topic
// is gone, no SNS) is logged and the notification dropped.
func (d *Deliverer) publish(ctx context.Context, n notification, keys []string) error {
	at := d.now().UTC()
	msg, err := json.Marshal(struct {
		S3Bucket    string   `json:"s3Bucket"`
		S3ObjectKey []string `json:"s3ObjectKey"`
	}{n.Bucket, keys})
	if err != nil {
		return err
	}
	var perr error
	if d.opts.Notifier == nil {
		perr = errNoSNS
	} else {
		_, perr = d.opts.Notifier.PublishInternal(ctx, n.Topic, "", string(msg))
	}
	if perr != nil && ctx.Err() != nil {
		return ctx.Err()
	}
	d.status(n.Account, n.HomeRegion, n.TrailName, func(s *cloudtrail.DeliveryStatus) {
		s.LatestNotificationAttemptTime = at
		if perr != nil {
			s.LatestNotificationError = notificationError(perr)
			return
		}
		s.LatestNotificationTime = at
		s.LatestNotificationAttemptSucceeded = at
		s.LatestNotificationError = ""
	})
	if perr == nil {
		return nil
	}
	if !permanent(perr) {
		return fmt.Errorf("publish to %s: %w", n.Topic, perr)
	}
	d.log.Warn("log delivery notification dropped", "topic", n.Topic, "err", perr)
	return nil
}

var errNoSNS = errors.New("SNS is not available on this server")

// notificationError is GetTrailStatus's LatestNotificationError for a failed publish: the
// AWS error code when there is one.
func notificationError(err error) string {
	var coded interface{ ErrorCode() string }
	if errors.As(err, &coded) && coded.ErrorCode() != "" {
		return coded.ErrorCode()
	}
	return err.Error()
}

// permanent reports whether a publish failure will not heal by retrying (the topic is gone
// or refuses the publisher): such notifications are dropped after the status shows why.
func permanent(err error) bool {
	if errors.Is(err, errNoSNS) {
		return true
	}
	var coded interface{ ErrorCode() string }
	if errors.As(err, &coded) {
		switch coded.ErrorCode() {
		case "NotFound", "AuthorizationError", "InvalidParameter", "NotFoundException":
			return true
		}
	}
	return false
}
