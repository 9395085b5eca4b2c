package sns

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/opentrail/opentrail/internal/kv"
)

// Store layout (JSON values; see the package documentation):
//
//	sns/signing-key                              the message-signing key (sealed) and certificate
//	sns/<acct>/<region>/topic/<name>             a topic
//	sns/<acct>/<region>/sub/<topic>/<id>         a subscription
//	sns/<acct>/<region>/token/<sha256 of token>  a confirmation token
//	sns/delivery/<id>                            a delivery not yet made (see delivery.go)

const storePrefix = "sns/"

func topicKey(r topicRef) string {
	return storePrefix + r.Account + "/" + r.Region + "/topic/" + r.Name
}

func subKey(s subRef) string {
	return storePrefix + s.Topic.Account + "/" + s.Topic.Region + "/sub/" + s.Topic.Name + "/" + s.ID
}

func tokenKey(acct, region, hash string) string {
	return storePrefix + acct + "/" + region + "/token/" + hash
}

func deliveryKey(id string) string { return storePrefix + "delivery/" + id }

// tokenHash is the name under which a token is kept: tokens themselves are not stored.
func tokenHash(token string) string {
	h := sha256.Sum256([]byte(token))
	return hex.EncodeToString(h[:])
}

// Tag is a topic tag.
type Tag struct {
	Key   string
	Value string
}

// topic is a topic as stored. Published topics are immutable: a change stores and publishes
// a copy.
type topic struct {
	Account    string            `json:"account"`
	Region     string            `json:"region"`
	Name       string            `json:"name"`
	Attributes map[string]string `json:"attributes,omitempty"` // as set: DisplayName, Policy, DeliveryPolicy, SignatureVersion, TracingConfig
	Tags       []Tag             `json:"tags,omitempty"`
	Deleted    int               `json:"subscriptionsDeleted,omitempty"` // SubscriptionsDeleted
	Created    time.Time         `json:"created"`

	delivery *topicPolicy // parsed DeliveryPolicy
}

func (t *topic) ref() topicRef { return topicRef{Account: t.Account, Region: t.Region, Name: t.Name} }
func (t *topic) arn() string   { return t.ref().ARN() }

func (t *topic) clone() *topic {
	c := *t
	c.Attributes = cloneMap(t.Attributes)
	c.Tags = append([]Tag(nil), t.Tags...)
	return &c
}

// signatureVersion is the SignatureVersion of the topic's messages: "2" unless set to "1".
func (t *topic) signatureVersion() string {
	if v := t.Attributes["SignatureVersion"]; v != "" {
		return v
	}
	return "2"
}

// subscription is a subscription as stored; immutable once published, like topic.
type subscription struct {
	ARN                          string            `json:"arn"`
	Owner                        string            `json:"owner"`
	TopicARN                     string            `json:"topicArn"`
	Protocol                     string            `json:"protocol"`
	Endpoint                     string            `json:"endpoint"`
	Attributes                   map[string]string `json:"attributes,omitempty"` // as set: DeliveryPolicy, RawMessageDelivery
	Pending                      bool              `json:"pending,omitempty"`
	ConfirmationWasAuthenticated bool              `json:"confirmationWasAuthenticated,omitempty"`
	AuthenticateOnUnsubscribe    bool              `json:"authenticateOnUnsubscribe,omitempty"`
	Created                      time.Time         `json:"created"`

	ref      subRef
	delivery *subscriptionPolicy // parsed DeliveryPolicy
}

func (s *subscription) clone() *subscription {
	c := *s
	c.Attributes = cloneMap(s.Attributes)
	return &c
}

func (s *subscription) raw() bool { return s.Attributes["RawMessageDelivery"] == "true" }

func (s *subscription) isHTTP() bool { return s.Protocol == "http" || s.Protocol == "https" }

// token is a confirmation token: it confirms the pending subscription Sub of topic TopicARN
// until Expires. A token sent in an UnsubscribeConfirmation carries a copy of the deleted
// subscription (Resubscribe), which confirming restores.
type token struct {
	Hash        string        `json:"hash"`
	Account     string        `json:"account"`
	Region      string        `json:"region"`
	TopicARN    string        `json:"topicArn"`
	Sub         string        `json:"subscriptionArn"`
	Issued      time.Time     `json:"issued"`
	Expires     time.Time     `json:"expires"`
	Resubscribe *subscription `json:"resubscribe,omitempty"`
}

// tokenLifetime is how long a confirmation token is valid: two days, as in AWS.
const tokenLifetime = 48 * time.Hour

// pendingLifetime is how long an unconfirmed subscription is kept: three days, as in AWS.
const pendingLifetime = 72 * time.Hour

func cloneMap(m map[string]string) map[string]string {
	if m == nil {
		return nil
	}
	c := make(map[string]string, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

// load rebuilds the in-memory state from the store; expired tokens and pending subscriptions
// past their lifetime are removed.
func (s *Service) load() error {
	now := s.now()
	var purge []string
	var deliveries []*delivery
	err := s.store.Scan(storePrefix, func(key string, value []byte) error {
		rest := strings.TrimPrefix(key, storePrefix)
		if rest == strings.TrimPrefix(signingKeyStoreKey, storePrefix) {
			return nil
		}
		if strings.HasPrefix(rest, "delivery/") {
			d := new(delivery)
			if err := json.Unmarshal(value, d); err != nil {
				return fmt.Errorf("sns: load %s: %w", key, err)
			}
			deliveries = append(deliveries, d)
			return nil
		}
		parts := strings.SplitN(rest, "/", 4)
		if len(parts) < 4 {
			s.log.Warn("sns: unknown record in the store", "key", key)
			return nil
		}
		switch parts[2] {
		case "topic":
			t := new(topic)
			if err := json.Unmarshal(value, t); err != nil {
				return fmt.Errorf("sns: load %s: %w", key, err)
			}
			if dp := t.Attributes["DeliveryPolicy"]; dp != "" {
				t.delivery, _ = parseTopicDeliveryPolicy(dp)
			}
			s.topics[t.ref()] = t
		case "sub":
			sub := new(subscription)
			if err := json.Unmarshal(value, sub); err != nil {
				return fmt.Errorf("sns: load %s: %w", key, err)
			}
			ref, ok := parseSubscriptionARN(sub.ARN)
			if !ok {
				return fmt.Errorf("sns: load %s: bad subscription ARN %q", key, sub.ARN)
			}
			if sub.Pending && now.Sub(sub.Created) > pendingLifetime {
				purge = append(purge, key)
				return nil
			}
			sub.ref = ref
			if dp := sub.Attributes["DeliveryPolicy"]; dp != "" {
				sub.delivery, _ = parseSubscriptionDeliveryPolicy(dp)
			}
			s.subs[sub.ARN] = sub
		case "token":
			tk := new(token)
			if err := json.Unmarshal(value, tk); err != nil {
				return fmt.Errorf("sns: load %s: %w", key, err)
			}
			if now.After(tk.Expires) {
				purge = append(purge, key)
				return nil
			}
			s.tokens[tk.Hash] = tk
		default:
			s.log.Warn("sns: unknown record in the store", "key", key)
		}
		return nil
	})
	if err != nil {
		return err
	}
	// Subscriptions of topics that no longer exist (none should be left) are dropped.
	for arn, sub := range s.subs {
		if _, ok := s.topics[sub.ref.Topic]; !ok {
			delete(s.subs, arn)
			purge = append(purge, subKey(sub.ref))
		}
	}
	if len(purge) > 0 {
		b := s.store.NewBatch()
		for _, k := range purge {
			b.Delete(k)
		}
		if err := b.Commit(); err != nil {
			return internal("purge expired records", err)
		}
	}
	s.pendingDeliveries = deliveries
	s.log.Debug("sns state loaded", "topics", len(s.topics), "subscriptions", len(s.subs), "deliveries", len(deliveries))
	return nil
}

// sweep removes expired confirmation tokens and subscriptions left unconfirmed past their
// lifetime. The delivery engine runs it every sweepInterval.
func (s *Service) sweep() error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	now := s.now()
	var subs []*subscription
	var tokens []*token
	for _, sub := range s.subs {
		if sub.Pending && now.Sub(sub.Created) > pendingLifetime {
			subs = append(subs, sub)
		}
	}
	for _, tk := range s.tokens {
		if now.After(tk.Expires) {
			tokens = append(tokens, tk)
		}
	}
	if len(subs) == 0 && len(tokens) == 0 {
		return nil
	}
	b := s.store.NewBatch()
	for _, sub := range subs {
		b.Delete(subKey(sub.ref))
	}
	for _, tk := range tokens {
		b.Delete(tokenKey(tk.Account, tk.Region, tk.Hash))
	}
	return s.commit(b, func() {
		for _, sub := range subs {
			delete(s.subs, sub.ARN)
		}
		for _, tk := range tokens {
			delete(s.tokens, tk.Hash)
		}
	})
}

// sweepInterval is how often expired tokens and pending subscriptions are removed.
const sweepInterval = time.Hour

// commit applies a batch durably and then, under the state's write lock, the in-memory
// change. The caller holds wmu.
func (s *Service) commit(b *kv.Batch, apply func()) error {
	if err := b.Commit(); err != nil {
		return internal("commit", err)
	}
	s.mu.Lock()
	apply()
	s.mu.Unlock()
	return nil
}
