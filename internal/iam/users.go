package iam

import (
	"context"

	"github.com/opentrail/opentrail"
	"github.com/opentrail/opentrail/internal/server"
)

type createUserInput struct {
	Path                string
	UserName            string
	PermissionsBoundary string
	Tags                []tag
}

type userOutput struct {
	User userShape
}

func (m *IAM) createUser(_ context.Context, c *server.Call, in *createUserInput) (*userOutput, error) {
	var v validation
	e := m.newEntity(&v, kindUser, in.UserName, in.Path)
	v.tags(in.Tags)
	if err := v.err(); err != nil {
		return nil, err
	}
	if in.PermissionsBoundary != "" {
		return nil, errNoBoundaries()
	}
	e.Tags = in.Tags
	m.wmu.Lock()
	defer m.wmu.Unlock()
	a, err := m.callerAccount(c)
	if err != nil {
		return nil, err
	}
	if err := m.create(c, a, e); err != nil {
		return nil, err
	}
	return &userOutput{User: e.userShape(a.id)}, nil
}

// errNoBoundaries refuses permissions boundaries, which OpenTrail does not enforce.
func errNoBoundaries() error { return invalidInput("Permissions boundaries are not supported.") }

// errNotUser answers operations that default to the calling user when the caller is a role.
func errNotUser() error {
	return validationError("Must specify userName when calling with non-User credentials")
}

type userNameInput struct {
	UserName string
}

// selfResource is the resource of an operation on the named user, or on the caller when the
// name is absent.
func (m *IAM) selfResource(c *server.Call, userName string) string {
	if userName == "" {
		return c.Caller.ARN
	}
	return m.entityResource(c, kindUser, userName)
}

func (m *IAM) getUser(_ context.Context, c *server.Call, in *userNameInput) (*userOutput, error) {
	var v validation
	v.str("userName", in.UserName, 1, 128, patName)
	if err := v.err(); err != nil {
		return nil, err
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	a, err := m.callerAccount(c)
	if err != nil {
		return nil, err
	}
	name := in.UserName
	if name == "" {
		switch c.Caller.Type {
		case opentrail.IdentityRoot:
			return &userOutput{User: userShape{UserId: a.id, Arn: rootARN(a.id), CreateDate: timestamp(a.created)}}, nil
		case opentrail.IdentityIAMUser:
			name = c.Caller.UserName
		default:
			return nil, errNotUser()
		}
	}
	e, err := lookup(a, kindUser, name)
	if err != nil {
		return nil, err
	}
	return &userOutput{User: e.userShape(a.id)}, nil
}

type listInput struct {
	PathPrefix string
	Marker     string
	MaxItems   *int32
}

type listUsersOutput struct {
	Users       members[userShape]
	IsTruncated bool
	Marker      string `xml:",omitempty" json:",omitempty"`
}

func (m *IAM) listUsers(_ context.Context, c *server.Call, in *listInput) (*listUsersOutput, error) {
	list, truncated, next, err := m.listEntities(c, kindUser, in.PathPrefix, in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	out := &listUsersOutput{Users: make(members[userShape], len(list)), IsTruncated: truncated, Marker: next}
	for i, e := range list {
		out.Users[i] = e.userShape(c.Account())
		out.Users[i].Tags = nil // ListUsers does not return tags
	}
	return out, nil
}

func (m *IAM) deleteUser(_ context.Context, c *server.Call, in *userNameInput) (*server.NoOutput, error) {
	if err := validName(kindUser, in.UserName); err != nil {
		return nil, err
	}
	m.wmu.Lock()
	defer m.wmu.Unlock()
	a, e, err := m.callerEntity(c, kindUser, in.UserName)
	if err != nil {
		return nil, err
	}
	for _, k := range a.keys {
		if k.User != "" && lower(k.User) == lower(e.Name) {
			return nil, deleteConflict("Cannot delete entity, must delete access keys first.")
		}
	}
	if err := policyConflict(e); err != nil {
		return nil, err
	}
	if len(e.Groups) > 0 {
		return nil, deleteConflict("Cannot delete entity, must remove user from all groups first.")
	}
	if err := m.deleteEntity(c, a, e); err != nil {
		return nil, err
	}
	return &server.NoOutput{}, nil
}

type userPolicyInput struct {
	UserName       string
	PolicyName     string
	PolicyDocument string
}

func (m *IAM) putUserPolicy(_ context.Context, c *server.Call, in *userPolicyInput) (*server.NoOutput, error) {
	return &server.NoOutput{}, m.putInline(c, kindUser, in.UserName, in.PolicyName, in.PolicyDocument)
}

type getUserPolicyOutput struct {
	UserName       string
	PolicyName     string
	PolicyDocument string
}

func (m *IAM) getUserPolicy(_ context.Context, c *server.Call, in *userPolicyInput) (*getUserPolicyOutput, error) {
	name, p, err := m.getInline(c, kindUser, in.UserName, in.PolicyName)
	if err != nil {
		return nil, err
	}
	return &getUserPolicyOutput{UserName: name, PolicyName: p.Name, PolicyDocument: urlEncode(p.Document)}, nil
}

func (m *IAM) deleteUserPolicy(_ context.Context, c *server.Call, in *userPolicyInput) (*server.NoOutput, error) {
	return &server.NoOutput{}, m.deleteInline(c, kindUser, in.UserName, in.PolicyName)
}

type listUserPoliciesInput struct {
	UserName string
	Marker   string
	MaxItems *int32
}

func (m *IAM) listUserPolicies(_ context.Context, c *server.Call, in *listUserPoliciesInput) (*listPolicyNamesOutput, error) {
	out, err := m.listInline(c, kindUser, in.UserName, in.Marker, in.MaxItems)
	return &out, err
}

type userPolicyARNInput struct {
	UserName  string
	PolicyArn string
}

func (m *IAM) attachUserPolicy(_ context.Context, c *server.Call, in *userPolicyARNInput) (*server.NoOutput, error) {
	return &server.NoOutput{}, m.attach(c, kindUser, in.UserName, in.PolicyArn)
}

func (m *IAM) detachUserPolicy(_ context.Context, c *server.Call, in *userPolicyARNInput) (*server.NoOutput, error) {
	return &server.NoOutput{}, m.detach(c, kindUser, in.UserName, in.PolicyArn)
}

type listAttachedUserPoliciesInput struct {
	UserName   string
	PathPrefix string
	Marker     string
	MaxItems   *int32
}

func (m *IAM) listAttachedUserPolicies(_ context.Context, c *server.Call, in *listAttachedUserPoliciesInput) (*listAttachedOutput, error) {
	return m.listAttached(c, kindUser, in.UserName, in.PathPrefix, in.Marker, in.MaxItems)
}
