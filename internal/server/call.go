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

// ConditionContext returns the global condition keys of this call.
func (c *Call) ConditionContext() map[string][]string {
	ctx := map[string][]string{
		"aws:sourceip":         {c.SourceIP},
		"aws:securetransport":  {strconv.FormatBool(c.Secure)},
		"aws:currenttime":      {c.Time.UTC().Format(time.RFC3339)},
		"aws:epochtime":        {strconv.FormatInt(c.Time.Unix(), 10)},
		"aws:principalarn":     {c.principalARN()},
		"aws:principalaccount": {c.Caller.AccountID},
		"aws:principaltype":    {principalType(c.Caller.Type)},
		"aws:userid":           {c.Caller.PrincipalID},
		"aws:requestedregion":  {c.Region},
	}
	if c.Caller.Type == opentrail.IdentityIAMUser {
		ctx["aws:username"] = []string{c.Caller.UserName}
	}
	return ctx
}

// principalARN is aws:PrincipalArn: the role ARN for assumed roles, else the caller ARN.
func (c *Call) principalARN() string {
	if c.Caller.Type == opentrail.IdentityAssumedRole {
		return c.Caller.RoleARN
	}
	return c.Caller.ARN
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
