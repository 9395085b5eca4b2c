package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/opentrail/opentrail/internal/history"
	"github.com/opentrail/opentrail/internal/journal"
	"github.com/opentrail/opentrail/internal/kv"
)

type fixedCursor uint64

func (c fixedCursor) Cursor() uint64 { return uint64(c) }

// TestTruncateJournal: old segments go up to the lowest consumer cursor (Event History's
// included), and recent ones stay.
func TestTruncateJournal(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	jr, err := journal.Open(filepath.Join(dir, "journal"), journal.Options{SegmentSize: 2000})
	if err != nil {
		t.Fatal(err)
	}
	defer jr.Close()
	store, err := kv.Open(filepath.Join(dir, "meta"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	hist, err := history.Open(filepath.Join(dir, "history"), history.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer hist.Close()
	now := time.Now().UTC()
	for i := 1; i <= 100; i++ {
		rec := fmt.Sprintf(`{"eventVersion":"1.11","eventTime":%q,"eventSource":"sts.amazonaws.com","eventName":"GetCallerIdentity","awsRegion":"us-east-1","eventID":"e%03d","readOnly":true,"eventType":"AwsApiCall","managementEvent":true,"recipientAccountId":"123456789012","eventCategory":"Management"}`,
			now.Format(time.RFC3339), i)
		seq, err := jr.Append(ctx, []byte(rec))
		if err != nil {
			t.Fatal(err)
		}
		if seq <= 60 { // Event History has indexed 60 records
			if err := hist.Index(ctx, seq, []byte(rec)); err != nil {
				t.Fatal(err)
			}
		}
	}
	segs, _ := filepath.Glob(filepath.Join(dir, "journal", "*.seg"))
	if len(segs) < 6 {
		t.Fatalf("%d segments; want at least 6", len(segs))
	}
	old := now.Add(-100 * 24 * time.Hour)
	for _, s := range segs {
		if err := os.Chtimes(s, old, old); err != nil {
			t.Fatal(err)
		}
	}
	cutoff := now.Add(-journalRetention)
	// Delivery is at 40: records from 41 on must stay.
	if err := truncateJournal(jr, store, hist, cutoff, []cursorer{fixedCursor(80), fixedCursor(40)}); err != nil {
		t.Fatal(err)
	}
	if first := jr.FirstSeq(); first <= 1 || first > 41 {
		t.Fatalf("FirstSeq after truncation = %d; want in (1, 41]", first)
	}
	// Now every consumer is past 90, but Event History only at 60.
	if err := truncateJournal(jr, store, hist, cutoff, []cursorer{fixedCursor(95)}); err != nil {
		t.Fatal(err)
	}
	if first := jr.FirstSeq(); first <= 41 || first > 61 {
		t.Fatalf("FirstSeq after the second truncation = %d; want in (41, 61]", first)
	}
	// Recent segments stay whatever the cursors.
	recent := jr.FirstSeq()
	for _, s := range segs {
		_ = os.Chtimes(s, now, now) // deleted ones fail; fine
	}
	for seq := uint64(61); seq <= 100; seq++ {
		r := jr.NewReader(seq)
		rec, err := r.Next(ctx)
		r.Close()
		if err != nil {
			t.Fatal(err)
		}
		if err := hist.Index(ctx, seq, rec.Payload); err != nil {
			t.Fatal(err)
		}
	}
	if err := truncateJournal(jr, store, hist, cutoff, []cursorer{fixedCursor(100)}); err != nil {
		t.Fatal(err)
	}
	if first := jr.FirstSeq(); first != recent {
		t.Fatalf("FirstSeq after truncating recent segments = %d; want %d (nothing deleted)", first, recent)
	}
}
