package logs

import (
	"context"
	"math"
	"time"

	"github.com/cockroachdb/pebble/v2"
)

// Run deletes expired events now and then every RetentionInterval until ctx is done, and
// returns ctx's error. Failures are logged and retried at the next interval.
func (s *Service) Run(ctx context.Context) error {
	t := time.NewTicker(s.interval)
	defer t.Stop()
	for {
		if _, err := s.Sweep(ctx); err != nil && ctx.Err() == nil {
			s.log.Error("logs: retention failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}

// Sweep deletes, in every log group with a retention policy, the events older than the
// retention at the current time, and returns how many it deleted. Reads already hide such
// events; Sweep frees their space.
func (s *Service) Sweep(ctx context.Context) (int64, error) {
	type target struct{ acct, region, name string }
	var targets []target
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: []byte{famGroup}, UpperBound: []byte{famGroup + 1}})
	if err != nil {
		return 0, internal("retention", err)
	}
	for valid := it.First(); valid; valid = it.Next() {
		var g groupRecord
		if err := jsonUnmarshal(it.Value(), &g); err != nil {
			_ = it.Close()
			return 0, internal("decode log group", err)
		}
		if g.RetentionDays <= 0 {
			continue
		}
		acct, rest, ok1 := decodeName(it.Key()[1:])
		region, _, ok2 := decodeName(rest)
		if ok1 && ok2 {
			targets = append(targets, target{acct, region, g.Name})
		}
	}
	if err := it.Close(); err != nil {
		return 0, internal("retention", err)
	}
	var deleted int64
	for _, t := range targets {
		if err := ctx.Err(); err != nil {
			return deleted, err
		}
		n, err := s.expireGroup(t.acct, t.region, t.name)
		deleted += n
		if err != nil {
			return deleted, err
		}
		if n > 0 {
			s.log.Info("logs: expired events", "account", t.acct, "region", t.region, "group", t.name, "events", n)
		}
	}
	return deleted, nil
}

// expireGroup deletes the expired events of one group, stream by stream.
func (s *Service) expireGroup(acct, region, group string) (int64, error) {
	s.mu.RLock()
	entries, err := s.listStreams(acct, region, group, "")
	s.mu.RUnlock()
	if err != nil {
		return 0, err
	}
	var deleted int64
	for _, e := range entries {
		n, err := s.expireStream(acct, region, group, e.rec.Name)
		deleted += n
		if err != nil {
			return deleted, err
		}
	}
	return deleted, nil
}

func (s *Service) expireStream(acct, region, group, stream string) (int64, error) {
	// Shared with puts (which never write expired events), exclusive with deletions, so that
	// the statistics merged here never outlive a deleted group or stream.
	s.mu.RLock()
	defer s.mu.RUnlock()
	g, err := s.loadGroup(acct, region, group)
	if err != nil || g == nil {
		return 0, err
	}
	cutoff := g.cutoff(s.clockMS())
	if cutoff <= 0 {
		return 0, nil
	}
	exists, err := s.streamExists(acct, region, group, stream)
	if err != nil || !exists {
		return 0, err
	}
	prefix := streamKey(famEvent, acct, region, group, stream)
	lower, upper := prefix, eventKey(prefix, cutoff, 0)
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: lower, UpperBound: upper})
	if err != nil {
		return 0, internal("retention", err)
	}
	var count, bytes int64
	for valid := it.First(); valid; valid = it.Next() {
		count++
		bytes += int64(max(len(it.Value())-8, 0))
	}
	if err := it.Close(); err != nil {
		return 0, internal("retention", err)
	}
	if count == 0 {
		return 0, nil
	}
	delta := stats{First: math.MaxInt64, Last: math.MinInt64, LastIngestion: math.MinInt64, Bytes: -bytes, Count: -count}.encode()
	b := s.db.NewBatch()
	defer b.Close()
	_ = b.DeleteRange(lower, upper, nil)
	_ = b.Merge(streamKey(famStreamStat, acct, region, group, stream), delta, nil)
	_ = b.Merge(groupKey(famGroupStat, acct, region, group), delta, nil)
	if err := b.Commit(pebble.Sync); err != nil {
		return 0, internal("retention", err)
	}
	return count, nil
}
