package monitoring

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cockroachdb/pebble/v2"

	"github.com/opentrail/opentrail/internal/alarm"
)

// The datapoint store: a Pebble database of its own (metric datapoints are many, small and
// short-lived; range deletes make retention cheap).
//
//	p <metricID:16> <time:8> <seq:8>   one stored datapoint (value: encodePoint)
//	c <metricID:16>                     the metric's catalog entry (JSON metricInfo)
//
// metricID is the first 16 bytes of SHA-256 over account, region, namespace, name and the
// sorted dimensions: each distinct dimension set is its own metric, per account and region.
// time is the datapoint's period start in Unix seconds, sign-flipped big-endian so that keys
// sort by time. A datapoint holds a statistic set (and its values, when known) for one period
// of its resolution: 1 s for high-resolution data, 60 s for standard, coarser once rolled up.

type metricID [16]byte

// metricInfo is a metric's catalog entry.
type metricInfo struct {
	Account    string      `json:"a"`
	Region     string      `json:"r"`
	Namespace  string      `json:"n"`
	MetricName string      `json:"m"`
	Dimensions []Dimension `json:"d"`
	LastPut    int64       `json:"t"` // Unix seconds of the latest put (updated at most hourly)
}

func newMetricID(acct, region, ns, name string, dims []Dimension) metricID {
	h := sha256.New()
	for _, s := range []string{acct, region, ns, name} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	for _, d := range sortedDims(dims) {
		h.Write([]byte(d.Name))
		h.Write([]byte{1})
		h.Write([]byte(d.Value))
		h.Write([]byte{0})
	}
	var id metricID
	copy(id[:], h.Sum(nil))
	return id
}

func sortedDims(dims []Dimension) []Dimension {
	out := append([]Dimension(nil), dims...)
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// storedPoint is one datapoint of a metric.
type storedPoint struct {
	Time       time.Time // period start
	Resolution int       // seconds
	Unit       string
	Stats      alarm.Stats
}

type pointStore struct {
	db  *pebble.DB
	seq atomic.Uint64

	mu      sync.RWMutex
	metrics map[metricID]*metricInfo
}

func openPointStore(dir string, log *slog.Logger) (*pointStore, error) {
	db, err := pebble.Open(dir, &pebble.Options{Logger: pebbleLogger{log}})
	if err != nil {
		return nil, fmt.Errorf("open metric store %s: %w", dir, err)
	}
	ps := &pointStore{db: db, metrics: make(map[metricID]*metricInfo)}
	ps.seq.Store(uint64(time.Now().UnixNano()))
	it, err := db.NewIter(&pebble.IterOptions{LowerBound: []byte("c"), UpperBound: []byte("d")})
	if err != nil {
		db.Close()
		return nil, err
	}
	for it.First(); it.Valid(); it.Next() {
		var id metricID
		var info metricInfo
		if len(it.Key()) != 17 || json.Unmarshal(it.Value(), &info) != nil {
			continue
		}
		copy(id[:], it.Key()[1:])
		ps.metrics[id] = &info
	}
	if err := it.Close(); err != nil {
		db.Close()
		return nil, err
	}
	return ps, nil
}

func (ps *pointStore) close() error { return ps.db.Close() }

func pointKey(id metricID, t time.Time, seq uint64) []byte {
	k := make([]byte, 0, 33)
	k = append(k, 'p')
	k = append(k, id[:]...)
	k = binary.BigEndian.AppendUint64(k, uint64(t.Unix())^(1<<63))
	return binary.BigEndian.AppendUint64(k, seq)
}

func timeBound(id metricID, t time.Time) []byte {
	k := make([]byte, 0, 25)
	k = append(k, 'p')
	k = append(k, id[:]...)
	return binary.BigEndian.AppendUint64(k, uint64(t.Unix())^(1<<63))
}

func encodePoint(p *storedPoint) []byte {
	b := make([]byte, 0, 48+len(p.Unit)+16*len(p.Stats.Values))
	b = append(b, 1)
	b = binary.BigEndian.AppendUint32(b, uint32(p.Resolution))
	b = append(b, byte(len(p.Unit)))
	b = append(b, p.Unit...)
	exact := byte(0)
	if p.Stats.Exact {
		exact = 1
	}
	b = append(b, exact)
	for _, f := range []float64{p.Stats.SampleCount, p.Stats.Sum, p.Stats.Min, p.Stats.Max} {
		b = binary.BigEndian.AppendUint64(b, math.Float64bits(f))
	}
	b = binary.BigEndian.AppendUint32(b, uint32(len(p.Stats.Values)))
	for _, v := range p.Stats.Values {
		b = binary.BigEndian.AppendUint64(b, math.Float64bits(v.V))
		b = binary.BigEndian.AppendUint64(b, math.Float64bits(v.N))
	}
	return b
}

var errBadPoint = errors.New("corrupt datapoint")

func decodePoint(b []byte, p *storedPoint) error {
	if len(b) < 6 || b[0] != 1 {
		return errBadPoint
	}
	p.Resolution = int(binary.BigEndian.Uint32(b[1:]))
	ul := int(b[5])
	b = b[6:]
	if len(b) < ul+1+32+4 {
		return errBadPoint
	}
	p.Unit = string(b[:ul])
	b = b[ul:]
	p.Stats.Exact = b[0] == 1
	b = b[1:]
	f := func() float64 { v := math.Float64frombits(binary.BigEndian.Uint64(b)); b = b[8:]; return v }
	p.Stats.SampleCount, p.Stats.Sum, p.Stats.Min, p.Stats.Max = f(), f(), f(), f()
	n := int(binary.BigEndian.Uint32(b))
	b = b[4:]
	if len(b) != 16*n {
		return errBadPoint
	}
	p.Stats.Values = make([]alarm.Value, n)
	for i := range p.Stats.Values {
		p.Stats.Values[i] = alarm.Value{V: f(), N: f()}
	}
	return nil
}

// put stores datapoints of metrics, registering new metrics in the catalog.
func (ps *pointStore) put(infos map[metricID]*metricInfo, points map[metricID][]storedPoint, now time.Time) error {
	b := ps.db.NewBatch()
	defer b.Close()
	ps.mu.Lock()
	for id, info := range infos {
		old := ps.metrics[id]
		if old != nil && now.Unix()-old.LastPut < 3600 {
			continue
		}
		c := *info
		c.LastPut = now.Unix()
		raw, _ := json.Marshal(&c)
		_ = b.Set(append([]byte{'c'}, id[:]...), raw, nil)
		ps.metrics[id] = &c
	}
	ps.mu.Unlock()
	for id, pts := range points {
		for i := range pts {
			_ = b.Set(pointKey(id, pts[i].Time, ps.seq.Add(1)), encodePoint(&pts[i]), nil)
		}
	}
	if err := b.Commit(pebble.Sync); err != nil {
		return fmt.Errorf("commit datapoints: %w", err)
	}
	return nil
}

// scan calls fn with every datapoint of metric id whose period starts in [from, to).
func (ps *pointStore) scan(id metricID, from, to time.Time, fn func(p *storedPoint)) error {
	it, err := ps.db.NewIter(&pebble.IterOptions{LowerBound: timeBound(id, from), UpperBound: timeBound(id, to)})
	if err != nil {
		return err
	}
	var p storedPoint
	for it.First(); it.Valid(); it.Next() {
		k := it.Key()
		p = storedPoint{Time: time.Unix(int64(binary.BigEndian.Uint64(k[17:25])^(1<<63)), 0).UTC()}
		if err := decodePoint(it.Value(), &p); err != nil {
			continue
		}
		fn(&p)
	}
	if err := it.Error(); err != nil {
		it.Close()
		return err
	}
	return it.Close()
}

// catalog returns the metrics of acct and region (copies).
func (ps *pointStore) catalog(acct, region string) map[metricID]metricInfo {
	ps.mu.RLock()
	defer ps.mu.RUnlock()
	out := make(map[metricID]metricInfo)
	for id, m := range ps.metrics {
		if m.Account == acct && m.Region == region {
			out[id] = *m
		}
	}
	return out
}

// Retention, as CloudWatch keeps data: periods under a minute for 3 hours, 1-minute periods
// for 15 days, 5-minute periods for 63 days, 1-hour periods for 455 days.
var retentionTiers = []struct {
	age        time.Duration
	resolution int
}{
	{3 * time.Hour, 60},
	{15 * 24 * time.Hour, 300},
	{63 * 24 * time.Hour, 3600},
}

const (
	maxRetention = 455 * 24 * time.Hour
	// metricExpiry: a metric with no new data for two weeks leaves ListMetrics (and the catalog).
	metricExpiry = 14 * 24 * time.Hour
	// maxRolledValues bounds the distinct values kept for percentiles in a rolled-up datapoint.
	maxRolledValues = 4096
)

// rollup merges datapoints that have aged past a retention tier into that tier's periods,
// deletes datapoints older than the longest retention and forgets expired metrics.
func (ps *pointStore) rollup(now time.Time) error {
	ps.mu.RLock()
	ids := make([]metricID, 0, len(ps.metrics))
	for id := range ps.metrics {
		ids = append(ids, id)
	}
	ps.mu.RUnlock()
	for _, id := range ids {
		if err := ps.rollupMetric(id, now); err != nil {
			return err
		}
	}
	return nil
}

func (ps *pointStore) rollupMetric(id metricID, now time.Time) error {
	oldest := now.Add(-maxRetention)
	b := ps.db.NewBatch()
	_ = b.DeleteRange(timeBound(id, time.Unix(-1<<40, 0)), timeBound(id, oldest), nil)
	ps.mu.Lock()
	if m := ps.metrics[id]; m != nil && now.Unix()-m.LastPut > int64(metricExpiry/time.Second) {
		delete(ps.metrics, id)
		_ = b.Delete(append([]byte{'c'}, id[:]...), nil)
	}
	ps.mu.Unlock()
	if err := b.Commit(pebble.Sync); err != nil {
		b.Close()
		return err
	}
	b.Close()
	// One batch per tier: each tier reads what the finer one wrote.
	for _, tier := range retentionTiers {
		if err := ps.rollupTier(id, oldest, now.Add(-tier.age), tier.resolution); err != nil {
			return err
		}
	}
	return nil
}

// rollupTier merges the datapoints of id in [oldest, before) finer than resolution into
// periods of resolution.
func (ps *pointStore) rollupTier(id metricID, oldest, before time.Time, resolution int) error {
	period := time.Duration(resolution) * time.Second
	type bucket struct {
		t    time.Time
		unit string
	}
	merged := make(map[bucket]*storedPoint)
	var stale [][]byte
	it, err := ps.db.NewIter(&pebble.IterOptions{LowerBound: timeBound(id, oldest), UpperBound: timeBound(id, before.Truncate(period))})
	if err != nil {
		return err
	}
	for it.First(); it.Valid(); it.Next() {
		var p storedPoint
		if decodePoint(it.Value(), &p) != nil || p.Resolution >= resolution {
			continue
		}
		t := time.Unix(int64(binary.BigEndian.Uint64(it.Key()[17:25])^(1<<63)), 0).UTC()
		k := bucket{t.Truncate(period), p.Unit}
		m := merged[k]
		if m == nil {
			m = &storedPoint{Time: k.t, Resolution: resolution, Unit: p.Unit}
			merged[k] = m
		}
		m.Stats.Add(p.Stats)
		stale = append(stale, append([]byte(nil), it.Key()...))
	}
	if err := it.Close(); err != nil {
		return err
	}
	if len(stale) == 0 {
		return nil
	}
	b := ps.db.NewBatch()
	defer b.Close()
	for _, k := range stale {
		_ = b.Delete(k, nil)
	}
	for _, m := range merged {
		m.Stats.Values = compactValues(m.Stats.Values)
		if len(m.Stats.Values) > maxRolledValues {
			m.Stats.Values, m.Stats.Exact = nil, false
		}
		_ = b.Set(pointKey(id, m.Time, ps.seq.Add(1)), encodePoint(m), nil)
	}
	return b.Commit(pebble.Sync)
}

// compactValues merges equal values.
func compactValues(vs []alarm.Value) []alarm.Value {
	if len(vs) < 2 {
		return vs
	}
	sort.Slice(vs, func(i, j int) bool { return vs[i].V < vs[j].V })
	out := vs[:1]
	for _, v := range vs[1:] {
		if last := &out[len(out)-1]; last.V == v.V {
			last.N += v.N
		} else {
			out = append(out, v)
		}
	}
	return out
}

type pebbleLogger struct{ l *slog.Logger }

func (p pebbleLogger) Infof(format string, args ...any) {
	p.l.Debug(fmt.Sprintf(format, args...), "component", "pebble-metrics")
}

func (p pebbleLogger) Errorf(format string, args ...any) {
	p.l.Error(fmt.Sprintf(format, args...), "component", "pebble-metrics")
}

func (p pebbleLogger) Fatalf(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	p.l.Error(msg, "component", "pebble-metrics")
	panic(msg)
}

// dimsString is a stable rendering of a dimension set, for map keys.
func dimsString(dims []Dimension) string {
	var sb strings.Builder
	for _, d := range sortedDims(dims) {
		sb.WriteString(d.Name)
		sb.WriteByte(1)
		sb.WriteString(d.Value)
		sb.WriteByte(0)
	}
	return sb.String()
}
