package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/opentrail/opentrail/internal/events"
	"github.com/opentrail/opentrail/internal/journal"
	"github.com/opentrail/opentrail/internal/kv"
	"github.com/opentrail/opentrail/internal/logs"
	"github.com/opentrail/opentrail/internal/secret"
)

// startEvents opens the EventBridge service and runs its journal consumer (every record onto
// its account's default bus, then to the targets of matching rules) until the app closes.
func (a *app) startEvents(ctx context.Context, store *kv.Store, box *secret.Box, topics events.Topics, logsSvc *logs.Service, jr *journal.Journal, now func() time.Time, log *slog.Logger) (*events.Service, error) {
	svc, err := events.New(events.Options{Store: store, Box: box, Topics: topics, LogGroups: eventLogSink{logsSvc}, Now: now, Logger: log})
	if err != nil {
		return nil, err
	}
	runCtx, stop := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	go func() {
		defer close(done)
		r := jr.NewReader(svc.Cursor() + 1)
		defer r.Close()
		if err := svc.Run(runCtx, journalSource{r}); err != nil && runCtx.Err() == nil {
			log.Error("journal consumer stopped", "consumer", "events", "err", err)
		}
	}()
	a.closers = append(a.closers, func() error { stop(); <-done; return nil })
	return svc, nil
}

// eventLogSink puts EventBridge events into CloudWatch Logs groups.
type eventLogSink struct{ l *logs.Service }

func (s eventLogSink) PutEvent(ctx context.Context, acct, region, group, stream string, t time.Time, message string) error {
	_, err := s.l.PutInternal(ctx, acct, region, group, stream, []logs.InputEvent{{Timestamp: t, Message: message}})
	return err
}
