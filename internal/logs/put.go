package logs

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/cockroachdb/pebble/v2"

	"github.com/opentrail/opentrail/internal/server"
)

// PutLogEvents limits, as AWS documents them.
const (
	MaxBatchEvents = 10_000
	MaxBatchBytes  = 1_048_576
	// EventOverhead is what each event adds to a batch's size beside its message.
	EventOverhead = 26
	// MaxFuture is how far in the future an event may be; later ones are "too new".
	MaxFuture = 2 * time.Hour
	// MaxAge is how far in the past an event may be; older ones are "too old".
	MaxAge = 14 * 24 * time.Hour
	// MaxSpan is the longest time a batch's accepted events may span.
	MaxSpan = 24 * time.Hour
)

// InputEvent is one log event for PutInternal.
type InputEvent struct {
	Timestamp time.Time
	Message   string
}

// event is an event being stored: timestamp in epoch ms.
type event struct {
	ts  int64
	msg string
}

type inputLogEvent struct {
	Timestamp *int64  `json:"timestamp"`
	Message   *string `json:"message"`
}

type putLogEventsInput struct {
	LogGroupName  string          `json:"logGroupName"`
	LogStreamName string          `json:"logStreamName"`
	LogEvents     []inputLogEvent `json:"logEvents"`
	SequenceToken string          `json:"sequenceToken,omitempty"`
	Entity        json.RawMessage `json:"entity,omitempty"`
}

// MarshalJSON renders the input for the call's CloudTrail record: the group and stream, not
// the events. AWS does not record log data in CloudTrail, and a record carrying the messages
// would copy every log into the journal (and, through a trail's log group, back into Logs).
func (in putLogEventsInput) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		LogGroupName  string `json:"logGroupName"`
		LogStreamName string `json:"logStreamName"`
		SequenceToken string `json:"sequenceToken,omitempty"`
	}{in.LogGroupName, in.LogStreamName, in.SequenceToken})
}

type rejectedInfo struct {
	TooNewLogEventStartIndex *int `json:"tooNewLogEventStartIndex,omitempty"`
	TooOldLogEventEndIndex   *int `json:"tooOldLogEventEndIndex,omitempty"`
	ExpiredLogEventEndIndex  *int `json:"expiredLogEventEndIndex,omitempty"`
}

type putLogEventsOutput struct {
	NextSequenceToken     string        `json:"nextSequenceToken,omitempty"`
	RejectedLogEventsInfo *rejectedInfo `json:"rejectedLogEventsInfo,omitempty"`
}

// checkBatch applies the request-level rules of PutLogEvents to the input events and
// returns them: count, message presence and size, batch size and chronological order.
func (s *Service) checkBatch(in []inputLogEvent) ([]event, error) {
	switch n := len(in); {
	case n == 0:
		return nil, errConstraint("[]", "logEvents", "Member must have length greater than or equal to 1")
	case n > MaxBatchEvents:
		return nil, errConstraint(fmt.Sprintf("[%d events]", n), "logEvents", fmt.Sprintf("Member must have length less than or equal to %d", MaxBatchEvents))
	}
	evs := make([]event, len(in))
	size := 0
	for i, e := range in {
		member := fmt.Sprintf("logEvents.%d.member", i+1)
		if e.Timestamp == nil {
			return nil, errInvalid("1 validation error detected: Value null at '%s.timestamp' failed to satisfy constraint: Member must not be null", member)
		}
		if *e.Timestamp < 0 {
			return nil, errConstraint(*e.Timestamp, member+".timestamp", "Member must have value greater than or equal to 0")
		}
		if e.Message == nil {
			return nil, errInvalid("1 validation error detected: Value null at '%s.message' failed to satisfy constraint: Member must not be null", member)
		}
		if *e.Message == "" {
			return nil, errConstraint("", member+".message", "Member must have length greater than or equal to 1")
		}
		if n := len(*e.Message); n > s.maxEvent {
			return nil, errInvalid("Log event too large: %d bytes exceeds limit of %d", n, s.maxEvent)
		}
		size += len(*e.Message) + EventOverhead
		evs[i] = event{ts: *e.Timestamp, msg: *e.Message}
	}
	if size > MaxBatchBytes {
		return nil, errInvalid("Upload too large: %d bytes exceeds limit of %d", size, MaxBatchBytes)
	}
	for i := 1; i < len(evs); i++ {
		if evs[i].ts < evs[i-1].ts {
			return nil, errInvalid("Log events in a single PutLogEvents request must be in chronological order.")
		}
	}
	return evs, nil
}

// classify splits a chronological batch by AWS's time rules at nowMS: events before
// tooOldEnd are older than MaxAge, those before expiredEnd are older than the group's
// retention, and those from tooNewStart on are more than MaxFuture ahead. The events in
// between are accepted.
func classify(evs []event, nowMS, retentionCutoff int64) (tooOldEnd, expiredEnd, tooNewStart int) {
	oldest := nowMS - MaxAge.Milliseconds()
	newest := nowMS + MaxFuture.Milliseconds()
	tooNewStart = len(evs)
	for i, e := range evs {
		if e.ts < oldest {
			tooOldEnd = i + 1
		}
		if e.ts < retentionCutoff {
			expiredEnd = i + 1
		}
		if e.ts > newest && tooNewStart == len(evs) {
			tooNewStart = i
		}
	}
	return tooOldEnd, expiredEnd, tooNewStart
}

func (s *Service) putLogEvents(ctx context.Context, c *server.Call, in *putLogEventsInput) (*putLogEventsOutput, error) {
	if err := checkGroupName("logGroupName", in.LogGroupName); err != nil {
		return nil, err
	}
	if err := checkStreamName("logStreamName", in.LogStreamName); err != nil {
		return nil, err
	}
	evs, err := s.checkBatch(in.LogEvents)
	if err != nil {
		return nil, err
	}
	acct, region := c.Account(), c.Region
	s.mu.RLock()
	g, err := s.mustGroup(acct, region, in.LogGroupName)
	if err != nil {
		s.mu.RUnlock()
		return nil, err
	}
	exists, err := s.streamExists(acct, region, in.LogGroupName, in.LogStreamName)
	if err != nil || !exists {
		s.mu.RUnlock()
		if err == nil {
			err = errStreamNotFound()
		}
		return nil, err
	}
	nowMS := s.clockMS()
	tooOldEnd, expiredEnd, tooNewStart := classify(evs, nowMS, g.cutoff(nowMS))
	out := &putLogEventsOutput{}
	if tooOldEnd > 0 || expiredEnd > 0 || tooNewStart < len(evs) {
		out.RejectedLogEventsInfo = &rejectedInfo{}
		if tooOldEnd > 0 {
			out.RejectedLogEventsInfo.TooOldLogEventEndIndex = &tooOldEnd
		}
		if expiredEnd > 0 {
			out.RejectedLogEventsInfo.ExpiredLogEventEndIndex = &expiredEnd
		}
		if tooNewStart < len(evs) {
			out.RejectedLogEventsInfo.TooNewLogEventStartIndex = &tooNewStart
		}
	}
	var accepted []event
	if start := max(tooOldEnd, expiredEnd); start < tooNewStart {
		accepted = evs[start:tooNewStart]
	}
	if len(accepted) > 0 && accepted[len(accepted)-1].ts-accepted[0].ts > MaxSpan.Milliseconds() {
		s.mu.RUnlock()
		return nil, errInvalid("The batch of log events in a single PutLogEvents request cannot span more than 24 hours.")
	}
	filters := s.filters[groupID(acct, region, in.LogGroupName)]
	err = s.store(acct, region, in.LogGroupName, in.LogStreamName, accepted, nowMS)
	s.mu.RUnlock()
	if err != nil {
		return nil, err
	}
	s.emit(ctx, acct, region, filters, accepted)
	out.NextSequenceToken = sequenceToken(s.seq.Load())
	c.AddResource(groupType, GroupARN(region, acct, in.LogGroupName))
	return out, nil
}

// PutInternal stores events in a stream of a log group for OpenTrail's own producers (the
// CloudTrail forwarder), creating the stream when it is missing, and applies the group's
// metric filters. Events need not be in order. Events that PutLogEvents would reject — an
// empty message, a message over MaxInternalEventBytes, a timestamp more than MaxAge in the
// past or beyond the group's retention, or more than MaxFuture ahead — are dropped and
// counted in rejected. A missing group gives an error wrapping ErrGroupNotFound.
func (s *Service) PutInternal(ctx context.Context, acct, region, group, stream string, events []InputEvent) (rejected int, err error) {
	if err := checkGroupName("logGroupName", group); err != nil {
		return 0, err
	}
	if err := checkStreamName("logStreamName", stream); err != nil {
		return 0, err
	}
	s.mu.RLock()
	g, err := s.readyStream(acct, region, group, stream)
	if err != nil {
		return 0, err // readyStream released the lock
	}
	nowMS := s.clockMS()
	oldest := max(nowMS-MaxAge.Milliseconds(), g.cutoff(nowMS))
	newest := nowMS + MaxFuture.Milliseconds()
	evs := make([]event, 0, len(events))
	for _, e := range events {
		ts := e.Timestamp.UnixMilli()
		if e.Message == "" || len(e.Message) > MaxInternalEventBytes || ts < oldest || ts > newest || ts < 0 {
			rejected++
			continue
		}
		evs = append(evs, event{ts: ts, msg: e.Message})
	}
	slices.SortStableFunc(evs, func(a, b event) int { return compareInt(a.ts, b.ts) })
	filters := s.filters[groupID(acct, region, group)]
	err = s.store(acct, region, group, stream, evs, nowMS)
	s.mu.RUnlock()
	if err != nil {
		return rejected, err
	}
	s.emit(ctx, acct, region, filters, evs)
	return rejected, nil
}

// readyStream is called with s.mu read-locked and returns with it read-locked and the group
// and stream existing, creating the stream if needed; on an error it returns with the lock
// released.
func (s *Service) readyStream(acct, region, group, stream string) (*groupRecord, error) {
	for {
		g, err := s.loadGroup(acct, region, group)
		if err == nil && g == nil {
			err = fmt.Errorf("%w: %s in %s of account %s", ErrGroupNotFound, group, region, acct)
		}
		if err != nil {
			s.mu.RUnlock()
			return nil, err
		}
		exists, err := s.streamExists(acct, region, group, stream)
		if err != nil {
			s.mu.RUnlock()
			return nil, err
		}
		if exists {
			return g, nil
		}
		s.mu.RUnlock()
		s.mu.Lock()
		err = func() error {
			g, err := s.loadGroup(acct, region, group)
			if err != nil || g == nil {
				return err // the loop reports a missing group
			}
			exists, err := s.streamExists(acct, region, group, stream)
			if err != nil || exists {
				return err
			}
			return s.createStream(acct, region, group, stream)
		}()
		s.mu.Unlock()
		if err != nil {
			return nil, err
		}
		s.mu.RLock()
	}
}

func compareInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// store writes chronologically ordered events to a stream, with the statistics of the stream
// and the group, in one synced batch. The caller holds s.mu (read) and has checked that the
// group and stream exist.
func (s *Service) store(acct, region, group, stream string, evs []event, nowMS int64) error {
	if len(evs) == 0 {
		return nil
	}
	last := s.seq.Add(uint64(len(evs)))
	seq := last - uint64(len(evs))
	prefix := streamKey(famEvent, acct, region, group, stream)
	b := s.db.NewBatch()
	defer b.Close()
	st := stats{First: evs[0].ts, Last: evs[len(evs)-1].ts, LastIngestion: nowMS, Count: int64(len(evs))}
	for _, e := range evs {
		seq++
		v := make([]byte, 8, 8+len(e.msg))
		binary.BigEndian.PutUint64(v, uint64(nowMS))
		v = append(v, e.msg...)
		if err := b.Set(eventKey(prefix, e.ts, seq), v, nil); err != nil {
			return internal("put events", err)
		}
		st.Bytes += int64(len(e.msg))
	}
	_ = b.Merge(streamKey(famStreamStat, acct, region, group, stream), st.encode(), nil)
	_ = b.Merge(groupKey(famGroupStat, acct, region, group), stats{First: math.MaxInt64, Last: math.MinInt64, LastIngestion: nowMS, Bytes: st.Bytes, Count: st.Count}.encode(), nil)
	_ = b.Merge(keySeq, stats{First: math.MaxInt64, Last: int64(last), LastIngestion: math.MinInt64}.encode(), nil)
	if err := b.Commit(pebble.Sync); err != nil {
		return internal("put events", err)
	}
	return nil
}
