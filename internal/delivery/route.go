package delivery

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"runtime"
	"sync"
	"time"

	"github.com/klauspost/compress/gzip"

	"github.com/opentrail/opentrail/internal/cloudtrail"
	"github.com/opentrail/opentrail/internal/readahead"
	"github.com/opentrail/opentrail/internal/routing"
)

// pending is a journal record read but not yet routed.
type pending struct {
	seq     uint64
	payload []byte
}

// readAhead is how many records the journal reader may be ahead of the router.
const readAhead = 4096

// route is the consumer loop: it reads the journal and flushes pending records every
// interval, or earlier when they exceed MaxPendingBytes.
func (d *Deliverer) route(ctx context.Context, src Source) error {
	ch, stop := readahead.Start(ctx, src, readAhead)
	defer stop()

	// The flusher routes, compresses and commits one batch while the next one is read.
	batches := make(chan []pending, 1)
	flushErr := make(chan error, 1)
	go func() {
		defer close(flushErr)
		for b := range batches {
			if err := d.flush(ctx, b); err != nil {
				flushErr <- err
				for range batches { // drain so that the reader never blocks on a dead flusher
				}
				return
			}
		}
	}()
	defer func() {
		close(batches)
		<-flushErr
	}()
	send := func(b []pending) error {
		select {
		case batches <- b:
			return nil
		case err := <-flushErr:
			if err == nil {
				err = ctx.Err()
			}
			return err
		case <-ctx.Done():
			return ctx.Err()
		}
	}

	ticker := time.NewTicker(d.opts.Interval)
	defer ticker.Stop()
	var batch []pending
	size := 0
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case err := <-flushErr:
			if err == nil {
				err = ctx.Err()
			}
			return err
		case <-ticker.C:
			if len(batch) > 0 {
				if err := send(batch); err != nil {
					return err
				}
				batch, size = nil, 0
			}
		case it := <-ch:
			if it.Err != nil {
				return fmt.Errorf("delivery: read journal: %w", it.Err)
			}
			batch = append(batch, pending{it.Seq, it.Payload})
			size += len(it.Payload)
			if size >= d.opts.MaxPendingBytes {
				if err := send(batch); err != nil {
					return err
				}
				batch, size = nil, 0
			}
		}
	}
}

// outboxEntry is a log file waiting to be written to its bucket. Its gzip body is stored
// beside it under keyOutboxBody + ID.
type outboxEntry struct {
	ID         string    `json:"id"` // 20-digit last journal seq of its flush + "-" + index
	TrailARN   string    `json:"trailArn"`
	Account    string    `json:"account"` // the trail's account (and the records')
	HomeRegion string    `json:"homeRegion"`
	TrailName  string    `json:"trailName"`
	Region     string    `json:"region"` // where the events happened
	Bucket     string    `json:"bucket"`
	Key        string    `json:"key"`
	Validate   bool      `json:"validate"` // the trail had log file validation on
	Topic      string    `json:"topic,omitempty"`
	Hash       string    `json:"hash"` // lowerhex SHA-256 of the uncompressed file
	Oldest     string    `json:"oldest"`
	Newest     string    `json:"newest"`
	Records    int       `json:"records"`
	Created    time.Time `json:"created"`
}

// group is the records one trail receives from one region in one flush.
type group struct {
	trail   *cloudtrail.Trail
	region  string
	records [][]byte
	times   []string
}

// flush routes batch to trails and commits the resulting files to the outbox together with
// the cursor past the batch.
func (d *Deliverer) flush(ctx context.Context, batch []pending) error {
	var trails []*cloudtrail.Trail
	err := d.opts.Trails.EachTrail(func(t cloudtrail.Trail) error {
		if !t.Status.StartLoggingTime.IsZero() {
			trails = append(trails, &t)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("delivery: list trails: %w", err)
	}
	first, last := batch[0].seq, batch[len(batch)-1].seq
	stamp := d.now().UTC()

	var groups []*group
	if len(trails) > 0 {
		groups = d.routeRecords(batch, trails)
	}
	files := d.buildFiles(groups, first, last, stamp)

	b := d.store.NewBatch()
	for i := range files {
		f := &files[i]
		if err := b.Put(keyOutbox+f.entry.ID, &f.entry); err != nil {
			return err
		}
		b.PutRaw(keyOutboxBody+f.entry.ID, f.body)
	}
	if err := b.Put(keyCursor, last); err != nil {
		return err
	}
	// A batch without files only moves the cursor: if a machine crash loses that, routing
	// the same records again makes no files again (routing is a function of the records and
	// the trails' logging periods by journal position), so it need not wait for the disk.
	commit := b.Commit
	if len(files) == 0 {
		commit = b.CommitUnsynced
	}
	if err := commit(); err != nil {
		return fmt.Errorf("delivery: commit outbox: %w", err)
	}
	d.mu.Lock()
	d.cursor = last
	d.mu.Unlock()
	if len(files) > 0 {
		d.log.Debug("log files ready", "files", len(files), "records", len(batch), "first_seq", first, "last_seq", last)
		wake(d.wakeUpload)
	}
	return ctx.Err()
}

// routeRecords decodes the routing fields of every record (in parallel) and groups the
// records by (trail, region), in journal order.
func (d *Deliverer) routeRecords(batch []pending, trails []*cloudtrail.Trail) []*group {
	decoded := make([]routing.Record, len(batch))
	ok := make([]bool, len(batch))
	workers := runtime.GOMAXPROCS(0)
	chunk := (len(batch) + workers - 1) / workers
	var wg sync.WaitGroup
	for lo := 0; lo < len(batch); lo += chunk {
		hi := min(lo+chunk, len(batch))
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := lo; i < hi; i++ {
				ok[i] = d.decode(batch[i], &decoded[i])
			}
		}()
	}
	wg.Wait()

	type gkey struct {
		trail  int
		region string
	}
	index := map[gkey]*group{}
	var groups []*group
	for j, p := range batch {
		if !ok[j] {
			continue
		}
		f := &decoded[j]
		for i, tr := range trails {
			if !routing.Selects(tr, f) {
				continue
			}
			k := gkey{i, f.AWSRegion}
			g := index[k]
			if g == nil {
				g = &group{trail: tr, region: f.AWSRegion}
				index[k] = g
				groups = append(groups, g)
			}
			g.records = append(g.records, p.payload)
			g.times = append(g.times, f.EventTime)
		}
	}
	return groups
}

// decode reads the routing members of a record; a record that is not a CloudTrail record is
// logged and skipped.
func (d *Deliverer) decode(p pending, r *routing.Record) bool {
	if err := routing.Decode(p.payload, p.seq, r); err != nil {
		d.log.Warn("journal record is not a CloudTrail record; not delivered", "seq", p.seq, "err", err)
		return false
	}
	return true
}

// file is a log file built by a flush.
type file struct {
	entry outboxEntry
	body  []byte // gzip
}

// buildFiles splits groups at the size cap and builds the files, gzipping in parallel.
func (d *Deliverer) buildFiles(groups []*group, first, last uint64, stamp time.Time) []file {
	type part struct {
		g        *group
		from, to int // records[from:to]
		n        int // part number within the group
	}
	var parts []part
	for _, g := range groups {
		from, size, n := 0, 0, 0
		for i, r := range g.records {
			if i > from && size+len(r)+1 > d.opts.MaxFileBytes {
				parts = append(parts, part{g, from, i, n})
				from, size, n = i, 0, n+1
			}
			size += len(r) + 1
		}
		parts = append(parts, part{g, from, len(g.records), n})
	}
	files := make([]file, len(parts))
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	var wg sync.WaitGroup
	for i, p := range parts {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			t := p.g.trail
			raw := logFileJSON(p.g.records[p.from:p.to])
			sum := sha256.Sum256(raw)
			oldest, newest := span(p.g.times[p.from:p.to])
			files[i] = file{
				entry: outboxEntry{
					ID:         fmt.Sprintf("%020d-%06d", last, i),
					TrailARN:   t.ARN(),
					Account:    t.AccountID,
					HomeRegion: t.HomeRegion,
					TrailName:  t.Name,
					Region:     p.g.region,
					Bucket:     t.S3BucketName,
					Key:        LogFileKey(t.S3KeyPrefix, t.AccountID, p.g.region, stamp, uniquePart(t.ARN(), t.AccountID, p.g.region, first, last, p.n)),
					Validate:   t.LogFileValidationEnabled,
					Topic:      t.SnsTopicARN,
					Hash:       hex.EncodeToString(sum[:]),
					Oldest:     oldest,
					Newest:     newest,
					Records:    p.to - p.from,
					Created:    stamp,
				},
				body: gzipBytes(raw),
			}
		}()
	}
	wg.Wait()
	return files
}

// logFileJSON is the uncompressed body of a log file: {"Records":[r1,r2,...]}, compact, the
// records exactly as journaled.
func logFileJSON(records [][]byte) []byte {
	n := len(`{"Records":[]}`)
	for _, r := range records {
		n += len(r) + 1
	}
	b := make([]byte, 0, n)
	b = append(b, `{"Records":[`...)
	for i, r := range records {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, r...)
	}
	return append(b, "]}"...)
}

// span returns the oldest and newest of event times in the fixed-width TimeFormat, which
// compares as strings.
func span(times []string) (oldest, newest string) {
	for _, t := range times {
		if oldest == "" || t < oldest {
			oldest = t
		}
		if t > newest {
			newest = t
		}
	}
	return oldest, newest
}

var gzipPool = sync.Pool{New: func() any {
	w, _ := gzip.NewWriterLevel(nil, gzip.DefaultCompression)
	return w
}}

// gzipBytes compresses b as one gzip member.
func gzipBytes(b []byte) []byte {
	var buf bytes.Buffer
	buf.Grow(len(b)/6 + 64)
	w := gzipPool.Get().(*gzip.Writer)
	w.Reset(&buf)
	_, _ = w.Write(b)
	_ = w.Close()
	gzipPool.Put(w)
	return buf.Bytes()
}
