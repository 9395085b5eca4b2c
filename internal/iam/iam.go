// Package iam is OpenTrail's identity layer and its IAM and STS services.
//
// It keeps every account's users, roles, groups, managed policies, access keys and STS
// sessions in memory, rebuilt from the metadata store (internal/kv) when it is opened, so that
// authenticating (LookupKey) and authorizing (Allowed) a request touch neither the store nor
// the secret box: at tens of thousands of requests a second both are a map lookup and a policy
// evaluation under a read lock. Secrets (access key secrets, session secrets and tokens) are
// written to the store only sealed with the data directory's master key (internal/secret) and
// are kept decrypted in memory only.
//
// # Consistency
//
// Changes are serialized by a writer mutex: a writer validates the change against the
// in-memory state, commits it to the store (synced), and only then publishes it in memory under
// the state's write lock, which it holds for a few map assignments. Readers therefore never
// wait for a disk sync, and what they see has always been made durable first. Published
// entities are immutable: a change clones the entity and swaps the pointer, so a reader may keep
// using an entity after releasing the read lock.
//
// # Store layout
//
// Keys are "iam/<account>/<kind>/<id>" with JSON values:
//
//	iam/<acct>/account            the account (creation date)
//	iam/<acct>/user/<lower name>  a user, its inline policies, attached policies and groups
//	iam/<acct>/role/<lower name>  a role, its trust policy, inline and attached policies
//	iam/<acct>/group/<lower name> a group, its inline and attached policies
//	iam/<acct>/policy/<lower name> a customer managed policy and its versions
//	iam/<acct>/key/<AKIA...>      an access key of a user or of the root user; sealed secret
//	iam/<acct>/session/<ASIA...>  an STS session; sealed secret and token
//
// Names are case-insensitive, as in IAM, so keys use the lower-cased name and the record holds
// the name as created.
//
// # Differences from AWS
//
//   - The root user may call sts:AssumeRole (AWS refuses root credentials there); the role's trust
//     policy must still allow the account.
//   - Permissions boundaries are refused (InvalidInput) rather than stored unenforced; so are
//     AssumeRole session tags and MFA (SerialNumber/TokenCode). AssumeRole session policies
//     (Policy and PolicyArns) are supported and narrow what the session may do.
//   - Role trust policies must name users and roles that exist only when they are in an account
//     this server holds; principals of other accounts are accepted as written.
//   - The root key given to EnsureAccount is created with the account only (first run).
//   - Only a handful of AWS managed policies exist (AdministratorAccess, PowerUserAccess,
//     ReadOnlyAccess, IAMFullAccess, IAMReadOnlyAccess, AWSCloudTrail_FullAccess,
//     AWSCloudTrail_ReadOnlyAccess), with simplified documents.
package iam

import (
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/opentrail/opentrail"
	"github.com/opentrail/opentrail/internal/kv"
	"github.com/opentrail/opentrail/internal/secret"
	"github.com/opentrail/opentrail/internal/server"
)

// Options configures the identity layer.
type Options struct {
	// Store holds the IAM state; required.
	Store *kv.Store
	// Box seals secrets at rest; required.
	Box *secret.Box
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// Logger receives operational messages (never secrets); discarded when nil.
	Logger *slog.Logger
}

// IAM is the identity layer: it authenticates access keys, authorizes calls against IAM
// policies and serves the IAM and STS APIs. It implements server.Authenticator and
// server.Authorizer. Its methods are safe for concurrent use.
type IAM struct {
	store *kv.Store
	box   *secret.Box
	now   func() time.Time
	log   *slog.Logger

	// wmu serializes writers; a writer may read the state without mu.
	wmu sync.Mutex
	// mu guards the maps below (and the maps inside each account) against concurrent writes.
	mu       sync.RWMutex
	accounts map[string]*account
	// creds holds what LookupKey answers: active access keys and STS sessions.
	creds    map[string]*server.Credentials
	sessions map[string]*session

	// awsPolicies are the built-in AWS managed policies, by lower-case name; read-only.
	awsPolicies map[string]*managedPolicy
	// lastSweep is when expired sessions were last removed (guarded by wmu).
	lastSweep time.Time
}

// account is one account's IAM state.
type account struct {
	id       string
	created  time.Time
	ents     [numKinds]map[string]*entity // by lower-case name
	policies map[string]*managedPolicy    // customer managed policies by lower-case name
	keys     map[string]*accessKey        // access keys of users and of the root user, by ID
}

func newAccount(id string, created time.Time) *account {
	a := &account{id: id, created: created, policies: make(map[string]*managedPolicy), keys: make(map[string]*accessKey)}
	for k := range a.ents {
		a.ents[k] = make(map[string]*entity)
	}
	return a
}

// Open loads the IAM state from opts.Store.
func Open(opts Options) (*IAM, error) {
	if opts.Store == nil || opts.Box == nil {
		return nil, errors.New("iam: Options.Store and Options.Box are required")
	}
	m := &IAM{
		store:    opts.Store,
		box:      opts.Box,
		now:      opts.Now,
		log:      opts.Logger,
		accounts: make(map[string]*account),
		creds:    make(map[string]*server.Credentials),
		sessions: make(map[string]*session),
	}
	if m.now == nil {
		m.now = time.Now
	}
	if m.log == nil {
		m.log = slog.New(slog.DiscardHandler)
	}
	var err error
	if m.awsPolicies, err = builtinPolicies(); err != nil {
		return nil, err
	}
	if err := m.load(); err != nil {
		return nil, err
	}
	return m, nil
}

// clock returns the current time in UTC, to the second, as IAM reports dates.
func (m *IAM) clock() time.Time { return m.now().UTC().Truncate(time.Second) }

// EnsureAccount is the first-run bootstrap: when the account does not exist yet it creates it
// and, when rootAccessKeyID is not empty, the root user's active access key with that secret.
// When the account exists it changes nothing, so that a root key deactivated, deleted or
// rotated through the API is not brought back by a restart; a configured key that no longer
// matches is logged. A key ID that belongs to another account or to an IAM user is an error.
func (m *IAM) EnsureAccount(accountID, rootAccessKeyID, rootSecret string) error {
	if !isAccountID(accountID) {
		return fmt.Errorf("iam: account ID %q is not 12 digits", accountID)
	}
	if rootAccessKeyID != "" && (len(rootAccessKeyID) < 16 || len(rootAccessKeyID) > 128 || !patID.match(rootAccessKeyID)) {
		return fmt.Errorf("iam: root access key ID %q is not 16 to 128 letters and digits", rootAccessKeyID)
	}
	if rootAccessKeyID != "" && rootSecret == "" {
		return errors.New("iam: the root secret access key is empty")
	}
	m.wmu.Lock()
	defer m.wmu.Unlock()
	var old *accessKey
	if rootAccessKeyID != "" {
		if k, ok := m.findKey(rootAccessKeyID); ok {
			if k.Account != accountID || k.User != "" {
				return fmt.Errorf("iam: access key %s already belongs to another identity", rootAccessKeyID)
			}
			old = k
		} else if m.keyIDInUse(rootAccessKeyID) {
			return fmt.Errorf("iam: access key %s already belongs to another identity", rootAccessKeyID)
		}
	}
	if m.accounts[accountID] != nil {
		switch {
		case rootAccessKeyID == "":
		case old == nil:
			m.log.Info("iam: the configured root access key no longer exists; it is not recreated", "account", accountID, "access_key_id", rootAccessKeyID)
		case old.secret != rootSecret:
			m.log.Warn("iam: the configured root secret differs from the stored one; the stored one is kept", "account", accountID, "access_key_id", rootAccessKeyID)
		case old.Status != statusActive:
			m.log.Info("iam: the configured root access key is inactive", "account", accountID, "access_key_id", rootAccessKeyID)
		}
		return nil
	}
	a := newAccount(accountID, m.clock())
	b := m.store.NewBatch()
	if err := b.Put(accountKey(accountID), accountRecord{ID: accountID, Created: a.created}); err != nil {
		return err
	}
	var key *accessKey
	if rootAccessKeyID != "" {
		key = &accessKey{ID: rootAccessKeyID, Account: accountID, Status: statusActive, Created: a.created, secret: rootSecret}
		key.Sealed = m.box.Seal(rootSecret)
		if err := b.Put(accessKeyKey(accountID, key.ID), key); err != nil {
			return err
		}
	}
	return m.commit(b, func() {
		m.accounts[accountID] = a
		if key != nil {
			m.publishKey(a, key)
		}
	})
}

// Accounts returns the IDs of all accounts, sorted.
func (m *IAM) Accounts() []string {
	m.mu.RLock()
	ids := make([]string, 0, len(m.accounts))
	for id := range m.accounts {
		ids = append(ids, id)
	}
	m.mu.RUnlock()
	slices.Sort(ids)
	return ids
}

// LookupKey returns the credentials of an access key: an active key of a user or of an
// account's root user, or STS temporary credentials (with their session token and expiry,
// which the server checks). It implements server.Authenticator.
func (m *IAM) LookupKey(accessKeyID string) (server.Credentials, bool) {
	m.mu.RLock()
	c, ok := m.creds[accessKeyID]
	m.mu.RUnlock()
	if !ok {
		return server.Credentials{}, false
	}
	return *c, true
}

// findKey returns a user's or root's access key by ID in any account. The caller holds mu or wmu.
func (m *IAM) findKey(id string) (*accessKey, bool) {
	for _, a := range m.accounts {
		if k, ok := a.keys[id]; ok {
			return k, true
		}
	}
	return nil, false
}

// keyIDInUse reports whether an access key ID is taken. The caller holds mu or wmu.
func (m *IAM) keyIDInUse(id string) bool {
	if _, ok := m.creds[id]; ok {
		return true
	}
	if _, ok := m.sessions[id]; ok {
		return true
	}
	_, ok := m.findKey(id)
	return ok
}

// callerAccount returns the caller's account; it exists for every authenticated caller.
func (m *IAM) callerAccount(c *server.Call) (*account, error) {
	a := m.accounts[c.Account()]
	if a == nil {
		return nil, fmt.Errorf("iam: caller account %s is not loaded", c.Account())
	}
	return a, nil
}

// isAccountID reports whether s is a 12-digit account ID.
func isAccountID(s string) bool {
	if len(s) != 12 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// callerCredentials builds the Caller of a user's or root's access key.
func callerForKey(a *account, k *accessKey) opentrail.Caller {
	if k.User == "" {
		return opentrail.Caller{
			Type: opentrail.IdentityRoot, AccountID: a.id, ARN: rootARN(a.id),
			PrincipalID: a.id, AccessKeyID: k.ID,
		}
	}
	u := a.ents[kindUser][lower(k.User)]
	c := opentrail.Caller{Type: opentrail.IdentityIAMUser, AccountID: a.id, UserName: k.User, AccessKeyID: k.ID}
	if u != nil {
		c.ARN = u.arn(a.id)
		c.PrincipalID = u.ID
		c.UserName = u.Name
	}
	return c
}

// publishKey makes a user's or root's key visible (and authenticating when active). The caller
// holds mu for writing.
func (m *IAM) publishKey(a *account, k *accessKey) {
	a.keys[k.ID] = k
	if k.Status != statusActive {
		delete(m.creds, k.ID)
		return
	}
	m.creds[k.ID] = &server.Credentials{Secret: k.secret, Caller: callerForKey(a, k)}
}

// unpublishKey removes a key. The caller holds mu for writing.
func (m *IAM) unpublishKey(a *account, id string) {
	delete(a.keys, id)
	delete(m.creds, id)
}

// Services returns the IAM and STS services.
func (m *IAM) Services() []*server.Service {
	return []*server.Service{m.iamService(), m.stsService()}
}
