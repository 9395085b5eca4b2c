package alarm

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
)

// The standard statistics.
const (
	SampleCount = "SampleCount"
	Average     = "Average"
	Sum         = "Sum"
	Minimum     = "Minimum"
	Maximum     = "Maximum"
)

// IsStatistic reports whether s is one of the five standard statistics.
func IsStatistic(s string) bool {
	switch s {
	case SampleCount, Average, Sum, Minimum, Maximum:
		return true
	}
	return false
}

// Value is one distinct observed value and how many times it was observed.
type Value struct {
	V, N float64
}

// Stats aggregates observations: a CloudWatch statistic set, plus the individual values when
// they are known (percentiles need them; data sent as StatisticValues has none).
type Stats struct {
	SampleCount, Sum, Min, Max float64
	// Values holds the distinct values with their counts. Exact is false when some
	// observations came without their values, so percentiles cannot be computed.
	Values []Value
	Exact  bool
}

// Empty reports whether s holds no observation.
func (s *Stats) Empty() bool { return s.SampleCount == 0 }

// Add merges o into s.
func (s *Stats) Add(o Stats) {
	if o.SampleCount == 0 {
		return
	}
	if s.SampleCount == 0 {
		*s = Stats{SampleCount: o.SampleCount, Sum: o.Sum, Min: o.Min, Max: o.Max, Exact: o.Exact,
			Values: append([]Value(nil), o.Values...)}
		return
	}
	s.SampleCount += o.SampleCount
	s.Sum += o.Sum
	s.Min = math.Min(s.Min, o.Min)
	s.Max = math.Max(s.Max, o.Max)
	s.Exact = s.Exact && o.Exact
	if s.Exact {
		s.Values = append(s.Values, o.Values...)
	} else {
		s.Values = nil
	}
}

// Statistic computes the standard statistic name over s.
func (s *Stats) Statistic(name string) float64 {
	switch name {
	case SampleCount:
		return s.SampleCount
	case Sum:
		return s.Sum
	case Minimum:
		return s.Min
	case Maximum:
		return s.Max
	default:
		return s.Sum / s.SampleCount
	}
}

// Extended is a parsed extended statistic: a percentile (p90, p99.9) or a trimmed mean
// (tm90, TM(10%:90%), IQM).
type Extended struct {
	Name     string
	Kind     byte    // 'p' percentile, 't' trimmed mean
	Lo, Hi   float64 // percent bounds; a percentile uses Hi
	Quantile float64 // Hi/100
}

// ParseExtended parses an extended statistic name. It accepts pNN(.NN), tmNN, TM(a%:b%) and
// IQM; the other forms AWS accepts (wm, tc, ts, PR) are refused with an error.
func ParseExtended(s string) (Extended, error) {
	bad := fmt.Errorf("unsupported extended statistic %q", s)
	switch {
	case s == "IQM":
		return Extended{Name: s, Kind: 't', Lo: 25, Hi: 75}, nil
	case strings.HasPrefix(s, "p"):
		v, err := percent(s[1:])
		if err != nil {
			return Extended{}, bad
		}
		return Extended{Name: s, Kind: 'p', Hi: v, Quantile: v / 100}, nil
	case strings.HasPrefix(s, "tm"):
		v, err := percent(s[2:])
		if err != nil {
			return Extended{}, bad
		}
		return Extended{Name: s, Kind: 't', Hi: v}, nil
	case strings.HasPrefix(s, "TM(") && strings.HasSuffix(s, ")"):
		a, b, ok := strings.Cut(s[3:len(s)-1], ":")
		if !ok {
			return Extended{}, bad
		}
		lo, err1 := percent(strings.TrimSuffix(a, "%"))
		hi, err2 := percent(strings.TrimSuffix(b, "%"))
		if (a != "" && err1 != nil) || (b != "" && err2 != nil) || (b != "" && lo >= hi) {
			return Extended{}, bad
		}
		if b == "" {
			hi = 100
		}
		return Extended{Name: s, Kind: 't', Lo: lo, Hi: hi}, nil
	}
	return Extended{}, bad
}

func percent(s string) (float64, error) {
	if s == "" || len(s) > 6 || strings.ContainsAny(s, "eE+-") {
		return 0, strconv.ErrSyntax
	}
	if i := strings.IndexByte(s, '.'); i >= 0 && len(s)-i-1 > 2 {
		return 0, strconv.ErrSyntax
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || v < 0 || v > 100 {
		return 0, strconv.ErrSyntax
	}
	return v, nil
}

// Compute evaluates e over s. ok is false when s lacks the values a percentile needs.
func (e Extended) Compute(s *Stats) (v float64, ok bool) {
	if s.SampleCount == 0 {
		return 0, false
	}
	if !s.Exact || len(s.Values) == 0 {
		// Without individual values only the trivial quantiles are known.
		if e.Kind == 'p' && e.Hi == 100 {
			return s.Max, true
		}
		if e.Kind == 'p' && e.Hi == 0 {
			return s.Min, true
		}
		return 0, false
	}
	vals := append([]Value(nil), s.Values...)
	sort.Slice(vals, func(i, j int) bool { return vals[i].V < vals[j].V })
	var total float64
	for _, x := range vals {
		total += x.N
	}
	if e.Kind == 'p' {
		// Nearest rank: the smallest value with at least q·total observations at or below it.
		rank := math.Max(1, math.Ceil(e.Hi/100*total))
		var cum float64
		for _, x := range vals {
			cum += x.N
			if cum >= rank {
				return x.V, true
			}
		}
		return vals[len(vals)-1].V, true
	}
	// Trimmed mean: the observations ranked within (Lo%, Hi%].
	lo, hi := e.Lo/100*total, e.Hi/100*total
	var cum, sum, n float64
	for _, x := range vals {
		from, to := cum, cum+x.N
		cum = to
		a, b := math.Max(from, lo), math.Min(to, hi)
		if b > a {
			sum += x.V * (b - a)
			n += b - a
		}
	}
	if n == 0 {
		return 0, false
	}
	return sum / n, true
}
