package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/opentrail/opentrail/internal/history"
	"github.com/opentrail/opentrail/internal/journal"
	"github.com/opentrail/opentrail/internal/kv"
)

// journalRetention is how long the journal keeps records at least: Event History's retention
// and a day, so that a rebuild of Event History from the journal (after an index format
// change) still finds all 90 days.
const journalRetention = history.DefaultRetention + 24*time.Hour

// journalRetentionInterval is how often old journal segments are looked for.
const journalRetentionInterval = time.Hour

// cursorer is a journal consumer whose cursor is kept in the metadata store.
type cursorer interface{ Cursor() uint64 }

// startJournalRetention deletes, every journalRetentionInterval until the app closes, the
// journal segments that are older than journalRetention and that every consumer has read
// past, by durable cursors: Event History's index is flushed first (it has no WAL), and the
// metadata store synced (consumers move their cursors there without syncing).
func (a *app) startJournalRetention(ctx context.Context, jr *journal.Journal, store *kv.Store, hist *history.History, now func() time.Time, log *slog.Logger, consumers ...cursorer) {
	ctx, stop := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(journalRetentionInterval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			if err := truncateJournal(jr, store, hist, now().Add(-journalRetention), consumers); err != nil {
				log.Error("journal retention failed", "err", err)
			}
		}
	}()
	a.closers = append(a.closers, func() error { stop(); <-done; return nil })
}

// truncateJournal deletes the journal segments last written before cutoff that every
// consumer has durably read past.
func truncateJournal(jr *journal.Journal, store *kv.Store, hist *history.History, cutoff time.Time, consumers []cursorer) error {
	low, err := hist.DurableCursor()
	if err != nil {
		return err
	}
	// Read the other cursors, then sync: what was read is then durable.
	for _, c := range consumers {
		low = min(low, c.Cursor())
	}
	if err := store.Sync(); err != nil {
		return err
	}
	if err := jr.TruncateFrontBefore(low+1, cutoff); err != nil {
		return fmt.Errorf("truncate: %w", err)
	}
	return nil
}
