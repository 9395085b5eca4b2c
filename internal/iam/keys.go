package iam

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/opentrail/opentrail"
	"github.com/opentrail/opentrail/internal/server"
)

// keyOwner resolves whose access keys an operation manages: the named user, or the caller
// when the name is absent — an IAM user, or the root user (returned as ""). Roles must name
// a user. The caller holds mu or wmu.
func keyOwner(a *account, c *server.Call, userName string) (string, error) {
	if userName == "" {
		switch c.Caller.Type {
		case opentrail.IdentityRoot:
			return "", nil
		case opentrail.IdentityIAMUser:
			userName = c.Caller.UserName
		default:
			return "", errNotUser()
		}
	}
	e, err := lookup(a, kindUser, userName)
	if err != nil {
		return "", err
	}
	return e.Name, nil
}

// callerKeyOwner returns the caller's account and the owner of the keys an operation manages
// (see keyOwner). The caller holds mu or wmu.
func (m *IAM) callerKeyOwner(c *server.Call, userName string) (*account, string, error) {
	a, err := m.callerAccount(c)
	if err != nil {
		return nil, "", err
	}
	owner, err := keyOwner(a, c, userName)
	if err != nil {
		return nil, "", err
	}
	return a, owner, nil
}

// keysOf returns the keys of a user ("" for the root user), oldest first.
func keysOf(a *account, user string) []*accessKey {
	var out []*accessKey
	for _, k := range a.keys {
		if strings.EqualFold(k.User, user) {
			out = append(out, k)
		}
	}
	slices.SortFunc(out, func(x, y *accessKey) int {
		if c := x.Created.Compare(y.Created); c != 0 {
			return c
		}
		return strings.Compare(x.ID, y.ID)
	})
	return out
}

func (k *accessKey) sortKey() string { return k.Created.UTC().Format(time.RFC3339) + k.ID }

type createAccessKeyOutput struct {
	AccessKey accessKeyShape
}

func (m *IAM) createAccessKey(_ context.Context, c *server.Call, in *userNameInput) (*createAccessKeyOutput, error) {
	var v validation
	v.str("userName", in.UserName, 1, 128, patName)
	if err := v.err(); err != nil {
		return nil, err
	}
	m.wmu.Lock()
	defer m.wmu.Unlock()
	a, owner, err := m.callerKeyOwner(c, in.UserName)
	if err != nil {
		return nil, err
	}
	if len(keysOf(a, owner)) >= maxKeysPerUser {
		return nil, limitExceeded("Cannot exceed quota for AccessKeysPerUser: %d", maxKeysPerUser)
	}
	id := newAccessKeyID(prefixAccessKey)
	for m.keyIDInUse(id) {
		id = newAccessKeyID(prefixAccessKey)
	}
	k := &accessKey{ID: id, Account: a.id, User: owner, Status: statusActive, Created: m.clock(), secret: newSecret()}
	k.Sealed = m.box.Seal(k.secret)
	if err := m.putKey(a, k); err != nil {
		return nil, err
	}
	m.addOwnerResource(c, a, owner)
	return &createAccessKeyOutput{AccessKey: accessKeyShape{
		UserName: owner, AccessKeyId: k.ID, Status: k.Status, SecretAccessKey: k.secret, CreateDate: timestamp(k.Created),
	}}, nil
}

// addOwnerResource lists a key's owner among the record's resources.
func (m *IAM) addOwnerResource(c *server.Call, a *account, owner string) {
	if owner == "" {
		return
	}
	if e := a.ents[kindUser][lower(owner)]; e != nil {
		c.AddResource(kindUser.info().resourceType, e.arn(a.id))
	}
}

type listAccessKeysInput struct {
	UserName string
	Marker   string
	MaxItems *int32
}

type listAccessKeysOutput struct {
	AccessKeyMetadata members[accessKeyMetadataShape]
	IsTruncated       bool
	Marker            string `xml:",omitempty" json:",omitempty"`
}

func (m *IAM) listAccessKeys(_ context.Context, c *server.Call, in *listAccessKeysInput) (*listAccessKeysOutput, error) {
	var v validation
	v.str("userName", in.UserName, 1, 128, patName)
	v.paging(in.Marker, in.MaxItems)
	if err := v.err(); err != nil {
		return nil, err
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	a, owner, err := m.callerKeyOwner(c, in.UserName)
	if err != nil {
		return nil, err
	}
	page, truncated, next, err := pageOf(keysOf(a, owner), (*accessKey).sortKey, in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	out := &listAccessKeysOutput{AccessKeyMetadata: make(members[accessKeyMetadataShape], len(page)), IsTruncated: truncated, Marker: next}
	for i, k := range page {
		out.AccessKeyMetadata[i] = accessKeyMetadataShape{UserName: k.User, AccessKeyId: k.ID, Status: k.Status, CreateDate: timestamp(k.Created)}
	}
	return out, nil
}

type accessKeyInput struct {
	UserName    string
	AccessKeyId string
	Status      string
}

// ownedKey returns the key with the ID if it belongs to the owner. The caller holds mu or wmu.
func ownedKey(a *account, owner, id string) (*accessKey, error) {
	k := a.keys[id]
	if k == nil || !strings.EqualFold(k.User, owner) {
		return nil, noSuchEntity("The Access Key with id %s cannot be found.", id)
	}
	return k, nil
}

// validKeyInput checks the UserName and AccessKeyId members of an access key operation.
func validKeyInput(v *validation, in *accessKeyInput) {
	v.str("userName", in.UserName, 1, 128, patName)
	if v.required("accessKeyId", in.AccessKeyId) {
		v.str("accessKeyId", in.AccessKeyId, 16, 128, patID)
	}
}

// callerKey returns the caller's account, the owner of the keys the operation manages (see
// keyOwner) and the owner's key with the input's ID. The caller holds mu or wmu.
func (m *IAM) callerKey(c *server.Call, in *accessKeyInput) (*account, string, *accessKey, error) {
	a, owner, err := m.callerKeyOwner(c, in.UserName)
	if err != nil {
		return nil, "", nil, err
	}
	k, err := ownedKey(a, owner, in.AccessKeyId)
	if err != nil {
		return nil, "", nil, err
	}
	return a, owner, k, nil
}

// putKey stores an access key and publishes it. The caller holds wmu.
func (m *IAM) putKey(a *account, k *accessKey) error {
	b := m.store.NewBatch()
	if err := b.Put(accessKeyKey(a.id, k.ID), k); err != nil {
		return err
	}
	return m.commit(b, func() { m.publishKey(a, k) })
}

func (m *IAM) updateAccessKey(_ context.Context, c *server.Call, in *accessKeyInput) (*server.NoOutput, error) {
	var v validation
	validKeyInput(&v, in)
	if v.required("status", in.Status) {
		v.enum("status", in.Status, statusActive, statusInactive, "Expired")
	}
	if err := v.err(); err != nil {
		return nil, err
	}
	if in.Status == "Expired" {
		return nil, invalidInput("The status of an access key can only be set to Active or Inactive.")
	}
	m.wmu.Lock()
	defer m.wmu.Unlock()
	a, owner, k, err := m.callerKey(c, in)
	if err != nil {
		return nil, err
	}
	m.addOwnerResource(c, a, owner)
	if k.Status == in.Status {
		return &server.NoOutput{}, nil
	}
	nk := *k
	nk.Status = in.Status
	if err := m.putKey(a, &nk); err != nil {
		return nil, err
	}
	return &server.NoOutput{}, nil
}

func (m *IAM) deleteAccessKey(_ context.Context, c *server.Call, in *accessKeyInput) (*server.NoOutput, error) {
	var v validation
	validKeyInput(&v, in)
	if err := v.err(); err != nil {
		return nil, err
	}
	m.wmu.Lock()
	defer m.wmu.Unlock()
	a, owner, k, err := m.callerKey(c, in)
	if err != nil {
		return nil, err
	}
	b := m.store.NewBatch()
	b.Delete(accessKeyKey(a.id, k.ID))
	if err := m.commit(b, func() { m.unpublishKey(a, k.ID) }); err != nil {
		return nil, err
	}
	m.addOwnerResource(c, a, owner)
	return &server.NoOutput{}, nil
}
