// Package cloudtrail serves the control plane of the AWS CloudTrail API (2013-11-01, JSON 1.1,
// X-Amz-Target prefix com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101): trails, event
// and Insights selectors, tags and trail status.
//
// A trail belongs to an account and a home region — the region of the CreateTrail request —
// and is named by its ARN arn:aws:cloudtrail:<home region>:<account>:trail/<name>. A
// multi-region trail is also visible, as a shadow trail, in every other region; it can be read
// there but changed only in its home region. Each trail is one JSON document in the metadata
// store (see Trail), so every change is atomic and survives restarts.
//
// Operations of the API that this server does not implement yet (Lake, channels, imports,
// dashboards, ...) are registered anyway and fail with UnsupportedOperationException, so that
// no client mistakes silence for success. LookupEvents and ListPublicKeys are served by other
// packages; pass their operations to Services, which registers everything under both
// X-Amz-Target prefixes that clients send (botocore's long one and the Smithy SDKs'
// CloudTrail_20131101).
//
// Destinations are checked when they are set: the S3 bucket must exist and be writable
// (through the Buckets interface) and an SNS topic must exist (through Topics). CloudWatch
// Logs and KMS keys need services that OpenTrail does not host yet, so setting them fails
// with the error AWS uses for a bad value of that member, worded to say why. Deliberate
// differences from AWS and moto are listed in
// docs/compatibility.md.
package cloudtrail

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/opentrail/opentrail/internal/awsproto"
	"github.com/opentrail/opentrail/internal/kv"
	"github.com/opentrail/opentrail/internal/server"
)

// Service identity on the wire.
const (
	ServiceName = "cloudtrail"
	EventSource = "cloudtrail.amazonaws.com"
	// TargetPrefix is the X-Amz-Target prefix of the botocore model, which the AWS CLI and
	// boto3 send.
	TargetPrefix = "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101"
	// SmithyTargetPrefix is the prefix that Smithy-generated SDKs (aws-sdk-go-v2, the AWS SDK
	// for JavaScript v3, ...) send: the Smithy service shape name alone. AWS accepts both.
	SmithyTargetPrefix = "CloudTrail_20131101"
	resourceType       = "AWS::CloudTrail::Trail"
)

// Buckets is what the service needs of bucket storage: proof that a trail's bucket exists and
// accepts writes. CheckWritable returns an error wrapping blob.ErrBucketNotFound for a missing
// bucket and blob.ErrAccessDenied for one that refuses writes; blob.Dir implements it.
type Buckets interface {
	CheckWritable(ctx context.Context, bucket string) error
}

// Topics resolves a trail's SnsTopicName (a topic name in the trail's home region, or a topic
// ARN) to the ARN of an existing topic of the account.
type Topics interface {
	TopicARN(acct, region, nameOrARN string) (arn string, ok bool, err error)
}

// LogGroups tells whether a CloudWatch Logs log group exists (CloudWatchLogsLogGroupArn).
type LogGroups interface {
	GroupExists(acct, region, name string) (bool, error)
}

// Roles checks a CloudWatchLogsRoleArn: that service may assume the role of account acct and
// is allowed every one of actions on resource with it; reason says why not.
type Roles interface {
	ServiceRole(acct, roleARN, service string, actions []string, resource string) (ok bool, reason string)
}

// Options configure a Service.
type Options struct {
	Store   *kv.Store // required: where trails are kept
	Buckets Buckets   // required: checks S3BucketName destinations
	Topics  Topics    // resolves SnsTopicName; without it, setting a topic fails
	// LogGroups and Roles check CloudWatch Logs destinations; without them, setting one fails.
	LogGroups LogGroups
	Roles     Roles
	// JournalPosition returns the sequence number of the last journaled record; StartLogging
	// and StopLogging note it so that delivery can tell which records fall in a logging period.
	JournalPosition func() uint64
	Now             func() time.Time // clock; default time.Now
	Logger          *slog.Logger     // default discards
}

// Service is the CloudTrail control plane.
type Service struct {
	store      *kv.Store
	buckets    Buckets
	topics     Topics
	logGroups  LogGroups
	roles      Roles
	journalPos func() uint64
	now        func() time.Time
	log        *slog.Logger
	pageSize   int // ListTrails page size

	// mu serialises changes, so that limits and name uniqueness, which are checked across an
	// account's trails, hold.
	mu sync.Mutex
}

// defaultPageSize is the number of trails a ListTrails page holds.
const defaultPageSize = 50

// New returns the service.
func New(opts Options) (*Service, error) {
	if opts.Store == nil {
		return nil, errors.New("cloudtrail: Options.Store is required")
	}
	if opts.Buckets == nil {
		return nil, errors.New("cloudtrail: Options.Buckets is required")
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &Service{store: opts.Store, buckets: opts.Buckets, topics: opts.Topics, logGroups: opts.LogGroups, roles: opts.Roles, journalPos: opts.JournalPosition, now: opts.Now, log: opts.Logger, pageSize: defaultPageSize}, nil
}

// Services returns the service definitions to register with a server.Server: one per
// X-Amz-Target prefix that clients send (TargetPrefix and SmithyTargetPrefix), sharing one set
// of operations. Register all of them, or the Go SDK's requests find no service. extra adds
// operations served by other packages (LookupEvents, ListPublicKeys) to the same services,
// since one X-Amz-Target prefix routes to one server.Service.
func (s *Service) Services(extra ...*server.Operation) []*server.Service {
	svc := s.Service(extra...)
	alias := *svc
	alias.TargetPrefix = SmithyTargetPrefix
	return []*server.Service{svc, &alias}
}

// Service returns the service definition for the botocore X-Amz-Target prefix (TargetPrefix)
// only, with the extra operations added; see Services for the definitions that serve every
// client.
func (s *Service) Service(extra ...*server.Operation) *server.Service {
	svc := &server.Service{
		Name:         ServiceName,
		EventSource:  EventSource,
		TargetPrefix: TargetPrefix,
		// Every CloudTrail error shape has one member, "Message" with a capital M.
		Wire: awsproto.Wire{Protocol: awsproto.JSON, ContentType: awsproto.ContentTypeJSON11, MessageKey: "Message"},
	}
	svc.Add(
		server.Op("CreateTrail", server.OpOptions[createTrailInput]{
			Resource: func(c *server.Call, in *createTrailInput) string { return TrailARN(c.Region, c.Account(), in.Name) },
		}, s.createTrail),
		server.Op("UpdateTrail", server.OpOptions[updateTrailInput]{
			Resource: func(c *server.Call, in *updateTrailInput) string { return resourceARN(c.Region, c.Account(), in.Name) },
		}, s.updateTrail),
		server.Op("DeleteTrail", server.OpOptions[nameInput]{Resource: nameResource}, s.deleteTrail),
		server.Op("GetTrail", server.OpOptions[nameInput]{ReadOnly: true, Resource: nameResource}, s.getTrail),
		server.Op("DescribeTrails", server.OpOptions[describeTrailsInput]{ReadOnly: true}, s.describeTrails),
		server.Op("ListTrails", server.OpOptions[listTrailsInput]{ReadOnly: true}, s.listTrails),
		server.Op("GetTrailStatus", server.OpOptions[nameInput]{ReadOnly: true, Resource: nameResource}, s.getTrailStatus),
		server.Op("StartLogging", server.OpOptions[nameInput]{Resource: nameResource}, s.startLogging),
		server.Op("StopLogging", server.OpOptions[nameInput]{Resource: nameResource}, s.stopLogging),
		server.Op("PutEventSelectors", server.OpOptions[putEventSelectorsInput]{
			Resource: func(c *server.Call, in *putEventSelectorsInput) string {
				return resourceARN(c.Region, c.Account(), in.TrailName)
			},
		}, s.putEventSelectors),
		server.Op("GetEventSelectors", server.OpOptions[getEventSelectorsInput]{
			ReadOnly: true,
			Resource: func(c *server.Call, in *getEventSelectorsInput) string {
				return resourceARN(c.Region, c.Account(), in.TrailName)
			},
		}, s.getEventSelectors),
		server.Op("PutInsightSelectors", server.OpOptions[putInsightSelectorsInput]{
			Resource: func(c *server.Call, in *putInsightSelectorsInput) string {
				return insightResource(c, in.TrailName)
			},
		}, s.putInsightSelectors),
		server.Op("GetInsightSelectors", server.OpOptions[getInsightSelectorsInput]{
			ReadOnly: true,
			Resource: func(c *server.Call, in *getInsightSelectorsInput) string {
				return insightResource(c, in.TrailName)
			},
		}, s.getInsightSelectors),
		server.Op("AddTags", server.OpOptions[tagsInput]{Resource: tagResource}, s.addTags),
		server.Op("RemoveTags", server.OpOptions[tagsInput]{Resource: tagResource}, s.removeTags),
		server.Op("ListTags", server.OpOptions[listTagsInput]{ReadOnly: true}, s.listTags),
	)
	for _, name := range unsupportedOperations {
		svc.Add(unsupportedOp(name))
	}
	svc.Add(extra...)
	return svc
}

// nameInput is the input of operations that take only a trail's Name (or ARN).
type nameInput struct {
	Name string `json:"Name"`
}

func nameResource(c *server.Call, in *nameInput) string {
	return resourceARN(c.Region, c.Account(), in.Name)
}

// unsupportedOperations are the operations of the CloudTrail model that this server does not
// implement yet. LookupEvents and ListPublicKeys are implemented elsewhere and not listed.
var unsupportedOperations = []string{
	"CancelQuery", "CreateChannel", "CreateDashboard", "CreateEventDataStore",
	"DeleteChannel", "DeleteDashboard", "DeleteEventDataStore", "DeleteResourcePolicy",
	"DeregisterOrganizationDelegatedAdmin", "DescribeQuery", "DisableFederation",
	"EnableFederation", "GenerateQuery", "GetChannel", "GetDashboard", "GetEventConfiguration",
	"GetEventDataStore", "GetImport", "GetQueryResults", "GetResourcePolicy", "ListChannels",
	"ListDashboards", "ListEventDataStores", "ListImportFailures", "ListImports",
	"ListInsightsData", "ListInsightsMetricData", "ListQueries", "PutEventConfiguration",
	"PutResourcePolicy", "RegisterOrganizationDelegatedAdmin", "RestoreEventDataStore",
	"SearchSampleQueries", "StartDashboardRefresh", "StartEventDataStoreIngestion",
	"StartImport", "StartQuery", "StopEventDataStoreIngestion", "StopImport", "UpdateChannel",
	"UpdateDashboard", "UpdateEventDataStore",
}

// unsupportedOp registers an operation that authorizes like any other (so that a denied
// caller learns nothing more) and then fails with UnsupportedOperationException. Its input is
// kept as sent, so that the call's record shows what was asked.
func unsupportedOp(name string) *server.Operation {
	readOnly := strings.HasPrefix(name, "Get") || strings.HasPrefix(name, "List") ||
		strings.HasPrefix(name, "Describe") || strings.HasPrefix(name, "Search")
	return server.Op(name, server.OpOptions[map[string]any]{ReadOnly: readOnly},
		func(ctx context.Context, c *server.Call, in *map[string]any) (*server.NoOutput, error) {
			return nil, errUnsupported(name)
		})
}

// lookup finds the trail that a Name/TrailName input designates for a read: a name means the
// trail of that name whose home region is the request region; an ARN means that trail, in
// whatever region (shadow trails of multi-region trails are read by ARN).
func (s *Service) lookup(c *server.Call, nameOrARN string) (*Trail, error) {
	ref, err := parseTrailRef(c.Account(), c.Region, nameOrARN)
	if err != nil {
		return nil, err
	}
	t, ok, err := s.load(ref.Account, ref.Region, ref.Name)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, errTrailNotFound(ref.ARN(), c.Account())
	}
	return t, nil
}

// mutate applies fn to the designated trail and saves it, under the service lock. The trail
// must be changed from its home region (InvalidHomeRegionException). fn may refuse the change
// by returning an error; nothing is saved then.
func (s *Service) mutate(c *server.Call, op, nameOrARN string, fn func(t *Trail) error) (*Trail, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, err := s.lookup(c, nameOrARN)
	if err != nil {
		return nil, err
	}
	if t.HomeRegion != c.Region {
		return nil, errHomeRegion(op, t.ARN(), t.HomeRegion, c.Region)
	}
	if err := fn(t); err != nil {
		return nil, err
	}
	t.UpdatedAt = s.clock()
	if err := s.save(t); err != nil {
		return nil, err
	}
	c.AddResource(resourceType, t.ARN())
	return t, nil
}
