// Package monitoring is OpenTrail's CloudWatch metrics and alarms service (signing name
// "monitoring", API 2010-08-01). It answers in the three protocols of the CloudWatch model:
// Smithy rpc-v2-cbor (the current SDKs), JSON 1.0 with x-amzn-query-mode (botocore and the
// AWS CLI) and Query (older clients), with awsQueryCompatible errors in all three.
//
// Metric datapoints live in a Pebble store of their own (store.go): one key per datapoint,
// rolled up into coarser periods as they age, as CloudWatch keeps them. Alarms and their
// history are documents in the metadata store (kv). An evaluator goroutine (evaluator.go)
// evaluates each alarm when one of its periods ends, and again as soon as data arrives for a
// period that has already ended; evaluation itself is the pure internal/alarm package. State
// changes append alarm history and publish CloudWatch's alarm message to the SNS topics of the
// alarm's actions. See docs/monitoring.md.
package monitoring

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/opentrail/opentrail"
	"github.com/opentrail/opentrail/internal/awsproto"
	"github.com/opentrail/opentrail/internal/kv"
	"github.com/opentrail/opentrail/internal/server"
)

// Names of the service on the wire.
const (
	ServiceName  = "monitoring"
	EventSource  = "monitoring.amazonaws.com"
	APIVersion   = "2010-08-01"
	TargetPrefix = "GraniteServiceVersion20100801"
	XMLNS        = "http://monitoring.amazonaws.com/doc/2010-08-01/"
)

// Publisher publishes alarm notifications to an SNS topic; the SNS service implements it.
type Publisher interface {
	PublishInternal(ctx context.Context, topicARN, subject, message string) (string, error)
}

// Options configures the service.
type Options struct {
	Store     *kv.Store // alarms and alarm history
	Dir       string    // directory of the datapoint store (created if missing)
	Publisher Publisher // may be nil: SNS actions then fail (and say so in the history)
	Now       func() time.Time
	Logger    *slog.Logger
}

// Service is the CloudWatch metrics and alarms service.
type Service struct {
	kv     *kv.Store
	points *pointStore
	pub    Publisher
	now    func() time.Time
	log    *slog.Logger

	mu     sync.Mutex
	alarms map[alarmRef]*storedAlarm
	// watchers maps a metric to the alarms on it, for prompt evaluation when data arrives.
	watchers map[string]map[alarmRef]bool
	histSeq  uint64

	kick chan []alarmRef // alarms to evaluate now (data arrived for an ended period)
}

// New opens the service's stores and loads its alarms. Start the evaluator with Run.
func New(opts Options) (*Service, error) {
	if opts.Store == nil || opts.Dir == "" {
		return nil, fmt.Errorf("monitoring: Store and Dir are required")
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	ps, err := openPointStore(opts.Dir, opts.Logger)
	if err != nil {
		return nil, err
	}
	s := &Service{
		kv: opts.Store, points: ps, pub: opts.Publisher, now: opts.Now, log: opts.Logger,
		alarms:   make(map[alarmRef]*storedAlarm),
		watchers: make(map[string]map[alarmRef]bool),
		kick:     make(chan []alarmRef, 1024),
	}
	if err := s.loadAlarms(); err != nil {
		ps.close()
		return nil, err
	}
	return s, nil
}

// clock is the current time as alarms record it: UTC, to the millisecond.
func (s *Service) clock() time.Time { return s.now().UTC().Truncate(time.Millisecond) }

// Close closes the datapoint store. Stop Run first.
func (s *Service) Close() error { return s.points.close() }

// Services returns the service's three protocol variants to register with a server.Server:
// JSON 1.0 (X-Amz-Target), rpc-v2-cbor (by path) and Query (by signing name).
func (s *Service) Services() []*server.Service {
	base := server.Service{Name: ServiceName, EventSource: EventSource, APIVersion: APIVersion}
	jsonSvc, cborSvc, querySvc := base, base, base
	jsonSvc.TargetPrefix = TargetPrefix
	jsonSvc.Wire = awsproto.Wire{Protocol: awsproto.JSON, ContentType: awsproto.ContentTypeJSON10, QueryErrors: errorShape}
	cborSvc.RPCv2Name = TargetPrefix
	cborSvc.Wire = awsproto.Wire{Protocol: awsproto.CBOR, QueryErrors: errorShape}
	querySvc.Wire = awsproto.Wire{Protocol: awsproto.Query, XMLNamespace: XMLNS}
	ops := s.operations()
	for _, svc := range []*server.Service{&jsonSvc, &cborSvc, &querySvc} {
		svc.Add(ops...)
	}
	return []*server.Service{&jsonSvc, &cborSvc, &querySvc}
}

func (s *Service) operations() []*server.Operation {
	const ro, rw = true, false
	alarmARN := func(c *server.Call, name string) string { return AlarmARN(c.Region, c.Account(), name) }
	ops := []*server.Operation{
		op("PutMetricData", rw, nil, s.putMetricData),
		op("ListMetrics", ro, nil, s.listMetrics),
		op("GetMetricStatistics", ro, nil, s.getMetricStatistics),
		op("GetMetricData", ro, nil, s.getMetricData),
		op("PutMetricAlarm", rw, func(c *server.Call, in *putMetricAlarmInput) string { return alarmARN(c, in.AlarmName) }, s.putMetricAlarm),
		op("DescribeAlarms", ro, nil, s.describeAlarms),
		op("DescribeAlarmsForMetric", ro, nil, s.describeAlarmsForMetric),
		op("DeleteAlarms", rw, func(c *server.Call, in *alarmNamesInput) string { return alarmsResource(c, in.AlarmNames) }, s.deleteAlarms),
		op("SetAlarmState", rw, func(c *server.Call, in *setAlarmStateInput) string { return alarmARN(c, in.AlarmName) }, s.setAlarmState),
		op("DescribeAlarmHistory", ro, func(c *server.Call, in *describeAlarmHistoryInput) string {
			if in.AlarmName != "" {
				return alarmARN(c, in.AlarmName)
			}
			return "*"
		}, s.describeAlarmHistory),
		op("EnableAlarmActions", rw, func(c *server.Call, in *alarmNamesInput) string { return alarmsResource(c, in.AlarmNames) }, s.enableAlarmActions),
		op("DisableAlarmActions", rw, func(c *server.Call, in *alarmNamesInput) string { return alarmsResource(c, in.AlarmNames) }, s.disableAlarmActions),
	}
	served := make(map[string]bool, len(ops))
	for _, o := range ops {
		served[o.Name] = true
	}
	for _, name := range modelOperations {
		if !served[name] {
			ops = append(ops, unsupportedOp(name))
		}
	}
	return ops
}

// alarmsResource is the resource of an operation on several alarms: the one alarm's ARN, or *.
func alarmsResource(c *server.Call, names []string) string {
	if len(names) == 1 {
		return AlarmARN(c.Region, c.Account(), names[0])
	}
	return "*"
}

// AlarmARN is the ARN of an alarm.
func AlarmARN(region, acct, name string) string {
	return "arn:aws:cloudwatch:" + region + ":" + acct + ":alarm:" + name
}

// modelOperations lists every operation of the CloudWatch model (botocore 1.43).
var modelOperations = []string{
	"DeleteAlarmMuteRule", "DeleteAlarms", "DeleteAnomalyDetector", "DeleteDashboards", "DeleteInsightRules",
	"DeleteMetricStream", "DescribeAlarmContributors", "DescribeAlarmHistory", "DescribeAlarms",
	"DescribeAlarmsForMetric", "DescribeAnomalyDetectors", "DescribeInsightRules", "DisableAlarmActions",
	"DisableInsightRules", "EnableAlarmActions", "EnableInsightRules", "GetAlarmMuteRule", "GetDashboard",
	"GetInsightRuleReport", "GetMetricData", "GetMetricStatistics", "GetMetricStream", "GetMetricWidgetImage",
	"GetOTelEnrichment", "ListAlarmMuteRules", "ListDashboards", "ListManagedInsightRules", "ListMetricStreams",
	"ListMetrics", "ListTagsForResource", "PutAlarmMuteRule", "PutAnomalyDetector", "PutCompositeAlarm",
	"PutDashboard", "PutInsightRule", "PutManagedInsightRules", "PutMetricAlarm", "PutMetricData",
	"PutMetricStream", "SetAlarmState", "StartMetricStreams", "StartOTelEnrichment", "StopMetricStreams",
	"StopOTelEnrichment", "TagResource", "UntagResource",
}

// op builds an operation authorized as "cloudwatch:<name>" (CloudWatch's IAM prefix is
// cloudwatch, not its signing name) on the resource computed from the input.
func op[In, Out any](name string, readOnly bool, resource func(c *server.Call, in *In) string,
	h func(ctx context.Context, c *server.Call, in *In) (*Out, error)) *server.Operation {
	return server.Op(name, server.OpOptions[In]{ReadOnly: readOnly, Action: "cloudwatch:" + name,
		Resource: func(c *server.Call, in *In) string {
			if resource == nil {
				return "*"
			}
			if r := resource(c, in); r != "" {
				return r
			}
			return "*"
		}}, h)
}

// unsupportedOp answers an operation of the model this server does not serve.
func unsupportedOp(name string) *server.Operation {
	readOnly := strings.HasPrefix(name, "Get") || strings.HasPrefix(name, "List") || strings.HasPrefix(name, "Describe")
	return op(name, readOnly, nil, func(ctx context.Context, c *server.Call, in *server.NoOutput) (*server.NoOutput, error) {
		return nil, &opentrail.Error{Code: "UnsupportedOperation", Message: name + " is not supported by this server", Status: http.StatusBadRequest, Sender: true}
	})
}
