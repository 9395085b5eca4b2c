package iam

import (
	"cmp"
	"context"
	"slices"
	"strconv"
	"strings"

	"github.com/opentrail/opentrail/internal/policy"
	"github.com/opentrail/opentrail/internal/server"
)

// parseManaged validates a managed policy document: its size and its grammar.
func parseManaged(document string) (*policy.Document, error) {
	if policySize(document) > maxManagedPolicySize {
		return nil, limitExceeded("Cannot exceed quota for PolicySize: %d", maxManagedPolicySize)
	}
	doc, err := policy.ParseIdentity(document)
	if err != nil {
		return nil, policyError(err)
	}
	return doc, nil
}

// attachments counts the entities of the account a managed policy is attached to. The caller
// holds mu or wmu.
func attachments(a *account, arn string) int {
	n := 0
	for k := range a.ents {
		for _, e := range a.ents[k] {
			if slices.Contains(e.Attached, arn) {
				n++
			}
		}
	}
	return n
}

// findPolicy validates a PolicyArn member and returns the policy. The caller holds mu or wmu.
func (m *IAM) findPolicy(a *account, arn string) (*managedPolicy, error) {
	p := m.policyByARN(a, arn)
	if p == nil {
		return nil, noSuchEntity("Policy %s was not found.", arn)
	}
	return p, nil
}

// callerPolicy returns the caller's account and a policy in it. The caller holds mu or wmu.
func (m *IAM) callerPolicy(c *server.Call, arn string) (*account, *managedPolicy, error) {
	a, err := m.callerAccount(c)
	if err != nil {
		return nil, nil, err
	}
	p, err := m.findPolicy(a, arn)
	if err != nil {
		return nil, nil, err
	}
	return a, p, nil
}

// ownPolicy is callerPolicy for changes, which AWS managed policies refuse. The caller holds
// wmu.
func (m *IAM) ownPolicy(c *server.Call, arn string) (*account, *managedPolicy, error) {
	a, p, err := m.callerPolicy(c, arn)
	if err != nil {
		return nil, nil, err
	}
	if p.isAWS() {
		return nil, nil, errAWSManaged(c, arn)
	}
	return a, p, nil
}

// savePolicy stores a managed policy and names it as the call's resource. The caller holds
// wmu.
func (m *IAM) savePolicy(c *server.Call, a *account, p *managedPolicy) error {
	if err := m.putPolicy(a, p); err != nil {
		return err
	}
	c.AddResource("AWS::IAM::Policy", p.arn())
	return nil
}

// errAWSManaged refuses changes to AWS managed policies.
func errAWSManaged(c *server.Call, arn string) error {
	return accessDenied("User: %s is not authorized to perform: %s on resource: policy %s", c.Caller.ARN, c.Service.Name+":"+c.Operation.Name, arn)
}

type createPolicyInput struct {
	PolicyName     string
	Path           string
	PolicyDocument string
	Description    string
	Tags           []tag
}

type policyOutput struct {
	Policy policyShape
}

func (m *IAM) createPolicy(_ context.Context, c *server.Call, in *createPolicyInput) (*policyOutput, error) {
	var v validation
	v.name("policyName", in.PolicyName, 128)
	v.str("path", in.Path, 1, 512, patPolicyPath)
	v.document("policyDocument", in.PolicyDocument)
	v.str("description", in.Description, 0, 1000, nil)
	v.tags(in.Tags)
	if err := v.err(); err != nil {
		return nil, err
	}
	doc, err := parseManaged(in.PolicyDocument)
	if err != nil {
		return nil, err
	}
	path := cmp.Or(in.Path, "/")
	m.wmu.Lock()
	defer m.wmu.Unlock()
	a, err := m.callerAccount(c)
	if err != nil {
		return nil, err
	}
	if a.policies[lower(in.PolicyName)] != nil {
		return nil, entityExists("A policy called %s already exists. Duplicate names are not allowed.", in.PolicyName)
	}
	now := m.clock()
	p := &managedPolicy{
		Name: in.PolicyName, Path: path, ID: newEntityID(prefixPolicy), Description: in.Description,
		Created: now, Updated: now, Default: "v1", NextVersion: 2, Tags: in.Tags, account: a.id,
		Versions: []policyVersion{{ID: "v1", Document: in.PolicyDocument, Created: now, doc: doc}},
	}
	if err := m.savePolicy(c, a, p); err != nil {
		return nil, err
	}
	return &policyOutput{Policy: p.shape(0)}, nil
}

type policyARNInput struct {
	PolicyArn string
}

func (m *IAM) getPolicy(_ context.Context, c *server.Call, in *policyARNInput) (*policyOutput, error) {
	var v validation
	if err := validPolicyARN(&v, in.PolicyArn); err != nil {
		return nil, err
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	a, p, err := m.callerPolicy(c, in.PolicyArn)
	if err != nil {
		return nil, err
	}
	return &policyOutput{Policy: p.shape(attachments(a, p.arn()))}, nil
}

func (m *IAM) deletePolicy(_ context.Context, c *server.Call, in *policyARNInput) (*server.NoOutput, error) {
	var v validation
	if err := validPolicyARN(&v, in.PolicyArn); err != nil {
		return nil, err
	}
	m.wmu.Lock()
	defer m.wmu.Unlock()
	a, p, err := m.ownPolicy(c, in.PolicyArn)
	if err != nil {
		return nil, err
	}
	if attachments(a, p.arn()) > 0 {
		return nil, deleteConflict("Cannot delete a policy attached to entities.")
	}
	if len(p.Versions) > 1 {
		return nil, deleteConflict("This policy has more than one version. Before you delete a policy, you must delete the policy's versions. The default version is deleted with the policy.")
	}
	b := m.store.NewBatch()
	b.Delete(policyStoreKey(a.id, p.Name))
	if err := m.commit(b, func() { delete(a.policies, lower(p.Name)) }); err != nil {
		return nil, err
	}
	c.AddResource("AWS::IAM::Policy", p.arn())
	return &server.NoOutput{}, nil
}

type listPoliciesInput struct {
	Scope             string
	OnlyAttached      bool
	PathPrefix        string
	PolicyUsageFilter string
	Marker            string
	MaxItems          *int32
}

type listPoliciesOutput struct {
	Policies    members[policyShape]
	IsTruncated bool
	Marker      string `xml:",omitempty" json:",omitempty"`
}

func (m *IAM) listPolicies(_ context.Context, c *server.Call, in *listPoliciesInput) (*listPoliciesOutput, error) {
	var v validation
	v.enum("scope", in.Scope, "All", "AWS", "Local")
	v.str("pathPrefix", in.PathPrefix, 1, 512, patPolicyPath)
	v.enum("policyUsageFilter", in.PolicyUsageFilter, "PermissionsPolicy", "PermissionsBoundary")
	v.paging(in.Marker, in.MaxItems)
	if err := v.err(); err != nil {
		return nil, err
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	a, err := m.callerAccount(c)
	if err != nil {
		return nil, err
	}
	type row struct {
		p     *managedPolicy
		count int
	}
	var rows []row
	add := func(ps map[string]*managedPolicy) {
		for _, p := range ps {
			if !strings.HasPrefix(p.Path, in.PathPrefix) {
				continue
			}
			n := attachments(a, p.arn())
			if in.OnlyAttached && n == 0 {
				continue
			}
			rows = append(rows, row{p, n})
		}
	}
	if in.PolicyUsageFilter != "PermissionsBoundary" {
		if in.Scope != "Local" {
			add(m.awsPolicies)
		}
		if in.Scope != "AWS" {
			add(a.policies)
		}
	}
	key := func(r row) string { return lower(r.p.Name) + "\x00" + r.p.account }
	slices.SortFunc(rows, func(x, y row) int { return strings.Compare(key(x), key(y)) })
	page, truncated, next, err := pageOf(rows, key, in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	out := &listPoliciesOutput{Policies: make(members[policyShape], len(page)), IsTruncated: truncated, Marker: next}
	for i, r := range page {
		out.Policies[i] = r.p.shape(r.count)
		out.Policies[i].Tags = nil // ListPolicies returns neither tags nor descriptions
		out.Policies[i].Description = ""
	}
	return out, nil
}

type createPolicyVersionInput struct {
	PolicyArn      string
	PolicyDocument string
	SetAsDefault   bool
}

type policyVersionOutput struct {
	PolicyVersion policyVersionShape
}

func (m *IAM) createPolicyVersion(_ context.Context, c *server.Call, in *createPolicyVersionInput) (*policyVersionOutput, error) {
	var v validation
	v.document("policyDocument", in.PolicyDocument)
	if err := validPolicyARN(&v, in.PolicyArn); err != nil {
		return nil, err
	}
	doc, err := parseManaged(in.PolicyDocument)
	if err != nil {
		return nil, err
	}
	m.wmu.Lock()
	defer m.wmu.Unlock()
	a, p, err := m.ownPolicy(c, in.PolicyArn)
	if err != nil {
		return nil, err
	}
	if len(p.Versions) >= maxPolicyVersions {
		return nil, limitExceeded("A managed policy can have up to %d versions. Before you create a new version, you must delete an existing version.", maxPolicyVersions)
	}
	now := m.clock()
	np := p.clone()
	ver := policyVersion{ID: "v" + strconv.Itoa(np.NextVersion), Document: in.PolicyDocument, Created: now, doc: doc}
	np.NextVersion++
	np.Versions = append(np.Versions, ver)
	np.Updated = now
	if in.SetAsDefault {
		np.Default = ver.ID
	}
	if err := m.savePolicy(c, a, np); err != nil {
		return nil, err
	}
	return &policyVersionOutput{PolicyVersion: np.versionShape(&ver, false)}, nil
}

type policyVersionInput struct {
	PolicyArn string
	VersionId string
}

func validVersion(in *policyVersionInput) error {
	var v validation
	if v.required("versionId", in.VersionId) {
		v.str("versionId", in.VersionId, 1, 0, patVersionID)
	}
	return validPolicyARN(&v, in.PolicyArn)
}

// ownVersion is ownPolicy for an operation on one of the policy's versions; missing ends the
// message when the version does not exist. The caller holds wmu.
func (m *IAM) ownVersion(c *server.Call, in *policyVersionInput, missing string) (*account, *managedPolicy, error) {
	a, p, err := m.ownPolicy(c, in.PolicyArn)
	if err != nil {
		return nil, nil, err
	}
	if p.version(in.VersionId) == nil {
		return nil, nil, noSuchEntity("Policy %s version %s does not exist"+missing, in.PolicyArn, in.VersionId)
	}
	return a, p, nil
}

func (m *IAM) getPolicyVersion(_ context.Context, c *server.Call, in *policyVersionInput) (*policyVersionOutput, error) {
	if err := validVersion(in); err != nil {
		return nil, err
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	_, p, err := m.callerPolicy(c, in.PolicyArn)
	if err != nil {
		return nil, err
	}
	ver := p.version(in.VersionId)
	if ver == nil {
		return nil, noSuchEntity("Policy %s version %s does not exist or is not attachable.", in.PolicyArn, in.VersionId)
	}
	return &policyVersionOutput{PolicyVersion: p.versionShape(ver, true)}, nil
}

func (m *IAM) deletePolicyVersion(_ context.Context, c *server.Call, in *policyVersionInput) (*server.NoOutput, error) {
	if err := validVersion(in); err != nil {
		return nil, err
	}
	m.wmu.Lock()
	defer m.wmu.Unlock()
	a, p, err := m.ownVersion(c, in, " or is not deletable.")
	if err != nil {
		return nil, err
	}
	if in.VersionId == p.Default {
		return nil, deleteConflict("Cannot delete the default version of a policy.")
	}
	np := p.clone()
	np.Versions = slices.DeleteFunc(np.Versions, func(pv policyVersion) bool { return pv.ID == in.VersionId })
	if err := m.savePolicy(c, a, np); err != nil {
		return nil, err
	}
	return &server.NoOutput{}, nil
}

func (m *IAM) setDefaultPolicyVersion(_ context.Context, c *server.Call, in *policyVersionInput) (*server.NoOutput, error) {
	if err := validVersion(in); err != nil {
		return nil, err
	}
	m.wmu.Lock()
	defer m.wmu.Unlock()
	a, p, err := m.ownVersion(c, in, ".")
	if err != nil {
		return nil, err
	}
	c.AddResource("AWS::IAM::Policy", p.arn())
	if p.Default == in.VersionId {
		return &server.NoOutput{}, nil
	}
	np := p.clone()
	np.Default = in.VersionId
	np.Updated = m.clock()
	if err := m.putPolicy(a, np); err != nil {
		return nil, err
	}
	return &server.NoOutput{}, nil
}

type listPolicyVersionsInput struct {
	PolicyArn string
	Marker    string
	MaxItems  *int32
}

type listPolicyVersionsOutput struct {
	Versions    members[policyVersionShape]
	IsTruncated bool
	Marker      string `xml:",omitempty" json:",omitempty"`
}

func (m *IAM) listPolicyVersions(_ context.Context, c *server.Call, in *listPolicyVersionsInput) (*listPolicyVersionsOutput, error) {
	var v validation
	v.paging(in.Marker, in.MaxItems)
	if err := validPolicyARN(&v, in.PolicyArn); err != nil {
		return nil, err
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	_, p, err := m.callerPolicy(c, in.PolicyArn)
	if err != nil {
		return nil, err
	}
	// Newest first, as IAM lists them.
	vers := slices.Clone(p.Versions)
	slices.Reverse(vers)
	key := func(pv policyVersion) string {
		n, _ := strconv.Atoi(strings.TrimPrefix(pv.ID, "v"))
		return strconv.Itoa(999999999 - n)
	}
	page, truncated, next, err := pageOf(vers, key, in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	out := &listPolicyVersionsOutput{Versions: make(members[policyVersionShape], len(page)), IsTruncated: truncated, Marker: next}
	for i := range page {
		out.Versions[i] = p.versionShape(&page[i], false)
	}
	return out, nil
}

type listEntitiesForPolicyInput struct {
	PolicyArn         string
	EntityFilter      string
	PathPrefix        string
	PolicyUsageFilter string
	Marker            string
	MaxItems          *int32
}

type policyGroupShape struct {
	GroupName string
	GroupId   string
}

type policyUserShape struct {
	UserName string
	UserId   string
}

type policyRoleShape struct {
	RoleName string
	RoleId   string
}

type listEntitiesForPolicyOutput struct {
	PolicyGroups members[policyGroupShape]
	PolicyUsers  members[policyUserShape]
	PolicyRoles  members[policyRoleShape]
	IsTruncated  bool
	Marker       string `xml:",omitempty" json:",omitempty"`
}

func (m *IAM) listEntitiesForPolicy(_ context.Context, c *server.Call, in *listEntitiesForPolicyInput) (*listEntitiesForPolicyOutput, error) {
	var v validation
	v.enum("entityFilter", in.EntityFilter, "User", "Role", "Group", "LocalManagedPolicy", "AWSManagedPolicy")
	v.str("pathPrefix", in.PathPrefix, 1, 512, patPath)
	v.enum("policyUsageFilter", in.PolicyUsageFilter, "PermissionsPolicy", "PermissionsBoundary")
	v.paging(in.Marker, in.MaxItems)
	if err := validPolicyARN(&v, in.PolicyArn); err != nil {
		return nil, err
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	a, p, err := m.callerPolicy(c, in.PolicyArn)
	if err != nil {
		return nil, err
	}
	arn := p.arn()
	var list []*entity
	for k := range numKinds {
		if in.EntityFilter != "" && in.EntityFilter != k.info().title {
			continue
		}
		if in.PolicyUsageFilter == "PermissionsBoundary" {
			continue
		}
		list = append(list, sortedEntities(a.ents[k], func(e *entity) bool {
			return slices.Contains(e.Attached, arn) && strings.HasPrefix(e.Path, in.PathPrefix)
		})...)
	}
	key := func(e *entity) string { return strconv.Itoa(int(e.Kind)) + lower(e.Name) }
	page, truncated, next, err := pageOf(list, key, in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	out := &listEntitiesForPolicyOutput{IsTruncated: truncated, Marker: next,
		PolicyGroups: members[policyGroupShape]{}, PolicyUsers: members[policyUserShape]{}, PolicyRoles: members[policyRoleShape]{}}
	for _, e := range page {
		switch e.Kind {
		case kindUser:
			out.PolicyUsers = append(out.PolicyUsers, policyUserShape{e.Name, e.ID})
		case kindRole:
			out.PolicyRoles = append(out.PolicyRoles, policyRoleShape{e.Name, e.ID})
		case kindGroup:
			out.PolicyGroups = append(out.PolicyGroups, policyGroupShape{e.Name, e.ID})
		}
	}
	return out, nil
}
