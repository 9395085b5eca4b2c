package delivery

import (
	"context"
	"crypto"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/opentrail/opentrail/internal/blob"
	"github.com/opentrail/opentrail/internal/cloudtrail"
	"github.com/opentrail/opentrail/internal/digest"
)

// Keys are the regions' digest signing keys (digest.KeyRing).
type Keys interface {
	// SignerAt returns a key of region valid at t and its fingerprint.
	SignerAt(region string, t time.Time) (signer crypto.Signer, fingerprint string, err error)
}

// window is the open digest window of one (trail, account, region): the log files delivered
// since the last digest, and that digest, which the next one chains to.
type window struct {
	Account    string `json:"account"`
	HomeRegion string `json:"homeRegion"`
	TrailName  string `json:"trailName"`
	Region     string `json:"region"` // source region of the files and of the chain
	// Bucket and Prefix are where the trail's digests go, as of the last pass; a final digest
	// of a deleted trail goes there.
	Bucket string    `json:"bucket,omitempty"`
	Prefix string    `json:"prefix,omitempty"`
	Start  time.Time `json:"start"`
	// LoggingSince is the StartLoggingTime of the logging period the chain belongs to; a new
	// period (StopLogging then StartLogging) starts a new chain.
	LoggingSince time.Time    `json:"loggingSince"`
	Files        []windowFile `json:"files"`
	Prev         *prevDigest  `json:"prev,omitempty"`
}

type windowFile struct {
	Bucket string `json:"bucket"`
	Key    string `json:"key"`
	Hash   string `json:"hash"`
	Oldest string `json:"oldest"`
	Newest string `json:"newest"`
}

// prevDigest is the last digest of a chain.
type prevDigest struct {
	Bucket    string `json:"bucket"`
	Key       string `json:"key"`
	Hash      string `json:"hash"`      // SHA-256 of its uncompressed document
	Signature string `json:"signature"` // its hex signature
}

func windowKey(acct, home, name, region string) string {
	return keyWindow + acct + "/" + home + "/" + name + "/" + region
}

// digestTick is how often digest windows are checked: often enough that a digest is written
// soon after its window ends.
func (d *Deliverer) digestTick() time.Duration {
	return min(max(d.opts.DigestInterval/8, 50*time.Millisecond), 30*time.Second)
}

func (d *Deliverer) digestLoop(ctx context.Context) {
	for {
		if err := d.digestPass(ctx); err != nil && ctx.Err() == nil {
			d.log.Warn("delivery: digest pass", "err", err)
		}
		if !sleep(ctx, d.digestTick(), nil) {
			return
		}
	}
}

// digestPass opens, closes and chains the digest windows of every trail:
//
//   - a logging trail with log file validation gets a window per covered region, opened when
//     first seen (the next digest is then a starting digest, with null previousDigest*);
//   - a window whose interval has passed is closed by a digest, also when it holds no file;
//   - when the trail stops logging, turns validation off, starts a new logging period or is
//     deleted, the window is closed at once by a final digest and the chain ends.
func (d *Deliverer) digestPass(ctx context.Context) error {
	d.windowMu.Lock()
	defer d.windowMu.Unlock()
	windows := map[string]window{}
	err := d.store.Scan(keyWindow, func(k string, v []byte) error {
		var w window
		if err := json.Unmarshal(v, &w); err != nil {
			return fmt.Errorf("decode %s: %w", k, err)
		}
		windows[k] = w
		return nil
	})
	if err != nil {
		return err
	}
	var trails []cloudtrail.Trail
	if err := d.opts.Trails.EachTrail(func(t cloudtrail.Trail) error {
		trails = append(trails, t)
		return nil
	}); err != nil {
		return err
	}
	now := d.now().UTC()
	var errs []error
	for i := range trails {
		t := &trails[i]
		validating := t.Status.IsLogging && t.LogFileValidationEnabled
		for _, region := range d.regions(t) {
			if ctx.Err() != nil {
				return nil
			}
			wk := windowKey(t.AccountID, t.HomeRegion, t.Name, region)
			w, open := windows[wk]
			delete(windows, wk)
			if open {
				w.Bucket, w.Prefix = t.S3BucketName, t.S3KeyPrefix
				if w.LoggingSince.IsZero() {
					w.LoggingSince = t.Status.StartLoggingTime
				}
			}
			switch {
			case !validating && !open:
				// Nothing to digest.
			case open && (!validating || !w.LoggingSince.Equal(t.Status.StartLoggingTime)):
				// Final digest of the chain; a new period starts a new chain next pass.
				if err := d.closeWindow(ctx, t, &w, now, true); err != nil {
					errs = append(errs, err)
				}
			case !open:
				w = window{Account: t.AccountID, HomeRegion: t.HomeRegion, TrailName: t.Name, Region: region,
					Bucket: t.S3BucketName, Prefix: t.S3KeyPrefix, Start: now.Truncate(time.Second), LoggingSince: t.Status.StartLoggingTime}
				if err := d.store.Put(wk, &w); err != nil {
					return err
				}
			case !now.Before(w.Start.Add(d.opts.DigestInterval)):
				// The end is the last interval boundary reached, so that a pass run late (or
				// after downtime) still writes the digest the on-time pass would have.
				n := now.Sub(w.Start) / d.opts.DigestInterval
				end := w.Start.Add(n * d.opts.DigestInterval)
				if err := d.closeWindow(ctx, t, &w, end, false); err != nil {
					errs = append(errs, err)
				}
			}
		}
	}
	// Windows left over belong to deleted trails or regions a trail no longer covers.
	for _, w := range windows {
		if w.Bucket == "" {
			continue
		}
		gone := &cloudtrail.Trail{AccountID: w.Account, HomeRegion: w.HomeRegion, Name: w.TrailName, S3BucketName: w.Bucket, S3KeyPrefix: w.Prefix}
		if err := d.closeWindow(ctx, gone, &w, now, true); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// regions are the regions whose digest chains trail t has: every served region it covers.
func (d *Deliverer) regions(t *cloudtrail.Trail) []string {
	if len(d.opts.Regions) == 0 {
		return []string{t.HomeRegion}
	}
	var out []string
	for _, r := range d.opts.Regions {
		if t.Covers(r) {
			out = append(out, r)
		}
	}
	return out
}

// closeWindow writes the digest of w ending at end and stores the next window (or, when
// final, removes w). When the write fails the window is kept as it was and the next pass
// tries again.
func (d *Deliverer) closeWindow(ctx context.Context, t *cloudtrail.Trail, w *window, end time.Time, final bool) error {
	end = end.UTC().Truncate(time.Second)
	if !end.After(w.Start) {
		end = w.Start.Add(time.Second) // digest keys carry seconds; keep them distinct
	}
	prev, err := d.writeDigest(ctx, t, w, end)
	wk := windowKey(w.Account, w.HomeRegion, w.TrailName, w.Region)
	if err != nil {
		d.status(w.Account, w.HomeRegion, w.TrailName, func(s *cloudtrail.DeliveryStatus) {
			s.LatestDigestDeliveryError = statusError(err)
		})
		return fmt.Errorf("digest of %s in %s: %w", t.ARN(), w.Region, err)
	}
	at := d.now().UTC()
	d.status(w.Account, w.HomeRegion, w.TrailName, func(s *cloudtrail.DeliveryStatus) {
		s.LatestDigestDeliveryTime = at
		s.LatestDigestDeliveryError = ""
	})
	if final {
		return d.store.Delete(wk)
	}
	next := *w
	next.Start, next.Files, next.Prev = end, nil, prev
	return d.store.Put(wk, &next)
}

// writeDigest builds, signs and writes the digest of window w ending at end.
func (d *Deliverer) writeDigest(ctx context.Context, t *cloudtrail.Trail, w *window, end time.Time) (*prevDigest, error) {
	if d.opts.Keys == nil {
		return nil, errors.New("no digest signing keys on this server")
	}
	bucket := t.S3BucketName
	key := digest.Key(t.S3KeyPrefix, w.Account, w.Region, w.TrailName, w.HomeRegion, end)
	doc := digest.Digest{
		AWSAccountID:             w.Account,
		DigestStartTime:          digest.TimeString(w.Start),
		DigestEndTime:            digest.TimeString(end),
		DigestS3Bucket:           bucket,
		DigestS3Object:           key,
		DigestSignatureAlgorithm: digest.SignatureAlgorithm,
		LogFiles:                 make([]digest.LogFile, 0, len(w.Files)),
	}
	var oldest, newest string
	for _, f := range w.Files {
		doc.LogFiles = append(doc.LogFiles, digest.LogFile{
			S3Bucket: f.Bucket, S3Object: f.Key, HashValue: f.Hash, HashAlgorithm: digest.HashAlgorithm,
			NewestEventTime: f.Newest, OldestEventTime: f.Oldest,
		})
		if oldest == "" || f.Oldest < oldest {
			oldest = f.Oldest
		}
		if f.Newest > newest {
			newest = f.Newest
		}
	}
	if len(w.Files) > 0 {
		doc.OldestEventTime, doc.NewestEventTime = &oldest, &newest
	}
	if p := w.Prev; p != nil {
		alg := digest.HashAlgorithm
		doc.PreviousDigestS3Bucket, doc.PreviousDigestS3Object = &p.Bucket, &p.Key
		doc.PreviousDigestHashValue, doc.PreviousDigestHashAlgorithm = &p.Hash, &alg
		doc.PreviousDigestSignature = &p.Signature
	}
	signer, fp, err := d.opts.Keys.SignerAt(w.Region, end)
	if err != nil {
		return nil, fmt.Errorf("signing key: %w", err)
	}
	doc.DigestPublicKeyFingerprint = fp
	raw, err := doc.Marshal()
	if err != nil {
		return nil, err
	}
	sig, err := digest.Sign(signer, &doc, raw)
	if err != nil {
		return nil, err
	}
	opts := blob.PutOptions{
		ContentType: logFileContentType,
		Metadata:    map[string]string{digest.MetaSignature: sig, digest.MetaSignatureAlgorithm: digest.SignatureAlgorithm},
	}
	if d.opts.ServerSideEncryption == "AES256" {
		opts.ServerSideEncryption = "AES256" // digests stay SSE-S3 even when log files use KMS
	}
	if err := d.opts.Buckets.Put(ctx, bucket, key, digest.Gzip(raw), opts); err != nil {
		return nil, err
	}
	return &prevDigest{Bucket: bucket, Key: key, Hash: digest.Hash(raw), Signature: sig}, nil
}
