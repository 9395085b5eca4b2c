package events

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/opentrail/opentrail/internal/eventpattern"
	"github.com/opentrail/opentrail/internal/kv"
	"github.com/opentrail/opentrail/internal/readahead"
	"github.com/opentrail/opentrail/internal/server"
)

// Source is the journal as the consumer reads it.
type Source interface {
	Next(ctx context.Context) (seq uint64, payload []byte, err error)
}

const (
	keyCursor = storePrefix + "cursor"
	// maxEventBytes: events above 256 KB are not sent, as on AWS.
	maxEventBytes = 256 << 10
	maxBatch      = 500
)

// Cursor is the sequence number of the last journal record routed; reading resumes after it.
func (s *Service) Cursor() uint64 { return s.cursor.Load() }

func (s *Service) loadCursor() error {
	var c uint64
	if err := s.store.Get(keyCursor, &c); err != nil && !errors.Is(err, kv.ErrNotFound) {
		return internal("read cursor", err)
	}
	s.cursor.Store(c)
	return nil
}

// Run routes journal records to rules until ctx ends (then it returns nil) or the journal or
// the store fails. It also runs the delivery of matched events.
func (s *Service) Run(ctx context.Context, src Source) error {
	ch, stop := readahead.Start(ctx, src, 1024)
	defer stop()
	qctx, stopQueue := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); s.q.run(qctx) }()
	defer func() { stopQueue(); <-done }()
	var batch []readahead.Item
	for {
		select {
		case <-ctx.Done():
			return nil
		case it := <-ch:
			if it.Err != nil {
				if ctx.Err() != nil {
					return nil
				}
				return fmt.Errorf("events: read journal: %w", it.Err)
			}
			batch = append(batch[:0], it)
			var readErr error
		drain:
			for len(batch) < maxBatch {
				select {
				case it := <-ch:
					if it.Err != nil {
						readErr = it.Err
						break drain
					}
					batch = append(batch, it)
				default:
					break drain
				}
			}
			if err := s.route(batch); err != nil {
				return err
			}
			if readErr != nil {
				if ctx.Err() != nil {
					return nil
				}
				return fmt.Errorf("events: read journal: %w", readErr)
			}
		}
	}
}

// record holds the members of a CloudTrail record the envelope needs.
type record struct {
	EventTime          string `json:"eventTime"`
	EventSource        string `json:"eventSource"`
	EventName          string `json:"eventName"`
	EventType          string `json:"eventType"`
	EventID            string `json:"eventID"`
	AWSRegion          string `json:"awsRegion"`
	RecipientAccountID string `json:"recipientAccountId"`
	ReadOnly           any    `json:"readOnly"`
	ManagementEvent    any    `json:"managementEvent"`
	EventCategory      string `json:"eventCategory"`
}

// route turns a batch of records into deliveries, stored with the advanced cursor.
func (s *Service) route(batch []readahead.Item) error {
	var items []*delivery
	if s.anyDefaultRules() {
		for _, it := range batch {
			items = append(items, s.routeRecord(it.Seq, it.Payload)...)
		}
	}
	b := s.store.NewBatch()
	for _, d := range items {
		if err := b.Put(queueKey(d.ID), d); err != nil {
			return internal("queue", err)
		}
	}
	if err := b.Put(keyCursor, batch[len(batch)-1].Seq); err != nil {
		return internal("cursor", err)
	}
	// A batch that queued nothing only moves the cursor: routing those records again after a
	// machine crash queues nothing again, so it need not wait for the disk.
	commit := b.Commit
	if len(items) == 0 {
		commit = b.CommitUnsynced
	}
	if err := commit(); err != nil {
		return internal("commit", err)
	}
	s.q.add(items...)
	s.cursor.Store(batch[len(batch)-1].Seq)
	return nil
}

// anyDefaultRules reports whether any account's default bus has a rule that can match. When
// none has (the common case on a server without rules), a batch of records needs no envelopes:
// only the cursor moves.
func (s *Service) anyDefaultRules() bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	for ref, b := range s.buses {
		if ref.Name == DefaultBus {
			if set := b.compiled(); set != nil && set.Len() > 0 {
				return true
			}
		}
	}
	return false
}

// Envelope builds the EventBridge event of a CloudTrail record (cloudtrail-wire.md §6).
func Envelope(payload []byte, id string) (ev []byte, acct, region string, readOnlyMgmt bool, err error) {
	var r record
	if err := json.Unmarshal(payload, &r); err != nil {
		return nil, "", "", false, err
	}
	detailType, source := "AWS API Call via CloudTrail", sourceOf(r.EventSource)
	switch r.EventType {
	case "AwsConsoleSignIn":
		detailType, source = "AWS Console Sign In via CloudTrail", "aws.signin"
	case "AwsConsoleAction":
		detailType = "AWS Console Action via CloudTrail"
	case "AwsServiceEvent":
		detailType = "AWS Service Event via CloudTrail"
	case "AwsCloudTrailInsight":
		detailType, source = "AWS Insight via CloudTrail", "aws.cloudtrail"
	case "AwsVpceEvent":
		detailType = "AWS Network Activity Event via CloudTrail"
	}
	var buf bytes.Buffer
	buf.WriteString(`{"version":"0","id":`)
	writeJSON(&buf, id)
	buf.WriteString(`,"detail-type":`)
	writeJSON(&buf, detailType)
	buf.WriteString(`,"source":`)
	writeJSON(&buf, source)
	buf.WriteString(`,"account":`)
	writeJSON(&buf, r.RecipientAccountID)
	buf.WriteString(`,"time":`)
	writeJSON(&buf, normTime(r.EventTime))
	buf.WriteString(`,"region":`)
	writeJSON(&buf, r.AWSRegion)
	buf.WriteString(`,"resources":[],"detail":`)
	buf.Write(bytes.TrimSpace(payload))
	buf.WriteString("}")
	mgmt := r.EventCategory == "" || r.EventCategory == "Management"
	if v, ok := r.ManagementEvent.(bool); ok && !v {
		mgmt = false
	}
	ro := r.ReadOnly == true || r.ReadOnly == "true"
	return buf.Bytes(), r.RecipientAccountID, r.AWSRegion, mgmt && ro && readOnlyName(r.EventSource, r.EventName), nil
}

// readOnlyName applies the EventBridge guide's rule: read-only events whose names start with
// Describe, Get or List reach only rules in state ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS;
// STS GetFederationToken and GetSessionToken count as changes.
func readOnlyName(source, name string) bool {
	if source == "sts.amazonaws.com" && (name == "GetFederationToken" || name == "GetSessionToken") {
		return false
	}
	return strings.HasPrefix(name, "Describe") || strings.HasPrefix(name, "Get") || strings.HasPrefix(name, "List")
}

func sourceOf(eventSource string) string {
	svc := strings.TrimSuffix(eventSource, ".amazonaws.com")
	if i := strings.IndexByte(svc, '.'); i >= 0 && strings.HasSuffix(eventSource, ".amazonaws.com") {
		svc = svc[:i]
	}
	return "aws." + svc
}

func normTime(t string) string {
	if tt, err := time.Parse(time.RFC3339Nano, t); err == nil {
		return tt.UTC().Format("2006-01-02T15:04:05Z")
	}
	return t
}

func writeJSON(buf *bytes.Buffer, v any) {
	b, _ := json.Marshal(v)
	buf.Write(b)
}

// eventID derives a stable UUID-shaped id from the journal position and the record, so that a
// record routed again after a crash gets the same id (and the same delivery keys).
func eventID(seq uint64, payload []byte) string {
	h := sha256.New()
	fmt.Fprintf(h, "%d\x00", seq)
	h.Write(payload)
	x := hex.EncodeToString(h.Sum(nil)[:16])
	return x[0:8] + "-" + x[8:12] + "-" + x[12:16] + "-" + x[16:20] + "-" + x[20:32]
}

func (s *Service) routeRecord(seq uint64, payload []byte) []*delivery {
	id := eventID(seq, payload)
	env, acct, region, readOnly, err := Envelope(payload, id)
	if err != nil {
		s.log.Warn("events: undecodable journal record", "seq", seq, "err", err)
		return nil
	}
	if len(env) > maxEventBytes || acct == "" || region == "" {
		return nil // not sent, as on AWS
	}
	return s.match(acct, region, DefaultBus, id, env, readOnly)
}

// match returns the deliveries of an event on a bus.
func (s *Service) match(acct, region, busName, id string, env []byte, readOnly bool) []*delivery {
	s.mu.RLock()
	b := s.buses[busRef{acct, region, busName}]
	var set *eventpattern.Set[*rule]
	if b != nil {
		set = b.compiled()
	}
	s.mu.RUnlock()
	if set == nil || set.Len() == 0 {
		return nil
	}
	ev, err := eventpattern.ParseEvent(env)
	if err != nil {
		return nil
	}
	var out []*delivery
	now := s.now().UTC()
	set.Match(ev, func(r *rule) {
		if readOnly && r.State != StateEnabledAll {
			return
		}
		for _, t := range r.Targets {
			out = append(out, &delivery{
				ID:      id + "-" + shortHash(r.arn()+"\x00"+t.Id),
				Account: acct, Region: region, RuleArn: r.arn(), RuleName: r.Name,
				Target: t, Event: string(env), Created: now, NextAt: now,
			})
		}
	})
	return out
}

func shortHash(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:8])
}

// ---- PutEvents ----

type putEventsEntry struct {
	Time         *float64 `json:"Time"`
	Source       string   `json:"Source"`
	Resources    []string `json:"Resources"`
	DetailType   string   `json:"DetailType"`
	Detail       string   `json:"Detail"`
	EventBusName string   `json:"EventBusName"`
	TraceHeader  string   `json:"TraceHeader"`
}

type putEventsInput struct {
	Entries []putEventsEntry `json:"Entries"`
}

type putEventsResult struct {
	EventId      string `json:"EventId,omitempty"`
	ErrorCode    string `json:"ErrorCode,omitempty"`
	ErrorMessage string `json:"ErrorMessage,omitempty"`
}

type putEventsOutput struct {
	FailedEntryCount int               `json:"FailedEntryCount"`
	Entries          []putEventsResult `json:"Entries"`
}

func (s *Service) putEvents(ctx context.Context, c *server.Call, in *putEventsInput) (*putEventsOutput, error) {
	if len(in.Entries) < 1 || len(in.Entries) > maxPutEvents {
		return nil, errConstraint(len(in.Entries), "entries", "Member must have length less than or equal to 10")
	}
	size := 0
	for _, e := range in.Entries {
		size += len(e.Source) + len(e.DetailType) + len(e.Detail)
		for _, r := range e.Resources {
			size += len(r)
		}
	}
	if size > maxPutEventsBytes {
		return nil, errorf(CodeValidation, "Total size of the entries in the request is over the limit.")
	}
	out := &putEventsOutput{Entries: []putEventsResult{}}
	var items []*delivery
	for _, e := range in.Entries {
		res, ds := s.putEvent(c, &e)
		if res.ErrorCode != "" {
			out.FailedEntryCount++
		}
		out.Entries = append(out.Entries, res)
		items = append(items, ds...)
	}
	if len(items) > 0 {
		b := s.store.NewBatch()
		for _, d := range items {
			if err := b.Put(queueKey(d.ID), d); err != nil {
				return nil, internal("queue", err)
			}
		}
		if err := b.Commit(); err != nil {
			return nil, internal("queue", err)
		}
		s.q.add(items...)
	}
	return out, nil
}

func newUUID() string {
	var b [16]byte
	randRead(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	x := hex.EncodeToString(b[:])
	return x[0:8] + "-" + x[8:12] + "-" + x[12:16] + "-" + x[16:20] + "-" + x[20:32]
}

func (s *Service) putEvent(c *server.Call, e *putEventsEntry) (putEventsResult, []*delivery) {
	fail := func(code, msg string) (putEventsResult, []*delivery) {
		return putEventsResult{ErrorCode: code, ErrorMessage: msg}, nil
	}
	if e.Source == "" {
		return fail("InvalidArgument", "Parameter Source is not valid. Reason: Source is a required argument.")
	}
	if e.DetailType == "" {
		return fail("InvalidArgument", "Parameter DetailType is not valid. Reason: DetailType is a required argument.")
	}
	if e.Detail == "" {
		return fail("InvalidArgument", "Parameter Detail is not valid. Reason: Detail is a required argument.")
	}
	if strings.HasPrefix(e.Source, "aws.") {
		return fail("NotAuthorizedForSourceException", "Not authorized for the source.")
	}
	var detail map[string]json.RawMessage
	if err := json.Unmarshal([]byte(e.Detail), &detail); err != nil || detail == nil {
		return fail("MalformedDetail", "Detail is malformed.")
	}
	if _, err := eventpattern.ParseEvent([]byte(e.Detail)); err != nil {
		return fail("MalformedDetail", "Detail is malformed.")
	}
	bn := busName(e.EventBusName)
	s.mu.Lock()
	b := s.getBusLocked(c.Account(), c.Region, bn)
	s.mu.Unlock()
	if b == nil {
		return fail("EventBusNotFound", "Event bus "+bn+" does not exist.")
	}
	t := c.Time.UTC()
	if e.Time != nil {
		t = time.UnixMilli(int64(*e.Time * 1000)).UTC()
	}
	id := newUUID()
	var buf bytes.Buffer
	buf.WriteString(`{"version":"0","id":`)
	writeJSON(&buf, id)
	buf.WriteString(`,"detail-type":`)
	writeJSON(&buf, e.DetailType)
	buf.WriteString(`,"source":`)
	writeJSON(&buf, e.Source)
	buf.WriteString(`,"account":`)
	writeJSON(&buf, c.Account())
	buf.WriteString(`,"time":`)
	writeJSON(&buf, t.Format("2006-01-02T15:04:05Z"))
	buf.WriteString(`,"region":`)
	writeJSON(&buf, c.Region)
	buf.WriteString(`,"resources":`)
	res := e.Resources
	if res == nil {
		res = []string{}
	}
	writeJSON(&buf, res)
	buf.WriteString(`,"detail":`)
	buf.WriteString(strings.TrimSpace(e.Detail))
	buf.WriteString("}")
	return putEventsResult{EventId: id}, s.match(c.Account(), c.Region, bn, id, buf.Bytes(), false)
}
