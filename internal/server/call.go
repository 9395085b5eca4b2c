package server

import (
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/opentrail/opentrail"
)

// Call is one API call in flight: who made it, where, and what the record should say.
type Call struct {
	Service   *Service
	Operation *Operation
	RequestID string
	Region    string
	Caller    *opentrail.Caller
	SourceIP  string
	UserAgent string
	Time      time.Time
	Secure    bool

	authz     Authorizer
	refuse    error // when set, the handler does not run and the call fails with it
	resources []opentrail.Resource
	extra     map[string]any
}

// Account is the caller's account ID; every call is confined to it.
func (c *Call) Account() string { return c.Caller.AccountID }

func (c *Call) action() string {
	if c.Operation.Action != "" {
		return c.Operation.Action
	}
	return c.Service.Name + ":" + c.Operation.Name
}

// AddResource lists a resource in the call's record.
func (c *Call) AddResource(typ, arn string) {
	c.resources = append(c.resources, opentrail.Resource{ARN: arn, AccountID: c.Account(), Type: typ})
}

// SetAdditionalData sets a member of the record's additionalEventData.
func (c *Call) SetAdditionalData(key string, v any) {
	if c.extra == nil {
		c.extra = make(map[string]any)
	}
	c.extra[key] = v
}

// ConditionContext is the request's global condition keys (see ConditionKeys).
func (c *Call) ConditionContext() map[string][]string {
	return ConditionKeys(c.Caller, c.SourceIP, c.Secure, c.Time, c.Region)
}

// ConditionKeys returns the global condition keys of a request (lower-cased, as the policy
// evaluator looks them up) made by caller from sourceIP at t in region, over TLS if secure.
// The S3 gateway adds its service's keys to them.
func ConditionKeys(caller *opentrail.Caller, sourceIP string, secure bool, t time.Time, region string) map[string][]string {
	ctx := map[string][]string{
		"aws:sourceip":         {sourceIP},
		"aws:securetransport":  {strconv.FormatBool(secure)},
		"aws:currenttime":      {t.UTC().Format(time.RFC3339)},
		"aws:epochtime":        {strconv.FormatInt(t.Unix(), 10)},
		"aws:principalarn":     {principalARN(caller)},
		"aws:principalaccount": {caller.AccountID},
		"aws:principaltype":    {principalType(caller.Type)},
		"aws:userid":           {caller.PrincipalID},
		"aws:requestedregion":  {region},
	}
	if caller.Type == opentrail.IdentityIAMUser {
		ctx["aws:username"] = []string{caller.UserName}
	}
	return ctx
}

// principalARN is aws:PrincipalArn: the role ARN for assumed roles, else the caller ARN.
func principalARN(c *opentrail.Caller) string {
	if c.Type == opentrail.IdentityAssumedRole {
		return c.RoleARN
	}
	return c.ARN
}

// Authorize checks that the caller may perform action on resource. A denial is an AWS
// AccessDenied error in the service's protocol, worded as AWS words it.
func (c *Call) Authorize(action, resource string) error {
	if c.authz == nil {
		return nil
	}
	allowed, explicit := c.authz.Allowed(c.Caller, action, resource, c.ConditionContext())
	if allowed {
		return nil
	}
	reason := "because no identity-based policy allows the " + action + " action"
	if explicit {
		reason = "with an explicit deny in an identity-based policy"
	}
	code := "AccessDeniedException"
	if c.Service.Wire.Protocol == protocolQuery {
		code = "AccessDenied"
	}
	return &opentrail.Error{
		Code:    code,
		Message: fmt.Sprintf("User: %s is not authorized to perform: %s on resource: %s %s", c.Caller.ARN, action, resource, reason),
		Status:  http.StatusForbidden,
		Sender:  true,
	}
}

// principalType is aws:PrincipalType: Account for root, User for IAM users, AssumedRole.
func principalType(t string) string {
	switch t {
	case opentrail.IdentityRoot:
		return "Account"
	case opentrail.IdentityIAMUser:
		return "User"
	}
	return t
}
