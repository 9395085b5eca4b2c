package logs

import (
	"container/heap"
	"context"
	"encoding/binary"
	"fmt"
	"slices"
	"strconv"

	"github.com/cockroachdb/pebble/v2"

	"github.com/opentrail/opentrail/internal/server"
)

// Read limits: a page holds at most MaxPageEvents events and MaxPageBytes bytes, counted as
// PutLogEvents counts them (message bytes plus EventOverhead per event).
const (
	MaxPageEvents = 10_000
	MaxPageBytes  = 1_048_576
)

// hiPos is the exclusive upper bound of an open time range.
var hiPos = eventPos{ts: maxTokenTS, seq: ^uint64(0)}

type outputLogEvent struct {
	Timestamp     int64  `json:"timestamp"`
	Message       string `json:"message"`
	IngestionTime int64  `json:"ingestionTime"`
}

// decodeEvent reads a stored event's value.
func decodeEvent(v []byte) (ingestion int64, msg string, ok bool) {
	if len(v) < 8 {
		return 0, "", false
	}
	return int64(binary.BigEndian.Uint64(v)), string(v[8:]), true
}

func checkTime(member string, t *int64) error {
	if t != nil && *t < 0 {
		return errConstraint(*t, member, "Member must have value greater than or equal to 0")
	}
	return nil
}

func pageLimit(limit *int) (int, error) {
	if limit == nil {
		return MaxPageEvents, nil
	}
	if *limit < 1 {
		return 0, errConstraint(*limit, "limit", "Member must have value greater than or equal to 1")
	}
	if *limit > MaxPageEvents {
		return 0, errConstraint(*limit, "limit", fmt.Sprintf("Member must have value less than or equal to %d", MaxPageEvents))
	}
	return *limit, nil
}

type getLogEventsInput struct {
	LogGroupName       string `json:"logGroupName,omitempty"`
	LogGroupIdentifier string `json:"logGroupIdentifier,omitempty"`
	LogStreamName      string `json:"logStreamName"`
	StartTime          *int64 `json:"startTime,omitempty"`
	EndTime            *int64 `json:"endTime,omitempty"`
	NextToken          string `json:"nextToken,omitempty"`
	Limit              *int   `json:"limit,omitempty"`
	StartFromHead      *bool  `json:"startFromHead,omitempty"`
	Unmask             bool   `json:"unmask,omitempty"`
}

type getLogEventsOutput struct {
	Events            []outputLogEvent `json:"events"`
	NextForwardToken  string           `json:"nextForwardToken"`
	NextBackwardToken string           `json:"nextBackwardToken"`
}

// getLogEvents reads one stream: the first events of the time range [startTime, endTime)
// with startFromHead, else the last ones, and continues in the direction of a token. Each
// page's nextForwardToken continues after its last event and nextBackwardToken before its
// first; an empty page gives back the token it was asked with.
func (s *Service) getLogEvents(ctx context.Context, c *server.Call, in *getLogEventsInput) (*getLogEventsOutput, error) {
	group, err := groupRef(c, in.LogGroupName, in.LogGroupIdentifier)
	if err != nil {
		return nil, err
	}
	if err := checkStreamName("logStreamName", in.LogStreamName); err != nil {
		return nil, err
	}
	if err := checkTime("startTime", in.StartTime); err != nil {
		return nil, err
	}
	if err := checkTime("endTime", in.EndTime); err != nil {
		return nil, err
	}
	limit, err := pageLimit(in.Limit)
	if err != nil {
		return nil, err
	}
	acct, region := c.Account(), c.Region
	g, err := s.mustGroup(acct, region, group)
	if err != nil {
		return nil, err
	}
	exists, err := s.streamExists(acct, region, group, in.LogStreamName)
	if err != nil {
		return nil, err
	}
	if !exists {
		return nil, errStreamNotFound()
	}
	binding := tokenBinding("GetLogEvents", acct, region, group, in.LogStreamName)
	lo := eventPos{ts: g.cutoff(s.clockMS())}
	if in.StartTime != nil {
		lo.ts = max(lo.ts, clampTS(*in.StartTime))
	}
	hi := hiPos
	if in.EndTime != nil {
		hi = eventPos{ts: clampTS(*in.EndTime)}
	}
	forward := in.StartFromHead != nil && *in.StartFromHead
	pos := hi
	if forward {
		pos = lo
	}
	if in.NextToken != "" {
		dir, p, err := s.parseStreamToken(binding, in.NextToken)
		if err != nil {
			return nil, err
		}
		forward, pos = dir == 'f', p
	}
	prefix := streamKey(famEvent, acct, region, group, in.LogStreamName)
	from, to := lo, hi
	if forward && lo.less(pos) {
		from = pos
	}
	if !forward && pos.less(hi) {
		to = pos
	}
	var evs []outputLogEvent
	var first, last eventPos
	if from.less(to) {
		evs, first, last, err = s.readStream(prefix, from, to, forward, limit)
		if err != nil {
			return nil, err
		}
	}
	out := &getLogEventsOutput{Events: evs}
	if out.Events == nil {
		out.Events = []outputLogEvent{}
	}
	switch {
	case len(evs) > 0:
		out.NextForwardToken = s.streamToken('f', binding, last.next())
		out.NextBackwardToken = s.streamToken('b', binding, first)
	case forward:
		out.NextForwardToken = firstNonEmpty(in.NextToken, s.streamToken('f', binding, from))
		out.NextBackwardToken = s.streamToken('b', binding, from)
	default:
		out.NextBackwardToken = firstNonEmpty(in.NextToken, s.streamToken('b', binding, to))
		if in.NextToken == "" {
			out.NextForwardToken = s.streamToken('f', binding, lo)
		} else {
			out.NextForwardToken = s.streamToken('f', binding, to)
		}
	}
	return out, nil
}

// readStream reads up to limit events (and MaxPageBytes) of a stream in [from, to): the
// first ones when forward, else the last ones; either way in ascending order. first and last
// are the positions of the first and last event returned.
func (s *Service) readStream(prefix []byte, from, to eventPos, forward bool, limit int) (evs []outputLogEvent, first, last eventPos, err error) {
	it, err := s.db.NewIter(&pebble.IterOptions{
		LowerBound: eventKey(prefix, from.ts, from.seq),
		UpperBound: eventKey(prefix, to.ts, to.seq),
	})
	if err != nil {
		return nil, first, last, internal("read events", err)
	}
	defer it.Close()
	step := it.Next
	valid := it.First()
	if !forward {
		step, valid = it.Prev, it.Last()
	}
	size := 0
	var positions []eventPos
	for ; valid && len(evs) < limit; valid = step() {
		ts, seq, ok1 := splitEventKey(it.Key())
		ing, msg, ok2 := decodeEvent(it.Value())
		if !ok1 || !ok2 {
			continue
		}
		if size += len(msg) + EventOverhead; size > MaxPageBytes && len(evs) > 0 {
			break
		}
		evs = append(evs, outputLogEvent{Timestamp: ts, Message: msg, IngestionTime: ing})
		positions = append(positions, eventPos{ts: ts, seq: seq})
	}
	if err := it.Error(); err != nil {
		return nil, first, last, internal("read events", err)
	}
	if len(evs) == 0 {
		return nil, first, last, nil
	}
	if !forward {
		slices.Reverse(evs)
		slices.Reverse(positions)
	}
	return evs, positions[0], positions[len(positions)-1], nil
}

type filterLogEventsInput struct {
	LogGroupName        string   `json:"logGroupName,omitempty"`
	LogGroupIdentifier  string   `json:"logGroupIdentifier,omitempty"`
	LogStreamNames      []string `json:"logStreamNames,omitempty"`
	LogStreamNamePrefix string   `json:"logStreamNamePrefix,omitempty"`
	StartTime           *int64   `json:"startTime,omitempty"`
	EndTime             *int64   `json:"endTime,omitempty"`
	FilterPattern       *string  `json:"filterPattern,omitempty"`
	NextToken           string   `json:"nextToken,omitempty"`
	Limit               *int     `json:"limit,omitempty"`
	Interleaved         *bool    `json:"interleaved,omitempty"`
	Unmask              bool     `json:"unmask,omitempty"`
}

type filteredLogEvent struct {
	LogStreamName string `json:"logStreamName"`
	Timestamp     int64  `json:"timestamp"`
	Message       string `json:"message"`
	IngestionTime int64  `json:"ingestionTime"`
	EventID       string `json:"eventId"`
}

type searchedLogStream struct {
	LogStreamName      string `json:"logStreamName"`
	SearchedCompletely bool   `json:"searchedCompletely"`
}

type filterLogEventsOutput struct {
	Events             []filteredLogEvent  `json:"events"`
	SearchedLogStreams []searchedLogStream `json:"searchedLogStreams"`
	NextToken          string              `json:"nextToken,omitempty"`
}

const maxFilterStreams = 100

// eventID is a FilterLogEvents eventId: 56 digits, like AWS's, unique to the event.
func eventID(p eventPos) string { return fmt.Sprintf("%024d%032d", p.ts, p.seq) }

// filterLogEvents searches a group's streams (all, the named ones, or those with a name
// prefix) for the events of [startTime, endTime] that match the pattern, interleaved in
// (timestamp, ingestion) order. A call examines at most FilterScanLimit events; a page can
// therefore be short, or empty, and still carry a nextToken. searchedLogStreams is always
// empty, as AWS has answered since 2020.
func (s *Service) filterLogEvents(ctx context.Context, c *server.Call, in *filterLogEventsInput) (*filterLogEventsOutput, error) {
	group, err := groupRef(c, in.LogGroupName, in.LogGroupIdentifier)
	if err != nil {
		return nil, err
	}
	if in.LogStreamNames != nil && in.LogStreamNamePrefix != "" {
		return nil, errInvalid("logStreamNames and logStreamNamePrefix are mutually exclusive parameters.")
	}
	if in.LogStreamNames != nil {
		if n := len(in.LogStreamNames); n < 1 || n > maxFilterStreams {
			return nil, errConstraint(n, "logStreamNames", "Member must have length less than or equal to 100 and greater than or equal to 1")
		}
		for i, n := range in.LogStreamNames {
			if err := checkStreamName(fmt.Sprintf("logStreamNames.%d.member", i+1), n); err != nil {
				return nil, err
			}
		}
	}
	if in.LogStreamNamePrefix != "" {
		if err := checkStreamName("logStreamNamePrefix", in.LogStreamNamePrefix); err != nil {
			return nil, err
		}
	}
	if err := checkTime("startTime", in.StartTime); err != nil {
		return nil, err
	}
	if err := checkTime("endTime", in.EndTime); err != nil {
		return nil, err
	}
	limit, err := pageLimit(in.Limit)
	if err != nil {
		return nil, err
	}
	patternSrc := ""
	if in.FilterPattern != nil {
		patternSrc = *in.FilterPattern
	}
	if len(patternSrc) > maxPatternLen {
		return nil, lengthError(patternSrc, "filterPattern", 0, maxPatternLen)
	}
	p, err := parsePattern(patternSrc)
	if err != nil {
		return nil, errPattern("Invalid filter pattern", err)
	}
	acct, region := c.Account(), c.Region
	g, err := s.mustGroup(acct, region, group)
	if err != nil {
		return nil, err
	}
	lo := eventPos{ts: g.cutoff(s.clockMS())}
	if in.StartTime != nil {
		lo.ts = max(lo.ts, clampTS(*in.StartTime))
	}
	hi := hiPos
	if in.EndTime != nil && *in.EndTime < maxTokenTS { // endTime is inclusive in FilterLogEvents
		hi = eventPos{ts: clampTS(*in.EndTime + 1)}
	}
	optional := func(t *int64) string {
		if t == nil {
			return ""
		}
		return strconv.FormatInt(*t, 10)
	}
	names := slices.Clone(in.LogStreamNames)
	slices.Sort(names)
	names = slices.Compact(names)
	bindParts := append([]string{"FilterLogEvents", acct, region, group, in.LogStreamNamePrefix, patternSrc, optional(in.StartTime), optional(in.EndTime)}, names...)
	binding := tokenBinding(bindParts...)
	if in.NextToken != "" {
		raw, err := s.parsePageToken(binding, in.NextToken)
		if err != nil {
			return nil, err
		}
		after, ok := decodePos(raw)
		if !ok {
			return nil, errBadToken()
		}
		if lo.less(after.next()) {
			lo = after.next()
		}
	}
	if in.LogStreamNames == nil {
		entries, err := s.listStreams(acct, region, group, in.LogStreamNamePrefix)
		if err != nil {
			return nil, err
		}
		for _, e := range entries {
			// Skip streams whose events all lie outside the range.
			if e.st.Count > 0 && (e.st.Last < lo.ts || e.st.First >= hi.ts) {
				continue
			}
			names = append(names, e.rec.Name)
		}
	}
	out := &filterLogEventsOutput{Events: []filteredLogEvent{}, SearchedLogStreams: []searchedLogStream{}}
	if !lo.less(hi) || len(names) == 0 {
		return out, nil
	}
	m, err := s.newMerger(acct, region, group, names, lo, hi)
	if err != nil {
		return nil, err
	}
	defer m.close()
	var done eventPos // the last event examined and dealt with
	scanned, size := 0, 0
	for m.Len() > 0 {
		if scanned >= s.scanLimit {
			out.NextToken = s.pageToken(binding, encodePos(done))
			break
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		h := m.heads[0]
		pos, stream := h.pos, h.stream
		ing, msg, ok := decodeEvent(h.it.Value())
		if ok && p.match(newMessage(msg)) {
			if size+len(msg)+EventOverhead > MaxPageBytes && len(out.Events) > 0 {
				out.NextToken = s.pageToken(binding, encodePos(done))
				break
			}
			size += len(msg) + EventOverhead
			out.Events = append(out.Events, filteredLogEvent{LogStreamName: stream, Timestamp: pos.ts, Message: msg, IngestionTime: ing, EventID: eventID(pos)})
		}
		scanned++
		done = pos
		if err := m.advance(); err != nil {
			return nil, err
		}
		if len(out.Events) == limit {
			if m.Len() > 0 {
				out.NextToken = s.pageToken(binding, encodePos(done))
			}
			break
		}
	}
	return out, nil
}

// merger walks several streams' events in (timestamp, seq) order: a heap of iterators.
type merger struct {
	heads []*head
	err   error
}

type head struct {
	it     *pebble.Iterator
	stream string
	pos    eventPos
}

func (s *Service) newMerger(acct, region, group string, streams []string, lo, hi eventPos) (*merger, error) {
	m := &merger{}
	for _, name := range streams {
		prefix := streamKey(famEvent, acct, region, group, name)
		it, err := s.db.NewIter(&pebble.IterOptions{
			LowerBound: eventKey(prefix, lo.ts, lo.seq),
			UpperBound: eventKey(prefix, hi.ts, hi.seq),
		})
		if err != nil {
			m.close()
			return nil, internal("read events", err)
		}
		h := &head{it: it, stream: name}
		if !m.load(h, it.First()) {
			if err := it.Close(); err != nil {
				m.close()
				return nil, internal("read events", err)
			}
			continue
		}
		m.heads = append(m.heads, h)
	}
	if m.err != nil {
		m.close()
		return nil, m.err
	}
	heap.Init(m)
	return m, nil
}

// load reads the head's position after a move; false when the iterator is exhausted.
func (m *merger) load(h *head, valid bool) bool {
	for ; valid; valid = h.it.Next() {
		ts, seq, ok := splitEventKey(h.it.Key())
		if ok {
			h.pos = eventPos{ts: ts, seq: seq}
			return true
		}
	}
	if err := h.it.Error(); err != nil && m.err == nil {
		m.err = internal("read events", err)
	}
	return false
}

// advance moves the smallest head to its next event.
func (m *merger) advance() error {
	h := m.heads[0]
	if m.load(h, h.it.Next()) {
		heap.Fix(m, 0)
	} else {
		heap.Pop(m)
		_ = h.it.Close()
	}
	return m.err
}

func (m *merger) close() {
	for _, h := range m.heads {
		_ = h.it.Close()
	}
	m.heads = nil
}

func (m *merger) Len() int           { return len(m.heads) }
func (m *merger) Less(i, j int) bool { return m.heads[i].pos.less(m.heads[j].pos) }
func (m *merger) Swap(i, j int)      { m.heads[i], m.heads[j] = m.heads[j], m.heads[i] }
func (m *merger) Push(x any)         { m.heads = append(m.heads, x.(*head)) }
func (m *merger) Pop() any {
	h := m.heads[len(m.heads)-1]
	m.heads = m.heads[:len(m.heads)-1]
	return h
}
