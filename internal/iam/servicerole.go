package iam

import (
	"github.com/opentrail/opentrail"
	"github.com/opentrail/opentrail/internal/policy"
)

// ServiceRole checks, as AWS does when a service is given a role to act with (CloudTrail's
// CloudWatchLogsRoleArn), that service (a service principal such as
// "cloudtrail.amazonaws.com") may use role roleARN of account acct: the role exists in that
// account, its trust policy lets the service assume it, and its policies allow every one of
// actions on resource. When it may not, reason says which check failed.
func (m *IAM) ServiceRole(acct, roleARN, service string, actions []string, resource string) (ok bool, reason string) {
	p, valid := parseIAMARN(roleARN)
	if !valid || p.typ != "role" {
		return false, "not a role ARN"
	}
	if p.account != acct {
		return false, "the role belongs to another account"
	}
	m.mu.RLock()
	var role *entity
	if a := m.accounts[acct]; a != nil {
		role = a.ents[kindRole][lower(p.name)]
	}
	m.mu.RUnlock()
	if role == nil || role.Path != p.path || role.Name != p.name {
		return false, "the role does not exist"
	}
	trust := policy.Request{Action: "sts:AssumeRole", Resource: roleARN, Principal: service, Context: map[string][]string{}}
	if role.trust == nil || role.trust.AllowsPrincipal(trust) != policy.Allow {
		return false, "the role's trust policy does not allow " + service + " to assume it"
	}
	caller := &opentrail.Caller{Type: opentrail.IdentityAssumedRole, AccountID: acct, ARN: "arn:aws:sts::" + acct + ":assumed-role/" + role.Name + "/" + service,
		RoleName: role.Name, RoleID: role.ID, RoleARN: roleARN}
	for _, action := range actions {
		if m.decide(caller, action, resource, nil) != policy.Allow {
			return false, "the role's policies do not allow " + action + " on " + resource
		}
	}
	return true, ""
}
