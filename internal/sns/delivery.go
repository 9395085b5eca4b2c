package sns

import (
	"bytes"
	"container/heap"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/textproto"
	"strconv"
	"sync"
	"time"

	"github.com/google/uuid"
)

// A delivery is one message on its way to one endpoint. It is stored (sns/delivery/<id>) in
// the same batch that creates it — with the subscription for a confirmation, on its own for a
// notification — and removed when it has been delivered or given up; every retry updates its
// attempt count and due time. So deliveries survive restarts: at start the engine picks up
// every stored delivery where it was. Deliveries are at least once: one in flight at a crash
// or shutdown is made again.
type delivery struct {
	ID          string      `json:"id"`
	SubARN      string      `json:"subscriptionArn"`
	TopicARN    string      `json:"topicArn"`
	Protocol    string      `json:"protocol"`
	Endpoint    string      `json:"endpoint"`
	Type        string      `json:"type"` // message type
	MessageID   string      `json:"messageId"`
	Subject     string      `json:"subject,omitempty"` // email Subject header
	Body        string      `json:"body"`
	Raw         bool        `json:"raw,omitempty"`
	ContentType string      `json:"contentType,omitempty"`
	From        string      `json:"from,omitempty"` // email From display name
	Retry       retryPolicy `json:"retry"`
	Attempts    int         `json:"attempts"`
	Due         time.Time   `json:"due"`
	Created     time.Time   `json:"created"`
}

// deliveryTimeout bounds one HTTP/S delivery attempt, as AWS's 15 seconds.
const deliveryTimeout = 15 * time.Second

// userAgent is the User-Agent of HTTP/S deliveries, AWS's.
const userAgent = "Amazon Simple Notification Service Agent"

// newDelivery makes the delivery of env to sub: the JSON envelope, or for raw delivery the
// message alone, or for email the mail text. m is the published message (nil for
// confirmations).
func (s *Service) newDelivery(t *topic, sub *subscription, env *Envelope, m *outgoing) *delivery {
	now := s.now().UTC()
	d := &delivery{
		ID: uuid.NewString(), SubARN: sub.ARN, TopicARN: t.arn(), Protocol: sub.Protocol, Endpoint: sub.Endpoint,
		Type: env.Type, MessageID: env.MessageId, Created: now, Due: time.Now(), // due times are on the real clock
	}
	switch sub.Protocol {
	case "email", "email-json":
		d.Retry = emailRetry
		d.From = t.Attributes["DisplayName"]
		d.Subject, d.Body = emailText(env, sub.Protocol == "email-json")
	default:
		pol := effectivePolicy(t.delivery, sub.delivery)
		d.Retry = *pol.HealthyRetryPolicy
		d.ContentType = pol.contentType()
		if env.Type == TypeNotification && sub.raw() {
			d.Raw, d.Body = true, env.Message
		} else {
			d.Body = string(env.Marshal())
		}
	}
	return d
}

// engine makes deliveries: a dispatcher hands due deliveries to a fixed set of workers; a
// failed attempt is rescheduled under the delivery's retry policy.
type engine struct {
	s       *Service
	client  *http.Client
	unit    time.Duration
	workers int

	mu      sync.Mutex
	queue   deliveryHeap
	wake    chan struct{}
	work    chan *delivery
	ctx     context.Context
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	stopped bool
}

func newEngine(s *Service, client *http.Client, unit time.Duration, workers int) *engine {
	ctx, cancel := context.WithCancel(context.Background())
	return &engine{
		s: s, client: client, unit: unit, workers: workers,
		wake: make(chan struct{}, 1), work: make(chan *delivery), ctx: ctx, cancel: cancel,
	}
}

func (e *engine) start(pending []*delivery) {
	e.enqueue(pending...)
	e.wg.Add(2 + e.workers)
	go e.dispatch()
	go e.sweeper()
	for i := 0; i < e.workers; i++ {
		go e.worker()
	}
}

// stop ends the dispatcher and the workers; attempts in flight are cancelled and stay stored.
func (e *engine) stop() {
	e.mu.Lock()
	if e.stopped {
		e.mu.Unlock()
		return
	}
	e.stopped = true
	e.mu.Unlock()
	e.cancel()
	e.wg.Wait()
}

// enqueue schedules deliveries (already stored) at their due times. It never blocks.
func (e *engine) enqueue(ds ...*delivery) {
	if len(ds) == 0 {
		return
	}
	e.mu.Lock()
	for _, d := range ds {
		heap.Push(&e.queue, d)
	}
	e.mu.Unlock()
	select {
	case e.wake <- struct{}{}:
	default:
	}
}

func (e *engine) dispatch() {
	defer e.wg.Done()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		e.mu.Lock()
		var next *delivery
		wait := time.Hour
		if len(e.queue) > 0 {
			if d := time.Until(e.queue[0].Due); d <= 0 {
				next = heap.Pop(&e.queue).(*delivery)
			} else {
				wait = d
			}
		}
		e.mu.Unlock()
		if next != nil {
			select {
			case e.work <- next:
				continue
			case <-e.ctx.Done():
				return
			}
		}
		timer.Reset(wait)
		select {
		case <-e.wake:
		case <-timer.C:
		case <-e.ctx.Done():
			return
		}
	}
}

// sweeper runs Service.sweep every sweepInterval.
func (e *engine) sweeper() {
	defer e.wg.Done()
	t := time.NewTicker(sweepInterval)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			if err := e.s.sweep(); err != nil {
				e.s.log.Error("sns: sweep expired tokens and subscriptions", "err", err)
			}
		case <-e.ctx.Done():
			return
		}
	}
}

func (e *engine) worker() {
	defer e.wg.Done()
	for {
		select {
		case d := <-e.work:
			e.attempt(d)
		case <-e.ctx.Done():
			return
		}
	}
}

// errPermanent marks a failure that retrying cannot fix (the endpoint refused the message).
var errPermanent = errors.New("permanent failure")

// attempt makes one delivery attempt and then removes, reschedules or gives up the delivery.
func (e *engine) attempt(d *delivery) {
	log := e.s.log.With("delivery", d.ID, "message_id", d.MessageID, "type", d.Type, "subscription", d.SubARN, "endpoint", d.Endpoint)
	if !e.s.stillWanted(d) {
		log.Debug("sns: delivery dropped: the subscription is gone")
		e.finish(d)
		return
	}
	var err error
	switch d.Protocol {
	case "email", "email-json":
		err = e.s.sendMail(e.ctx, d)
	default:
		err = e.post(d)
	}
	if e.ctx.Err() != nil {
		return // shutting down: the delivery stays stored and is made at the next start
	}
	d.Attempts++
	if err == nil {
		log.Debug("sns: delivered", "attempts", d.Attempts)
		e.finish(d)
		return
	}
	wait, retry := d.Retry.next(d.Attempts, e.unit)
	if errors.Is(err, errPermanent) || !retry {
		log.Error("sns: delivery failed; giving up", "attempts", d.Attempts, "err", err)
		e.finish(d)
		return
	}
	log.Info("sns: delivery failed; will retry", "attempt", d.Attempts, "retry_in", wait, "err", err)
	d.Due = time.Now().Add(wait)
	if perr := e.s.store.Put(deliveryKey(d.ID), d); perr != nil {
		log.Error("sns: store delivery retry", "err", perr) // it is retried from memory anyway
	}
	e.enqueue(d)
}

// finish removes a delivery from the store.
func (e *engine) finish(d *delivery) {
	if err := e.s.store.Delete(deliveryKey(d.ID)); err != nil {
		e.s.log.Error("sns: remove finished delivery", "delivery", d.ID, "err", err)
	}
}

// stillWanted reports whether a delivery should still be made: notifications only to
// subscriptions that still exist and are confirmed, subscription confirmations only while
// the subscription waits for one. Unsubscribe confirmations always go.
func (s *Service) stillWanted(d *delivery) bool {
	s.mu.RLock()
	sub := s.subs[d.SubARN]
	s.mu.RUnlock()
	switch d.Type {
	case TypeNotification:
		return sub != nil && !sub.Pending
	case TypeSubscriptionConfirmation:
		return sub != nil && sub.Pending
	}
	return true
}

// post makes one HTTP/S delivery attempt. 2xx is success; 5xx, 429, timeouts and connection
// errors are retried; any other status is a permanent failure.
func (e *engine) post(d *delivery) error {
	ctx, cancel := context.WithTimeout(e.ctx, deliveryTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.Endpoint, bytes.NewReader([]byte(d.Body)))
	if err != nil {
		return fmt.Errorf("%w: %v", errPermanent, err)
	}
	h := req.Header
	h.Set("Content-Type", d.ContentType)
	h.Set("User-Agent", userAgent)
	h.Set("x-amz-sns-message-type", d.Type)
	h.Set("x-amz-sns-message-id", d.MessageID)
	h.Set("x-amz-sns-topic-arn", d.TopicARN)
	if d.Type != TypeSubscriptionConfirmation {
		h.Set("x-amz-sns-subscription-arn", d.SubARN)
	}
	if d.Raw {
		h.Set("x-amz-sns-rawdelivery", "true")
	}
	resp, err := e.client.Do(req)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		return nil
	case resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests:
		return errors.New("endpoint answered " + strconv.Itoa(resp.StatusCode))
	}
	return fmt.Errorf("%w: endpoint answered %d", errPermanent, resp.StatusCode)
}

// isPermanentSMTP reports whether an SMTP error is a 5xx reply.
func isPermanentSMTP(err error) bool {
	var te *textproto.Error
	return errors.As(err, &te) && te.Code >= 500
}

// deliveryHeap orders deliveries by due time.
type deliveryHeap []*delivery

func (h deliveryHeap) Len() int           { return len(h) }
func (h deliveryHeap) Less(i, j int) bool { return h[i].Due.Before(h[j].Due) }
func (h deliveryHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *deliveryHeap) Push(x any)        { *h = append(*h, x.(*delivery)) }
func (h *deliveryHeap) Pop() any {
	old := *h
	n := len(old)
	d := old[n-1]
	old[n-1] = nil
	*h = old[:n-1]
	return d
}
