package alarm

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

// window builds an evaluation range from AWS's table notation: "0" a datapoint that does not
// breach, "X" one that does, "-" a missing one; oldest first.
func window(t *testing.T, s string) []Datapoint {
	t.Helper()
	fields := strings.Fields(s)
	out := make([]Datapoint, len(fields))
	for i, f := range fields {
		out[i].Start = t0.Add(time.Duration(i) * time.Minute)
		switch f {
		case "0":
			out[i].Present, out[i].Value, out[i].SampleCount = true, 0, 1
		case "X":
			out[i].Present, out[i].Value, out[i].SampleCount = true, 5, 1
		case "-":
		default:
			t.Fatalf("bad cell %q", f)
		}
	}
	return out
}

const keep = State("keep")

// TestPublishedTables reproduces AWS's two tables of how TreatMissingData plays with
// EvaluationPeriods and DatapointsToAlarm, row by row (R = 5, threshold breached by X).
func TestPublishedTables(t *testing.T) {
	rows := []struct {
		n, m                                     int
		data                                     string
		missing, ignore, breaching, notBreaching State
	}{
		// Table 1: 3 of 3.
		{3, 3, "0 - X - X", OK, OK, OK, OK},
		{3, 3, "0 - - - -", OK, OK, OK, OK},
		{3, 3, "- - - - -", InsufficientData, keep, Alarm, OK},
		{3, 3, "0 X X - X", Alarm, Alarm, Alarm, Alarm},
		{3, 3, "- - X - -", Alarm, keep, Alarm, OK},
		// Table 2: 2 of 3.
		{3, 2, "0 - X - X", Alarm, Alarm, Alarm, Alarm},
		{3, 2, "0 0 X 0 X", Alarm, Alarm, Alarm, Alarm},
		{3, 2, "0 - X - -", OK, OK, Alarm, OK},
		{3, 2, "- - - - 0", OK, OK, Alarm, OK},
		{3, 2, "- - - X -", Alarm, keep, Alarm, OK},
	}
	if RangeLength(3) != 5 {
		t.Fatalf("RangeLength(3) = %d; want 5", RangeLength(3))
	}
	for _, row := range rows {
		for _, c := range []struct {
			treat TreatMissing
			want  State
		}{{Missing, row.missing}, {Ignore, row.ignore}, {Breaching, row.breaching}, {NotBreaching, row.notBreaching}} {
			// "keep" must hold whatever the current state is; the others must not depend on it.
			for _, current := range []State{OK, Alarm, InsufficientData} {
				r := Rule{EvaluationPeriods: row.n, DatapointsToAlarm: row.m, Comparison: GreaterThanOrEqual, Threshold: 1, TreatMissing: c.treat, Period: 60, Statistic: Sum}
				res := Evaluate(r, window(t, row.data), current, t0)
				want := c.want
				if want == keep {
					want = current
					if res.Reason != "" {
						t.Errorf("%d/%d %q %s from %s: kept state but reason %q", row.m, row.n, row.data, c.treat, current, res.Reason)
					}
				}
				if res.State != want {
					t.Errorf("%d/%d %q treat=%s current=%s: got %s; want %s (%s)", row.m, row.n, row.data, c.treat, current, res.State, want, res.Reason)
				}
			}
		}
	}
}

func TestEvaluateComparisons(t *testing.T) {
	cases := []struct {
		op    Comparison
		value float64
		want  State
	}{
		{GreaterThanOrEqual, 1, Alarm}, {GreaterThanOrEqual, 0.5, OK},
		{GreaterThan, 1, OK}, {GreaterThan, 1.5, Alarm},
		{LessThan, 1, OK}, {LessThan, 0.5, Alarm},
		{LessThanOrEqual, 1, Alarm}, {LessThanOrEqual, 1.5, OK},
	}
	for _, c := range cases {
		r := Rule{EvaluationPeriods: 1, Comparison: c.op, Threshold: 1, Period: 60}
		w := []Datapoint{{Start: t0}, {Start: t0.Add(time.Minute)}, {Start: t0.Add(2 * time.Minute), Present: true, Value: c.value, SampleCount: 1}}
		if got := Evaluate(r, w, InsufficientData, t0).State; got != c.want {
			t.Errorf("%s %v vs 1: got %s; want %s", c.op, c.value, got, c.want)
		}
	}
}

func TestReasons(t *testing.T) {
	at := time.Date(2025, 9, 19, 21, 10, 0, 0, time.UTC)
	w := []Datapoint{{Start: at.Add(-2 * time.Minute)}, {Start: at.Add(-time.Minute)}, {Start: at, Present: true, Value: 21.5, SampleCount: 2}}
	r := Rule{EvaluationPeriods: 1, Comparison: GreaterThan, Threshold: 21, Period: 10, Statistic: Average, Unit: "Seconds"}
	res := Evaluate(r, w, InsufficientData, at.Add(time.Minute))
	if want := "Threshold Crossed: 1 datapoint [21.5 (19/09/25 21:10:00)] was greater than the threshold (21.0)."; res.Reason != want {
		t.Errorf("reason %q; want %q", res.Reason, want)
	}
	var rd struct {
		Version             string
		QueryDate           string
		Statistic, Unit     string
		Period              int
		RecentDatapoints    []float64
		Threshold           float64
		EvaluatedDatapoints []struct {
			Timestamp   string
			SampleCount float64
			Value       float64
		}
	}
	if err := json.Unmarshal([]byte(res.ReasonData), &rd); err != nil {
		t.Fatal(err)
	}
	if rd.Version != "1.0" || rd.QueryDate != "2025-09-19T21:11:00.000+0000" || rd.Statistic != "Average" || rd.Unit != "Seconds" ||
		rd.Period != 10 || len(rd.RecentDatapoints) != 1 || rd.RecentDatapoints[0] != 21.5 || rd.Threshold != 21 ||
		len(rd.EvaluatedDatapoints) != 1 || rd.EvaluatedDatapoints[0].SampleCount != 2 || rd.EvaluatedDatapoints[0].Timestamp != "2025-09-19T21:10:00.000+0000" {
		t.Errorf("reason data %s", res.ReasonData)
	}

	r = Rule{EvaluationPeriods: 3, DatapointsToAlarm: 2, Comparison: GreaterThanOrEqual, Threshold: 1, Period: 60}
	res = Evaluate(r, window(t, "0 0 X 0 X"), OK, t0)
	if want := "Threshold Crossed: 2 out of the last 3 datapoints [5.0 (23/11/26 12:02:00), 5.0 (23/11/26 12:04:00)] were greater than or equal to the threshold (1.0) (minimum 2 datapoints for OK -> ALARM transition)."; res.Reason != want {
		t.Errorf("reason %q; want %q", res.Reason, want)
	}
	res = Evaluate(r, window(t, "X X 0 0 X"), Alarm, t0)
	if want := "Threshold Crossed: 2 out of the last 3 datapoints [0.0 (23/11/26 12:02:00), 0.0 (23/11/26 12:03:00)] were not greater than or equal to the threshold (1.0) (minimum 2 datapoints for ALARM -> OK transition)."; res.State != OK || res.Reason != want {
		t.Errorf("got %s %q; want OK %q", res.State, res.Reason, want)
	}

	for _, c := range []struct {
		treat TreatMissing
		state State
		want  string
	}{
		{Missing, InsufficientData, "Insufficient Data: 2 datapoints were unknown."},
		{Breaching, Alarm, "Threshold Crossed: no datapoints were received for 2 periods and 2 missing datapoints were treated as [Breaching]."},
		{NotBreaching, OK, "Threshold Crossed: no datapoints were received for 2 periods and 2 missing datapoints were treated as [NonBreaching]."},
	} {
		r := Rule{EvaluationPeriods: 2, Comparison: GreaterThan, Threshold: 1, TreatMissing: c.treat, Period: 60}
		res := Evaluate(r, window(t, "- - - -"), OK, t0)
		if res.State != c.state || res.Reason != c.want {
			t.Errorf("%s: got %s %q; want %s %q", c.treat, res.State, res.Reason, c.state, c.want)
		}
	}
}

func TestFormatDouble(t *testing.T) {
	for f, want := range map[float64]string{0: "0.0", 1: "1.0", 21.5: "21.5", -3: "-3.0", 1e7: "1.0E7", 1.5e-4: "1.5E-4", 123456.75: "123456.75", 0.001: "0.001", 2.5e12: "2.5E12"} {
		if got := FormatDouble(f); got != want {
			t.Errorf("FormatDouble(%v) = %q; want %q", f, got, want)
		}
	}
}

func TestSchedule(t *testing.T) {
	now := time.Date(2026, 1, 1, 10, 7, 43, 500, time.UTC)
	if got := EvaluationTime(now, 10); !got.Equal(time.Date(2026, 1, 1, 10, 7, 40, 0, time.UTC)) {
		t.Errorf("EvaluationTime 10s: %v", got)
	}
	if got := EvaluationTime(now, 300); !got.Equal(time.Date(2026, 1, 1, 10, 7, 0, 0, time.UTC)) {
		t.Errorf("EvaluationTime 300s: %v", got)
	}
	b := Buckets(time.Date(2026, 1, 1, 10, 7, 0, 0, time.UTC), 300, 3)
	if len(b) != 3 || !b[2].Equal(time.Date(2026, 1, 1, 10, 2, 0, 0, time.UTC)) || !b[0].Equal(time.Date(2026, 1, 1, 9, 52, 0, 0, time.UTC)) {
		t.Errorf("Buckets: %v", b)
	}
	for n, want := range map[int]int{1: 3, 2: 4, 3: 5, 5: 7, 6: 8, 9: 12} {
		if got := RangeLength(n); got != want {
			t.Errorf("RangeLength(%d) = %d; want %d", n, got, want)
		}
	}
}
