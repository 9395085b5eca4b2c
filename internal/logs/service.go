// Package logs serves the CloudWatch Logs API (2014-03-28, JSON 1.1, X-Amz-Target prefix
// Logs_20140328, SigV4 signing name "logs"): log groups and streams, PutLogEvents,
// GetLogEvents and FilterLogEvents, retention policies, metric filters and tags.
//
// Groups live in one account and region; a request sees only its caller's account's groups
// in its own region. Everything — groups, streams, metric filters and events — is kept in a
// Pebble database of the package's own (Open's dir; key layout in store.go), so it survives
// restarts. A stream's events are stored in (timestamp, ingestion) order under keys that
// start with the account, region, group and stream, so a stream read is one range scan and
// deleting a stream, a group or the events a retention policy expires is one range deletion.
//
// PutLogEvents applies AWS's batch rules (docs/logs.md): at most 10,000 events and 1,048,576
// bytes counted as UTF-8 message bytes plus 26 per event, events in chronological order
// spanning at most 24 hours, and events too far in the past, in the future or beyond the
// group's retention rejected one by one in rejectedLogEventsInfo while the rest are stored.
// Sequence tokens are accepted and ignored, as AWS now does. PutInternal is the same path for
// OpenTrail's own producers (the CloudTrail forwarder).
//
// Every stored event is evaluated against the metric filters of its group and the resulting
// data points go, synchronously, to the MetricSink (SetMetricSink); with no sink they are
// dropped. Retention is enforced: reads never return events older than the group's retention
// and Run deletes them in the background (Sweep is one pass).
//
// Operations of the model that this server does not implement are registered anyway and
// fail with UnsupportedOperationException, so that no client mistakes silence for success.
package logs

import (
	"context"
	"crypto/rand"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cockroachdb/pebble/v2"

	"github.com/opentrail/opentrail/internal/awsproto"
	"github.com/opentrail/opentrail/internal/server"
)

// Service identity on the wire.
const (
	ServiceName  = "logs"
	EventSource  = "logs.amazonaws.com"
	TargetPrefix = "Logs_20140328"
	groupType    = "AWS::Logs::LogGroup"
)

// Defaults for Options.
const (
	// DefaultRetentionInterval is how often Run deletes expired events.
	DefaultRetentionInterval = 10 * time.Minute
	// DefaultMaxEventBytes is the largest message PutLogEvents accepts: 1 MB, as the current
	// model documents (AWS's older quota was 256 KB; see MaxInternalEventBytes).
	DefaultMaxEventBytes = 1 << 20
	// MaxInternalEventBytes is the largest message PutInternal stores: CloudTrail does not
	// send events larger than 256 KB to CloudWatch Logs.
	MaxInternalEventBytes = 256 << 10
	// DefaultFilterScanLimit is how many events one FilterLogEvents call examines before it
	// answers with what it found and a nextToken.
	DefaultFilterScanLimit = 200_000
)

// Options configure a Service. The zero value is ready to use.
type Options struct {
	// Now is the clock (default time.Now): ingestion times, the PutLogEvents time rules and
	// retention are computed from it.
	Now func() time.Time
	// Logger receives retention and metric-emission messages (default: discarded).
	Logger *slog.Logger
	// Metrics receives the data points of metric filters (see also SetMetricSink).
	Metrics MetricSink
	// RetentionInterval is how often Run deletes expired events (default
	// DefaultRetentionInterval).
	RetentionInterval time.Duration
	// MaxEventBytes is the largest message PutLogEvents accepts (default
	// DefaultMaxEventBytes).
	MaxEventBytes int
	// FilterScanLimit bounds the events one FilterLogEvents call examines (default
	// DefaultFilterScanLimit).
	FilterScanLimit int
}

// Service is the CloudWatch Logs service. It is safe for concurrent use.
type Service struct {
	db        *pebble.DB
	log       *slog.Logger
	now       func() time.Time
	tokenKey  []byte
	interval  time.Duration
	maxEvent  int
	scanLimit int
	seq       atomic.Uint64
	sink      atomic.Pointer[sinkBox]

	// mu orders changes of structure (groups, streams, filters, retention, tags; exclusive)
	// against puts and retention (shared), so that a put never writes into a group or stream
	// being deleted and always sees one consistent set of metric filters.
	mu      sync.RWMutex
	filters map[string][]*metricFilter // by groupID; guarded by mu
}

type sinkBox struct{ s MetricSink }

// Open opens (or creates) the service's database in dir.
func Open(dir string, opts Options) (*Service, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.RetentionInterval <= 0 {
		opts.RetentionInterval = DefaultRetentionInterval
	}
	if opts.MaxEventBytes <= 0 {
		opts.MaxEventBytes = DefaultMaxEventBytes
	}
	if opts.FilterScanLimit <= 0 {
		opts.FilterScanLimit = DefaultFilterScanLimit
	}
	db, key, seq, err := openDB(dir, opts.Logger)
	if err != nil {
		return nil, err
	}
	s := &Service{
		db:        db,
		log:       opts.Logger,
		now:       opts.Now,
		tokenKey:  key,
		interval:  opts.RetentionInterval,
		maxEvent:  opts.MaxEventBytes,
		scanLimit: opts.FilterScanLimit,
		filters:   make(map[string][]*metricFilter),
	}
	s.seq.Store(seq)
	if opts.Metrics != nil {
		s.SetMetricSink(opts.Metrics)
	}
	if err := s.loadFilters(); err != nil {
		_ = db.Close()
		return nil, err
	}
	return s, nil
}

// Close closes the database. Run and every call must have returned.
func (s *Service) Close() error {
	if err := s.db.Close(); err != nil {
		return internal("close", err)
	}
	return nil
}

// SetMetricSink sets where metric filters' data points go; nil drops them.
func (s *Service) SetMetricSink(m MetricSink) {
	if m == nil {
		s.sink.Store(nil)
		return
	}
	s.sink.Store(&sinkBox{m})
}

const tokenKeyLen = 32

func newTokenKey() []byte {
	key := make([]byte, tokenKeyLen)
	_, _ = rand.Read(key) // crypto/rand.Read never fails
	return key
}

// clockMS is the current time in epoch milliseconds.
func (s *Service) clockMS() int64 { return s.now().UnixMilli() }

// Service returns the service definition to register with a server.Server.
func (s *Service) Service() *server.Service {
	svc := &server.Service{
		Name:         ServiceName,
		EventSource:  EventSource,
		TargetPrefix: TargetPrefix,
		Wire:         awsproto.Wire{Protocol: awsproto.JSON, ContentType: awsproto.ContentTypeJSON11},
	}
	svc.Add(
		server.Op("CreateLogGroup", server.OpOptions[createLogGroupInput]{
			Resource: func(c *server.Call, in *createLogGroupInput) string { return groupResource(c, in.LogGroupName) },
		}, s.createLogGroup),
		server.Op("DeleteLogGroup", server.OpOptions[groupNameInput]{Resource: groupNameResource}, s.deleteLogGroup),
		server.Op("DescribeLogGroups", server.OpOptions[describeLogGroupsInput]{
			ReadOnly: true,
			Resource: func(c *server.Call, in *describeLogGroupsInput) string { return groupResource(c, "") },
		}, s.describeLogGroups),
		server.Op("PutRetentionPolicy", server.OpOptions[putRetentionInput]{
			Resource: func(c *server.Call, in *putRetentionInput) string { return groupResource(c, in.LogGroupName) },
		}, s.putRetentionPolicy),
		server.Op("DeleteRetentionPolicy", server.OpOptions[groupNameInput]{Resource: groupNameResource}, s.deleteRetentionPolicy),
		server.Op("PutLogGroupDeletionProtection", server.OpOptions[deletionProtectionInput]{
			Resource: func(c *server.Call, in *deletionProtectionInput) string {
				return groupResource(c, identifierName(in.LogGroupIdentifier))
			},
		}, s.putDeletionProtection),

		server.Op("CreateLogStream", server.OpOptions[streamInput]{Resource: streamGroupResource}, s.createLogStream),
		server.Op("DeleteLogStream", server.OpOptions[streamInput]{Resource: streamGroupResource}, s.deleteLogStream),
		server.Op("DescribeLogStreams", server.OpOptions[describeLogStreamsInput]{
			ReadOnly: true,
			Resource: func(c *server.Call, in *describeLogStreamsInput) string {
				return groupResource(c, firstNonEmpty(in.LogGroupName, identifierName(in.LogGroupIdentifier)))
			},
		}, s.describeLogStreams),

		server.Op("PutLogEvents", server.OpOptions[putLogEventsInput]{
			Resource: func(c *server.Call, in *putLogEventsInput) string {
				return streamARN(c.Region, c.Account(), in.LogGroupName, in.LogStreamName)
			},
		}, s.putLogEvents),
		server.Op("GetLogEvents", server.OpOptions[getLogEventsInput]{
			ReadOnly: true,
			Resource: func(c *server.Call, in *getLogEventsInput) string {
				return streamARN(c.Region, c.Account(), firstNonEmpty(in.LogGroupName, identifierName(in.LogGroupIdentifier)), in.LogStreamName)
			},
		}, s.getLogEvents),
		server.Op("FilterLogEvents", server.OpOptions[filterLogEventsInput]{
			ReadOnly: true,
			Resource: func(c *server.Call, in *filterLogEventsInput) string {
				return groupResource(c, firstNonEmpty(in.LogGroupName, identifierName(in.LogGroupIdentifier)))
			},
		}, s.filterLogEvents),

		server.Op("PutMetricFilter", server.OpOptions[putMetricFilterInput]{
			Resource: func(c *server.Call, in *putMetricFilterInput) string { return groupResource(c, in.LogGroupName) },
		}, s.putMetricFilter),
		server.Op("DeleteMetricFilter", server.OpOptions[deleteMetricFilterInput]{
			Resource: func(c *server.Call, in *deleteMetricFilterInput) string { return groupResource(c, in.LogGroupName) },
		}, s.deleteMetricFilter),
		server.Op("DescribeMetricFilters", server.OpOptions[describeMetricFiltersInput]{
			ReadOnly: true,
			Resource: func(c *server.Call, in *describeMetricFiltersInput) string { return groupResource(c, in.LogGroupName) },
		}, s.describeMetricFilters),
		server.Op("TestMetricFilter", server.OpOptions[testMetricFilterInput]{ReadOnly: true}, s.testMetricFilter),

		server.Op("TagResource", server.OpOptions[tagResourceInput]{
			Resource: func(c *server.Call, in *tagResourceInput) string { return orStar(in.ResourceArn) },
		}, s.tagResource),
		server.Op("UntagResource", server.OpOptions[untagResourceInput]{
			Resource: func(c *server.Call, in *untagResourceInput) string { return orStar(in.ResourceArn) },
		}, s.untagResource),
		server.Op("ListTagsForResource", server.OpOptions[listTagsForResourceInput]{
			ReadOnly: true,
			Resource: func(c *server.Call, in *listTagsForResourceInput) string { return orStar(in.ResourceArn) },
		}, s.listTagsForResource),
		server.Op("TagLogGroup", server.OpOptions[tagLogGroupInput]{
			Resource: func(c *server.Call, in *tagLogGroupInput) string { return groupResource(c, in.LogGroupName) },
		}, s.tagLogGroup),
		server.Op("UntagLogGroup", server.OpOptions[untagLogGroupInput]{
			Resource: func(c *server.Call, in *untagLogGroupInput) string { return groupResource(c, in.LogGroupName) },
		}, s.untagLogGroup),
		server.Op("ListTagsLogGroup", server.OpOptions[groupNameInput]{ReadOnly: true, Resource: groupNameResource}, s.listTagsLogGroup),
	)
	for _, name := range unsupportedOperations {
		svc.Add(unsupportedOp(name))
	}
	return svc
}

// groupNameInput is the input of operations that take only a logGroupName.
type groupNameInput struct {
	LogGroupName string `json:"logGroupName"`
}

func groupNameResource(c *server.Call, in *groupNameInput) string {
	return groupResource(c, in.LogGroupName)
}

// identifierName is the group name a logGroupIdentifier designates, for authorization only
// (the handler validates it).
func identifierName(id string) string {
	if _, _, name, ok := parseGroupARN(id); ok {
		return name
	}
	return id
}

func orStar(s string) string { return firstNonEmpty(s, "*") }

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// unsupportedOperations are the operations of the CloudWatch Logs model that this server does
// not implement.
var unsupportedOperations = []string{
	"AssociateKmsKey", "AssociateSourceToS3TableIntegration", "CancelExportTask",
	"CancelImportTask", "CreateDelivery", "CreateExportTask", "CreateImportTask",
	"CreateLogAnomalyDetector", "CreateLookupTable", "CreateScheduledQuery", "DeleteAccountPolicy",
	"DeleteDataProtectionPolicy", "DeleteDelivery", "DeleteDeliveryDestination",
	"DeleteDeliveryDestinationPolicy", "DeleteDeliverySource", "DeleteDestination",
	"DeleteIndexPolicy", "DeleteIntegration", "DeleteLogAnomalyDetector", "DeleteLookupTable",
	"DeleteQueryDefinition", "DeleteResourcePolicy", "DeleteScheduledQuery",
	"DeleteSubscriptionFilter", "DeleteTransformer", "DescribeAccountPolicies",
	"DescribeConfigurationTemplates", "DescribeDeliveries", "DescribeDeliveryDestinations",
	"DescribeDeliverySources", "DescribeDestinations", "DescribeExportTasks",
	"DescribeFieldIndexes", "DescribeImportTaskBatches", "DescribeImportTasks",
	"DescribeIndexPolicies", "DescribeLookupTables", "DescribeQueries", "DescribeQueryDefinitions",
	"DescribeResourcePolicies", "DescribeSubscriptionFilters", "DisassociateKmsKey",
	"DisassociateSourceFromS3TableIntegration", "GetDataProtectionPolicy", "GetDelivery",
	"GetDeliveryDestination", "GetDeliveryDestinationPolicy", "GetDeliverySource",
	"GetIntegration", "GetLogAnomalyDetector", "GetLogFields", "GetLogGroupFields", "GetLogObject",
	"GetLogRecord", "GetLookupTable", "GetQueryResults", "GetScheduledQuery",
	"GetScheduledQueryHistory", "GetTransformer", "ListAggregateLogGroupSummaries",
	"ListAnomalies", "ListIntegrations", "ListLogAnomalyDetectors", "ListLogGroups",
	"ListLogGroupsForQuery", "ListScheduledQueries", "ListSourcesForS3TableIntegration",
	"PutAccountPolicy", "PutBearerTokenAuthentication", "PutDataProtectionPolicy",
	"PutDeliveryDestination", "PutDeliveryDestinationPolicy", "PutDeliverySource",
	"PutDestination", "PutDestinationPolicy", "PutIndexPolicy", "PutIntegration",
	"PutQueryDefinition", "PutResourcePolicy", "PutSubscriptionFilter", "PutTransformer",
	"StartLiveTail", "StartQuery", "StopQuery", "TestTransformer", "UpdateAnomaly",
	"UpdateDeliveryConfiguration", "UpdateLogAnomalyDetector", "UpdateLookupTable",
	"UpdateScheduledQuery",
}

// unsupportedOp registers an operation that authorizes like any other (so that a denied
// caller learns nothing more) and then fails with UnsupportedOperationException. Its input is
// kept as sent, so that the call's record shows what was asked.
func unsupportedOp(name string) *server.Operation {
	readOnly := strings.HasPrefix(name, "Get") || strings.HasPrefix(name, "List") ||
		strings.HasPrefix(name, "Describe") || strings.HasPrefix(name, "Test")
	return server.Op(name, server.OpOptions[map[string]any]{ReadOnly: readOnly},
		func(ctx context.Context, c *server.Call, in *map[string]any) (*server.NoOutput, error) {
			return nil, errUnsupported(name)
		})
}

// GroupExists reports whether the log group exists in the account and region.
func (s *Service) GroupExists(acct, region, name string) (bool, error) {
	g, err := s.loadGroup(acct, region, name)
	return g != nil, err
}

// groupID names a group in the filter cache.
func groupID(acct, region, group string) string {
	return acct + "\x00" + region + "\x00" + group
}

var errStop = errors.New("stop")
