package sns

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"mime"
	"strings"
	"time"
)

// The HTTP/S delivery policy: how often and when a failed delivery is retried, and the
// Content-Type of the POST. A topic's DeliveryPolicy attribute holds defaults for its HTTP/S
// subscriptions, nested under "http"; a subscription's DeliveryPolicy attribute overrides them
// unless the topic sets disableSubscriptionOverrides.
//
// A retry policy has four phases, run in order: numNoDelayRetries immediate retries,
// numMinDelayRetries retries minDelayTarget seconds apart, the backoff phase (the retries left
// of numRetries) whose delays grow from minDelayTarget to maxDelayTarget along backoffFunction,
// and numMaxDelayRetries retries maxDelayTarget seconds apart. AWS's default for HTTP/S is three
// retries 20 seconds apart (linear backoff from 20 to 20).

// retryPolicy is a healthyRetryPolicy.
type retryPolicy struct {
	MinDelayTarget     int    `json:"minDelayTarget"`
	MaxDelayTarget     int    `json:"maxDelayTarget"`
	NumRetries         int    `json:"numRetries"`
	NumMaxDelayRetries int    `json:"numMaxDelayRetries"`
	NumNoDelayRetries  int    `json:"numNoDelayRetries"`
	NumMinDelayRetries int    `json:"numMinDelayRetries"`
	BackoffFunction    string `json:"backoffFunction"`
}

// defaultHTTPRetry is AWS's default HTTP/S policy: 3 retries, 20 s apart.
var defaultHTTPRetry = retryPolicy{MinDelayTarget: 20, MaxDelayTarget: 20, NumRetries: 3, BackoffFunction: "linear"}

// emailRetry is AWS's policy for customer-managed endpoints (SMTP): 2 retries 10 s apart, 10
// retries backing off from 10 s to 600 s, 38 retries 600 s apart — about 6 hours. It is not
// configurable.
var emailRetry = retryPolicy{MinDelayTarget: 10, MaxDelayTarget: 600, NumRetries: 50, NumMinDelayRetries: 2, NumMaxDelayRetries: 38, BackoffFunction: "exponential"}

// Limits AWS documents for HTTP/S retry policies.
const (
	maxRetries        = 100
	maxDelayTarget    = 3600
	maxTotalRetryTime = 3600 // seconds, all retries together
)

const defaultContentType = "text/plain; charset=UTF-8"

type throttlePolicy struct {
	MaxReceivesPerSecond int `json:"maxReceivesPerSecond"`
}

type requestPolicy struct {
	HeaderContentType string `json:"headerContentType"`
}

// subscriptionPolicy is a subscription's DeliveryPolicy (and, resolved, its effective policy).
type subscriptionPolicy struct {
	HealthyRetryPolicy *retryPolicy    `json:"healthyRetryPolicy,omitempty"`
	ThrottlePolicy     *throttlePolicy `json:"throttlePolicy,omitempty"`
	RequestPolicy      *requestPolicy  `json:"requestPolicy,omitempty"`
}

// topicHTTPPolicy is the "http" member of a topic's DeliveryPolicy.
type topicHTTPPolicy struct {
	DefaultHealthyRetryPolicy    *retryPolicy    `json:"defaultHealthyRetryPolicy,omitempty"`
	DisableSubscriptionOverrides bool            `json:"disableSubscriptionOverrides"`
	DefaultThrottlePolicy        *throttlePolicy `json:"defaultThrottlePolicy,omitempty"`
	DefaultRequestPolicy         *requestPolicy  `json:"defaultRequestPolicy,omitempty"`
}

type topicPolicy struct {
	HTTP *topicHTTPPolicy `json:"http,omitempty"`
}

// decodeStrict decodes one JSON object into v, refusing unknown members and trailing data.
func decodeStrict(doc string, v any) error {
	dec := json.NewDecoder(bytes.NewReader([]byte(doc)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return fmt.Errorf("trailing data after the JSON object")
	}
	return nil
}

func policyError(reason string) error {
	return invalidParameter("Invalid parameter: DeliveryPolicy: %s", reason)
}

// parseTopicDeliveryPolicy parses and validates a topic's DeliveryPolicy attribute.
func parseTopicDeliveryPolicy(doc string) (*topicPolicy, error) {
	var p topicPolicy
	if err := decodeStrict(doc, &p); err != nil {
		return nil, policyError("not a valid delivery policy document: " + jsonReason(err))
	}
	if p.HTTP != nil {
		if err := checkRetry(p.HTTP.DefaultHealthyRetryPolicy, "defaultHealthyRetryPolicy"); err != nil {
			return nil, err
		}
		if err := checkThrottle(p.HTTP.DefaultThrottlePolicy, "defaultThrottlePolicy"); err != nil {
			return nil, err
		}
		if err := checkRequest(p.HTTP.DefaultRequestPolicy, "defaultRequestPolicy"); err != nil {
			return nil, err
		}
	}
	return &p, nil
}

// parseSubscriptionDeliveryPolicy parses and validates a subscription's DeliveryPolicy.
func parseSubscriptionDeliveryPolicy(doc string) (*subscriptionPolicy, error) {
	var p subscriptionPolicy
	if err := decodeStrict(doc, &p); err != nil {
		return nil, policyError("not a valid delivery policy document: " + jsonReason(err))
	}
	if err := checkRetry(p.HealthyRetryPolicy, "healthyRetryPolicy"); err != nil {
		return nil, err
	}
	if err := checkThrottle(p.ThrottlePolicy, "throttlePolicy"); err != nil {
		return nil, err
	}
	if err := checkRequest(p.RequestPolicy, "requestPolicy"); err != nil {
		return nil, err
	}
	return &p, nil
}

func jsonReason(err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return fmt.Sprintf("invalid JSON at offset %d", se.Offset)
	case errors.As(err, &te):
		return fmt.Sprintf("%s must be a %s", te.Field, te.Type)
	}
	return strings.TrimPrefix(err.Error(), "json: ")
}

func checkRetry(r *retryPolicy, name string) error {
	if r == nil {
		return nil
	}
	switch r.BackoffFunction {
	case "":
		r.BackoffFunction = "linear"
	case "linear", "arithmetic", "geometric", "exponential":
	default:
		return policyError(name + ".backoffFunction must be one of linear, arithmetic, geometric, exponential")
	}
	switch {
	case r.NumRetries < 0 || r.NumRetries > maxRetries:
		return policyError(fmt.Sprintf("%s.numRetries must be between 0 and %d", name, maxRetries))
	case r.NumNoDelayRetries < 0 || r.NumMinDelayRetries < 0 || r.NumMaxDelayRetries < 0:
		return policyError(name + ": retry counts must not be negative")
	case r.NumNoDelayRetries+r.NumMinDelayRetries+r.NumMaxDelayRetries > r.NumRetries:
		return policyError(name + ": numNoDelayRetries + numMinDelayRetries + numMaxDelayRetries must not exceed numRetries")
	case r.MinDelayTarget < 1:
		return policyError(name + ".minDelayTarget must be at least 1")
	case r.MaxDelayTarget < r.MinDelayTarget || r.MaxDelayTarget > maxDelayTarget:
		return policyError(fmt.Sprintf("%s.maxDelayTarget must be between minDelayTarget and %d", name, maxDelayTarget))
	}
	total := 0.0
	for k := 1; k <= r.NumRetries; k++ {
		total += r.delay(k)
	}
	if total > maxTotalRetryTime {
		return policyError(fmt.Sprintf("%s: the retries take %.0f seconds in all; the limit is %d", name, total, maxTotalRetryTime))
	}
	return nil
}

func checkThrottle(t *throttlePolicy, name string) error {
	if t != nil && t.MaxReceivesPerSecond < 1 {
		return policyError(name + ".maxReceivesPerSecond must be at least 1")
	}
	return nil
}

func checkRequest(r *requestPolicy, name string) error {
	if r == nil {
		return nil
	}
	if _, _, err := mime.ParseMediaType(r.HeaderContentType); err != nil {
		return policyError(name + ".headerContentType is not a valid content type")
	}
	return nil
}

// delay is the wait, in seconds, before retry k (1-based) under the policy; retries beyond
// NumRetries have none (the caller stops).
func (r *retryPolicy) delay(k int) float64 {
	lo, hi := float64(r.MinDelayTarget), float64(r.MaxDelayTarget)
	backoff := r.NumRetries - r.NumNoDelayRetries - r.NumMinDelayRetries - r.NumMaxDelayRetries
	switch {
	case k <= r.NumNoDelayRetries:
		return 0
	case k <= r.NumNoDelayRetries+r.NumMinDelayRetries:
		return lo
	case k <= r.NumNoDelayRetries+r.NumMinDelayRetries+backoff:
		j := k - r.NumNoDelayRetries - r.NumMinDelayRetries // 1..backoff
		t := 0.0
		if backoff > 1 {
			t = float64(j-1) / float64(backoff-1)
		}
		return lo + (hi-lo)*curve(r.BackoffFunction, t, hi/lo)
	default:
		return hi
	}
}

// curve maps t in [0,1] to [0,1] along a backoff function. The shapes are OpenTrail's (AWS
// does not publish its formulas); all start at the minimum delay and end at the maximum.
func curve(fn string, t, ratio float64) float64 {
	switch fn {
	case "arithmetic": // delays grow by an arithmetically growing step
		return t * (t + 1) / 2
	case "geometric": // each delay a constant multiple of the previous
		if ratio <= 1 {
			return t
		}
		return (math.Pow(ratio, t) - 1) / (ratio - 1)
	case "exponential": // steeper than geometric: doubling ten times over the phase
		return (math.Exp2(10*t) - 1) / (math.Exp2(10) - 1)
	default: // linear
		return t
	}
}

// next returns the wait before the retry-th retry (1-based), in units of unit (a second in
// production), and false when the policy has no more retries.
func (r *retryPolicy) next(retry int, unit time.Duration) (time.Duration, bool) {
	if retry > r.NumRetries {
		return 0, false
	}
	return time.Duration(r.delay(retry) * float64(unit)), true
}

// effectivePolicy resolves a subscription's delivery policy from the topic's and its own.
func effectivePolicy(topic *topicPolicy, sub *subscriptionPolicy) subscriptionPolicy {
	eff := subscriptionPolicy{HealthyRetryPolicy: &defaultHTTPRetry}
	overrides := true
	if topic != nil && topic.HTTP != nil {
		h := topic.HTTP
		if h.DefaultHealthyRetryPolicy != nil {
			eff.HealthyRetryPolicy = h.DefaultHealthyRetryPolicy
		}
		eff.ThrottlePolicy = h.DefaultThrottlePolicy
		eff.RequestPolicy = h.DefaultRequestPolicy
		overrides = !h.DisableSubscriptionOverrides
	}
	if sub != nil && overrides {
		if sub.HealthyRetryPolicy != nil {
			eff.HealthyRetryPolicy = sub.HealthyRetryPolicy
		}
		if sub.ThrottlePolicy != nil {
			eff.ThrottlePolicy = sub.ThrottlePolicy
		}
		if sub.RequestPolicy != nil {
			eff.RequestPolicy = sub.RequestPolicy
		}
	}
	return eff
}

// contentType is the Content-Type of HTTP/S deliveries under the policy.
func (p subscriptionPolicy) contentType() string {
	if p.RequestPolicy != nil && p.RequestPolicy.HeaderContentType != "" {
		return p.RequestPolicy.HeaderContentType
	}
	return defaultContentType
}

// effectiveTopicPolicyJSON is a topic's EffectiveDeliveryPolicy attribute: its DeliveryPolicy
// with the defaults filled in, in AWS's layout.
func effectiveTopicPolicyJSON(p *topicPolicy) string {
	h := topicHTTPPolicy{DefaultHealthyRetryPolicy: &defaultHTTPRetry, DefaultRequestPolicy: &requestPolicy{HeaderContentType: defaultContentType}}
	if p != nil && p.HTTP != nil {
		if p.HTTP.DefaultHealthyRetryPolicy != nil {
			h.DefaultHealthyRetryPolicy = p.HTTP.DefaultHealthyRetryPolicy
		}
		if p.HTTP.DefaultRequestPolicy != nil {
			h.DefaultRequestPolicy = p.HTTP.DefaultRequestPolicy
		}
		h.DefaultThrottlePolicy = p.HTTP.DefaultThrottlePolicy
		h.DisableSubscriptionOverrides = p.HTTP.DisableSubscriptionOverrides
	}
	b, _ := json.Marshal(topicPolicy{HTTP: &h})
	return string(b)
}

// effectiveSubscriptionPolicyJSON is a subscription's EffectiveDeliveryPolicy attribute.
func effectiveSubscriptionPolicyJSON(p subscriptionPolicy) string {
	b, _ := json.Marshal(p)
	return string(b)
}
