package sns

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net/mail"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/google/uuid"

	"github.com/opentrail/opentrail/internal/kv"
	"github.com/opentrail/opentrail/internal/redact"
	"github.com/opentrail/opentrail/internal/server"
)

type subscribeInput struct {
	TopicArn              string
	Protocol              string
	Endpoint              string
	Attributes            map[string]string
	ReturnSubscriptionArn bool
}

type confirmSubscriptionInput struct {
	TopicArn                  string
	Token                     string
	AuthenticateOnUnsubscribe string
}

// MarshalJSON renders the input for the call's record with the token hidden: it confirms a
// subscription, so whoever can read the trail must not be able to use it.
func (in confirmSubscriptionInput) MarshalJSON() ([]byte, error) {
	type plain confirmSubscriptionInput
	p := plain(in)
	if p.Token != "" {
		p.Token = redact.Hidden
	}
	return json.Marshal(p)
}

type subscriptionArnInput struct{ SubscriptionArn string }

type listByTopicInput struct {
	TopicArn  string
	NextToken string
}

type setSubscriptionAttributesInput struct {
	SubscriptionArn string
	AttributeName   string
	AttributeValue  *string
}

const maxEndpoint = 2048

// checkEndpoint validates a subscription's protocol and endpoint.
func (s *Service) checkEndpoint(protocol, endpoint string) error {
	switch protocol {
	case "http", "https":
		u, err := url.Parse(endpoint)
		if err != nil || len(endpoint) > maxEndpoint || u.Host == "" || u.User != nil {
			if err == nil && !strings.EqualFold(u.Scheme, protocol) {
				return invalidParameter("Invalid parameter: Endpoint must match the specified protocol")
			}
			return invalidParameter("Invalid parameter: Endpoint")
		}
		if u.Scheme != protocol {
			return invalidParameter("Invalid parameter: Endpoint must match the specified protocol")
		}
		return nil
	case "email", "email-json":
		if s.smtp == nil {
			return invalidParameter("Invalid parameter: Protocol Reason: %s delivery needs an SMTP relay, and this server has none configured (--smtp-relay)", protocol)
		}
		a, err := mail.ParseAddress(endpoint)
		if err != nil || a.Address != endpoint || a.Name != "" {
			return invalidParameter("Invalid parameter: Email address")
		}
		return nil
	case "sms", "sqs", "lambda", "firehose", "application":
		return invalidParameter("Invalid parameter: Protocol Reason: %s endpoints are not supported by this server", protocol)
	}
	return invalidParameter("Invalid parameter: Amazon SNS does not support this protocol string: %s", protocol)
}

// subscriptionAttribute validates a subscription attribute being set (by Subscribe or
// SetSubscriptionAttributes) and returns the value to store, "" meaning "unset".
func subscriptionAttribute(protocol, name, value string) (string, error) {
	httpish := protocol == "http" || protocol == "https"
	switch name {
	case "DeliveryPolicy":
		if !httpish {
			return "", invalidParameter("Invalid parameter: DeliveryPolicy: Delivery protocol [%s] does not support delivery policies", protocol)
		}
		if value == "" {
			return "", nil
		}
		if _, err := parseSubscriptionDeliveryPolicy(value); err != nil {
			return "", err
		}
		return value, nil
	case "RawMessageDelivery":
		b, err := strconv.ParseBool(value)
		if err != nil {
			return "", invalidParameter("Invalid parameter: RawMessageDelivery Reason: must be true or false")
		}
		if !httpish && b {
			return "", invalidParameter("Invalid parameter: Attributes Reason: Delivery protocol [%s] does not support raw message delivery", protocol)
		}
		if b {
			return "true", nil
		}
		return "", nil
	case "FilterPolicy", "FilterPolicyScope":
		if value == "" {
			return "", nil
		}
		return "", invalidParameter("Invalid parameter: %s Reason: message filtering is not supported by this server", name)
	case "RedrivePolicy":
		if value == "" {
			return "", nil
		}
		return "", invalidParameter("Invalid parameter: RedrivePolicy Reason: dead-letter queues need Amazon SQS, which this server does not host")
	case "SubscriptionRoleArn":
		return "", invalidParameter("Invalid parameter: SubscriptionRoleArn Reason: only firehose subscriptions have this attribute, and this server does not support them")
	case "ReplayPolicy":
		return "", invalidParameter("Invalid parameter: ReplayPolicy Reason: only FIFO topics have this attribute, and this server does not support FIFO topics")
	}
	return "", invalidParameter("Invalid parameter: AttributeName")
}

// newToken returns a confirmation token: 64 random bytes in hex.
func newToken() string {
	b := make([]byte, 64)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return hex.EncodeToString(b)
}

func (s *Service) subscribe(ctx context.Context, c *server.Call, in *subscribeInput) (*subscriptionArnOutput, error) {
	t, err := s.callTopic(c, in.TopicArn)
	if err != nil {
		return nil, err
	}
	protocol := strings.ToLower(in.Protocol)
	if protocol == "" {
		return nil, invalidParameter("Invalid parameter: Protocol")
	}
	if err := s.checkEndpoint(protocol, in.Endpoint); err != nil {
		return nil, err
	}
	attrs := make(map[string]string)
	for _, k := range sortedKeys(in.Attributes) {
		v, err := subscriptionAttribute(protocol, k, in.Attributes[k])
		if err != nil {
			return nil, err
		}
		if v != "" {
			attrs[k] = v
		}
	}

	s.wmu.Lock()
	defer s.wmu.Unlock()
	if s.topics[t.ref()] == nil {
		return nil, errTopicNotFound()
	}
	answer := func(sub *subscription) *subscriptionArnOutput {
		c.AddResource("AWS::SNS::Topic", t.arn())
		if sub.Pending && !in.ReturnSubscriptionArn {
			return &subscriptionArnOutput{SubscriptionArn: pendingSubscribeARN}
		}
		return &subscriptionArnOutput{SubscriptionArn: sub.ARN}
	}
	if old := s.findSubscription(t.arn(), protocol, in.Endpoint); old != nil {
		for k, v := range attrs {
			if old.Attributes[k] != v {
				return nil, invalidParameter("Invalid parameter: Attributes Reason: Subscription already exists with different attributes")
			}
		}
		if old.Pending {
			// Subscribing again while unconfirmed sends a new confirmation.
			b := s.store.NewBatch()
			tk, d, err := s.confirmationFor(b, t, old, TypeSubscriptionConfirmation)
			if err != nil {
				return nil, err
			}
			if err := s.commit(b, func() { s.tokens[tk.Hash] = tk }); err != nil {
				return nil, err
			}
			s.engine.enqueue(d)
		}
		return answer(old), nil
	}
	ref := subRef{Topic: t.ref(), ID: uuid.NewString()}
	sub := &subscription{
		ARN: t.arn() + ":" + ref.ID, Owner: c.Account(), TopicARN: t.arn(), Protocol: protocol, Endpoint: in.Endpoint,
		Pending: true, Created: s.now().UTC(), ref: ref,
	}
	if len(attrs) > 0 {
		sub.Attributes = attrs
	}
	if dp := attrs["DeliveryPolicy"]; dp != "" {
		sub.delivery, _ = parseSubscriptionDeliveryPolicy(dp)
	}
	b := s.store.NewBatch()
	if err := b.Put(subKey(ref), sub); err != nil {
		return nil, internal("store subscription", err)
	}
	tk, d, err := s.confirmationFor(b, t, sub, TypeSubscriptionConfirmation)
	if err != nil {
		return nil, err
	}
	if err := s.commit(b, func() { s.subs[sub.ARN] = sub; s.tokens[tk.Hash] = tk }); err != nil {
		return nil, err
	}
	s.engine.enqueue(d)
	return answer(sub), nil
}

// findSubscription returns the subscription of a topic to an endpoint, or nil. The caller
// holds wmu or mu.
func (s *Service) findSubscription(topicARN, protocol, endpoint string) *subscription {
	for _, sub := range s.subs {
		if sub.TopicARN == topicARN && sub.Protocol == protocol && sub.Endpoint == endpoint {
			return sub
		}
	}
	return nil
}

// confirmationFor makes a new token for sub and the SubscriptionConfirmation (or
// UnsubscribeConfirmation) message that carries it, and adds both to b.
func (s *Service) confirmationFor(b *kv.Batch, t *topic, sub *subscription, typ string) (*token, *delivery, error) {
	secret := newToken()
	now := s.now().UTC()
	tk := &token{
		Hash: tokenHash(secret), Account: t.Account, Region: t.Region, TopicARN: t.arn(), Sub: sub.ARN,
		Issued: now, Expires: now.Add(tokenLifetime),
	}
	env := &Envelope{
		Type: typ, MessageId: uuid.NewString(), Token: secret, TopicArn: t.arn(),
		SubscribeURL: s.subscribeURL(t.arn(), secret), Timestamp: now.Format(TimeFormat),
		SignatureVersion: t.signatureVersion(), SigningCertURL: s.SigningCertURL(),
	}
	if typ == TypeSubscriptionConfirmation {
		env.Message = "You have chosen to subscribe to the topic " + t.arn() + ".\nTo confirm the subscription, visit the SubscribeURL included in this message."
	} else {
		env.Message = "You have chosen to deactivate subscription " + sub.ARN + ".\nTo cancel this operation and restore the subscription, visit the SubscribeURL included in this message."
		tk.Resubscribe = sub
	}
	if err := env.sign(s.signer.key); err != nil {
		return nil, nil, err
	}
	d := s.newDelivery(t, sub, env, nil)
	if err := b.Put(tokenKey(tk.Account, tk.Region, tk.Hash), tk); err != nil {
		return nil, nil, internal("store token", err)
	}
	if err := b.Put(deliveryKey(d.ID), d); err != nil {
		return nil, nil, internal("store delivery", err)
	}
	return tk, d, nil
}

// subscribeURL is the unauthenticated confirmation link a confirmation message carries.
func (s *Service) subscribeURL(topicARN, secret string) string {
	q := url.Values{"Action": {"ConfirmSubscription"}, "TopicArn": {topicARN}, "Token": {secret}}
	return s.publicURL + ConfirmPath + "?" + q.Encode()
}

// unsubscribeURL is the unauthenticated unsubscribe link a notification carries.
func (s *Service) unsubscribeURL(subARN string) string {
	q := url.Values{"Action": {"Unsubscribe"}, "SubscriptionArn": {subARN}}
	return s.publicURL + UnsubscribePath + "?" + q.Encode()
}

func (s *Service) confirmSubscription(ctx context.Context, c *server.Call, in *confirmSubscriptionInput) (*subscriptionArnOutput, error) {
	ref, ok := parseTopicARN(in.TopicArn)
	if !ok || ref.Region != c.Region {
		return nil, invalidParameter("Invalid parameter: TopicArn")
	}
	authOnUnsub := strings.EqualFold(in.AuthenticateOnUnsubscribe, "true")
	arn, err := s.confirm(ref, in.Token, true, authOnUnsub)
	if err != nil {
		return nil, err
	}
	c.AddResource("AWS::SNS::Topic", ref.ARN())
	return &subscriptionArnOutput{SubscriptionArn: arn}, nil
}

// confirm confirms the subscription a token stands for. The token itself is the proof, so
// the caller may be of another account or (through the SubscribeURL) unauthenticated;
// authenticateOnUnsubscribe takes effect only for an authenticated confirmation, as in AWS.
func (s *Service) confirm(ref topicRef, secret string, authenticated, authenticateOnUnsubscribe bool) (string, error) {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	now := s.now()
	tk := s.tokens[tokenHash(secret)]
	if tk == nil || tk.TopicARN != ref.ARN() || now.After(tk.Expires) {
		return "", invalidParameter("Invalid token")
	}
	t := s.topics[ref]
	if t == nil {
		return "", errTopicNotFound()
	}
	if tk.Issued.Before(t.Created) {
		return "", invalidParameter("Invalid token") // a token of an earlier topic of this name
	}
	sub := s.subs[tk.Sub]
	switch {
	case sub != nil && !sub.Pending:
		return sub.ARN, nil
	case sub != nil:
		sub = sub.clone()
	case tk.Resubscribe != nil:
		if other := s.findSubscription(t.arn(), tk.Resubscribe.Protocol, tk.Resubscribe.Endpoint); other != nil && !other.Pending {
			return other.ARN, nil
		}
		sub = tk.Resubscribe.clone()
		sref, ok := parseSubscriptionARN(sub.ARN)
		if !ok {
			return "", invalidParameter("Invalid token")
		}
		sub.ref = sref
		if dp := sub.Attributes["DeliveryPolicy"]; dp != "" {
			sub.delivery, _ = parseSubscriptionDeliveryPolicy(dp)
		}
	default:
		return "", invalidParameter("Invalid token")
	}
	sub.Pending = false
	sub.ConfirmationWasAuthenticated = authenticated
	sub.AuthenticateOnUnsubscribe = authenticated && authenticateOnUnsubscribe
	b := s.store.NewBatch()
	if err := b.Put(subKey(sub.ref), sub); err != nil {
		return "", internal("store subscription", err)
	}
	if err := s.commit(b, func() { s.subs[sub.ARN] = sub }); err != nil {
		return "", err
	}
	return sub.ARN, nil
}

// callSubscription finds the subscription a call's SubscriptionArn names, in the request's
// region and the caller's account.
func (s *Service) callSubscription(c *server.Call, arn string) (*subscription, error) {
	ref, ok := parseSubscriptionARN(arn)
	if !ok || ref.Topic.Region != c.Region {
		return nil, invalidParameter("Invalid parameter: SubscriptionArn")
	}
	if ref.Topic.Account != c.Account() {
		return nil, authorizationError("User: %s is not authorized to perform: SNS:%s on resource: %s", c.Caller.ARN, c.Operation.Name, ref.Topic.ARN())
	}
	s.mu.RLock()
	sub := s.subs[arn]
	s.mu.RUnlock()
	if sub == nil {
		return nil, errSubscriptionNotFound()
	}
	return sub, nil
}

func (s *Service) unsubscribe(ctx context.Context, c *server.Call, in *subscriptionArnInput) (*server.NoOutput, error) {
	sub, err := s.callSubscription(c, in.SubscriptionArn)
	if err != nil {
		return nil, err
	}
	if err := s.remove(sub.ARN, false); err != nil {
		return nil, err
	}
	c.AddResource("AWS::SNS::Topic", sub.TopicARN)
	return nil, nil
}

// remove deletes a subscription. An unauthenticated removal (through the UnsubscribeURL) of
// an HTTP/S subscription sends it a final UnsubscribeConfirmation whose SubscribeURL restores
// the subscription; a subscription confirmed with AuthenticateOnUnsubscribe cannot be removed
// that way.
func (s *Service) remove(arn string, unauthenticated bool) error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	sub := s.subs[arn]
	if sub == nil {
		return errSubscriptionNotFound()
	}
	if unauthenticated && sub.AuthenticateOnUnsubscribe {
		return authorizationError("This subscription was confirmed with AuthenticateOnUnsubscribe: unsubscribing needs an authenticated request")
	}
	b := s.store.NewBatch()
	b.Delete(subKey(sub.ref))
	t := s.topics[sub.ref.Topic]
	var nt *topic
	if t != nil {
		nt = t.clone()
		nt.Deleted++
		if err := b.Put(topicKey(nt.ref()), nt); err != nil {
			return internal("store topic", err)
		}
	}
	var tk *token
	var d *delivery
	if unauthenticated && t != nil && sub.isHTTP() && !sub.Pending {
		var err error
		if tk, d, err = s.confirmationFor(b, t, sub, TypeUnsubscribeConfirmation); err != nil {
			return err
		}
	}
	err := s.commit(b, func() {
		delete(s.subs, arn)
		if nt != nil {
			s.topics[nt.ref()] = nt
		}
		if tk != nil {
			s.tokens[tk.Hash] = tk
		}
	})
	if err != nil {
		return err
	}
	if d != nil {
		s.engine.enqueue(d)
	}
	return nil
}

func (s *Service) listSubscriptions(ctx context.Context, c *server.Call, in *listInput) (*listSubscriptionsOutput, error) {
	return s.listSubs(in.NextToken, func(sub *subscription) bool {
		return sub.ref.Topic.Account == c.Account() && sub.ref.Topic.Region == c.Region
	})
}

func (s *Service) listSubscriptionsByTopic(ctx context.Context, c *server.Call, in *listByTopicInput) (*listSubscriptionsOutput, error) {
	t, err := s.callTopic(c, in.TopicArn)
	if err != nil {
		return nil, err
	}
	arn := t.arn()
	return s.listSubs(in.NextToken, func(sub *subscription) bool { return sub.TopicARN == arn })
}

func (s *Service) listSubs(tok string, keep func(*subscription) bool) (*listSubscriptionsOutput, error) {
	s.mu.RLock()
	var subs []*subscription
	for _, sub := range s.subs {
		if keep(sub) {
			subs = append(subs, sub)
		}
	}
	s.mu.RUnlock()
	slices.SortFunc(subs, func(a, b *subscription) int { return strings.Compare(a.ARN, b.ARN) })
	pg, next, err := page(subs, func(sub *subscription) string { return sub.ARN }, tok, s.pageSize)
	if err != nil {
		return nil, err
	}
	out := &listSubscriptionsOutput{Subscriptions: make(members[subscriptionMember], 0, len(pg)), NextToken: next}
	for _, sub := range pg {
		out.Subscriptions = append(out.Subscriptions, sub.member())
	}
	return out, nil
}

func (s *Service) getSubscriptionAttributes(ctx context.Context, c *server.Call, in *subscriptionArnInput) (*attributesOutput, error) {
	sub, err := s.callSubscription(c, in.SubscriptionArn)
	if err != nil {
		return nil, err
	}
	m := attrMap{
		"SubscriptionArn":              sub.ARN,
		"TopicArn":                     sub.TopicARN,
		"Owner":                        sub.Owner,
		"Protocol":                     sub.Protocol,
		"Endpoint":                     sub.Endpoint,
		"PendingConfirmation":          strconv.FormatBool(sub.Pending),
		"ConfirmationWasAuthenticated": strconv.FormatBool(sub.ConfirmationWasAuthenticated),
		"RawMessageDelivery":           strconv.FormatBool(sub.raw()),
	}
	if sub.isHTTP() {
		s.mu.RLock()
		t := s.topics[sub.ref.Topic]
		s.mu.RUnlock()
		var tp *topicPolicy
		if t != nil {
			tp = t.delivery
		}
		m["EffectiveDeliveryPolicy"] = effectiveSubscriptionPolicyJSON(effectivePolicy(tp, sub.delivery))
	}
	if dp := sub.Attributes["DeliveryPolicy"]; dp != "" {
		m["DeliveryPolicy"] = dp
	}
	return &attributesOutput{Attributes: m}, nil
}

func (s *Service) setSubscriptionAttributes(ctx context.Context, c *server.Call, in *setSubscriptionAttributesInput) (*server.NoOutput, error) {
	sub, err := s.callSubscription(c, in.SubscriptionArn)
	if err != nil {
		return nil, err
	}
	value := ""
	if in.AttributeValue != nil {
		value = *in.AttributeValue
	}
	v, err := subscriptionAttribute(sub.Protocol, in.AttributeName, value)
	if err != nil {
		return nil, err
	}
	s.wmu.Lock()
	defer s.wmu.Unlock()
	old := s.subs[sub.ARN]
	if old == nil {
		return nil, errSubscriptionNotFound()
	}
	ns := old.clone()
	if ns.Attributes == nil {
		ns.Attributes = make(map[string]string)
	}
	if v == "" {
		delete(ns.Attributes, in.AttributeName)
	} else {
		ns.Attributes[in.AttributeName] = v
	}
	if len(ns.Attributes) == 0 {
		ns.Attributes = nil
	}
	ns.delivery = nil
	if dp := ns.Attributes["DeliveryPolicy"]; dp != "" {
		ns.delivery, _ = parseSubscriptionDeliveryPolicy(dp)
	}
	b := s.store.NewBatch()
	if err := b.Put(subKey(ns.ref), ns); err != nil {
		return nil, internal("store subscription", err)
	}
	if err := s.commit(b, func() { s.subs[ns.ARN] = ns }); err != nil {
		return nil, err
	}
	c.AddResource("AWS::SNS::Topic", ns.TopicARN)
	return nil, nil
}
