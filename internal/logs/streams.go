package logs

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/cockroachdb/pebble/v2"

	"github.com/opentrail/opentrail/internal/server"
)

// streamRecord is a log stream as stored (famStream, JSON). Its event statistics are kept
// apart, as merge operands (famStreamStat).
type streamRecord struct {
	Name    string `json:"name"`
	Created int64  `json:"created"` // epoch ms
}

func (s *Service) streamExists(acct, region, group, stream string) (bool, error) {
	raw, err := getRaw(s.db, streamKey(famStream, acct, region, group, stream))
	if err != nil {
		return false, internal("load log stream", err)
	}
	return raw != nil, nil
}

// createStream writes a new stream record; the caller holds s.mu exclusively.
func (s *Service) createStream(acct, region, group, stream string) error {
	b := s.db.NewBatch()
	defer b.Close()
	if err := setJSON(b, streamKey(famStream, acct, region, group, stream), streamRecord{Name: stream, Created: s.clockMS()}); err != nil {
		return err
	}
	if err := b.Commit(pebble.Sync); err != nil {
		return internal("create log stream", err)
	}
	return nil
}

type streamInput struct {
	LogGroupName  string `json:"logGroupName"`
	LogStreamName string `json:"logStreamName"`
}

func streamGroupResource(c *server.Call, in *streamInput) string {
	return groupResource(c, in.LogGroupName)
}

func (in *streamInput) check() error {
	if err := checkGroupName("logGroupName", in.LogGroupName); err != nil {
		return err
	}
	return checkStreamName("logStreamName", in.LogStreamName)
}

func (s *Service) createLogStream(ctx context.Context, c *server.Call, in *streamInput) (*server.NoOutput, error) {
	if err := in.check(); err != nil {
		return nil, err
	}
	acct, region := c.Account(), c.Region
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := s.mustGroup(acct, region, in.LogGroupName); err != nil {
		return nil, err
	}
	exists, err := s.streamExists(acct, region, in.LogGroupName, in.LogStreamName)
	if err != nil {
		return nil, err
	}
	if exists {
		return nil, errorf(CodeResourceAlreadyExists, "The specified log stream already exists")
	}
	if err := s.createStream(acct, region, in.LogGroupName, in.LogStreamName); err != nil {
		return nil, err
	}
	c.AddResource(groupType, GroupARN(region, acct, in.LogGroupName))
	return &server.NoOutput{}, nil
}

func (s *Service) deleteLogStream(ctx context.Context, c *server.Call, in *streamInput) (*server.NoOutput, error) {
	if err := in.check(); err != nil {
		return nil, err
	}
	acct, region := c.Account(), c.Region
	s.mu.Lock()
	defer s.mu.Unlock()
	g, err := s.mustGroup(acct, region, in.LogGroupName)
	if err != nil {
		return nil, err
	}
	exists, err := s.streamExists(acct, region, in.LogGroupName, in.LogStreamName)
	if err != nil {
		return nil, err
	}
	if !exists {
		return nil, errStreamNotFound()
	}
	if g.DeletionProtection {
		return nil, errorf(CodeValidation, "Cannot delete a log stream of log group %s: deletion protection is enabled.", g.Name)
	}
	st, err := getStats(s.db, streamKey(famStreamStat, acct, region, in.LogGroupName, in.LogStreamName))
	if err != nil {
		return nil, internal("log stream statistics", err)
	}
	b := s.db.NewBatch()
	defer b.Close()
	_ = b.Delete(streamKey(famStream, acct, region, in.LogGroupName, in.LogStreamName), nil)
	_ = b.Delete(streamKey(famStreamStat, acct, region, in.LogGroupName, in.LogStreamName), nil)
	p := streamKey(famEvent, acct, region, in.LogGroupName, in.LogStreamName)
	_ = b.DeleteRange(p, prefixEnd(p), nil)
	if st.Bytes > 0 {
		_ = b.Merge(groupKey(famGroupStat, acct, region, in.LogGroupName), stats{First: math.MaxInt64, Last: math.MinInt64, LastIngestion: math.MinInt64, Bytes: -st.Bytes, Count: -st.Count}.encode(), nil)
	}
	if err := b.Commit(pebble.Sync); err != nil {
		return nil, internal("delete log stream", err)
	}
	c.AddResource(groupType, GroupARN(region, acct, in.LogGroupName))
	return &server.NoOutput{}, nil
}

type describeLogStreamsInput struct {
	LogGroupName        string `json:"logGroupName,omitempty"`
	LogGroupIdentifier  string `json:"logGroupIdentifier,omitempty"`
	LogStreamNamePrefix string `json:"logStreamNamePrefix,omitempty"`
	OrderBy             string `json:"orderBy,omitempty"`
	Descending          bool   `json:"descending,omitempty"`
	NextToken           string `json:"nextToken,omitempty"`
	Limit               *int   `json:"limit,omitempty"`
}

// logStreamOut is the LogStream shape.
type logStreamOut struct {
	LogStreamName       string `json:"logStreamName"`
	CreationTime        int64  `json:"creationTime"`
	FirstEventTimestamp *int64 `json:"firstEventTimestamp,omitempty"`
	LastEventTimestamp  *int64 `json:"lastEventTimestamp,omitempty"`
	LastIngestionTime   *int64 `json:"lastIngestionTime,omitempty"`
	UploadSequenceToken string `json:"uploadSequenceToken,omitempty"`
	Arn                 string `json:"arn"`
	StoredBytes         int64  `json:"storedBytes"`
}

type describeLogStreamsOutput struct {
	LogStreams []logStreamOut `json:"logStreams"`
	NextToken  string         `json:"nextToken,omitempty"`
}

// Orders of DescribeLogStreams.
const (
	orderByName      = "LogStreamName"
	orderByEventTime = "LastEventTime"
)

// streamEntry is a stream with its statistics, for listing.
type streamEntry struct {
	rec streamRecord
	st  stats
}

// sortKey is the position of a stream in a listing ordered by orderBy: the last event time
// (streams without events first) then the name, or the name alone.
func (e *streamEntry) sortKey(orderBy string) string {
	if orderBy != orderByEventTime {
		return e.rec.Name
	}
	last := int64(-1)
	if e.st.Count > 0 || e.st.Last != math.MinInt64 {
		last = e.st.Last
	}
	return fmt.Sprintf("%016x", uint64(last+1)) + "\x00" + e.rec.Name
}

func (s *Service) describeLogStreams(ctx context.Context, c *server.Call, in *describeLogStreamsInput) (*describeLogStreamsOutput, error) {
	group, err := groupRef(c, in.LogGroupName, in.LogGroupIdentifier)
	if err != nil {
		return nil, err
	}
	limit, err := describeLimit(in.Limit)
	if err != nil {
		return nil, err
	}
	orderBy := in.OrderBy
	switch orderBy {
	case "":
		orderBy = orderByName
	case orderByName, orderByEventTime:
	default:
		return nil, errConstraint(orderBy, "orderBy", "Member must satisfy enum value set: [LogStreamName, LastEventTime]")
	}
	if in.LogStreamNamePrefix != "" {
		if orderBy == orderByEventTime {
			return nil, errInvalid("Cannot order by LastEventTime with a logStreamNamePrefix.")
		}
		if err := checkStreamName("logStreamNamePrefix", in.LogStreamNamePrefix); err != nil {
			return nil, err
		}
	}
	acct, region := c.Account(), c.Region
	if _, err := s.mustGroup(acct, region, group); err != nil {
		return nil, err
	}
	binding := tokenBinding("DescribeLogStreams", acct, region, group, in.LogStreamNamePrefix, orderBy, strconv.FormatBool(in.Descending))
	var after string
	hasAfter := false
	if in.NextToken != "" {
		pos, err := s.parsePageToken(binding, in.NextToken)
		if err != nil {
			return nil, err
		}
		after, hasAfter = string(pos), true
	}
	entries, err := s.listStreams(acct, region, group, in.LogStreamNamePrefix)
	if err != nil {
		return nil, err
	}
	slices.SortFunc(entries, func(a, b *streamEntry) int {
		return strings.Compare(a.sortKey(orderBy), b.sortKey(orderBy))
	})
	if in.Descending {
		slices.Reverse(entries)
	}
	out := &describeLogStreamsOutput{LogStreams: []logStreamOut{}}
	var last string
	for _, e := range entries {
		key := e.sortKey(orderBy)
		if hasAfter && ((!in.Descending && key <= after) || (in.Descending && key >= after)) {
			continue
		}
		if len(out.LogStreams) == limit {
			out.NextToken = s.pageToken(binding, []byte(last))
			break
		}
		out.LogStreams = append(out.LogStreams, streamOut(acct, region, group, e))
		last = key
	}
	return out, nil
}

// listStreams returns a group's streams whose names start with prefix, with their statistics.
func (s *Service) listStreams(acct, region, group, prefix string) ([]*streamEntry, error) {
	lower := appendEscaped(groupKey(famStream, acct, region, group), prefix)
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: lower, UpperBound: prefixEnd(lower)})
	if err != nil {
		return nil, internal("list log streams", err)
	}
	defer it.Close()
	var out []*streamEntry
	for valid := it.First(); valid; valid = it.Next() {
		e := &streamEntry{}
		if err := jsonUnmarshal(it.Value(), &e.rec); err != nil {
			return nil, internal("decode log stream", err)
		}
		out = append(out, e)
	}
	if err := it.Error(); err != nil {
		return nil, internal("list log streams", err)
	}
	for _, e := range out {
		st, err := getStats(s.db, streamKey(famStreamStat, acct, region, group, e.rec.Name))
		if err != nil {
			return nil, internal("log stream statistics", err)
		}
		e.st = st
	}
	return out, nil
}

func streamOut(acct, region, group string, e *streamEntry) logStreamOut {
	out := logStreamOut{
		LogStreamName: e.rec.Name,
		CreationTime:  e.rec.Created,
		Arn:           streamARN(region, acct, group, e.rec.Name),
	}
	if e.st.Count > 0 || e.st.Last != math.MinInt64 {
		first, last, ingest := e.st.First, e.st.Last, e.st.LastIngestion
		out.FirstEventTimestamp, out.LastEventTimestamp, out.LastIngestionTime = &first, &last, &ingest
		out.UploadSequenceToken = sequenceToken(uint64(e.st.Count))
	}
	return out
}

// sequenceToken is a deprecated upload sequence token: AWS still returns them, and ignores
// them in PutLogEvents, as this server does.
func sequenceToken(n uint64) string {
	return fmt.Sprintf("49%054d", n)
}
