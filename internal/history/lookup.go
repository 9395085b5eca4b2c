package history

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/cockroachdb/pebble/v2"

	"github.com/opentrail/opentrail"
)

// Limits of LookupEvents.
const (
	// DefaultMaxResults is the page size when MaxResults is not given.
	DefaultMaxResults = 50
	// MaxMaxResults is the largest page size.
	MaxMaxResults = 50
	// MaxAttributeValue is the longest AttributeValue, counted as the model says: in
	// characters, with '_', ' ', ',' and '\n' counting as two.
	MaxAttributeValue = 2000
	// CategoryInsight is the only EventCategory value.
	CategoryInsight = "insight"
)

// Error codes of LookupEvents.
const (
	CodeInvalidLookupAttributes = "InvalidLookupAttributesException"
	CodeInvalidTimeRange        = "InvalidTimeRangeException"
	CodeInvalidMaxResults       = "InvalidMaxResultsException"
	CodeInvalidNextToken        = "InvalidNextTokenException"
	CodeInvalidEventCategory    = "InvalidEventCategoryException"
)

// Attribute is a LookupAttribute: an attribute key (EventId, EventName, ReadOnly, Username,
// ResourceType, ResourceName, EventSource or AccessKeyId; case-sensitive) and the exact
// value to match.
type Attribute struct {
	Key   string
	Value string
}

// Query is one LookupEvents request of an account.
type Query struct {
	// Region is the region whose Event History is read: events whose awsRegion is Region.
	Region string
	// Attributes holds at most one lookup attribute.
	Attributes []Attribute
	// StartTime and EndTime bound the event time, both inclusive; the zero time leaves a
	// bound unset (the oldest retained event, and now).
	StartTime, EndTime time.Time
	// EventCategory is "" (management events) or "insight" (Insights events only).
	EventCategory string
	// MaxResults is the page size, 1 to 50; 0 means 50.
	MaxResults int
	// NextToken continues an earlier lookup made with the same parameters.
	NextToken string
}

// Page is one page of results, newest event first. NextToken is empty on the last page.
type Page struct {
	Events    []Event
	NextToken string
}

// Event is one result, shaped as the model's Event structure (its JSON encoding is the
// wire form: EventTime in epoch seconds).
type Event struct {
	EventID         string     `json:"EventId,omitempty"`
	EventName       string     `json:"EventName,omitempty"`
	ReadOnly        string     `json:"ReadOnly,omitempty"`
	AccessKeyID     string     `json:"AccessKeyId,omitempty"`
	EventTime       time.Time  `json:"-"`
	EventSource     string     `json:"EventSource,omitempty"`
	Username        string     `json:"Username,omitempty"`
	Resources       []Resource `json:"Resources"`
	CloudTrailEvent string     `json:"CloudTrailEvent,omitempty"`
}

// MarshalJSON renders the event as the JSON 1.1 wire shape, EventTime as epoch seconds.
func (e Event) MarshalJSON() ([]byte, error) {
	type plain Event
	res := e.Resources
	if res == nil {
		res = []Resource{}
	}
	p := plain(e)
	p.Resources = res
	return json.Marshal(struct {
		plain
		EventTime json.Number `json:"EventTime"`
	}{p, epochNumber(e.EventTime)})
}

// epochNumber renders t as JSON epoch seconds, with a fraction only when t has one.
func epochNumber(t time.Time) json.Number {
	ms := t.UnixMilli()
	if ms%1000 == 0 {
		return json.Number(strconv.FormatInt(ms/1000, 10))
	}
	return json.Number(strconv.FormatFloat(float64(ms)/1000, 'f', -1, 64))
}

// Resource is one entry of an event's Resources. ResourceType is empty (null on the wire)
// when the type is not known.
type Resource struct {
	ResourceType string `json:"ResourceType,omitempty"`
	ResourceName string `json:"ResourceName,omitempty"`
}

func lookupErr(code, format string, args ...any) *opentrail.Error {
	return opentrail.Errorf(code, format, args...)
}

// errInvalidToken is the one answer to any token that does not verify.
var errInvalidToken = lookupErr(CodeInvalidNextToken, "The NextToken is not valid, or was issued for a request with different parameters.")

// plan is a validated query.
type plan struct {
	acct, region string
	insight      bool
	hasAttr      bool
	attr         attr
	value        string
	max          int
	lo, hi       int64 // inclusive bounds in epoch seconds
	binding      []byte
	resume       *pos // continue after this position
}

// attributeValueLength counts a value as the model documents the 2,000-character limit.
func attributeValueLength(v string) int {
	n := 0
	for _, r := range v {
		switch r {
		case '_', ' ', ',', '\n':
			n += 2
		default:
			n++
		}
	}
	return n
}

func (h *History) plan(acct string, q Query) (*plan, error) {
	p := &plan{acct: acct, region: q.Region, max: q.MaxResults}
	switch q.EventCategory {
	case "":
	case CategoryInsight:
		p.insight = true
	default:
		return nil, lookupErr(CodeInvalidEventCategory, "EventCategory %q is not valid. The only valid value is insight.", q.EventCategory)
	}
	switch len(q.Attributes) {
	case 0:
	case 1:
		a := q.Attributes[0]
		at, ok := attrByName[a.Key]
		if !ok {
			return nil, lookupErr(CodeInvalidLookupAttributes, "AttributeKey %q is not valid. Valid keys are %s.", a.Key, attributeKeys())
		}
		if p.insight && !insightAttrs[at] {
			return nil, lookupErr(CodeInvalidLookupAttributes, "AttributeKey %s is not supported for Insights events. Valid keys are EventId, EventName and EventSource.", a.Key)
		}
		if a.Value == "" {
			return nil, lookupErr(CodeInvalidLookupAttributes, "AttributeValue must not be empty.")
		}
		if !utf8.ValidString(a.Value) || attributeValueLength(a.Value) > MaxAttributeValue {
			return nil, lookupErr(CodeInvalidLookupAttributes, "AttributeValue must be at most %d characters long.", MaxAttributeValue)
		}
		p.hasAttr, p.attr, p.value = true, at, a.Value
	default:
		return nil, lookupErr(CodeInvalidLookupAttributes, "Only one lookup attribute can be specified; %d were given.", len(q.Attributes))
	}
	if p.max == 0 {
		p.max = DefaultMaxResults
	}
	if p.max < 1 || p.max > MaxMaxResults {
		return nil, lookupErr(CodeInvalidMaxResults, "MaxResults must be between 1 and %d.", MaxMaxResults)
	}
	if !q.StartTime.IsZero() && !q.EndTime.IsZero() && q.StartTime.After(q.EndTime) {
		return nil, lookupErr(CodeInvalidTimeRange, "StartTime must not be after EndTime.")
	}

	now := h.now()
	lo := now.Add(-h.retention)
	if !q.StartTime.IsZero() && q.StartTime.After(lo) {
		lo = q.StartTime
	}
	hi := now
	if !q.EndTime.IsZero() {
		hi = q.EndTime
	}
	// Events carry whole seconds: sec >= lo means sec >= ceil(lo).
	p.lo = clampSec(lo)
	if lo.Unix() >= 0 && lo.Nanosecond() != 0 {
		p.lo++
	}
	p.hi = clampSec(hi)

	p.binding = binding(acct, q)
	if q.NextToken != "" {
		r, err := h.decodeToken(q.NextToken, p.binding)
		if err != nil {
			return nil, err
		}
		p.resume = &r
	}
	return p, nil
}

// binding is the canonical form of the parameters a token is bound to: the account, the
// region, the attribute, the time range as given (unset bounds stay unset) and the category.
func binding(acct string, q Query) []byte {
	var b []byte
	str := func(s string) { b = appendString(b, s) }
	tm := func(t time.Time) {
		if t.IsZero() {
			b = append(b, 0)
			return
		}
		b = append(b, 1)
		b = appendString(b, strconv.FormatInt(t.Unix(), 10)+"."+strconv.Itoa(t.Nanosecond()))
	}
	str(acct)
	str(q.Region)
	b = appendInt(b, len(q.Attributes))
	for _, a := range q.Attributes {
		str(a.Key)
		str(a.Value)
	}
	tm(q.StartTime)
	tm(q.EndTime)
	str(q.EventCategory)
	return b
}

func appendInt(b []byte, n int) []byte { return appendString(b, strconv.Itoa(n)) }

// Lookup answers one LookupEvents request of account acct: the newest events matching q,
// at most q.MaxResults of them, and a token for the next page when more match. Validation
// failures are *opentrail.Error values with the LookupEvents error codes.
func (h *History) Lookup(ctx context.Context, acct string, q Query) (Page, error) {
	p, err := h.plan(acct, q)
	if err != nil {
		return Page{}, err
	}
	h.inflight.Add(1)
	defer h.inflight.Add(-1)
	page := Page{Events: []Event{}}
	if acct == "" || len(acct) > 255 || len(q.Region) > 255 || (p.hasAttr && len(p.value) > maxIndexValue) {
		return page, nil
	}
	// from is the first position to return, in newest-first order.
	from := pos{sec: p.hi, seq: math.MaxUint64}
	if p.resume != nil && p.resume.sec <= p.hi {
		next, ok := p.resume.next()
		if !ok {
			return page, nil
		}
		from = next
	}
	if from.sec < p.lo || !validSec(from.sec) {
		return page, nil
	}

	kind := kindEvent
	if p.insight {
		kind = kindInsight
	}
	family := kind
	if p.hasAttr {
		family = indexMgmt | byte(p.attr)
		if p.insight {
			family = indexInsight | byte(p.attr)
		}
	}

	// Bloom filters decide most day seeks, including in L6, where Pebble skips them unless
	// asked.
	it, err := h.db.NewIter(&pebble.IterOptions{UseL6Filters: true})
	if err != nil {
		return Page{}, fmt.Errorf("history: iterator: %w", err)
	}
	defer it.Close()

	var (
		last  pos
		more  bool
		found int
		hits  []hit // index hits, whose entries are read after the scan
		seek  []byte
	)
	firstDay, lastDay := dayOf(from.sec), dayOf(p.lo)
scan:
	for day := firstDay; ; day-- {
		if err := ctx.Err(); err != nil {
			return Page{}, err
		}
		seek = familyPrefix(seek[:0], day, acct, p.region, family, p.value)
		prefixLen := len(seek)
		start := pos{sec: dayStart(day) + secondsADay - 1, seq: math.MaxUint64}
		if day == firstDay {
			start = from
		}
		seek = appendSuffix(seek, start)
		// Prefix iteration: Pebble's bloom filters skip tables without this family.
		for ok := it.SeekPrefixGE(seek); ok; ok = it.Next() {
			k := it.Key()
			if len(k) != prefixLen+suffixLen {
				continue
			}
			ps, ok := decodeSuffix(k, day)
			if !ok {
				continue
			}
			if ps.sec < p.lo {
				break scan
			}
			if found == p.max {
				more = true
				break scan
			}
			if p.hasAttr {
				hits = append(hits, hit{day, ps})
			} else {
				v, err := it.ValueAndErr()
				if err != nil {
					return Page{}, fmt.Errorf("history: read: %w", err)
				}
				ev, err := decodeValue(v, ps.sec)
				if err != nil {
					h.log.Error("history: damaged entry", "key", fmt.Sprintf("%x", k), "err", err)
					continue
				}
				page.Events = append(page.Events, ev)
			}
			found++
			last = ps
		}
		if err := it.Error(); err != nil {
			return Page{}, fmt.Errorf("history: scan: %w", err)
		}
		if day <= lastDay || day == 0 {
			break
		}
	}
	if len(hits) > 0 {
		evs, err := h.fetchAll(ctx, acct, p.region, kind, hits)
		if err != nil {
			return Page{}, err
		}
		page.Events = evs
	}
	if more {
		page.NextToken = h.encodeToken(last, p.binding)
	}
	return page, nil
}

// hit is an index entry found by a lookup: the day and position of an event.
type hit struct {
	day uint32
	pos pos
}

// fetchParallel is the number of index hits above which a lookup reads their entries with
// several goroutines: each hit is one random block read, and reads from disk or the page
// cache overlap well.
const fetchParallel = 8

// fetchAll reads the entries of index hits, in order. Hits whose entry is gone (expired
// between the scan and the read) are left out.
func (h *History) fetchAll(ctx context.Context, acct, region string, kind byte, hits []hit) ([]Event, error) {
	evs := make([]Event, len(hits))
	okAt := make([]bool, len(hits))
	read := func(lo, hi int) error {
		it, err := h.db.NewIter(nil)
		if err != nil {
			return fmt.Errorf("history: iterator: %w", err)
		}
		defer it.Close()
		for i := lo; i < hi; i++ {
			if evs[i], okAt[i], err = h.fetch(it, hits[i].day, acct, region, kind, hits[i].pos); err != nil {
				return err
			}
		}
		return nil
	}
	// Parallel reads shorten one lookup only while cores are idle; under load they cost more
	// than they save, so they are used only when fewer lookups than cores are running.
	procs := runtime.GOMAXPROCS(0)
	workers := min(procs, 4, len(hits)/fetchParallel)
	if int(h.inflight.Load()) >= procs {
		workers = 1
	}
	if workers <= 1 {
		if err := read(0, len(hits)); err != nil {
			return nil, err
		}
	} else {
		// Contiguous chunks keep each iterator moving forward in key order.
		errs := make([]error, workers)
		var wg sync.WaitGroup
		per := (len(hits) + workers - 1) / workers
		for w := range workers {
			lo, hi := w*per, min((w+1)*per, len(hits))
			wg.Go(func() { errs[w] = read(lo, hi) })
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			return nil, err
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	out := evs[:0]
	for i, ok := range okAt {
		if ok {
			out = append(out, evs[i])
		}
	}
	return out, nil
}

// fetch reads the stored entry of an event with a prefix iterator; successive calls move
// forward in key order, which Pebble turns into cheap steps within loaded blocks. It reports
// false when the entry is gone (expired between the index read and the fetch).
func (h *History) fetch(it *pebble.Iterator, day uint32, acct, region string, kind byte, ps pos) (Event, bool, error) {
	key := appendSuffix(familyPrefix(nil, day, acct, region, kind, ""), ps)
	if !it.SeekPrefixGE(key) || !bytes.Equal(it.Key(), key) {
		return Event{}, false, it.Error()
	}
	v, err := it.ValueAndErr()
	if err != nil {
		return Event{}, false, fmt.Errorf("history: read: %w", err)
	}
	ev, err := decodeValue(v, ps.sec)
	if err != nil {
		h.log.Error("history: damaged entry", "key", fmt.Sprintf("%x", key), "err", err)
		return Event{}, false, nil
	}
	return ev, true, nil
}

// attributeKeys lists the attribute keys for messages.
func attributeKeys() string {
	return strings.Join([]string{AttrEventID, AttrEventName, AttrReadOnly, AttrUsername, AttrResourceType, AttrResourceName, AttrEventSource, AttrAccessKeyID}, ", ")
}
