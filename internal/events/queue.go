package events

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"sort"
	"sync"
	"time"
)

// delivery is one event on its way to one target, kept in the store until it is made (or
// has failed for good).
type delivery struct {
	ID       string    `json:"id"`
	Account  string    `json:"account"`
	Region   string    `json:"region"`
	RuleArn  string    `json:"ruleArn"`
	RuleName string    `json:"ruleName"`
	Target   Target    `json:"target"`
	Event    string    `json:"event"`
	Created  time.Time `json:"created"`
	NextAt   time.Time `json:"nextAt"`
	Attempts int       `json:"attempts"`
	LastErr  string    `json:"lastError,omitempty"`
	// DeadLetter marks a delivery to a target's dead-letter target: its body is the event as
	// the original target would have received it, and it has no further dead-letter target.
	DeadLetter bool `json:"deadLetter,omitempty"`
}

func queueKey(id string) string { return storePrefix + "queue/" + id }
func deadKey(id string) string  { return storePrefix + "dead/" + id }

// errPermanent marks a failure that no retry can fix (the target is gone, a 4xx answer).
var errPermanent = errors.New("permanent failure")

const workers = 8

// queue makes deliveries: at once when they are added, again with backoff when they fail.
type queue struct {
	s       *Service
	mu      sync.Mutex
	pending map[string]*delivery // by ID, not in flight
	flying  int                  // attempts in progress; guarded by mu
	wake    chan struct{}
	sem     chan struct{}
	wg      sync.WaitGroup
}

func newQueue(s *Service) (*queue, error) {
	q := &queue{s: s, pending: map[string]*delivery{}, wake: make(chan struct{}, 1), sem: make(chan struct{}, workers)}
	err := s.store.Scan(storePrefix+"queue/", func(key string, value []byte) error {
		d := &delivery{}
		if err := json.Unmarshal(value, d); err != nil {
			return err
		}
		q.pending[d.ID] = d
		return nil
	})
	if err != nil {
		return nil, internal("load queue", err)
	}
	return q, nil
}

// add schedules stored deliveries.
func (q *queue) add(ds ...*delivery) {
	if len(ds) == 0 {
		return
	}
	q.mu.Lock()
	for _, d := range ds {
		q.pending[d.ID] = d
	}
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// Pending is the number of deliveries not yet made (waiting or in progress).
func (s *Service) Pending() int {
	s.q.mu.Lock()
	defer s.q.mu.Unlock()
	return len(s.q.pending) + s.q.flying
}

// run makes due deliveries until ctx ends.
func (q *queue) run(ctx context.Context) {
	defer q.wg.Wait()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		now := q.s.now()
		var due []*delivery
		next := now.Add(time.Minute)
		q.mu.Lock()
		for id, d := range q.pending {
			if !d.NextAt.After(now) {
				due = append(due, d)
				delete(q.pending, id)
				q.flying++
			} else if d.NextAt.Before(next) {
				next = d.NextAt
			}
		}
		q.mu.Unlock()
		sort.Slice(due, func(i, j int) bool { return due[i].Created.Before(due[j].Created) })
		for _, d := range due {
			select {
			case q.sem <- struct{}{}:
			case <-ctx.Done():
				return
			}
			q.wg.Add(1)
			go func(d *delivery) {
				defer q.wg.Done()
				defer func() { <-q.sem }()
				q.attempt(ctx, d)
				q.mu.Lock()
				q.flying--
				q.mu.Unlock()
			}(d)
		}
		timer.Reset(max(next.Sub(q.s.now()), 10*time.Millisecond))
		select {
		case <-ctx.Done():
			return
		case <-q.wake:
		case <-timer.C:
		}
	}
}

// attempt makes one delivery attempt and records its outcome.
func (q *queue) attempt(ctx context.Context, d *delivery) {
	s := q.s
	err := s.deliver(ctx, d)
	if ctx.Err() != nil && err != nil {
		return // shutting down: the stored delivery is retried after a restart
	}
	if err == nil {
		if err := s.store.Delete(queueKey(d.ID)); err != nil {
			s.log.Error("events: delete delivered item", "id", d.ID, "err", err)
		}
		return
	}
	d.Attempts++
	d.LastErr = err.Error()
	now := s.now().UTC()
	maxAge, maxAttempts := s.opts.MaxEventAge, 185
	if rp := d.Target.RetryPolicy; rp != nil {
		if rp.MaximumEventAgeInSeconds != nil {
			maxAge = time.Duration(*rp.MaximumEventAgeInSeconds) * time.Second
		}
		if rp.MaximumRetryAttempts != nil {
			maxAttempts = *rp.MaximumRetryAttempts
		}
	}
	if errors.Is(err, errPermanent) || d.Attempts > maxAttempts || now.Sub(d.Created) >= maxAge {
		s.deadLetter(d)
		return
	}
	backoff := s.opts.RetryMin << min(d.Attempts-1, 20)
	if backoff > s.opts.RetryMax || backoff <= 0 {
		backoff = s.opts.RetryMax
	}
	d.NextAt = now.Add(backoff)
	if err := s.store.Put(queueKey(d.ID), d); err != nil {
		s.log.Error("events: store retry", "id", d.ID, "err", err)
	}
	s.log.Warn("events: delivery failed; will retry", "rule", d.RuleArn, "target", d.Target.Arn, "attempts", d.Attempts, "err", err)
	q.add(d)
}

// deadLetter moves a delivery that failed for good to its target's dead-letter target, or,
// when it has none (or it is itself a dead letter), keeps it under events/dead/ and logs it.
func (s *Service) deadLetter(d *delivery) {
	b := s.store.NewBatch()
	b.Delete(queueKey(d.ID))
	var dl *delivery
	if arn := dlqArn(&d.Target); arn != "" && !d.DeadLetter {
		body, err := s.input(d)
		if err != nil {
			body = d.Event
		}
		now := s.now().UTC()
		dl = &delivery{ID: d.ID + "-dlq", Account: d.Account, Region: d.Region, RuleArn: d.RuleArn, RuleName: d.RuleName,
			Target: Target{Id: d.Target.Id + "-dlq", Arn: arn}, Event: body, Created: now, NextAt: now, DeadLetter: true}
		_ = b.Put(queueKey(dl.ID), dl)
		s.log.Warn("events: delivery failed for good; sent to the dead-letter target", "rule", d.RuleArn, "target", d.Target.Arn, "dlq", arn, "err", d.LastErr)
	} else {
		_ = b.Put(deadKey(d.ID), d)
		s.log.Error("events: delivery failed for good; kept under events/dead/", "rule", d.RuleArn, "target", d.Target.Arn, "id", d.ID, "err", d.LastErr)
	}
	if err := b.Commit(); err != nil {
		s.log.Error("events: store dead letter", "id", d.ID, "err", err)
		return
	}
	if dl != nil {
		s.q.add(dl)
	}
}

// DeadLetters returns the deliveries that failed for good with no dead-letter target.
func (s *Service) DeadLetters() (n int, err error) {
	err = s.store.Scan(storePrefix+"dead/", func(string, []byte) error { n++; return nil })
	return n, err
}

func randRead(b []byte) { _, _ = rand.Read(b) }
