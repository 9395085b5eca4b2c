package history

import (
	"context"
	"fmt"
	"time"

	"github.com/cockroachdb/pebble/v2"
)

// Run deletes expired days now and then every RetentionInterval until ctx is done, and
// returns ctx's error. Failures are logged and retried at the next interval.
func (h *History) Run(ctx context.Context) error {
	t := time.NewTicker(h.interval)
	defer t.Stop()
	for {
		if _, err := h.Expire(ctx); err != nil {
			h.log.Error("history: retention failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}

// Expire deletes every UTC day that lies entirely before Now()-Retention, for every account,
// with one range deletion per namespace (entries, index keys), and returns the start of the oldest day kept. Events of the day
// that straddles the cutoff stay stored until that day expires, but Lookup never returns them.
func (h *History) Expire(ctx context.Context) (time.Time, error) {
	if err := ctx.Err(); err != nil {
		return time.Time{}, err
	}
	cutoff := h.now().Add(-h.retention).Unix()
	if cutoff <= 0 {
		return unixToTime(0), nil
	}
	day := dayOf(cutoff)
	keep := unixToTime(dayStart(day))
	// Entries are stored by day, index keys by kind and then day: one range deletion for
	// the entries and one per index kind, in one batch.
	lower, upper := dayBound(0), dayBound(day)
	// Skip the deletion when nothing is there, so that an idle store gains no tombstones.
	it, err := h.db.NewIter(&pebble.IterOptions{LowerBound: lower, UpperBound: upper})
	if err != nil {
		return time.Time{}, fmt.Errorf("history: retention: %w", err)
	}
	found := it.First()
	var oldest uint32
	if found {
		if k := it.Key(); len(k) >= 5 {
			oldest = uint32(k[1])<<24 | uint32(k[2])<<16 | uint32(k[3])<<8 | uint32(k[4])
		}
	}
	if err := it.Close(); err != nil {
		return time.Time{}, fmt.Errorf("history: retention: %w", err)
	}
	b := h.db.NewBatch()
	defer b.Close()
	if found {
		if err := b.DeleteRange(lower, upper, nil); err != nil {
			return time.Time{}, fmt.Errorf("history: retention: %w", err)
		}
	}
	for _, base := range []byte{indexMgmt, indexInsight} {
		for a := attrEventID; a <= attrAccessKeyID; a++ {
			kind := base | byte(a)
			lower, upper := indexDayBound(kind, 0), indexDayBound(kind, day)
			it, err := h.db.NewIter(&pebble.IterOptions{LowerBound: lower, UpperBound: upper})
			if err != nil {
				return time.Time{}, fmt.Errorf("history: retention: %w", err)
			}
			has := it.First()
			if err := it.Close(); err != nil {
				return time.Time{}, fmt.Errorf("history: retention: %w", err)
			}
			if !has {
				continue
			}
			found = true
			if err := b.DeleteRange(lower, upper, nil); err != nil {
				return time.Time{}, fmt.Errorf("history: retention: %w", err)
			}
		}
	}
	if !found {
		return keep, nil
	}
	// Not synced (the store has no WAL): deletions lost in a crash are made again by the
	// next pass, which Run starts with.
	if err := b.Commit(pebble.NoSync); err != nil {
		return time.Time{}, fmt.Errorf("history: retention: %w", err)
	}
	h.log.Info("history: expired events", "from", unixToTime(dayStart(oldest)).Format(time.DateOnly), "before", keep.Format(time.DateOnly))
	return keep, nil
}
