package monitoring

import (
	"encoding/xml"
	"sort"
	"strconv"
	"time"

	"github.com/opentrail/opentrail/internal/awsproto"
)

// Wire shapes of the CloudWatch model. Members are named as the model names them; the json
// tags serve JSON 1.0 and CBOR (through awsproto's value mapping, which writes timestamps as
// epoch seconds), the xml tags the Query protocol's responses. Inputs whose members hold
// timestamps or doubles decode JSON through awsproto.DecodeJSONValues.

// Dimension is a name/value pair of a metric's identity.
type Dimension struct {
	Name  string `json:"Name"`
	Value string `json:"Value"`
}

// Datum is one observation handed to PutInternal (by the logs service's metric filters).
type Datum struct {
	Namespace  string
	MetricName string
	Dimensions []Dimension
	Value      float64
	Unit       string    // empty means None
	Timestamp  time.Time // zero means now
}

type statisticSet struct {
	SampleCount *float64
	Sum         *float64
	Minimum     *float64
	Maximum     *float64
}

type metricDatum struct {
	MetricName        string
	Dimensions        []Dimension
	Timestamp         *time.Time
	Value             *float64
	StatisticValues   *statisticSet
	Values            []float64
	Counts            []float64
	Unit              string
	StorageResolution *int32
}

type putMetricDataInput struct {
	Namespace              string
	MetricData             []metricDatum
	StrictEntityValidation *bool
}

func (in *putMetricDataInput) UnmarshalJSON(b []byte) error { return awsproto.DecodeJSONValues(b, in) }

type dimensionFilter struct {
	Name  string
	Value *string
}

type listMetricsInput struct {
	Namespace             string
	MetricName            string
	Dimensions            []dimensionFilter
	NextToken             string
	RecentlyActive        string
	IncludeLinkedAccounts bool
	OwningAccount         string
}

type metric struct {
	Namespace  string      `json:"Namespace,omitempty" xml:"Namespace,omitempty"`
	MetricName string      `json:"MetricName,omitempty" xml:"MetricName,omitempty"`
	Dimensions []Dimension `json:"Dimensions" xml:"Dimensions>member"`
}

type listMetricsOutput struct {
	Metrics   []metric `json:"Metrics" xml:"Metrics>member"`
	NextToken *string  `json:"NextToken,omitempty" xml:"NextToken,omitempty"`
}

type getMetricStatisticsInput struct {
	Namespace          string
	MetricName         string
	Dimensions         []Dimension
	StartTime          *time.Time
	EndTime            *time.Time
	Period             *int32
	Statistics         []string
	ExtendedStatistics []string
	Unit               string
}

func (in *getMetricStatisticsInput) UnmarshalJSON(b []byte) error {
	return awsproto.DecodeJSONValues(b, in)
}

// extendedStatistics is a map on the wire; Query writes it as entry/key/value.
type extendedStatistics map[string]float64

func (m extendedStatistics) MarshalXML(e *xml.Encoder, start xml.StartElement) error {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	entries := make([]struct {
		Key   string `xml:"key"`
		Value string `xml:"value"`
	}, len(keys))
	for i, k := range keys {
		entries[i].Key, entries[i].Value = k, strconv.FormatFloat(m[k], 'g', -1, 64)
	}
	return e.EncodeElement(struct {
		Entries any `xml:"entry"`
	}{entries}, start)
}

type datapoint struct {
	Timestamp          time.Time          `json:"Timestamp"`
	SampleCount        *float64           `json:"SampleCount,omitempty" xml:"SampleCount,omitempty"`
	Average            *float64           `json:"Average,omitempty" xml:"Average,omitempty"`
	Sum                *float64           `json:"Sum,omitempty" xml:"Sum,omitempty"`
	Minimum            *float64           `json:"Minimum,omitempty" xml:"Minimum,omitempty"`
	Maximum            *float64           `json:"Maximum,omitempty" xml:"Maximum,omitempty"`
	Unit               string             `json:"Unit,omitempty" xml:"Unit,omitempty"`
	ExtendedStatistics extendedStatistics `json:"ExtendedStatistics,omitempty" xml:"ExtendedStatistics,omitempty"`
}

type getMetricStatisticsOutput struct {
	Label      string      `json:"Label"`
	Datapoints []datapoint `json:"Datapoints" xml:"Datapoints>member"`
}

func (o *getMetricStatisticsOutput) MarshalJSON() ([]byte, error) {
	return awsproto.MarshalJSONValues(o)
}

type metricStat struct {
	Metric *metric
	Period int32
	Stat   string
	Unit   string
}

type metricDataQuery struct {
	Id         string
	MetricStat *metricStat
	Expression string
	Label      string
	ReturnData *bool
	Period     *int32
	AccountId  string
}

type getMetricDataInput struct {
	MetricDataQueries []metricDataQuery
	StartTime         *time.Time
	EndTime           *time.Time
	NextToken         string
	ScanBy            string
	MaxDatapoints     *int32
	LabelOptions      *struct{ Timezone string }
}

func (in *getMetricDataInput) UnmarshalJSON(b []byte) error { return awsproto.DecodeJSONValues(b, in) }

type messageData struct {
	Code  string `json:"Code,omitempty" xml:"Code,omitempty"`
	Value string `json:"Value,omitempty" xml:"Value,omitempty"`
}

type metricDataResult struct {
	Id         string        `json:"Id"`
	Label      string        `json:"Label"`
	Timestamps []time.Time   `json:"Timestamps" xml:"Timestamps>member"`
	Values     []float64     `json:"Values" xml:"Values>member"`
	StatusCode string        `json:"StatusCode"`
	Messages   []messageData `json:"Messages,omitempty" xml:"Messages>member,omitempty"`
}

type getMetricDataOutput struct {
	MetricDataResults []metricDataResult `json:"MetricDataResults" xml:"MetricDataResults>member"`
	NextToken         *string            `json:"NextToken,omitempty" xml:"NextToken,omitempty"`
	Messages          []messageData      `json:"Messages" xml:"Messages>member"`
}

func (o *getMetricDataOutput) MarshalJSON() ([]byte, error) { return awsproto.MarshalJSONValues(o) }

type tag struct {
	Key   string
	Value string
}

type putMetricAlarmInput struct {
	AlarmName                        string
	AlarmDescription                 *string
	ActionsEnabled                   *bool
	OKActions                        []string
	AlarmActions                     []string
	InsufficientDataActions          []string
	MetricName                       string
	Namespace                        string
	Statistic                        string
	ExtendedStatistic                string
	Dimensions                       []Dimension
	Period                           *int32
	Unit                             string
	EvaluationPeriods                *int32
	DatapointsToAlarm                *int32
	Threshold                        *float64
	ComparisonOperator               string
	TreatMissingData                 string
	EvaluateLowSampleCountPercentile string
	Metrics                          []metricDataQuery
	Tags                             []tag
	ThresholdMetricId                string
	EvaluationCriteria               *struct{ PromQLCriteria *struct{ Query string } }
	EvaluationInterval               *int32
}

func (in *putMetricAlarmInput) UnmarshalJSON(b []byte) error { return awsproto.DecodeJSONValues(b, in) }

// MetricAlarm is an alarm as DescribeAlarms shows it, and as it is stored.
type MetricAlarm struct {
	AlarmName                          string      `json:"AlarmName"`
	AlarmArn                           string      `json:"AlarmArn"`
	AlarmDescription                   *string     `json:"AlarmDescription,omitempty" xml:"AlarmDescription,omitempty"`
	AlarmConfigurationUpdatedTimestamp time.Time   `json:"AlarmConfigurationUpdatedTimestamp"`
	ActionsEnabled                     bool        `json:"ActionsEnabled"`
	OKActions                          []string    `json:"OKActions" xml:"OKActions>member"`
	AlarmActions                       []string    `json:"AlarmActions" xml:"AlarmActions>member"`
	InsufficientDataActions            []string    `json:"InsufficientDataActions" xml:"InsufficientDataActions>member"`
	StateValue                         string      `json:"StateValue"`
	StateReason                        string      `json:"StateReason"`
	StateReasonData                    string      `json:"StateReasonData,omitempty" xml:"StateReasonData,omitempty"`
	StateUpdatedTimestamp              time.Time   `json:"StateUpdatedTimestamp"`
	MetricName                         string      `json:"MetricName,omitempty" xml:"MetricName,omitempty"`
	Namespace                          string      `json:"Namespace,omitempty" xml:"Namespace,omitempty"`
	Statistic                          string      `json:"Statistic,omitempty" xml:"Statistic,omitempty"`
	ExtendedStatistic                  string      `json:"ExtendedStatistic,omitempty" xml:"ExtendedStatistic,omitempty"`
	Dimensions                         []Dimension `json:"Dimensions" xml:"Dimensions>member"`
	Period                             int32       `json:"Period,omitempty" xml:"Period,omitempty"`
	Unit                               string      `json:"Unit,omitempty" xml:"Unit,omitempty"`
	EvaluationPeriods                  int32       `json:"EvaluationPeriods"`
	DatapointsToAlarm                  int32       `json:"DatapointsToAlarm,omitempty" xml:"DatapointsToAlarm,omitempty"`
	Threshold                          float64     `json:"Threshold"`
	ComparisonOperator                 string      `json:"ComparisonOperator"`
	TreatMissingData                   string      `json:"TreatMissingData,omitempty" xml:"TreatMissingData,omitempty"`
	EvaluateLowSampleCountPercentile   string      `json:"EvaluateLowSampleCountPercentile,omitempty" xml:"EvaluateLowSampleCountPercentile,omitempty"`
	StateTransitionedTimestamp         time.Time   `json:"StateTransitionedTimestamp"`
}

type describeAlarmsInput struct {
	AlarmNames          []string
	AlarmNamePrefix     string
	AlarmTypes          []string
	ChildrenOfAlarmName string
	ParentsOfAlarmName  string
	StateValue          string
	ActionPrefix        string
	MaxRecords          *int32
	NextToken           string
}

type describeAlarmsOutput struct {
	MetricAlarms    []MetricAlarm `json:"MetricAlarms" xml:"MetricAlarms>member"`
	CompositeAlarms []struct{}    `json:"CompositeAlarms" xml:"-"`
	NextToken       *string       `json:"NextToken,omitempty" xml:"NextToken,omitempty"`
}

func (o *describeAlarmsOutput) MarshalJSON() ([]byte, error) { return awsproto.MarshalJSONValues(o) }

type describeAlarmsForMetricInput struct {
	MetricName        string
	Namespace         string
	Statistic         string
	ExtendedStatistic string
	Dimensions        []Dimension
	Period            *int32
	Unit              string
}

type describeAlarmsForMetricOutput struct {
	MetricAlarms []MetricAlarm `json:"MetricAlarms" xml:"MetricAlarms>member"`
}

func (o *describeAlarmsForMetricOutput) MarshalJSON() ([]byte, error) {
	return awsproto.MarshalJSONValues(o)
}

type alarmNamesInput struct {
	AlarmNames []string
}

type setAlarmStateInput struct {
	AlarmName       string
	StateValue      string
	StateReason     string
	StateReasonData *string
}

type describeAlarmHistoryInput struct {
	AlarmName          string
	AlarmContributorId string
	AlarmTypes         []string
	HistoryItemType    string
	StartDate          *time.Time
	EndDate            *time.Time
	MaxRecords         *int32
	NextToken          string
	ScanBy             string
}

func (in *describeAlarmHistoryInput) UnmarshalJSON(b []byte) error {
	return awsproto.DecodeJSONValues(b, in)
}

// HistoryItem is one alarm history item, as stored and as DescribeAlarmHistory shows it.
type HistoryItem struct {
	AlarmName       string    `json:"AlarmName"`
	AlarmType       string    `json:"AlarmType"`
	Timestamp       time.Time `json:"Timestamp"`
	HistoryItemType string    `json:"HistoryItemType"`
	HistorySummary  string    `json:"HistorySummary"`
	HistoryData     string    `json:"HistoryData"`
}

type describeAlarmHistoryOutput struct {
	AlarmHistoryItems []HistoryItem `json:"AlarmHistoryItems" xml:"AlarmHistoryItems>member"`
	NextToken         *string       `json:"NextToken,omitempty" xml:"NextToken,omitempty"`
}

func (o *describeAlarmHistoryOutput) MarshalJSON() ([]byte, error) {
	return awsproto.MarshalJSONValues(o)
}
