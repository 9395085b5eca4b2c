package iam

import (
	"github.com/opentrail/opentrail"
	"github.com/opentrail/opentrail/internal/policy"
)

// Allowed decides whether the caller may perform action on resource, given the request's
// condition keys. It implements server.Authorizer:
//
//   - a resource ARN naming another account is denied (there are no resource-based policies
//     to grant cross-account access; AssumeRole does its own check);
//   - the root user is allowed everything in its account;
//   - an IAM user is governed by its inline and attached policies and those of its groups;
//   - an assumed role by the role's inline and attached policies, further limited by the
//     session's policies when it has any.
//
// explicitDeny reports that a Deny statement matched.
func (m *IAM) Allowed(c *opentrail.Caller, action, resource string, conds map[string][]string) (allowed, explicitDeny bool) {
	if acct := arnAccount(resource); acct != "" && acct != c.AccountID && acct != awsAccount {
		return false, false
	}
	d := m.decide(c, action, resource, conds)
	return d == policy.Allow, d == policy.ExplicitDeny
}

// decide evaluates the caller's identity-based policies, without the cross-account rule.
func (m *IAM) decide(c *opentrail.Caller, action, resource string, conds map[string][]string) policy.Decision {
	if c.Type == opentrail.IdentityRoot {
		m.mu.RLock()
		_, ok := m.accounts[c.AccountID]
		m.mu.RUnlock()
		if ok {
			return policy.Allow
		}
		return policy.ImplicitDeny
	}
	var buf [16]*policy.Document
	docs := buf[:0]
	var sess *session
	m.mu.RLock()
	a := m.accounts[c.AccountID]
	if a != nil {
		switch c.Type {
		case opentrail.IdentityIAMUser:
			if u := a.ents[kindUser][lower(c.UserName)]; u != nil && u.ID == c.PrincipalID {
				docs = m.appendDocs(docs, a, u)
				for _, g := range u.Groups {
					if ge := a.ents[kindGroup][g]; ge != nil {
						docs = m.appendDocs(docs, a, ge)
					}
				}
			}
		case opentrail.IdentityAssumedRole:
			if r := a.ents[kindRole][lower(c.RoleName)]; r != nil && r.ID == c.RoleID {
				docs = m.appendDocs(docs, a, r)
				if s := m.sessions[c.AccessKeyID]; s != nil && s.restricted() {
					sess = s
				}
			}
		}
	}
	var sessDocs []*policy.Document
	if sess != nil {
		sessDocs = m.sessionDocs(a, sess)
	}
	m.mu.RUnlock()
	req := policy.Request{Action: action, Resource: resource, Principal: c.ARN, PrincipalAccount: c.AccountID, Context: conds}
	d := policy.Evaluate(docs, req)
	if sess == nil || d != policy.Allow {
		return d
	}
	// A session policy only narrows what the role allows.
	if sd := policy.Evaluate(sessDocs, req); sd != policy.Allow {
		return sd
	}
	return policy.Allow
}

// appendDocs appends an entity's inline policies and the default versions of its attached
// managed policies. The caller holds mu (or wmu).
func (m *IAM) appendDocs(docs []*policy.Document, a *account, e *entity) []*policy.Document {
	for i := range e.Inline {
		docs = append(docs, e.Inline[i].doc)
	}
	for _, arn := range e.Attached {
		if p := m.policyByARN(a, arn); p != nil {
			docs = append(docs, p.defaultDoc())
		}
	}
	return docs
}

// policyByARN finds a customer managed policy of the account, or a built-in AWS managed
// policy. The caller holds mu (or wmu).
func (m *IAM) policyByARN(a *account, arn string) *managedPolicy {
	p, ok := parseIAMARN(arn)
	if !ok || p.typ != "policy" {
		return nil
	}
	var mp *managedPolicy
	switch p.account {
	case awsAccount:
		mp = m.awsPolicies[lower(p.name)]
	case a.id:
		mp = a.policies[lower(p.name)]
	}
	if mp == nil || mp.Path != p.path || mp.Name != p.name {
		return nil
	}
	return mp
}
