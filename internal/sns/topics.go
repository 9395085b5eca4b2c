package sns

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/opentrail/opentrail"
	"github.com/opentrail/opentrail/internal/policy"
	"github.com/opentrail/opentrail/internal/server"
)

type topicArnInput struct{ TopicArn string }

type createTopicInput struct {
	Name                 string
	Attributes           map[string]string
	Tags                 []Tag
	DataProtectionPolicy string
}

type setTopicAttributesInput struct {
	TopicArn       string
	AttributeName  string
	AttributeValue *string
}

type listInput struct{ NextToken string }

// Limits.
const (
	defaultMaxTopics = 100000 // standard topics per account and region, AWS's default quota
	maxTags          = 50
	maxTagKey        = 128
	maxTagValue      = 256
	maxDisplayName   = 100
)

// topicAttribute validates a topic attribute being set (by CreateTopic or
// SetTopicAttributes). It returns the value to store, "" meaning "unset". Attributes that
// need something this server does not have (FIFO, KMS, delivery status logging, X-Ray) are
// refused with a reason rather than stored and ignored.
func topicAttribute(name, value string) (string, error) {
	switch name {
	case "DisplayName":
		if len(value) > maxDisplayName {
			return "", invalidParameter("Invalid parameter: DisplayName Reason: must be at most %d characters", maxDisplayName)
		}
		return value, nil
	case "Policy":
		if value == "" {
			return "", nil
		}
		if _, err := policy.Parse(value); err != nil {
			return "", invalidParameter("Invalid parameter: Policy Error: %s", policyMessage(err))
		}
		return value, nil
	case "DeliveryPolicy":
		if value == "" {
			return "", nil
		}
		if _, err := parseTopicDeliveryPolicy(value); err != nil {
			return "", err
		}
		return value, nil
	case "SignatureVersion":
		if value != "1" && value != "2" {
			return "", invalidParameter("Invalid parameter: SignatureVersion Reason: must be 1 or 2")
		}
		return value, nil
	case "TracingConfig":
		if value != "PassThrough" {
			return "", invalidParameter("Invalid parameter: TracingConfig Reason: only PassThrough is supported: this server has no X-Ray tracing")
		}
		return "", nil
	case "FifoTopic":
		if b, err := strconv.ParseBool(value); err != nil || b {
			return "", invalidParameter("Invalid parameter: FifoTopic Reason: FIFO topics are not supported by this server")
		}
		return "", nil
	case "ContentBasedDeduplication", "ArchivePolicy", "FifoThroughputScope":
		return "", invalidParameter("Invalid parameter: %s Reason: only FIFO topics have this attribute, and this server does not support FIFO topics", name)
	case "KmsMasterKeyId":
		if value == "" {
			return "", nil
		}
		return "", invalidParameter("Invalid parameter: KmsMasterKeyId Reason: server-side encryption is not supported by this server")
	}
	if strings.HasSuffix(name, "SuccessFeedbackRoleArn") || strings.HasSuffix(name, "FailureFeedbackRoleArn") || strings.HasSuffix(name, "SuccessFeedbackSampleRate") {
		return "", invalidParameter("Invalid parameter: %s Reason: delivery status logging is not supported by this server", name)
	}
	return "", invalidParameter("Invalid parameter: AttributeName")
}

func policyMessage(err error) string {
	var me *policy.MalformedError
	if errors.As(err, &me) {
		return me.Message
	}
	return err.Error()
}

func validateTags(tags []Tag) error {
	if len(tags) > maxTags {
		return tagLimitExceeded()
	}
	seen := make(map[string]bool, len(tags))
	for _, t := range tags {
		if t.Key == "" || len(t.Key) > maxTagKey || strings.HasPrefix(strings.ToLower(t.Key), "aws:") {
			return invalidParameter("Invalid parameter: Tags Reason: invalid tag key %q", t.Key)
		}
		if len(t.Value) > maxTagValue {
			return invalidParameter("Invalid parameter: Tags Reason: the value of tag %q is longer than %d characters", t.Key, maxTagValue)
		}
		if seen[t.Key] {
			return invalidParameter("Invalid parameter: Tags Reason: duplicate tag key %q", t.Key)
		}
		seen[t.Key] = true
	}
	return nil
}

func (s *Service) createTopic(ctx context.Context, c *server.Call, in *createTopicInput) (*topicArnOutput, error) {
	if strings.HasSuffix(in.Name, ".fifo") {
		return nil, invalidParameter("Invalid parameter: FifoTopic Reason: FIFO topics are not supported by this server")
	}
	if !validTopicName(in.Name) {
		return nil, invalidParameter("Invalid parameter: Topic Name")
	}
	attrs := make(map[string]string)
	for _, k := range sortedKeys(in.Attributes) {
		v, err := topicAttribute(k, in.Attributes[k])
		if err != nil {
			return nil, err
		}
		if v != "" {
			attrs[k] = v
		}
	}
	if in.DataProtectionPolicy != "" {
		return nil, invalidParameter("Invalid parameter: DataProtectionPolicy Reason: message data protection is not supported by this server")
	}
	if err := validateTags(in.Tags); err != nil {
		return nil, err
	}
	ref := topicRef{Account: c.Account(), Region: c.Region, Name: in.Name}
	arn := ref.ARN()

	s.wmu.Lock()
	defer s.wmu.Unlock()
	if old := s.topics[ref]; old != nil {
		// Creating an existing topic is idempotent when the attributes and tags sent agree.
		for k, v := range attrs {
			if old.Attributes[k] != v {
				return nil, invalidParameter("Invalid parameter: Attributes Reason: Topic already exists with different attributes")
			}
		}
		for _, t := range in.Tags {
			if !slices.Contains(old.Tags, t) {
				return nil, invalidParameter("Invalid parameter: Tags Reason: Topic already exists with different tags")
			}
		}
		c.AddResource("AWS::SNS::Topic", arn)
		return &topicArnOutput{TopicArn: arn}, nil
	}
	n := 0
	for r := range s.topics {
		if r.Account == ref.Account && r.Region == ref.Region {
			n++
		}
	}
	if n >= s.maxTopics {
		return nil, opentrail.Errorf(CodeTopicLimitExceeded, "Topic limit exceeded").WithStatus(http.StatusForbidden)
	}
	t := &topic{Account: ref.Account, Region: ref.Region, Name: ref.Name, Tags: in.Tags, Created: s.now().UTC()}
	if len(attrs) > 0 {
		t.Attributes = attrs
	}
	if dp := attrs["DeliveryPolicy"]; dp != "" {
		t.delivery, _ = parseTopicDeliveryPolicy(dp)
	}
	b := s.store.NewBatch()
	if err := b.Put(topicKey(ref), t); err != nil {
		return nil, internal("create topic", err)
	}
	if err := s.commit(b, func() { s.topics[ref] = t }); err != nil {
		return nil, err
	}
	c.AddResource("AWS::SNS::Topic", arn)
	return &topicArnOutput{TopicArn: arn}, nil
}

// callTopicRef checks a TopicArn sent by a call: well formed, in the request's region (else
// InvalidParameter, as AWS answers) and in the caller's account (else AuthorizationError: this
// server does not evaluate topic policies, so other accounts' topics are out of reach).
func callTopicRef(c *server.Call, arn string) (topicRef, error) {
	ref, ok := parseTopicARN(arn)
	if !ok || ref.Region != c.Region {
		return topicRef{}, invalidParameter("Invalid parameter: TopicArn")
	}
	if ref.Account != c.Account() {
		return topicRef{}, authorizationError("User: %s is not authorized to perform: SNS:%s on resource: %s", c.Caller.ARN, c.Operation.Name, arn)
	}
	return ref, nil
}

// callTopic finds the topic a call's TopicArn names.
func (s *Service) callTopic(c *server.Call, arn string) (*topic, error) {
	ref, err := callTopicRef(c, arn)
	if err != nil {
		return nil, err
	}
	s.mu.RLock()
	t := s.topics[ref]
	s.mu.RUnlock()
	if t == nil {
		return nil, errTopicNotFound()
	}
	return t, nil
}

// deleteTopic deletes a topic and its subscriptions. Deleting a topic that does not exist
// succeeds, as AWS documents.
func (s *Service) deleteTopic(ctx context.Context, c *server.Call, in *topicArnInput) (*server.NoOutput, error) {
	ref, err := callTopicRef(c, in.TopicArn)
	if err != nil {
		return nil, err
	}
	s.wmu.Lock()
	defer s.wmu.Unlock()
	if s.topics[ref] == nil {
		return nil, nil
	}
	b := s.store.NewBatch()
	b.Delete(topicKey(ref))
	b.DeletePrefix(storePrefix + ref.Account + "/" + ref.Region + "/sub/" + ref.Name + "/")
	err = s.commit(b, func() {
		delete(s.topics, ref)
		for arn, sub := range s.subs {
			if sub.ref.Topic == ref {
				delete(s.subs, arn)
			}
		}
	})
	if err != nil {
		return nil, err
	}
	c.AddResource("AWS::SNS::Topic", ref.ARN())
	return nil, nil
}

func (s *Service) listTopics(ctx context.Context, c *server.Call, in *listInput) (*listTopicsOutput, error) {
	s.mu.RLock()
	var names []string
	for ref := range s.topics {
		if ref.Account == c.Account() && ref.Region == c.Region {
			names = append(names, ref.Name)
		}
	}
	s.mu.RUnlock()
	slices.Sort(names)
	pg, next, err := page(names, func(n string) string { return n }, in.NextToken, s.pageSize)
	if err != nil {
		return nil, err
	}
	out := &listTopicsOutput{Topics: make(members[topicMember], 0, len(pg)), NextToken: next}
	for _, n := range pg {
		out.Topics = append(out.Topics, topicMember{TopicArn: TopicARNFor(c.Region, c.Account(), n)})
	}
	return out, nil
}

func (s *Service) getTopicAttributes(ctx context.Context, c *server.Call, in *topicArnInput) (*attributesOutput, error) {
	t, err := s.callTopic(c, in.TopicArn)
	if err != nil {
		return nil, err
	}
	return &attributesOutput{Attributes: s.topicAttributes(t)}, nil
}

// topicAttributes is what GetTopicAttributes shows: the attributes set, defaults for Policy
// and the effective delivery policy, and the subscription counts.
func (s *Service) topicAttributes(t *topic) attrMap {
	arn := t.arn()
	pending, confirmed := 0, 0
	s.mu.RLock()
	for _, sub := range s.subs {
		if sub.TopicARN != arn {
			continue
		}
		if sub.Pending {
			pending++
		} else {
			confirmed++
		}
	}
	s.mu.RUnlock()
	m := attrMap{
		"TopicArn":                arn,
		"Owner":                   t.Account,
		"Policy":                  defaultTopicPolicy(t),
		"DisplayName":             t.Attributes["DisplayName"],
		"SubscriptionsPending":    strconv.Itoa(pending),
		"SubscriptionsConfirmed":  strconv.Itoa(confirmed),
		"SubscriptionsDeleted":    strconv.Itoa(t.Deleted),
		"EffectiveDeliveryPolicy": effectiveTopicPolicyJSON(t.delivery),
		"SignatureVersion":        t.signatureVersion(),
	}
	if p := t.Attributes["Policy"]; p != "" {
		m["Policy"] = p
	}
	if dp := t.Attributes["DeliveryPolicy"]; dp != "" {
		m["DeliveryPolicy"] = dp
	}
	return m
}

// defaultTopicPolicy is the access policy AWS gives a new topic: the owner account may do
// everything with it.
func defaultTopicPolicy(t *topic) string {
	return `{"Version":"2008-10-17","Id":"__default_policy_ID","Statement":[{"Sid":"__default_statement_ID","Effect":"Allow","Principal":{"AWS":"*"},` +
		`"Action":["SNS:GetTopicAttributes","SNS:SetTopicAttributes","SNS:AddPermission","SNS:RemovePermission","SNS:DeleteTopic","SNS:Subscribe","SNS:ListSubscriptionsByTopic","SNS:Publish"],` +
		`"Resource":"` + t.arn() + `","Condition":{"StringEquals":{"AWS:SourceOwner":"` + t.Account + `"}}}]}`
}

func (s *Service) setTopicAttributes(ctx context.Context, c *server.Call, in *setTopicAttributesInput) (*server.NoOutput, error) {
	ref, err := callTopicRef(c, in.TopicArn)
	if err != nil {
		return nil, err
	}
	value := ""
	if in.AttributeValue != nil {
		value = *in.AttributeValue
	}
	v, err := topicAttribute(in.AttributeName, value)
	if err != nil {
		return nil, err
	}
	s.wmu.Lock()
	defer s.wmu.Unlock()
	old := s.topics[ref]
	if old == nil {
		return nil, errTopicNotFound()
	}
	t := old.clone()
	if t.Attributes == nil {
		t.Attributes = make(map[string]string)
	}
	if v == "" {
		delete(t.Attributes, in.AttributeName)
	} else {
		t.Attributes[in.AttributeName] = v
	}
	t.delivery = nil
	if dp := t.Attributes["DeliveryPolicy"]; dp != "" {
		t.delivery, _ = parseTopicDeliveryPolicy(dp)
	}
	if err := s.putTopic(t); err != nil {
		return nil, err
	}
	c.AddResource("AWS::SNS::Topic", t.arn())
	return nil, nil
}

// putTopic stores a changed topic and publishes it. The caller holds wmu.
func (s *Service) putTopic(t *topic) error {
	b := s.store.NewBatch()
	if err := b.Put(topicKey(t.ref()), t); err != nil {
		return internal("store topic", err)
	}
	return s.commit(b, func() { s.topics[t.ref()] = t })
}

// Tagging.

type tagResourceInput struct {
	ResourceArn string
	Tags        []Tag
}

type untagResourceInput struct {
	ResourceArn string
	TagKeys     []string
}

type resourceArnInput struct{ ResourceArn string }

// tagTopicRef resolves the ResourceArn of a tagging call; tagging errors are
// ResourceNotFound, as the model declares.
func (s *Service) tagTopicRef(c *server.Call, arn string) (topicRef, error) {
	ref, err := callTopicRef(c, arn)
	if err != nil {
		return topicRef{}, err
	}
	if s.topics[ref] == nil {
		return topicRef{}, resourceNotFound()
	}
	return ref, nil
}

func (s *Service) tagResource(ctx context.Context, c *server.Call, in *tagResourceInput) (*emptyResult, error) {
	if err := validateTags(in.Tags); err != nil {
		return nil, err
	}
	s.wmu.Lock()
	defer s.wmu.Unlock()
	ref, err := s.tagTopicRef(c, in.ResourceArn)
	if err != nil {
		return nil, err
	}
	t := s.topics[ref].clone()
	for _, nt := range in.Tags {
		if i := slices.IndexFunc(t.Tags, func(x Tag) bool { return x.Key == nt.Key }); i >= 0 {
			t.Tags[i] = nt
		} else {
			t.Tags = append(t.Tags, nt)
		}
	}
	if len(t.Tags) > maxTags {
		return nil, tagLimitExceeded()
	}
	if err := s.putTopic(t); err != nil {
		return nil, err
	}
	c.AddResource("AWS::SNS::Topic", t.arn())
	return &emptyResult{}, nil
}

func (s *Service) untagResource(ctx context.Context, c *server.Call, in *untagResourceInput) (*emptyResult, error) {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	ref, err := s.tagTopicRef(c, in.ResourceArn)
	if err != nil {
		return nil, err
	}
	t := s.topics[ref].clone()
	t.Tags = slices.DeleteFunc(t.Tags, func(x Tag) bool { return slices.Contains(in.TagKeys, x.Key) })
	if err := s.putTopic(t); err != nil {
		return nil, err
	}
	c.AddResource("AWS::SNS::Topic", t.arn())
	return &emptyResult{}, nil
}

func (s *Service) listTagsForResource(ctx context.Context, c *server.Call, in *resourceArnInput) (*listTagsOutput, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	ref, err := s.tagTopicRef(c, in.ResourceArn)
	if err != nil {
		return nil, err
	}
	return &listTagsOutput{Tags: append(members[Tag]{}, s.topics[ref].Tags...)}, nil
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
