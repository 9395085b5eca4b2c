package iam

import (
	"context"
	"fmt"

	"github.com/opentrail/opentrail/internal/policy"
	"github.com/opentrail/opentrail/internal/server"
)

type createRoleInput struct {
	Path                     string
	RoleName                 string
	AssumeRolePolicyDocument string
	Description              string
	MaxSessionDuration       *int32
	PermissionsBoundary      string
	Tags                     []tag
}

type roleOutput struct {
	Role roleShape
}

// parseTrust validates a role trust policy: its size, its grammar, and that the users and
// roles it names exist (in the accounts this server knows). The caller holds wmu.
func (m *IAM) parseTrust(document string) (*policy.Document, error) {
	if policySize(document) > maxTrustPolicySize {
		return nil, limitExceeded("Cannot exceed quota for ACLSizePerRole: %d", maxTrustPolicySize)
	}
	doc, err := policy.ParseTrust(document)
	if err != nil {
		return nil, policyError(err)
	}
	for _, st := range doc.Statement {
		for _, p := range []*policy.Principal{st.Principal, st.NotPrincipal} {
			if p == nil {
				continue
			}
			for _, arn := range p.AWS {
				if !m.principalExists(arn) {
					return nil, malformedPolicy(fmt.Sprintf(`Invalid principal in policy: "AWS":"%s"`, arn))
				}
			}
		}
	}
	return doc, nil
}

// principalExists reports whether a principal named in a trust policy exists, as far as this
// server can tell: users and roles of known accounts must exist; anything else is accepted.
// The caller holds mu or wmu.
func (m *IAM) principalExists(arn string) bool {
	p, ok := parseIAMARN(arn)
	if !ok {
		return true
	}
	a := m.accounts[p.account]
	if a == nil {
		return true
	}
	var k kind
	switch p.typ {
	case "user":
		k = kindUser
	case "role":
		k = kindRole
	default:
		return true
	}
	e := a.ents[k][lower(p.name)]
	return e != nil && e.Path == p.path && e.Name == p.name
}

func (m *IAM) createRole(_ context.Context, c *server.Call, in *createRoleInput) (*roleOutput, error) {
	var v validation
	e := m.newEntity(&v, kindRole, in.RoleName, in.Path)
	v.document("assumeRolePolicyDocument", in.AssumeRolePolicyDocument)
	v.str("description", in.Description, 0, 1000, patRoleDesc)
	v.num("maxSessionDuration", in.MaxSessionDuration, minRoleMaxSession, maxRoleMaxSession)
	v.tags(in.Tags)
	if err := v.err(); err != nil {
		return nil, err
	}
	if in.PermissionsBoundary != "" {
		return nil, errNoBoundaries()
	}
	e.Description, e.Trust, e.Tags, e.MaxSession = in.Description, in.AssumeRolePolicyDocument, in.Tags, defaultMaxSession
	if in.MaxSessionDuration != nil {
		e.MaxSession = *in.MaxSessionDuration
	}
	m.wmu.Lock()
	defer m.wmu.Unlock()
	a, err := m.callerAccount(c)
	if err != nil {
		return nil, err
	}
	if e.trust, err = m.parseTrust(in.AssumeRolePolicyDocument); err != nil {
		return nil, err
	}
	if err := m.create(c, a, e); err != nil {
		return nil, err
	}
	return &roleOutput{Role: e.roleShape(a.id)}, nil
}

type roleNameInput struct {
	RoleName string
}

func (m *IAM) getRole(_ context.Context, c *server.Call, in *roleNameInput) (*roleOutput, error) {
	if err := validName(kindRole, in.RoleName); err != nil {
		return nil, err
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	a, e, err := m.callerEntity(c, kindRole, in.RoleName)
	if err != nil {
		return nil, err
	}
	out := &roleOutput{Role: e.roleShape(a.id)}
	out.Role.RoleLastUsed = &roleLastUsed{}
	return out, nil
}

type listRolesOutput struct {
	Roles       members[roleShape]
	IsTruncated bool
	Marker      string `xml:",omitempty" json:",omitempty"`
}

func (m *IAM) listRoles(_ context.Context, c *server.Call, in *listInput) (*listRolesOutput, error) {
	list, truncated, next, err := m.listEntities(c, kindRole, in.PathPrefix, in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	out := &listRolesOutput{Roles: make(members[roleShape], len(list)), IsTruncated: truncated, Marker: next}
	for i, e := range list {
		out.Roles[i] = e.roleShape(c.Account())
		out.Roles[i].Tags = nil // ListRoles does not return tags
	}
	return out, nil
}

func (m *IAM) deleteRole(_ context.Context, c *server.Call, in *roleNameInput) (*server.NoOutput, error) {
	if err := validName(kindRole, in.RoleName); err != nil {
		return nil, err
	}
	m.wmu.Lock()
	defer m.wmu.Unlock()
	a, e, err := m.callerEntity(c, kindRole, in.RoleName)
	if err != nil {
		return nil, err
	}
	if err := policyConflict(e); err != nil {
		return nil, err
	}
	if err := m.deleteEntity(c, a, e); err != nil {
		return nil, err
	}
	return &server.NoOutput{}, nil
}

type updateRoleInput struct {
	RoleName           string
	Description        *string
	MaxSessionDuration *int32
}

// updateRoleOutput is UpdateRole's empty result: unlike other operations without result
// members, its model has a result element, which the SDKs expect.
type updateRoleOutput struct{}

func (m *IAM) updateRole(_ context.Context, c *server.Call, in *updateRoleInput) (*updateRoleOutput, error) {
	var v validation
	validateExisting(&v, kindRole, in.RoleName)
	if in.Description != nil {
		v.str("description", *in.Description, 0, 1000, patRoleDesc)
	}
	v.num("maxSessionDuration", in.MaxSessionDuration, minRoleMaxSession, maxRoleMaxSession)
	if err := v.err(); err != nil {
		return nil, err
	}
	m.wmu.Lock()
	defer m.wmu.Unlock()
	a, e, err := m.callerEntity(c, kindRole, in.RoleName)
	if err != nil {
		return nil, err
	}
	ne := e.clone()
	if in.Description != nil {
		ne.Description = *in.Description
	}
	if in.MaxSessionDuration != nil {
		ne.MaxSession = *in.MaxSessionDuration
	}
	if err := m.saveEntity(c, a, ne); err != nil {
		return nil, err
	}
	return &updateRoleOutput{}, nil
}

type updateAssumeRolePolicyInput struct {
	RoleName       string
	PolicyDocument string
}

func (m *IAM) updateAssumeRolePolicy(_ context.Context, c *server.Call, in *updateAssumeRolePolicyInput) (*server.NoOutput, error) {
	var v validation
	validateExisting(&v, kindRole, in.RoleName)
	v.document("policyDocument", in.PolicyDocument)
	if err := v.err(); err != nil {
		return nil, err
	}
	m.wmu.Lock()
	defer m.wmu.Unlock()
	a, e, err := m.callerEntity(c, kindRole, in.RoleName)
	if err != nil {
		return nil, err
	}
	doc, err := m.parseTrust(in.PolicyDocument)
	if err != nil {
		return nil, err
	}
	ne := e.clone()
	ne.Trust, ne.trust = in.PolicyDocument, doc
	if err := m.saveEntity(c, a, ne); err != nil {
		return nil, err
	}
	return &server.NoOutput{}, nil
}

type rolePolicyInput struct {
	RoleName       string
	PolicyName     string
	PolicyDocument string
}

func (m *IAM) putRolePolicy(_ context.Context, c *server.Call, in *rolePolicyInput) (*server.NoOutput, error) {
	return &server.NoOutput{}, m.putInline(c, kindRole, in.RoleName, in.PolicyName, in.PolicyDocument)
}

type getRolePolicyOutput struct {
	RoleName       string
	PolicyName     string
	PolicyDocument string
}

func (m *IAM) getRolePolicy(_ context.Context, c *server.Call, in *rolePolicyInput) (*getRolePolicyOutput, error) {
	name, p, err := m.getInline(c, kindRole, in.RoleName, in.PolicyName)
	if err != nil {
		return nil, err
	}
	return &getRolePolicyOutput{RoleName: name, PolicyName: p.Name, PolicyDocument: urlEncode(p.Document)}, nil
}

func (m *IAM) deleteRolePolicy(_ context.Context, c *server.Call, in *rolePolicyInput) (*server.NoOutput, error) {
	return &server.NoOutput{}, m.deleteInline(c, kindRole, in.RoleName, in.PolicyName)
}

type listRolePoliciesInput struct {
	RoleName string
	Marker   string
	MaxItems *int32
}

func (m *IAM) listRolePolicies(_ context.Context, c *server.Call, in *listRolePoliciesInput) (*listPolicyNamesOutput, error) {
	out, err := m.listInline(c, kindRole, in.RoleName, in.Marker, in.MaxItems)
	return &out, err
}

type rolePolicyARNInput struct {
	RoleName  string
	PolicyArn string
}

func (m *IAM) attachRolePolicy(_ context.Context, c *server.Call, in *rolePolicyARNInput) (*server.NoOutput, error) {
	return &server.NoOutput{}, m.attach(c, kindRole, in.RoleName, in.PolicyArn)
}

func (m *IAM) detachRolePolicy(_ context.Context, c *server.Call, in *rolePolicyARNInput) (*server.NoOutput, error) {
	return &server.NoOutput{}, m.detach(c, kindRole, in.RoleName, in.PolicyArn)
}

type listAttachedRolePoliciesInput struct {
	RoleName   string
	PathPrefix string
	Marker     string
	MaxItems   *int32
}

func (m *IAM) listAttachedRolePolicies(_ context.Context, c *server.Call, in *listAttachedRolePoliciesInput) (*listAttachedOutput, error) {
	return m.listAttached(c, kindRole, in.RoleName, in.PathPrefix, in.Marker, in.MaxItems)
}
