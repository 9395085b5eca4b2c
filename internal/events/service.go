// Package events serves the Amazon EventBridge API (2015-10-07, JSON 1.1, X-Amz-Target prefix
// AWSEvents, SigV4 signing name "events"): event buses, rules with event patterns, targets,
// PutEvents and TestEventPattern, connections and API destinations; and it is the event bus
// consumer of the journal: every captured CloudTrail record becomes an event on the default
// bus of its account and region, in AWS's envelope, and is routed to the targets of the
// matching rules (bus.go, targets.go).
//
// Rules, buses, connections and API destinations are kept in the metadata store (internal/kv,
// layout in store.go) and cached in memory, per account, region and bus; the rules of a bus
// are compiled into an eventpattern.Set when they change. A request sees only its caller's
// account's resources in its own region. The default bus always exists.
//
// Delivery is at least once and durable: a matching event becomes a delivery in the store in
// the same batch that advances the consumer's cursor, and deliveries that fail are retried
// with exponential backoff for up to 24 hours (or the target's RetryPolicy), then sent to the
// target's dead-letter target, or kept under events/dead/ and logged when it has none.
//
// Operations of the model that this server does not implement are registered anyway and fail
// with UnsupportedOperationException, so that no client mistakes silence for success.
package events

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/opentrail/opentrail/internal/awsproto"
	"github.com/opentrail/opentrail/internal/eventpattern"
	"github.com/opentrail/opentrail/internal/kv"
	"github.com/opentrail/opentrail/internal/secret"
	"github.com/opentrail/opentrail/internal/server"
)

// Service identity on the wire.
const (
	ServiceName  = "events"
	EventSource  = "events.amazonaws.com"
	TargetPrefix = "AWSEvents"
	DefaultBus   = "default"
)

// Limits of AWS.
const (
	maxTargetsPerRule = 5
	maxTargetsPerCall = 10
	maxPutEvents      = 10
	maxPutEventsBytes = 256 << 10
	maxRulesPerBus    = 300
	maxBuses          = 100
)

// Topics publishes to SNS topics (satisfied by *sns.Service).
type Topics interface {
	PublishInternal(ctx context.Context, topicARN, subject, message string) (messageID string, err error)
}

// LogGroups puts one event into a stream of a CloudWatch Logs group, creating the stream when
// it is missing (an adapter over logs.PutInternal).
type LogGroups interface {
	PutEvent(ctx context.Context, acct, region, group, stream string, t time.Time, message string) error
}

// Options configure a Service.
type Options struct {
	Store *kv.Store // required
	// Box seals connection secrets (API keys, passwords) in the store; nil stores them plain.
	Box       *secret.Box
	Topics    Topics    // SNS targets; nil makes them fail (and retry)
	LogGroups LogGroups // CloudWatch Logs targets; nil makes them fail (and retry)
	// HTTPClient makes API destination calls (default: a client with a 5 s timeout, as AWS's
	// API destinations allow 5 s).
	HTTPClient *http.Client
	Now        func() time.Time
	Logger     *slog.Logger
	// RetryMin and RetryMax bound the backoff of failed deliveries (default 1 s to 5 min);
	// MaxEventAge is how long a delivery is retried (default 24 h).
	RetryMin, RetryMax, MaxEventAge time.Duration
}

// Service is the EventBridge service. It is safe for concurrent use.
type Service struct {
	opts  Options
	store *kv.Store
	log   *slog.Logger
	now   func() time.Time
	http  *http.Client

	mu    sync.RWMutex
	buses map[busRef]*bus // guarded by mu
	conns map[resRef]*connection
	dests map[resRef]*apiDestination

	q      *queue
	cursor atomic.Uint64 // the last journal record routed

	paceMu   sync.Mutex
	paceNext map[string]time.Time // API destination ARN → earliest time of its next call
}

// New loads the service's state from the store.
func New(opts Options) (*Service, error) {
	if opts.Store == nil {
		return nil, errors.New("events: Store is required")
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.HTTPClient == nil {
		opts.HTTPClient = &http.Client{Timeout: 5 * time.Second}
	}
	if opts.RetryMin <= 0 {
		opts.RetryMin = time.Second
	}
	if opts.RetryMax < opts.RetryMin {
		opts.RetryMax = max(5*time.Minute, opts.RetryMin)
	}
	if opts.MaxEventAge <= 0 {
		opts.MaxEventAge = 24 * time.Hour
	}
	s := &Service{
		opts: opts, store: opts.Store, log: opts.Logger, now: opts.Now, http: opts.HTTPClient,
		buses: map[busRef]*bus{}, conns: map[resRef]*connection{}, dests: map[resRef]*apiDestination{},
	}
	if err := s.load(); err != nil {
		return nil, err
	}
	if err := s.loadCursor(); err != nil {
		return nil, err
	}
	q, err := newQueue(s)
	if err != nil {
		return nil, err
	}
	s.q = q
	return s, nil
}

// Service returns the service definition to register with a server.Server.
func (s *Service) Service() *server.Service {
	svc := &server.Service{
		Name:         ServiceName,
		EventSource:  EventSource,
		TargetPrefix: TargetPrefix,
		Wire:         awsproto.Wire{Protocol: awsproto.JSON, ContentType: awsproto.ContentTypeJSON11},
	}
	svc.Add(
		server.Op("CreateEventBus", server.OpOptions[createEventBusInput]{
			Resource: func(c *server.Call, in *createEventBusInput) string { return busARN(c.Region, c.Account(), in.Name) },
		}, s.createEventBus),
		server.Op("DeleteEventBus", server.OpOptions[nameInput]{
			Resource: func(c *server.Call, in *nameInput) string { return busARN(c.Region, c.Account(), in.Name) },
		}, s.deleteEventBus),
		server.Op("DescribeEventBus", server.OpOptions[nameInput]{
			ReadOnly: true,
			Resource: func(c *server.Call, in *nameInput) string { return busARN(c.Region, c.Account(), busName(in.Name)) },
		}, s.describeEventBus),
		server.Op("ListEventBuses", server.OpOptions[listInput]{ReadOnly: true}, s.listEventBuses),

		server.Op("PutRule", server.OpOptions[putRuleInput]{
			Resource: func(c *server.Call, in *putRuleInput) string { return ruleARN(c, in.EventBusName, in.Name) },
		}, s.putRule),
		server.Op("DescribeRule", server.OpOptions[ruleInput]{ReadOnly: true, Resource: ruleResource}, s.describeRule),
		server.Op("DeleteRule", server.OpOptions[ruleInput]{Resource: ruleResource}, s.deleteRule),
		server.Op("EnableRule", server.OpOptions[ruleInput]{Resource: ruleResource}, s.enableRule),
		server.Op("DisableRule", server.OpOptions[ruleInput]{Resource: ruleResource}, s.disableRule),
		server.Op("ListRules", server.OpOptions[listRulesInput]{ReadOnly: true}, s.listRules),
		server.Op("PutTargets", server.OpOptions[putTargetsInput]{
			Resource: func(c *server.Call, in *putTargetsInput) string { return ruleARN(c, in.EventBusName, in.Rule) },
		}, s.putTargets),
		server.Op("RemoveTargets", server.OpOptions[removeTargetsInput]{
			Resource: func(c *server.Call, in *removeTargetsInput) string { return ruleARN(c, in.EventBusName, in.Rule) },
		}, s.removeTargets),
		server.Op("ListTargetsByRule", server.OpOptions[listTargetsInput]{
			ReadOnly: true,
			Resource: func(c *server.Call, in *listTargetsInput) string { return ruleARN(c, in.EventBusName, in.Rule) },
		}, s.listTargetsByRule),
		server.Op("ListRuleNamesByTarget", server.OpOptions[listRuleNamesByTargetInput]{ReadOnly: true}, s.listRuleNamesByTarget),
		server.Op("PutEvents", server.OpOptions[putEventsInput]{}, s.putEvents),
		server.Op("TestEventPattern", server.OpOptions[testEventPatternInput]{ReadOnly: true}, s.testEventPattern),

		server.Op("TagResource", server.OpOptions[tagResourceInput]{
			Resource: func(c *server.Call, in *tagResourceInput) string { return orStar(in.ResourceARN) },
		}, s.tagResource),
		server.Op("UntagResource", server.OpOptions[untagResourceInput]{
			Resource: func(c *server.Call, in *untagResourceInput) string { return orStar(in.ResourceARN) },
		}, s.untagResource),
		server.Op("ListTagsForResource", server.OpOptions[listTagsInput]{
			ReadOnly: true,
			Resource: func(c *server.Call, in *listTagsInput) string { return orStar(in.ResourceARN) },
		}, s.listTagsForResource),

		server.Op("CreateConnection", server.OpOptions[createConnectionInput]{}, s.createConnection),
		server.Op("DescribeConnection", server.OpOptions[nameInput]{ReadOnly: true}, s.describeConnection),
		server.Op("DeleteConnection", server.OpOptions[nameInput]{}, s.deleteConnection),
		server.Op("ListConnections", server.OpOptions[listInput]{ReadOnly: true}, s.listConnections),
		server.Op("CreateApiDestination", server.OpOptions[createAPIDestinationInput]{}, s.createAPIDestination),
		server.Op("DescribeApiDestination", server.OpOptions[nameInput]{ReadOnly: true}, s.describeAPIDestination),
		server.Op("DeleteApiDestination", server.OpOptions[nameInput]{}, s.deleteAPIDestination),
		server.Op("ListApiDestinations", server.OpOptions[listInput]{ReadOnly: true}, s.listAPIDestinations),
	)
	for _, name := range []string{
		"ActivateEventSource", "CancelReplay", "CreateArchive", "CreateEndpoint", "CreatePartnerEventSource",
		"DeactivateEventSource", "DeauthorizeConnection", "DeleteArchive", "DeleteEndpoint", "DeletePartnerEventSource",
		"DescribeArchive", "DescribeEndpoint", "DescribeEventSource", "DescribePartnerEventSource", "DescribeReplay",
		"ListArchives", "ListEndpoints", "ListEventSources", "ListPartnerEventSourceAccounts", "ListPartnerEventSources",
		"ListReplays", "PutPartnerEvents", "PutPermission", "RemovePermission", "StartReplay",
		"UpdateApiDestination", "UpdateArchive", "UpdateConnection", "UpdateEndpoint",
		"UpdateEventBus",
	} {
		svc.Add(unsupportedOp(name))
	}
	return svc
}

// unsupportedOp authorizes the call (so a caller without permission learns nothing more) and
// then fails with UnsupportedOperationException.
func unsupportedOp(name string) *server.Operation {
	return server.Op(name, server.OpOptions[struct{}]{}, func(ctx context.Context, c *server.Call, in *struct{}) (*server.NoOutput, error) {
		return nil, errUnsupported(name)
	})
}

var (
	reRuleName = regexp.MustCompile(`^[\.\-_A-Za-z0-9]+$`)
	reBusName  = regexp.MustCompile(`^[/\.\-_A-Za-z0-9]+$`)
	reBusARN   = regexp.MustCompile(`^arn:aws[\w-]*:events:[a-z]+-[a-z]+-[\w-]+:[0-9]{12}:event-bus/([/\.\-_A-Za-z0-9]+)$`)
)

// busName resolves an EventBusNameOrArn: empty is the default bus.
func busName(v string) string {
	if v == "" {
		return DefaultBus
	}
	if m := reBusARN.FindStringSubmatch(v); m != nil {
		return m[1]
	}
	return v
}

func checkBusNameOrARN(member, v string) error {
	if v == "" {
		return nil
	}
	if len(v) > 1600 || (!reBusARN.MatchString(v) && !reBusName.MatchString(v)) {
		return errConstraint(v, member, `Member must satisfy regular expression pattern: (arn:aws[\w-]*:events:[a-z]+-[a-z]+-[\w-]+:[0-9]{12}:event-bus\/)?[/\.\-_A-Za-z0-9]+`)
	}
	return nil
}

func checkName(member, v string, max int, re *regexp.Regexp) error {
	if len(v) < 1 || len(v) > max {
		return errConstraint(v, member, "Member must have length less than or equal to "+itoa(max))
	}
	if !re.MatchString(v) {
		return errConstraint(v, member, "Member must satisfy regular expression pattern: "+strings.Trim(re.String(), "^$"))
	}
	return nil
}

func busARN(region, acct, name string) string {
	return "arn:aws:events:" + region + ":" + acct + ":event-bus/" + name
}

func ruleARN(c *server.Call, bus, name string) string {
	return ruleARNOf(c.Region, c.Account(), busName(bus), name)
}

func ruleARNOf(region, acct, bus, name string) string {
	if bus == DefaultBus {
		return "arn:aws:events:" + region + ":" + acct + ":rule/" + name
	}
	return "arn:aws:events:" + region + ":" + acct + ":rule/" + bus + "/" + name
}

func ruleResource(c *server.Call, in *ruleInput) string { return ruleARN(c, in.EventBusName, in.Name) }

// getBus returns a bus of the caller's account and region (the default bus always exists);
// s.mu must be held.
func (s *Service) getBusLocked(acct, region, name string) *bus {
	ref := busRef{acct, region, name}
	b := s.buses[ref]
	if b == nil && name == DefaultBus {
		b = &bus{Name: DefaultBus, rules: map[string]*rule{}}
		s.buses[ref] = b
	}
	return b
}

// compiled returns the compiled rule set of a bus, building it if rules changed; s.mu must be
// held (read or write).
func (b *bus) compiled() *eventpattern.Set[*rule] {
	b.setMu.Lock()
	defer b.setMu.Unlock()
	if b.set == nil {
		set := eventpattern.NewSet[*rule]()
		names := make([]string, 0, len(b.rules))
		for n := range b.rules {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			r := b.rules[n]
			if r.pattern != nil && r.State != StateDisabled {
				set.Add(r, r.pattern)
			}
		}
		b.set = set
	}
	return b.set
}

func itoa(n int) string {
	var b [20]byte
	i := len(b)
	neg := n < 0
	if neg {
		n = -n
	}
	for {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			break
		}
	}
	if neg {
		i--
		b[i] = '-'
	}
	return string(b[i:])
}
