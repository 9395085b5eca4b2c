package iam

import (
	"slices"
	"strings"

	"github.com/opentrail/opentrail/internal/policy"
	"github.com/opentrail/opentrail/internal/server"
)

// What users, roles and groups have in common: inline policies and attached managed policies.

// entityResource is the ARN an operation on the named entity is authorized against: the
// entity's ARN with its path, or the ARN with path "/" when it does not exist.
func (m *IAM) entityResource(c *server.Call, k kind, name string) string {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if a := m.accounts[c.Account()]; a != nil {
		if e := a.ents[k][lower(name)]; e != nil {
			return e.arn(a.id)
		}
	}
	return entityARN(c.Account(), k, "/", name)
}

// lookup returns an existing entity. The caller holds mu or wmu.
func lookup(a *account, k kind, name string) (*entity, error) {
	if e := a.ents[k][lower(name)]; e != nil {
		return e, nil
	}
	return nil, notFound(k, name)
}

// callerEntity returns the caller's account and an existing entity in it. The caller holds
// mu or wmu.
func (m *IAM) callerEntity(c *server.Call, k kind, name string) (*account, *entity, error) {
	a, err := m.callerAccount(c)
	if err != nil {
		return nil, nil, err
	}
	e, err := lookup(a, k, name)
	if err != nil {
		return nil, nil, err
	}
	return a, e, nil
}

// validateExisting checks the name of an existing entity.
func validateExisting(v *validation, k kind, name string) {
	v.name(k.info().field, name, k.info().existingMax)
}

// validName checks the name of an existing entity, the only member of the input to check.
func validName(k kind, name string) error {
	var v validation
	validateExisting(&v, k, name)
	return v.err()
}

// validInlineName checks the names of an existing entity and of one of its inline policies.
func validInlineName(k kind, name, policyName string) error {
	var v validation
	validateExisting(&v, k, name)
	v.name("policyName", policyName, 128)
	return v.err()
}

// validAttachment checks the name of an existing entity and a PolicyArn member.
func validAttachment(k kind, name, arn string) error {
	var v validation
	validateExisting(&v, k, name)
	return validPolicyARN(&v, arn)
}

// putInline adds or replaces an inline policy of an entity.
func (m *IAM) putInline(c *server.Call, k kind, name, policyName, document string) error {
	var v validation
	validateExisting(&v, k, name)
	v.name("policyName", policyName, 128)
	v.document("policyDocument", document)
	if err := v.err(); err != nil {
		return err
	}
	doc, err := policy.ParseIdentity(document)
	if err != nil {
		return policyError(err)
	}
	m.wmu.Lock()
	defer m.wmu.Unlock()
	a, e, err := m.callerEntity(c, k, name)
	if err != nil {
		return err
	}
	ne := e.clone()
	if old := ne.inline(policyName); old != nil {
		policyName = old.Name
	}
	ne.setInline(inlinePolicy{Name: policyName, Document: document, doc: doc})
	if limit := k.info().inlineMax; ne.inlineSize() > limit {
		return limitExceeded("Maximum policy size of %d bytes exceeded for %s %s", limit, k.info().name, e.Name)
	}
	return m.saveEntity(c, a, ne)
}

// getInline returns an entity's name and one of its inline policies.
func (m *IAM) getInline(c *server.Call, k kind, name, policyName string) (string, inlinePolicy, error) {
	if err := validInlineName(k, name, policyName); err != nil {
		return "", inlinePolicy{}, err
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	_, e, err := m.callerEntity(c, k, name)
	if err != nil {
		return "", inlinePolicy{}, err
	}
	p := e.inline(policyName)
	if p == nil {
		return "", inlinePolicy{}, noSuchEntity("The %s policy with name %s cannot be found.", k.info().name, policyName)
	}
	return e.Name, *p, nil
}

// deleteInline removes an inline policy.
func (m *IAM) deleteInline(c *server.Call, k kind, name, policyName string) error {
	if err := validInlineName(k, name, policyName); err != nil {
		return err
	}
	m.wmu.Lock()
	defer m.wmu.Unlock()
	a, e, err := m.callerEntity(c, k, name)
	if err != nil {
		return err
	}
	ne := e.clone()
	if !ne.removeInline(policyName) {
		return noSuchEntity("The %s policy with name %s cannot be found.", k.info().name, policyName)
	}
	return m.saveEntity(c, a, ne)
}

// listInline lists the names of an entity's inline policies.
func (m *IAM) listInline(c *server.Call, k kind, name, marker string, maxItems *int32) (listPolicyNamesOutput, error) {
	var v validation
	validateExisting(&v, k, name)
	v.paging(marker, maxItems)
	if err := v.err(); err != nil {
		return listPolicyNamesOutput{}, err
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	_, e, err := m.callerEntity(c, k, name)
	if err != nil {
		return listPolicyNamesOutput{}, err
	}
	names := make([]string, len(e.Inline))
	for i, p := range e.Inline {
		names[i] = p.Name
	}
	page, truncated, next, err := pageOf(names, lower, marker, maxItems)
	if err != nil {
		return listPolicyNamesOutput{}, err
	}
	return listPolicyNamesOutput{PolicyNames: page, IsTruncated: truncated, Marker: next}, nil
}

// listPolicyNamesOutput is the result of ListUserPolicies, ListRolePolicies and
// ListGroupPolicies.
type listPolicyNamesOutput struct {
	PolicyNames members[string]
	IsTruncated bool
	Marker      string `xml:",omitempty" json:",omitempty"`
}

// validPolicyARN checks a PolicyArn member: present, of the right length, and an IAM policy ARN.
func validPolicyARN(v *validation, arn string) error {
	v.arn("policyArn", arn)
	if err := v.err(); err != nil {
		return err
	}
	if p, ok := parseIAMARN(arn); !ok || p.typ != "policy" {
		return invalidInput("ARN %s is not valid.", arn)
	}
	return nil
}

// attach attaches a managed policy to an entity; attaching it again changes nothing.
func (m *IAM) attach(c *server.Call, k kind, name, arn string) error {
	if err := validAttachment(k, name, arn); err != nil {
		return err
	}
	m.wmu.Lock()
	defer m.wmu.Unlock()
	a, e, err := m.callerEntity(c, k, name)
	if err != nil {
		return err
	}
	if m.policyByARN(a, arn) == nil {
		return noSuchEntity("Policy %s does not exist or is not attachable.", arn)
	}
	c.AddResource(k.info().resourceType, e.arn(a.id))
	c.AddResource("AWS::IAM::Policy", arn)
	if slices.Contains(e.Attached, arn) {
		return nil
	}
	if len(e.Attached) >= maxAttachedPolicies {
		return limitExceeded("Cannot exceed quota for %s: %d", k.info().attachQuota, maxAttachedPolicies)
	}
	ne := e.clone()
	ne.Attached = append(ne.Attached, arn)
	return m.putEntity(a, ne)
}

// detach detaches a managed policy from an entity.
func (m *IAM) detach(c *server.Call, k kind, name, arn string) error {
	if err := validAttachment(k, name, arn); err != nil {
		return err
	}
	m.wmu.Lock()
	defer m.wmu.Unlock()
	a, e, err := m.callerEntity(c, k, name)
	if err != nil {
		return err
	}
	if !slices.Contains(e.Attached, arn) {
		return noSuchEntity("Policy %s was not found.", arn)
	}
	ne := e.clone()
	ne.Attached = slices.DeleteFunc(ne.Attached, func(s string) bool { return s == arn })
	if err := m.saveEntity(c, a, ne); err != nil {
		return err
	}
	c.AddResource("AWS::IAM::Policy", arn)
	return nil
}

// listAttachedOutput is the result of ListAttachedUserPolicies, ListAttachedRolePolicies and
// ListAttachedGroupPolicies.
type listAttachedOutput struct {
	AttachedPolicies members[attachedPolicyShape]
	IsTruncated      bool
	Marker           string `xml:",omitempty" json:",omitempty"`
}

// listAttached lists the managed policies attached to an entity.
func (m *IAM) listAttached(c *server.Call, k kind, name, pathPrefix, marker string, maxItems *int32) (*listAttachedOutput, error) {
	var v validation
	validateExisting(&v, k, name)
	v.str("pathPrefix", pathPrefix, 1, 512, patPolicyPath)
	v.paging(marker, maxItems)
	if err := v.err(); err != nil {
		return nil, err
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	_, e, err := m.callerEntity(c, k, name)
	if err != nil {
		return nil, err
	}
	var list []attachedPolicyShape
	for _, arn := range e.Attached {
		p, _ := parseIAMARN(arn)
		if pathPrefix != "" && !strings.HasPrefix(p.path, pathPrefix) {
			continue
		}
		list = append(list, attachedPolicyShape{PolicyName: p.name, PolicyArn: arn})
	}
	slices.SortFunc(list, func(x, y attachedPolicyShape) int { return strings.Compare(x.PolicyArn, y.PolicyArn) })
	page, truncated, next, err := pageOf(list, func(p attachedPolicyShape) string { return p.PolicyArn }, marker, maxItems)
	if err != nil {
		return nil, err
	}
	return &listAttachedOutput{AttachedPolicies: page, IsTruncated: truncated, Marker: next}, nil
}

// listEntities lists an account's entities of one kind under a path prefix.
func (m *IAM) listEntities(c *server.Call, k kind, pathPrefix, marker string, maxItems *int32) ([]*entity, bool, string, error) {
	var v validation
	v.str("pathPrefix", pathPrefix, 1, 512, patPathPrefix)
	v.paging(marker, maxItems)
	if err := v.err(); err != nil {
		return nil, false, "", err
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	a, err := m.callerAccount(c)
	if err != nil {
		return nil, false, "", err
	}
	list := sortedEntities(a.ents[k], func(e *entity) bool { return strings.HasPrefix(e.Path, pathPrefix) })
	return pageOf(list, entityKey, marker, maxItems)
}

// newEntity validates the name and path of an entity about to be created and returns it.
func (m *IAM) newEntity(v *validation, k kind, name, path string) *entity {
	v.name(k.info().field, name, k.info().nameMax)
	v.str("path", path, 1, 512, patPath)
	if path == "" {
		path = "/"
	}
	return &entity{Kind: k, Name: name, Path: path}
}

// create stores a new entity, refusing duplicate names, and names it as the call's resource.
// The caller holds wmu.
func (m *IAM) create(c *server.Call, a *account, e *entity) error {
	if old := a.ents[e.Kind][lower(e.Name)]; old != nil {
		return entityExists("%s with name %s already exists.", e.Kind.info().title, e.Name)
	}
	e.ID = newEntityID(e.Kind.info().idPrefix)
	e.Created = m.clock()
	return m.saveEntity(c, a, e)
}

// saveEntity stores an entity and names it as the call's resource. The caller holds wmu.
func (m *IAM) saveEntity(c *server.Call, a *account, e *entity) error {
	if err := m.putEntity(a, e); err != nil {
		return err
	}
	c.AddResource(e.Kind.info().resourceType, e.arn(a.id))
	return nil
}

// deleteEntity removes an entity from the store and from memory, and names it as the call's
// resource. The caller holds wmu.
func (m *IAM) deleteEntity(c *server.Call, a *account, e *entity) error {
	b := m.store.NewBatch()
	b.Delete(entityStoreKey(a.id, e.Kind, e.Name))
	if err := m.commit(b, func() { delete(a.ents[e.Kind], lower(e.Name)) }); err != nil {
		return err
	}
	c.AddResource(e.Kind.info().resourceType, e.arn(a.id))
	return nil
}

// policyConflict reports why an entity with policies cannot be deleted, or nil.
func policyConflict(e *entity) error {
	if len(e.Inline) > 0 {
		return deleteConflict("Cannot delete entity, must delete policies first.")
	}
	if len(e.Attached) > 0 {
		return deleteConflict("Cannot delete entity, must detach all policies first.")
	}
	return nil
}
