package iam

import (
	"context"
	"slices"

	"github.com/opentrail/opentrail/internal/server"
)

type createGroupInput struct {
	Path      string
	GroupName string
}

type createGroupOutput struct {
	Group groupShape
}

func (m *IAM) createGroup(_ context.Context, c *server.Call, in *createGroupInput) (*createGroupOutput, error) {
	var v validation
	e := m.newEntity(&v, kindGroup, in.GroupName, in.Path)
	if err := v.err(); err != nil {
		return nil, err
	}
	m.wmu.Lock()
	defer m.wmu.Unlock()
	a, err := m.callerAccount(c)
	if err != nil {
		return nil, err
	}
	if err := m.create(c, a, e); err != nil {
		return nil, err
	}
	return &createGroupOutput{Group: e.groupShape(a.id)}, nil
}

type getGroupInput struct {
	GroupName string
	Marker    string
	MaxItems  *int32
}

type getGroupOutput struct {
	Group       groupShape
	Users       members[userShape]
	IsTruncated bool
	Marker      string `xml:",omitempty" json:",omitempty"`
}

// membersOf returns the users in a group, sorted by name. The caller holds mu or wmu.
func membersOf(a *account, g *entity) []*entity {
	key := lower(g.Name)
	return sortedEntities(a.ents[kindUser], func(u *entity) bool { return slices.Contains(u.Groups, key) })
}

func (m *IAM) getGroup(_ context.Context, c *server.Call, in *getGroupInput) (*getGroupOutput, error) {
	var v validation
	validateExisting(&v, kindGroup, in.GroupName)
	v.paging(in.Marker, in.MaxItems)
	if err := v.err(); err != nil {
		return nil, err
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	a, g, err := m.callerEntity(c, kindGroup, in.GroupName)
	if err != nil {
		return nil, err
	}
	page, truncated, next, err := pageOf(membersOf(a, g), entityKey, in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	out := &getGroupOutput{Group: g.groupShape(a.id), Users: make(members[userShape], len(page)), IsTruncated: truncated, Marker: next}
	for i, u := range page {
		out.Users[i] = u.userShape(a.id)
		out.Users[i].Tags = nil
	}
	return out, nil
}

type listGroupsOutput struct {
	Groups      members[groupShape]
	IsTruncated bool
	Marker      string `xml:",omitempty" json:",omitempty"`
}

func (m *IAM) listGroups(_ context.Context, c *server.Call, in *listInput) (*listGroupsOutput, error) {
	list, truncated, next, err := m.listEntities(c, kindGroup, in.PathPrefix, in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	return groupList(c.Account(), list, truncated, next), nil
}

func groupList(acct string, list []*entity, truncated bool, next string) *listGroupsOutput {
	out := &listGroupsOutput{Groups: make(members[groupShape], len(list)), IsTruncated: truncated, Marker: next}
	for i, e := range list {
		out.Groups[i] = e.groupShape(acct)
	}
	return out
}

type listGroupsForUserInput struct {
	UserName string
	Marker   string
	MaxItems *int32
}

func (m *IAM) listGroupsForUser(_ context.Context, c *server.Call, in *listGroupsForUserInput) (*listGroupsOutput, error) {
	var v validation
	validateExisting(&v, kindUser, in.UserName)
	v.paging(in.Marker, in.MaxItems)
	if err := v.err(); err != nil {
		return nil, err
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	a, u, err := m.callerEntity(c, kindUser, in.UserName)
	if err != nil {
		return nil, err
	}
	var groups []*entity
	for _, name := range u.Groups {
		if g := a.ents[kindGroup][name]; g != nil {
			groups = append(groups, g)
		}
	}
	page, truncated, next, err := pageOf(groups, entityKey, in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	return groupList(a.id, page, truncated, next), nil
}

type groupNameInput struct {
	GroupName string
}

func (m *IAM) deleteGroup(_ context.Context, c *server.Call, in *groupNameInput) (*server.NoOutput, error) {
	if err := validName(kindGroup, in.GroupName); err != nil {
		return nil, err
	}
	m.wmu.Lock()
	defer m.wmu.Unlock()
	a, g, err := m.callerEntity(c, kindGroup, in.GroupName)
	if err != nil {
		return nil, err
	}
	if len(membersOf(a, g)) > 0 {
		return nil, deleteConflict("Cannot delete entity, must remove users from group first.")
	}
	if err := policyConflict(g); err != nil {
		return nil, err
	}
	if err := m.deleteEntity(c, a, g); err != nil {
		return nil, err
	}
	return &server.NoOutput{}, nil
}

type groupMemberInput struct {
	GroupName string
	UserName  string
}

// changeMembership adds a user to a group or removes it.
func (m *IAM) changeMembership(c *server.Call, in *groupMemberInput, add bool) error {
	var v validation
	validateExisting(&v, kindGroup, in.GroupName)
	validateExisting(&v, kindUser, in.UserName)
	if err := v.err(); err != nil {
		return err
	}
	m.wmu.Lock()
	defer m.wmu.Unlock()
	a, g, err := m.callerEntity(c, kindGroup, in.GroupName)
	if err != nil {
		return err
	}
	u, err := lookup(a, kindUser, in.UserName)
	if err != nil {
		return err
	}
	c.AddResource(kindGroup.info().resourceType, g.arn(a.id))
	c.AddResource(kindUser.info().resourceType, u.arn(a.id))
	key := lower(g.Name)
	member := slices.Contains(u.Groups, key)
	nu := u.clone()
	switch {
	case add && member:
		return nil
	case add:
		if len(u.Groups) >= maxGroupsPerUser {
			return limitExceeded("Cannot exceed quota for GroupsPerUser: %d", maxGroupsPerUser)
		}
		nu.Groups = append(nu.Groups, key)
		slices.Sort(nu.Groups)
	case !member:
		return noSuchEntity("The user with name %s cannot be found in group %s.", u.Name, g.Name)
	default:
		nu.Groups = slices.DeleteFunc(nu.Groups, func(s string) bool { return s == key })
	}
	return m.putEntity(a, nu)
}

func (m *IAM) addUserToGroup(_ context.Context, c *server.Call, in *groupMemberInput) (*server.NoOutput, error) {
	return &server.NoOutput{}, m.changeMembership(c, in, true)
}

func (m *IAM) removeUserFromGroup(_ context.Context, c *server.Call, in *groupMemberInput) (*server.NoOutput, error) {
	return &server.NoOutput{}, m.changeMembership(c, in, false)
}

type groupPolicyInput struct {
	GroupName      string
	PolicyName     string
	PolicyDocument string
}

func (m *IAM) putGroupPolicy(_ context.Context, c *server.Call, in *groupPolicyInput) (*server.NoOutput, error) {
	return &server.NoOutput{}, m.putInline(c, kindGroup, in.GroupName, in.PolicyName, in.PolicyDocument)
}

type getGroupPolicyOutput struct {
	GroupName      string
	PolicyName     string
	PolicyDocument string
}

func (m *IAM) getGroupPolicy(_ context.Context, c *server.Call, in *groupPolicyInput) (*getGroupPolicyOutput, error) {
	name, p, err := m.getInline(c, kindGroup, in.GroupName, in.PolicyName)
	if err != nil {
		return nil, err
	}
	return &getGroupPolicyOutput{GroupName: name, PolicyName: p.Name, PolicyDocument: urlEncode(p.Document)}, nil
}

func (m *IAM) deleteGroupPolicy(_ context.Context, c *server.Call, in *groupPolicyInput) (*server.NoOutput, error) {
	return &server.NoOutput{}, m.deleteInline(c, kindGroup, in.GroupName, in.PolicyName)
}

type listGroupPoliciesInput struct {
	GroupName string
	Marker    string
	MaxItems  *int32
}

func (m *IAM) listGroupPolicies(_ context.Context, c *server.Call, in *listGroupPoliciesInput) (*listPolicyNamesOutput, error) {
	out, err := m.listInline(c, kindGroup, in.GroupName, in.Marker, in.MaxItems)
	return &out, err
}

type groupPolicyARNInput struct {
	GroupName string
	PolicyArn string
}

func (m *IAM) attachGroupPolicy(_ context.Context, c *server.Call, in *groupPolicyARNInput) (*server.NoOutput, error) {
	return &server.NoOutput{}, m.attach(c, kindGroup, in.GroupName, in.PolicyArn)
}

func (m *IAM) detachGroupPolicy(_ context.Context, c *server.Call, in *groupPolicyARNInput) (*server.NoOutput, error) {
	return &server.NoOutput{}, m.detach(c, kindGroup, in.GroupName, in.PolicyArn)
}

type listAttachedGroupPoliciesInput struct {
	GroupName  string
	PathPrefix string
	Marker     string
	MaxItems   *int32
}

func (m *IAM) listAttachedGroupPolicies(_ context.Context, c *server.Call, in *listAttachedGroupPoliciesInput) (*listAttachedOutput, error) {
	return m.listAttached(c, kindGroup, in.GroupName, in.PathPrefix, in.Marker, in.MaxItems)
}
