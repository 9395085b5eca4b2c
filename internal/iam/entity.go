package iam

import (
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/opentrail/opentrail/internal/policy"
)

// kind is the kind of an entity that holds policies: a user, a role or a group.
type kind uint8

const (
	kindUser kind = iota
	kindRole
	kindGroup
	numKinds
)

// kindInfo describes what differs between users, roles and groups.
type kindInfo struct {
	name         string // ARN resource type and store key segment: "user"
	title        string // "User", as in "User with name bob already exists."
	field        string // the name member in validation messages: "userName"
	resourceType string // record resource type: "AWS::IAM::User"
	idPrefix     string
	nameMax      int    // longest name at creation
	existingMax  int    // longest name accepted when naming an existing entity
	inlineMax    int    // the aggregate size of inline policies, in non-whitespace characters
	attachQuota  string // quota name of attached managed policies
}

var kindInfos = [numKinds]kindInfo{
	kindUser:  {"user", "User", "userName", "AWS::IAM::User", prefixUser, 64, 128, 2048, "PoliciesPerUser"},
	kindRole:  {"role", "Role", "roleName", "AWS::IAM::Role", prefixRole, 64, 64, 10240, "PoliciesPerRole"},
	kindGroup: {"group", "Group", "groupName", "AWS::IAM::Group", prefixGroup, 128, 128, 5120, "PoliciesPerGroup"},
}

func (k kind) info() *kindInfo { return &kindInfos[k] }

// Quotas, as AWS sets them by default.
const (
	maxAttachedPolicies   = 10
	maxGroupsPerUser      = 10
	maxKeysPerUser        = 2
	maxPolicyVersions     = 5
	maxManagedPolicySize  = 6144
	maxTrustPolicySize    = 2048
	defaultMaxSession     = 3600
	minRoleMaxSession     = 3600
	maxRoleMaxSession     = 43200
	minSessionDuration    = 900
	chainedSessionMaxSecs = 3600
)

// entity is a user, role or group. Published entities are immutable; change a clone.
type entity struct {
	Kind     kind           `json:"kind"`
	Name     string         `json:"name"`
	Path     string         `json:"path"`
	ID       string         `json:"id"`
	Created  time.Time      `json:"created"`
	Inline   []inlinePolicy `json:"inline,omitempty"`   // sorted by lower-case name
	Attached []string       `json:"attached,omitempty"` // managed policy ARNs, in attach order
	Tags     []tag          `json:"tags,omitempty"`

	// Users only: the lower-case names of the user's groups, sorted.
	Groups []string `json:"groups,omitempty"`

	// Roles only.
	Description string `json:"description,omitempty"`
	Trust       string `json:"trust,omitempty"`
	MaxSession  int32  `json:"maxSession,omitempty"`
	trust       *policy.Document
}

// inlinePolicy is an inline policy of an entity: its document as given, and parsed.
type inlinePolicy struct {
	Name     string `json:"name"`
	Document string `json:"document"`
	doc      *policy.Document
}

// tag is a resource tag.
type tag struct {
	Key   string
	Value string
}

func (e *entity) arn(acct string) string { return entityARN(acct, e.Kind, e.Path, e.Name) }

// clone returns a copy of e that shares nothing mutable with it.
func (e *entity) clone() *entity {
	c := *e
	c.Inline = slices.Clone(e.Inline)
	c.Attached = slices.Clone(e.Attached)
	c.Tags = slices.Clone(e.Tags)
	c.Groups = slices.Clone(e.Groups)
	return &c
}

// inline returns the inline policy with the name (case-insensitive), or nil.
func (e *entity) inline(name string) *inlinePolicy {
	for i := range e.Inline {
		if strings.EqualFold(e.Inline[i].Name, name) {
			return &e.Inline[i]
		}
	}
	return nil
}

// setInline adds or replaces an inline policy, keeping the list sorted.
func (e *entity) setInline(p inlinePolicy) {
	if old := e.inline(p.Name); old != nil {
		*old = p
		return
	}
	e.Inline = append(e.Inline, p)
	slices.SortFunc(e.Inline, func(a, b inlinePolicy) int { return strings.Compare(lower(a.Name), lower(b.Name)) })
}

// removeInline removes an inline policy and reports whether it was there.
func (e *entity) removeInline(name string) bool {
	n := len(e.Inline)
	e.Inline = slices.DeleteFunc(e.Inline, func(p inlinePolicy) bool { return strings.EqualFold(p.Name, name) })
	return len(e.Inline) != n
}

// inlineSize is the aggregate size of the inline policies.
func (e *entity) inlineSize() int {
	n := 0
	for _, p := range e.Inline {
		n += policySize(p.Document)
	}
	return n
}

// policySize is the size of a policy document as IAM counts it for its quotas: characters
// other than white space.
func policySize(doc string) int {
	n := 0
	for _, r := range doc {
		if !unicode.IsSpace(r) {
			n++
		}
	}
	return n
}

// managedPolicy is a customer managed policy (or a built-in AWS managed policy). Published
// policies are immutable; change a clone.
type managedPolicy struct {
	Name        string          `json:"name"`
	Path        string          `json:"path"`
	ID          string          `json:"id"`
	Description string          `json:"description,omitempty"`
	Created     time.Time       `json:"created"`
	Updated     time.Time       `json:"updated"`
	Default     string          `json:"defaultVersion"`
	NextVersion int             `json:"nextVersion"`
	Versions    []policyVersion `json:"versions"` // in creation order
	Tags        []tag           `json:"tags,omitempty"`

	account string // "aws" for AWS managed policies
}

// policyVersion is one version of a managed policy.
type policyVersion struct {
	ID       string    `json:"id"`
	Document string    `json:"document"`
	Created  time.Time `json:"created"`
	doc      *policy.Document
}

func (p *managedPolicy) arn() string { return policyARN(p.account, p.Path, p.Name) }

func (p *managedPolicy) isAWS() bool { return p.account == awsAccount }

func (p *managedPolicy) clone() *managedPolicy {
	c := *p
	c.Versions = slices.Clone(p.Versions)
	c.Tags = slices.Clone(p.Tags)
	return &c
}

// version returns the version with the ID, or nil.
func (p *managedPolicy) version(id string) *policyVersion {
	for i := range p.Versions {
		if p.Versions[i].ID == id {
			return &p.Versions[i]
		}
	}
	return nil
}

// defaultDoc is the parsed default version, which is what applies to attached entities.
func (p *managedPolicy) defaultDoc() *policy.Document {
	if v := p.version(p.Default); v != nil {
		return v.doc
	}
	return nil
}

func lower(s string) string { return strings.ToLower(s) }
