package iam

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/opentrail/opentrail/internal/kv"
	"github.com/opentrail/opentrail/internal/policy"
)

// Store keys; see the package documentation for the layout.

const storePrefix = "iam/"

func accountKey(acct string) string { return storePrefix + acct + "/account" }

func entityStoreKey(acct string, k kind, name string) string {
	return storePrefix + acct + "/" + k.info().name + "/" + lower(name)
}

func policyStoreKey(acct, name string) string { return storePrefix + acct + "/policy/" + lower(name) }

func accessKeyKey(acct, id string) string { return storePrefix + acct + "/key/" + id }

func sessionKey(acct, id string) string { return storePrefix + acct + "/session/" + id }

// accountRecord is the stored form of an account.
type accountRecord struct {
	ID      string    `json:"id"`
	Created time.Time `json:"created"`
}

// Access key statuses.
const (
	statusActive   = "Active"
	statusInactive = "Inactive"
)

// accessKey is a long-term access key of a user, or of the root user when User is empty.
// Published keys are immutable.
type accessKey struct {
	ID      string    `json:"id"`
	Account string    `json:"account"`
	User    string    `json:"user,omitempty"`
	Status  string    `json:"status"`
	Created time.Time `json:"created"`
	Sealed  []byte    `json:"secret"` // the secret, sealed with the master key

	secret string // kept in memory only
}

// sessionRetention is how long expired sessions are kept, so that their use is answered with
// ExpiredToken rather than InvalidClientTokenId.
const sessionRetention = 24 * time.Hour

// load rebuilds the in-memory state from the store. Sessions expired for longer than
// sessionRetention are removed.
func (m *IAM) load() error {
	type raw struct {
		acct, kind, rest string
		value            []byte
	}
	var rows []raw
	err := m.store.Scan(storePrefix, func(key string, value []byte) error {
		parts := strings.SplitN(strings.TrimPrefix(key, storePrefix), "/", 3)
		r := raw{acct: parts[0], value: append([]byte(nil), value...)}
		if len(parts) > 1 {
			r.kind = parts[1]
		}
		if len(parts) > 2 {
			r.rest = parts[2]
		}
		rows = append(rows, r)
		return nil
	})
	if err != nil {
		return fmt.Errorf("iam: load: %w", err)
	}
	acct := func(id string) *account {
		a := m.accounts[id]
		if a == nil {
			a = newAccount(id, time.Time{})
			m.accounts[id] = a
		}
		return a
	}
	var keys []*accessKey
	var sessions []*session
	for _, r := range rows {
		a := acct(r.acct)
		switch r.kind {
		case "account":
			var rec accountRecord
			if err := json.Unmarshal(r.value, &rec); err != nil {
				return fmt.Errorf("iam: load account %s: %w", r.acct, err)
			}
			a.created = rec.Created
		case "user", "role", "group":
			e := new(entity)
			if err := json.Unmarshal(r.value, e); err != nil || e.Kind >= numKinds {
				return fmt.Errorf("iam: load %s %s/%s: bad record: %v", r.kind, r.acct, r.rest, err)
			}
			m.compileEntity(a.id, e)
			a.ents[e.Kind][lower(e.Name)] = e
		case "policy":
			p := &managedPolicy{account: a.id}
			if err := json.Unmarshal(r.value, p); err != nil {
				return fmt.Errorf("iam: load policy %s/%s: %w", r.acct, r.rest, err)
			}
			for i := range p.Versions {
				p.Versions[i].doc = m.reparse(p.arn()+" "+p.Versions[i].ID, p.Versions[i].Document)
			}
			a.policies[lower(p.Name)] = p
		case "key":
			k := new(accessKey)
			if err := json.Unmarshal(r.value, k); err != nil {
				return fmt.Errorf("iam: load access key %s: %w", r.rest, err)
			}
			if k.secret, err = m.box.Open(k.Sealed); err != nil {
				return fmt.Errorf("iam: open secret of access key %s: %w", k.ID, err)
			}
			keys = append(keys, k)
		case "session":
			s := new(session)
			if err := json.Unmarshal(r.value, s); err != nil {
				return fmt.Errorf("iam: load session %s: %w", r.rest, err)
			}
			sessions = append(sessions, s)
		default:
			m.log.Warn("iam: unknown record in the store", "account", r.acct, "kind", r.kind)
		}
	}
	for _, k := range keys {
		m.publishKey(acct(k.Account), k)
	}
	now := m.now()
	b := m.store.NewBatch()
	purged := 0
	for _, s := range sessions {
		if now.After(s.Expires.Add(sessionRetention)) {
			b.Delete(sessionKey(s.Account, s.ID))
			purged++
			continue
		}
		if err := m.openSession(s); err != nil {
			return err
		}
		m.publishSession(s)
	}
	m.lastSweep = now
	if purged > 0 {
		if err := b.Commit(); err != nil {
			return fmt.Errorf("iam: purge expired sessions: %w", err)
		}
	}
	m.log.Debug("iam state loaded", "accounts", len(m.accounts), "access_keys", len(keys), "sessions", len(sessions)-purged)
	return nil
}

// compileEntity parses the stored policy documents of an entity.
func (m *IAM) compileEntity(acct string, e *entity) {
	for i := range e.Inline {
		e.Inline[i].doc = m.reparse(e.arn(acct)+" inline "+e.Inline[i].Name, e.Inline[i].Document)
	}
	if e.Kind == kindRole {
		e.trust = m.reparse(e.arn(acct)+" trust policy", e.Trust)
	}
}

// denyAll replaces a stored document that no longer parses: failing closed keeps a Deny
// statement that could not be read from silently vanishing.
const denyAll = `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*"}]}`

// reparse parses a document that was validated when it was stored.
func (m *IAM) reparse(what, doc string) *policy.Document {
	d, err := policy.Parse(doc)
	if err == nil {
		return d
	}
	m.log.Error("iam: a stored policy document does not parse; it denies everything until replaced", "policy", what, "err", err)
	d, err = policy.Parse(denyAll)
	if err != nil {
		panic("iam: the deny-all policy does not parse: " + err.Error())
	}
	return d
}

// commit applies a batch durably and then, under the state's write lock, the in-memory change.
// The caller holds wmu.
func (m *IAM) commit(b *kv.Batch, apply func()) error {
	if err := b.Commit(); err != nil {
		return fmt.Errorf("iam: %w", err)
	}
	m.mu.Lock()
	apply()
	m.mu.Unlock()
	return nil
}

// putEntity stores an entity and publishes it. The caller holds wmu.
func (m *IAM) putEntity(a *account, e *entity) error {
	b := m.store.NewBatch()
	if err := b.Put(entityStoreKey(a.id, e.Kind, e.Name), e); err != nil {
		return err
	}
	return m.commit(b, func() { a.ents[e.Kind][lower(e.Name)] = e })
}

// putPolicy stores a managed policy and publishes it. The caller holds wmu.
func (m *IAM) putPolicy(a *account, p *managedPolicy) error {
	b := m.store.NewBatch()
	if err := b.Put(policyStoreKey(a.id, p.Name), p); err != nil {
		return err
	}
	return m.commit(b, func() { a.policies[lower(p.Name)] = p })
}
