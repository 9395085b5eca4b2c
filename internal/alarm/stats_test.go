package alarm

import (
	"math"
	"testing"
)

func statsOf(vals ...float64) Stats {
	var s Stats
	for _, v := range vals {
		s.Add(Stats{SampleCount: 1, Sum: v, Min: v, Max: v, Values: []Value{{v, 1}}, Exact: true})
	}
	return s
}

func TestStandardStatistics(t *testing.T) {
	s := statsOf(3, 1, 4, 1, 5)
	for name, want := range map[string]float64{SampleCount: 5, Sum: 14, Minimum: 1, Maximum: 5, Average: 2.8} {
		if got := s.Statistic(name); math.Abs(got-want) > 1e-12 {
			t.Errorf("%s = %v; want %v", name, got, want)
		}
	}
	s.Add(Stats{SampleCount: 10, Sum: 100, Min: 0, Max: 20}) // a statistic set: no values
	if s.SampleCount != 15 || s.Sum != 114 || s.Min != 0 || s.Max != 20 || s.Exact || s.Values != nil {
		t.Errorf("merged %+v", s)
	}
}

func TestExtendedStatistics(t *testing.T) {
	vals := make([]float64, 100)
	for i := range vals {
		vals[i] = float64(i + 1) // 1..100
	}
	s := statsOf(vals...)
	cases := map[string]float64{"p90": 90, "p50": 50, "p99.9": 100, "p100": 100, "p0": 1, "p0.5": 1, "tm90": 45.5, "IQM": 50.5, "TM(10%:90%)": 50.5, "TM(:50%)": 25.5}
	for name, want := range cases {
		e, err := ParseExtended(name)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		got, ok := e.Compute(&s)
		if !ok || math.Abs(got-want) > 1e-9 {
			t.Errorf("%s = %v %v; want %v", name, got, ok, want)
		}
	}
	for _, bad := range []string{"p", "p101", "p-1", "p9.999", "wm90", "tc90", "PR(1:2)", "TM(90%:10%)", "p1e2", "max"} {
		if _, err := ParseExtended(bad); err == nil {
			t.Errorf("ParseExtended(%q) accepted", bad)
		}
	}
	set := Stats{SampleCount: 3, Sum: 6, Min: 1, Max: 3}
	p90, _ := ParseExtended("p90")
	if _, ok := p90.Compute(&set); ok {
		t.Error("p90 of a statistic set computed")
	}
	p100, _ := ParseExtended("p100")
	if v, ok := p100.Compute(&set); !ok || v != 3 {
		t.Errorf("p100 of a statistic set = %v %v", v, ok)
	}
	weighted := Stats{SampleCount: 10, Sum: 19, Min: 1, Max: 10, Values: []Value{{1, 9}, {10, 1}}, Exact: true}
	if v, _ := p90.Compute(&weighted); v != 1 {
		t.Errorf("weighted p90 = %v; want 1", v)
	}
}

func FuzzParseExtended(f *testing.F) {
	for _, s := range []string{"p90", "p99.99", "tm90", "TM(10%:90%)", "TM(:50%)", "IQM", "p", "TM(", "wm90"} {
		f.Add(s)
	}
	s := statsOf(1, 2, 3, 4, 5)
	f.Fuzz(func(t *testing.T, name string) {
		e, err := ParseExtended(name)
		if err != nil {
			return
		}
		v, ok := e.Compute(&s)
		if ok && (v < 1 || v > 5 || math.IsNaN(v)) {
			t.Fatalf("%s = %v outside the data", name, v)
		}
	})
}
