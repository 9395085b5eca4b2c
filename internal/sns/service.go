// Package sns serves an Amazon SNS-compatible API (2010-03-31, Query protocol, SigV4 signing
// name "sns"): topics, subscriptions and publishing, with signed HTTP/S deliveries in AWS's
// JSON envelope and, when an SMTP relay is configured, email and email-json deliveries.
//
// Topics are named arn:aws:sns:<region>:<account>:<name> and live in one account and region;
// a request sees only the topics of its caller's account in its own region. Topics,
// subscriptions, confirmation tokens and deliveries not yet made are kept in the metadata
// store (internal/kv; layout in store.go) and in memory, so that they survive restarts.
//
// # Deliveries
//
// Publish (and PublishInternal, for OpenTrail's own notifications) stores one delivery per
// confirmed subscription in a single synced batch and returns; background workers POST them
// (see delivery.go). A delivery that fails with a server-side error (5xx, 429, a timeout or a
// connection error) is retried under the subscription's effective delivery policy — AWS's
// default is three retries 20 seconds apart — and dropped, with an error logged, when the
// policy is exhausted. A delivery refused with another status (3xx, 4xx) is dropped at once.
// The "second" of retry policies is Options.DelayUnit, so that tests run in milliseconds.
//
// Every message is signed (SignatureVersion 2, SHA256withRSA, unless the topic asks for 1) over
// AWS's string to sign, with an RSA key kept sealed in the metadata store; the matching
// self-signed certificate is served at the message's SigningCertURL, under Options.PublicURL.
// SubscribeURL and UnsubscribeURL point at this server too (ConfirmPath, UnsubscribePath) and
// work as unauthenticated GETs, as AWS's do. See docs/sns.md.
package sns

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/opentrail/opentrail"
	"github.com/opentrail/opentrail/internal/awsproto"
	"github.com/opentrail/opentrail/internal/kv"
	"github.com/opentrail/opentrail/internal/secret"
	"github.com/opentrail/opentrail/internal/server"
)

// Service identity on the wire.
const (
	ServiceName = "sns"
	EventSource = "sns.amazonaws.com"
	APIVersion  = "2010-03-31"
	XMLNS       = "http://sns.amazonaws.com/doc/2010-03-31/"
)

// Paths this service answers on the main listener, without authentication (register them as
// server.Config.Extra handlers; see Handler). The certificate's path is CertPath.
const (
	ConfirmPath     = "/sns/confirm"
	UnsubscribePath = "/sns/unsubscribe"
)

// SMTPConfig is an SMTP relay for email and email-json subscriptions: a host:port that
// accepts mail from this server without authentication, and the envelope and From address.
type SMTPConfig struct {
	Relay string
	From  string
}

// Options configure a Service.
type Options struct {
	Store *kv.Store   // required
	Box   *secret.Box // required: seals the message-signing key
	// PublicURL is this server's base URL as subscribers reach it, such as
	// "https://opentrail.example.com:8470"; SigningCertURL, SubscribeURL and UnsubscribeURL
	// start with it. Required.
	PublicURL string
	Now       func() time.Time // default time.Now
	Logger    *slog.Logger     // default discards
	// HTTPClient makes HTTP/S deliveries; default: a client with a 15-second timeout that
	// does not follow redirects.
	HTTPClient *http.Client
	// DelayUnit is the length of one second of a retry policy; default time.Second. Tests
	// shorten it.
	DelayUnit time.Duration
	// Workers is the number of deliveries made at once; default 16.
	Workers int
	// SMTP enables the email and email-json protocols; nil refuses them.
	SMTP *SMTPConfig
}

// Service is the SNS service.
type Service struct {
	store     *kv.Store
	now       func() time.Time
	log       *slog.Logger
	publicURL string
	smtp      *SMTPConfig
	signer    *signer
	pageSize  int
	maxTopics int

	// wmu serialises changes; mu guards the maps, which writers change only after the store
	// has the change (see commit). Published topics and subscriptions are immutable.
	wmu    sync.Mutex
	mu     sync.RWMutex
	topics map[topicRef]*topic
	subs   map[string]*subscription // by ARN
	tokens map[string]*token        // by tokenHash

	pendingDeliveries []*delivery // loaded from the store, handed to the engine by New
	engine            *engine
}

// defaultPageSize is the number of items of a ListTopics or ListSubscriptions page, as in AWS.
const defaultPageSize = 100

// New opens the service: it loads (or, the first time, creates) the signing key, loads the
// topics, subscriptions and pending deliveries, and starts the delivery workers. Close stops
// them.
func New(opts Options) (*Service, error) {
	if opts.Store == nil || opts.Box == nil {
		return nil, errors.New("sns: Options.Store and Options.Box are required")
	}
	u, err := url.Parse(opts.PublicURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, errors.New("sns: Options.PublicURL must be an absolute http or https URL")
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.DelayUnit <= 0 {
		opts.DelayUnit = time.Second
	}
	if opts.Workers <= 0 {
		opts.Workers = 16
	}
	if opts.HTTPClient == nil {
		opts.HTTPClient = &http.Client{
			Timeout:       deliveryTimeout,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
	}
	s := &Service{
		store:     opts.Store,
		now:       opts.Now,
		log:       opts.Logger,
		publicURL: strings.TrimRight(opts.PublicURL, "/"),
		smtp:      opts.SMTP,
		pageSize:  defaultPageSize,
		maxTopics: defaultMaxTopics,
		topics:    make(map[topicRef]*topic),
		subs:      make(map[string]*subscription),
		tokens:    make(map[string]*token),
	}
	if s.signer, err = loadSigner(opts.Store, opts.Box, s.now()); err != nil {
		return nil, err
	}
	if err := s.load(); err != nil {
		return nil, err
	}
	s.engine = newEngine(s, opts.HTTPClient, opts.DelayUnit, opts.Workers)
	s.engine.start(s.pendingDeliveries)
	s.pendingDeliveries = nil
	return s, nil
}

// Close stops the delivery workers. Deliveries in flight are abandoned and made again at the
// next start (deliveries are at least once).
func (s *Service) Close() error {
	s.engine.stop()
	return nil
}

// CertPath is the path of the signing certificate on this server.
func (s *Service) CertPath() string {
	return "/sns/SimpleNotificationService-" + s.signer.id + ".pem"
}

// SigningCertURL is the URL of the signing certificate that messages name.
func (s *Service) SigningCertURL() string { return s.publicURL + s.CertPath() }

// Service returns the service definition to register with a server.Server.
func (s *Service) Service() *server.Service {
	svc := &server.Service{
		Name:        ServiceName,
		EventSource: EventSource,
		APIVersion:  APIVersion,
		Wire:        awsproto.Wire{Protocol: awsproto.Query, XMLNamespace: XMLNS},
	}
	const ro, rw = true, false
	topicArn := func(c *server.Call, in *topicArnInput) string { return in.TopicArn }
	svc.Add(
		op("CreateTopic", rw, func(c *server.Call, in *createTopicInput) string {
			return TopicARNFor(c.Region, c.Account(), in.Name)
		}, s.createTopic),
		op("DeleteTopic", rw, topicArn, s.deleteTopic),
		op("ListTopics", ro, nil, s.listTopics),
		op("GetTopicAttributes", ro, topicArn, s.getTopicAttributes),
		op("SetTopicAttributes", rw, func(c *server.Call, in *setTopicAttributesInput) string { return in.TopicArn }, s.setTopicAttributes),
		op("Subscribe", rw, func(c *server.Call, in *subscribeInput) string { return in.TopicArn }, s.subscribe),
		op("ConfirmSubscription", rw, func(c *server.Call, in *confirmSubscriptionInput) string { return in.TopicArn }, s.confirmSubscription),
		op("Unsubscribe", rw, func(c *server.Call, in *subscriptionArnInput) string { return subscriptionResource(in.SubscriptionArn) }, s.unsubscribe),
		op("ListSubscriptions", ro, nil, s.listSubscriptions),
		op("ListSubscriptionsByTopic", ro, func(c *server.Call, in *listByTopicInput) string { return in.TopicArn }, s.listSubscriptionsByTopic),
		op("GetSubscriptionAttributes", ro, func(c *server.Call, in *subscriptionArnInput) string { return subscriptionResource(in.SubscriptionArn) }, s.getSubscriptionAttributes),
		op("SetSubscriptionAttributes", rw, func(c *server.Call, in *setSubscriptionAttributesInput) string {
			return subscriptionResource(in.SubscriptionArn)
		}, s.setSubscriptionAttributes),
		op("Publish", rw, func(c *server.Call, in *publishInput) string { return in.target() }, s.publish),
		op("TagResource", rw, func(c *server.Call, in *tagResourceInput) string { return in.ResourceArn }, s.tagResource),
		op("UntagResource", rw, func(c *server.Call, in *untagResourceInput) string { return in.ResourceArn }, s.untagResource),
		op("ListTagsForResource", ro, func(c *server.Call, in *resourceArnInput) string { return in.ResourceArn }, s.listTagsForResource),
	)
	for _, name := range unsupportedOperations {
		svc.Add(unsupportedOp(name))
	}
	return svc
}

// unsupportedOperations are the operations of the SNS model this server does not serve:
// mobile push, SMS, data protection, batch publishing and topic permissions.
var unsupportedOperations = []string{
	"AddPermission", "CheckIfPhoneNumberIsOptedOut", "CreatePlatformApplication",
	"CreatePlatformEndpoint", "CreateSMSSandboxPhoneNumber", "DeleteEndpoint",
	"DeletePlatformApplication", "DeleteSMSSandboxPhoneNumber", "GetDataProtectionPolicy",
	"GetEndpointAttributes", "GetPlatformApplicationAttributes", "GetSMSAttributes",
	"GetSMSSandboxAccountStatus", "ListEndpointsByPlatformApplication", "ListOriginationNumbers",
	"ListPhoneNumbersOptedOut", "ListPlatformApplications", "ListSMSSandboxPhoneNumbers",
	"OptInPhoneNumber", "PublishBatch", "PutDataProtectionPolicy", "RemovePermission",
	"SetEndpointAttributes", "SetPlatformApplicationAttributes", "SetSMSAttributes",
	"VerifySMSSandboxPhoneNumber",
}

// unsupportedOp registers an operation that authorizes like any other (so that a denied
// caller learns nothing more) and then fails with UnsupportedOperation. Its input is not
// decoded into members: the record shows no request parameters.
func unsupportedOp(name string) *server.Operation {
	readOnly := strings.HasPrefix(name, "Get") || strings.HasPrefix(name, "List") || strings.HasPrefix(name, "Check")
	return op(name, readOnly, nil, func(ctx context.Context, c *server.Call, in *server.NoOutput) (*server.NoOutput, error) {
		return nil, errUnsupported(name)
	})
}

// op builds an operation that authorizes "sns:<name>" on the resource computed from its input
// and answers a denial with SNS's AuthorizationError (403) rather than the generic
// AccessDenied.
func op[In, Out any](name string, readOnly bool, resource func(c *server.Call, in *In) string,
	h func(ctx context.Context, c *server.Call, in *In) (*Out, error)) *server.Operation {
	return server.Op(name, server.OpOptions[In]{ReadOnly: readOnly, NoAuthorize: true},
		func(ctx context.Context, c *server.Call, in *In) (*Out, error) {
			res := "*"
			if resource != nil {
				if r := resource(c, in); r != "" {
					res = r
				}
			}
			if err := authorize(c, ServiceName+":"+name, res); err != nil {
				return nil, err
			}
			return h(ctx, c, in)
		})
}

func authorize(c *server.Call, action, resource string) error {
	err := c.Authorize(action, resource)
	if e := opentrail.ErrorOf(err); e != nil && e.Code == "AccessDenied" {
		ae := *e
		ae.Code = CodeAuthorizationError
		return &ae
	}
	return err
}

// subscriptionResource is the resource a subscription's operations are authorized on: its
// topic's ARN, as IAM has no subscription resource type.
func subscriptionResource(arn string) string {
	if ref, ok := parseSubscriptionARN(arn); ok {
		return ref.Topic.ARN()
	}
	return arn
}
