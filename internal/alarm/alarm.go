// Package alarm evaluates CloudWatch metric alarms. It is pure: the caller supplies the
// datapoints of the evaluation range and the evaluation time, and gets back the state the alarm
// should be in, with AWS's reason text and reason data. Nothing here reads a clock or a store.
//
// The algorithm is the one of docs/monitoring.md (and the reference's §4.4): an alarm with
// EvaluationPeriods N and DatapointsToAlarm M looks at an evaluation range of R = N +
// max(N/3, 2) periods, newest last. With at least N real datapoints in the range, the last N of
// them decide (M breaching → ALARM, else OK) and TreatMissingData is irrelevant. With fewer,
// the missing slots are filled as TreatMissingData says, and a lone breaching run at the end of
// an otherwise empty range ("premature alarm") fires for missing and holds for ignore. This
// reproduces every row of AWS's two published tables (alarm_test.go checks them row by row).
package alarm

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// State is an alarm state value.
type State string

// The alarm states.
const (
	OK               State = "OK"
	Alarm            State = "ALARM"
	InsufficientData State = "INSUFFICIENT_DATA"
)

// Valid reports whether s is one of the three states.
func (s State) Valid() bool { return s == OK || s == Alarm || s == InsufficientData }

// Comparison is a ComparisonOperator.
type Comparison string

// The static-threshold comparison operators, and the anomaly-band ones (which need an anomaly
// detection model, not served here).
const (
	GreaterThanOrEqual Comparison = "GreaterThanOrEqualToThreshold"
	GreaterThan        Comparison = "GreaterThanThreshold"
	LessThan           Comparison = "LessThanThreshold"
	LessThanOrEqual    Comparison = "LessThanOrEqualToThreshold"

	OutsideBand Comparison = "LessThanLowerOrGreaterThanUpperThreshold"
	BelowBand   Comparison = "LessThanLowerThreshold"
	AboveBand   Comparison = "GreaterThanUpperThreshold"
)

// Static reports whether c compares against a static threshold.
func (c Comparison) Static() bool {
	switch c {
	case GreaterThanOrEqual, GreaterThan, LessThan, LessThanOrEqual:
		return true
	}
	return false
}

// Band reports whether c is an anomaly-detection band operator.
func (c Comparison) Band() bool { return c == OutsideBand || c == BelowBand || c == AboveBand }

// Breaches reports whether v breaches threshold under c.
func (c Comparison) Breaches(v, threshold float64) bool {
	switch c {
	case GreaterThanOrEqual:
		return v >= threshold
	case GreaterThan:
		return v > threshold
	case LessThan:
		return v < threshold
	case LessThanOrEqual:
		return v <= threshold
	}
	return false
}

func (c Comparison) phrase() string {
	switch c {
	case GreaterThanOrEqual:
		return "greater than or equal to"
	case GreaterThan:
		return "greater than"
	case LessThan:
		return "less than"
	case LessThanOrEqual:
		return "less than or equal to"
	}
	return string(c)
}

// TreatMissing is a TreatMissingData value.
type TreatMissing string

// The TreatMissingData values; the empty string means Missing.
const (
	Missing      TreatMissing = "missing"
	Breaching    TreatMissing = "breaching"
	NotBreaching TreatMissing = "notBreaching"
	Ignore       TreatMissing = "ignore"
)

// Valid reports whether t is a TreatMissingData value (or empty).
func (t TreatMissing) Valid() bool {
	switch t {
	case "", Missing, Breaching, NotBreaching, Ignore:
		return true
	}
	return false
}

// Rule is the part of an alarm's configuration that evaluation needs.
type Rule struct {
	EvaluationPeriods int // N, at least 1
	DatapointsToAlarm int // M; 0 means unset (M = N, and AWS's shorter reason wording)
	Comparison        Comparison
	Threshold         float64
	TreatMissing      TreatMissing
	Period            int    // seconds
	Statistic         string // for the reason data: "Sum", "p90", ...
	Unit              string // for the reason data; may be empty
}

// M is the effective DatapointsToAlarm.
func (r Rule) M() int {
	if r.DatapointsToAlarm > 0 {
		return r.DatapointsToAlarm
	}
	return r.EvaluationPeriods
}

// RangeLength is R, the number of periods one evaluation looks at: N + max(N/3, 2). AWS does
// not document it; its tables use 5 for N = 3, which this formula (LocalStack's) gives.
func RangeLength(n int) int { return n + max(n/3, 2) }

// EvaluationInterval is how often an alarm of this period is evaluated: every 10 seconds for
// high-resolution periods (under a minute), else every minute.
func EvaluationInterval(period int) time.Duration {
	if period < 60 {
		return 10 * time.Second
	}
	return time.Minute
}

// EvaluationTime is the end of the newest period that has ended at now: now truncated to the
// evaluation interval. The newest bucket of an evaluation at T is [T-Period, T).
func EvaluationTime(now time.Time, period int) time.Time {
	return now.Truncate(EvaluationInterval(period))
}

// Buckets returns the start times of the R buckets of an evaluation at end, oldest first.
func Buckets(end time.Time, period, r int) []time.Time {
	p := time.Duration(period) * time.Second
	out := make([]time.Time, r)
	for i := range out {
		out[i] = end.Add(-time.Duration(r-i) * p)
	}
	return out
}

// Datapoint is the statistic of one period of the evaluation range.
type Datapoint struct {
	Start       time.Time // the bucket's start
	Present     bool      // false: no data in this period
	Value       float64
	SampleCount float64
}

// Result is the outcome of one evaluation.
type Result struct {
	State      State
	Reason     string // StateReason; empty when State is the current state kept by "ignore"
	ReasonData string // StateReasonData (JSON); empty with Reason
}

// Evaluate decides the state of an alarm with rule r, whose evaluation range (oldest first,
// RangeLength(N) long, or any length ≥ 1) is window, currently in state current, evaluated at
// now (the queryDate of the reason data).
func Evaluate(r Rule, window []Datapoint, current State, now time.Time) Result {
	n, m := r.EvaluationPeriods, r.M()
	if n < 1 {
		n = 1
	}
	treat := r.TreatMissing
	if treat == "" {
		treat = Missing
	}
	var real []Datapoint
	for _, d := range window {
		if d.Present {
			real = append(real, d)
		}
	}
	breach := func(d Datapoint) bool { return r.Comparison.Breaches(d.Value, r.Threshold) }
	countBreach := func(ds []Datapoint) int {
		c := 0
		for _, d := range ds {
			if breach(d) {
				c++
			}
		}
		return c
	}
	rd := reasonData{r: r, now: now, window: window}

	// 1. No data at all.
	if len(real) == 0 {
		switch treat {
		case Breaching:
			return Result{Alarm, fmt.Sprintf("Threshold Crossed: no datapoints were received for %s and %s treated as [Breaching].", plural(n, "period", "periods"), missingPhrase(n)), rd.json(nil)}
		case NotBreaching:
			return Result{OK, fmt.Sprintf("Threshold Crossed: no datapoints were received for %s and %s treated as [NonBreaching].", plural(n, "period", "periods"), missingPhrase(n)), rd.json(nil)}
		case Ignore:
			return Result{State: current}
		default:
			return Result{InsufficientData, fmt.Sprintf("Insufficient Data: %s unknown.", wasWere(n, "datapoint")), rd.json(nil)}
		}
	}

	// 2. Enough real datapoints: the last N of them decide.
	if len(real) >= n {
		e := real[len(real)-n:]
		if countBreach(e) >= m {
			return Result{Alarm, r.crossed(e, true, 0, ""), rd.json(e)}
		}
		return Result{OK, r.crossed(e, false, 0, ""), rd.json(e)}
	}

	// 3. Fewer than N real datapoints: k slots are missing.
	k := n - len(real)
	breaches := countBreach(real)
	R := len(window)
	premature := false
	if i := R - m; i >= 0 && i < R {
		premature = window[i].Present && breach(window[i])
		for j := 0; j < i && premature; j++ {
			premature = !window[j].Present
		}
		for _, d := range window[i:] {
			if d.Present && !breach(d) {
				premature = false
			}
		}
	}
	switch treat {
	case Breaching:
		if breaches+k >= m {
			return Result{Alarm, r.crossed(real, true, k, "Breaching"), rd.json(real)}
		}
		return Result{OK, r.crossed(real, false, k, "Breaching"), rd.json(real)}
	case NotBreaching:
		if breaches >= m {
			return Result{Alarm, r.crossed(real, true, k, "NonBreaching"), rd.json(real)}
		}
		return Result{OK, r.crossed(real, false, k, "NonBreaching"), rd.json(real)}
	case Ignore:
		if premature {
			return Result{State: current}
		}
	default:
		if premature {
			return Result{Alarm, r.crossed(real, true, 0, ""), rd.json(real)}
		}
	}
	if breaches >= m {
		return Result{Alarm, r.crossed(real, true, 0, ""), rd.json(real)}
	}
	return Result{OK, r.crossed(real, false, 0, ""), rd.json(real)}
}

// crossed words a "Threshold Crossed" reason over the datapoints ds that decided: the breaching
// ones for ALARM, the others for OK. missing > 0 adds how many missing datapoints were
// treated as treatedAs.
func (r Rule) crossed(ds []Datapoint, alarm bool, missing int, treatedAs string) string {
	var listed []Datapoint
	for _, d := range ds {
		if r.Comparison.Breaches(d.Value, r.Threshold) == alarm {
			listed = append(listed, d)
		}
	}
	if !alarm && len(listed) == 0 && len(ds) > 0 {
		// OK although every datapoint breaches: too few of them. Say so in M-of-N terms.
		m := r
		m.DatapointsToAlarm = r.M()
		return m.crossed(ds, true, missing, treatedAs)
	}
	items := make([]string, len(listed))
	for i, d := range listed {
		items[i] = FormatDouble(d.Value) + " (" + d.Start.UTC().Format("02/01/06 15:04:05") + ")"
	}
	verb := "was"
	if len(listed) != 1 {
		verb = "were"
	}
	not := ""
	if !alarm {
		not = "not "
	}
	var b strings.Builder
	b.WriteString("Threshold Crossed: ")
	if r.DatapointsToAlarm == 0 {
		fmt.Fprintf(&b, "%s [%s] %s %s%s the threshold (%s)", plural(len(listed), "datapoint", "datapoints"),
			strings.Join(items, ", "), verb, not, r.Comparison.phrase(), FormatDouble(r.Threshold))
	} else {
		need, transition := r.M(), "OK -> ALARM"
		if !alarm {
			need, transition = r.EvaluationPeriods-r.M()+1, "ALARM -> OK"
		}
		fmt.Fprintf(&b, "%d out of the last %d datapoints [%s] %s %s%s the threshold (%s) (minimum %s for %s transition)",
			len(listed), r.EvaluationPeriods, strings.Join(items, ", "), verb, not, r.Comparison.phrase(),
			FormatDouble(r.Threshold), plural(need, "datapoint", "datapoints"), transition)
	}
	if missing > 0 {
		fmt.Fprintf(&b, " and %s treated as [%s]", missingPhrase(missing), treatedAs)
	}
	b.WriteString(".")
	return b.String()
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

func wasWere(n int, noun string) string {
	if n == 1 {
		return "1 " + noun + " was"
	}
	return strconv.Itoa(n) + " " + noun + "s were"
}

func missingPhrase(n int) string {
	if n == 1 {
		return "1 missing datapoint was"
	}
	return strconv.Itoa(n) + " missing datapoints were"
}

// TimeFormat is how alarm reason data and alarm messages write times.
const TimeFormat = "2006-01-02T15:04:05.000-0700"

// FormatTime writes t as AWS's alarm documents do: 2025-09-19T21:11:41.120+0000.
func FormatTime(t time.Time) string { return t.UTC().Format(TimeFormat) }

type reasonData struct {
	r      Rule
	now    time.Time
	window []Datapoint
}

type evaluatedDatapoint struct {
	Timestamp   string   `json:"timestamp"`
	SampleCount *float64 `json:"sampleCount,omitempty"`
	Value       *float64 `json:"value,omitempty"`
}

// json is the StateReasonData document, listing the datapoints that decided, newest first.
func (d reasonData) json(decided []Datapoint) string {
	doc := struct {
		Version             string               `json:"version"`
		QueryDate           string               `json:"queryDate"`
		StartDate           string               `json:"startDate,omitempty"`
		Statistic           string               `json:"statistic,omitempty"`
		Unit                string               `json:"unit,omitempty"`
		Period              int                  `json:"period"`
		RecentDatapoints    []float64            `json:"recentDatapoints"`
		Threshold           float64              `json:"threshold"`
		EvaluatedDatapoints []evaluatedDatapoint `json:"evaluatedDatapoints,omitempty"`
	}{Version: "1.0", QueryDate: FormatTime(d.now), Statistic: d.r.Statistic, Unit: d.r.Unit, Period: d.r.Period,
		RecentDatapoints: []float64{}, Threshold: d.r.Threshold}
	if len(d.window) > 0 {
		doc.StartDate = FormatTime(d.window[0].Start)
	}
	for _, p := range decided {
		doc.RecentDatapoints = append(doc.RecentDatapoints, p.Value)
	}
	for i := len(decided) - 1; i >= 0; i-- {
		p := decided[i]
		sc, v := p.SampleCount, p.Value
		doc.EvaluatedDatapoints = append(doc.EvaluatedDatapoints, evaluatedDatapoint{Timestamp: FormatTime(p.Start), SampleCount: &sc, Value: &v})
	}
	b, err := json.Marshal(doc)
	if err != nil { // only non-finite values, which never reach evaluation
		return `{"version":"1.0"}`
	}
	return string(b)
}

// FormatDouble writes f as Java's Double.toString does, which is how AWS writes numbers in
// alarm reasons: 1.0, 21.5, 1.0E7, 1.0E-4.
func FormatDouble(f float64) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	case f == 0:
		if math.Signbit(f) {
			return "-0.0"
		}
		return "0.0"
	}
	if a := math.Abs(f); a >= 1e-3 && a < 1e7 {
		s := strconv.FormatFloat(f, 'f', -1, 64)
		if !strings.Contains(s, ".") {
			s += ".0"
		}
		return s
	}
	s := strconv.FormatFloat(f, 'E', -1, 64)
	mant, exp, _ := strings.Cut(s, "E")
	if !strings.Contains(mant, ".") {
		mant += ".0"
	}
	neg := strings.HasPrefix(exp, "-")
	exp = strings.TrimLeft(exp, "+-0")
	if neg {
		exp = "-" + exp
	}
	return mant + "E" + exp
}
