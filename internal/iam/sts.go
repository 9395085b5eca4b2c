package iam

import (
	"context"
	"fmt"
	"maps"
	"time"

	"github.com/opentrail/opentrail"
	"github.com/opentrail/opentrail/internal/awsproto"
	"github.com/opentrail/opentrail/internal/policy"
	"github.com/opentrail/opentrail/internal/server"
)

// STS wire constants.
const (
	stsVersion = "2011-06-15"
	stsXMLNS   = "https://sts.amazonaws.com/doc/2011-06-15/"
)

// session is an STS session: temporary credentials of an assumed role. Published sessions are
// immutable.
type session struct {
	ID           string    `json:"id"`
	Account      string    `json:"account"` // the role's account
	SealedSecret []byte    `json:"secret"`
	SealedToken  []byte    `json:"token"`
	Created      time.Time `json:"created"`
	Expires      time.Time `json:"expires"`
	RoleName     string    `json:"roleName"`
	RoleID       string    `json:"roleId"`
	RolePath     string    `json:"rolePath"`
	Name         string    `json:"sessionName"`
	// Session policies, which narrow what the role allows.
	Policy     string   `json:"policy,omitempty"`
	PolicyARNs []string `json:"policyArns,omitempty"`
	// SourceAccount is the account of the caller that assumed the role.
	SourceAccount string `json:"sourceAccount"`

	secret, token string
	policy        *policy.Document
}

// restricted reports whether the session has session policies.
func (s *session) restricted() bool { return s.Policy != "" || len(s.PolicyARNs) > 0 }

// sessionDocs returns the session's policies. The caller holds mu or wmu.
func (m *IAM) sessionDocs(a *account, s *session) []*policy.Document {
	docs := make([]*policy.Document, 0, 1+len(s.PolicyARNs))
	if s.policy != nil {
		docs = append(docs, s.policy)
	}
	for _, arn := range s.PolicyARNs {
		if p := m.policyByARN(a, arn); p != nil {
			docs = append(docs, p.defaultDoc())
		}
	}
	return docs
}

func (s *session) caller() opentrail.Caller {
	return opentrail.Caller{
		Type:           opentrail.IdentityAssumedRole,
		AccountID:      s.Account,
		ARN:            assumedRoleARN(s.Account, s.RoleName, s.Name),
		PrincipalID:    s.RoleID + ":" + s.Name,
		UserName:       s.Name,
		AccessKeyID:    s.ID,
		RoleName:       s.RoleName,
		RoleID:         s.RoleID,
		RoleARN:        entityARN(s.Account, kindRole, s.RolePath, s.RoleName),
		SessionName:    s.Name,
		SessionCreated: s.Created,
	}
}

// openSession decrypts a stored session's secrets and parses its policy.
func (m *IAM) openSession(s *session) error {
	var err error
	if s.secret, err = m.box.Open(s.SealedSecret); err != nil {
		return fmt.Errorf("iam: open secret of session %s: %w", s.ID, err)
	}
	if s.token, err = m.box.Open(s.SealedToken); err != nil {
		return fmt.Errorf("iam: open token of session %s: %w", s.ID, err)
	}
	if s.Policy != "" {
		s.policy = m.reparse("session policy of "+s.ID, s.Policy)
	}
	return nil
}

// publishSession makes a session's credentials authenticate. The caller holds mu for writing.
func (m *IAM) publishSession(s *session) {
	m.sessions[s.ID] = s
	m.creds[s.ID] = &server.Credentials{Secret: s.secret, SessionToken: s.token, Expires: s.Expires, Caller: s.caller()}
}

// sweepSessions removes sessions expired for longer than sessionRetention, at most once an
// hour. The caller holds wmu.
func (m *IAM) sweepSessions(now time.Time) {
	if now.Sub(m.lastSweep) < time.Hour {
		return
	}
	m.lastSweep = now
	var old []*session
	for _, s := range m.sessions {
		if now.After(s.Expires.Add(sessionRetention)) {
			old = append(old, s)
		}
	}
	if len(old) == 0 {
		return
	}
	b := m.store.NewBatch()
	for _, s := range old {
		b.Delete(sessionKey(s.Account, s.ID))
	}
	err := m.commit(b, func() {
		for _, s := range old {
			delete(m.sessions, s.ID)
			delete(m.creds, s.ID)
		}
	})
	if err != nil {
		m.log.Warn("iam: remove expired sessions", "err", err)
	}
}

func (m *IAM) stsService() *server.Service {
	svc := &server.Service{
		Name:        "sts",
		EventSource: "sts.amazonaws.com",
		APIVersion:  stsVersion,
		Wire:        awsproto.Wire{Protocol: awsproto.Query, XMLNamespace: stsXMLNS},
	}
	svc.Add(
		server.Op("GetCallerIdentity", server.OpOptions[server.NoOutput]{ReadOnly: true, NoAuthorize: true}, m.getCallerIdentity),
		server.Op("AssumeRole", server.OpOptions[assumeRoleInput]{NoAuthorize: true}, m.assumeRole),
	)
	return svc
}

type getCallerIdentityOutput struct {
	UserId  string
	Account string
	Arn     string
}

func (m *IAM) getCallerIdentity(_ context.Context, c *server.Call, _ *server.NoOutput) (*getCallerIdentityOutput, error) {
	return &getCallerIdentityOutput{UserId: c.Caller.PrincipalID, Account: c.Caller.AccountID, Arn: c.Caller.ARN}, nil
}

type policyDescriptor struct {
	Arn string
}

type assumeRoleInput struct {
	RoleArn         string
	RoleSessionName string
	DurationSeconds *int32
	Policy          string
	PolicyArns      []policyDescriptor
	ExternalId      string
	SourceIdentity  string
	Tags            []tag
	SerialNumber    string
	TokenCode       string
}

type stsCredentials struct {
	AccessKeyId     string
	SecretAccessKey string
	SessionToken    string
	Expiration      timestamp
}

type assumedRoleUser struct {
	AssumedRoleId string
	Arn           string
}

type assumeRoleOutput struct {
	Credentials      stsCredentials
	AssumedRoleUser  assumedRoleUser
	PackedPolicySize *int   `xml:",omitempty" json:",omitempty"`
	SourceIdentity   string `xml:",omitempty" json:",omitempty"`
}

func (m *IAM) assumeRole(_ context.Context, c *server.Call, in *assumeRoleInput) (*assumeRoleOutput, error) {
	var v validation
	v.arn("roleArn", in.RoleArn)
	if v.required("roleSessionName", in.RoleSessionName) {
		v.str("roleSessionName", in.RoleSessionName, 2, 64, patSessionName)
	}
	v.num("durationSeconds", in.DurationSeconds, minSessionDuration, maxRoleMaxSession)
	v.str("externalId", in.ExternalId, 2, 1224, patExternalID)
	v.str("sourceIdentity", in.SourceIdentity, 2, 64, patSessionName)
	v.str("policy", in.Policy, 1, 0, patDocument)
	if len(in.PolicyArns) > 10 {
		n := fmt.Sprint(len(in.PolicyArns))
		v.fail(&n, "policyArns", "Member must have length less than or equal to 10")
	}
	for i, p := range in.PolicyArns {
		v.arn(fmt.Sprintf("policyArns.%d.member.arn", i+1), p.Arn)
	}
	if err := v.err(); err != nil {
		return nil, err
	}
	if len(in.Tags) > 0 {
		return nil, validationError("Session tags are not supported.")
	}
	if in.SerialNumber != "" || in.TokenCode != "" {
		return nil, accessDenied("MultiFactorAuthentication failed: MFA devices are not supported.")
	}
	target, ok := parseIAMARN(in.RoleArn)
	if !ok || target.typ != "role" || !isAccountID(target.account) {
		return nil, validationError(in.RoleArn + " is invalid")
	}
	var sessPolicy *policy.Document
	if in.Policy != "" {
		if n := policySize(in.Policy); n > 2048 {
			return nil, opentrail.Errorf("PackedPolicyTooLarge", "Packed policy consumes %d%% of allotted space, please use smaller policy.", n*100/2048)
		}
		d, err := policy.ParseIdentity(in.Policy)
		if err != nil {
			return nil, policyError(err)
		}
		sessPolicy = d
	}
	denied := accessDenied("User: %s is not authorized to perform: sts:AssumeRole on resource: %s", c.Caller.ARN, in.RoleArn)

	// The caller's identity-based policies must allow the call (the root user is always allowed).
	conds := c.ConditionContext()
	if m.decide(c.Caller, "sts:AssumeRole", in.RoleArn, conds) != policy.Allow {
		return nil, denied
	}

	m.wmu.Lock()
	defer m.wmu.Unlock()
	now := m.clock()
	m.sweepSessions(now)
	a := m.accounts[target.account]
	if a == nil {
		return nil, denied
	}
	role := a.ents[kindRole][lower(target.name)]
	if role == nil || role.Path != target.path || role.Name != target.name {
		return nil, denied
	}
	// The role's trust policy must allow the caller.
	tc := maps.Clone(conds)
	tc["sts:rolesessionname"] = []string{in.RoleSessionName}
	if in.ExternalId != "" {
		tc["sts:externalid"] = []string{in.ExternalId}
	}
	if in.SourceIdentity != "" {
		tc["sts:sourceidentity"] = []string{in.SourceIdentity}
	}
	trustReq := policy.Request{Action: "sts:AssumeRole", Resource: in.RoleArn, Principal: c.Caller.ARN, PrincipalAccount: c.Caller.AccountID, Context: tc}
	if role.trust.AllowsPrincipal(trustReq) != policy.Allow {
		return nil, denied
	}
	duration := int32(defaultMaxSession)
	if in.DurationSeconds != nil {
		duration = *in.DurationSeconds
	}
	maxSession := role.MaxSession
	if maxSession == 0 {
		maxSession = defaultMaxSession
	}
	if c.Caller.Type == opentrail.IdentityAssumedRole && duration > chainedSessionMaxSecs {
		return nil, validationError("The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.")
	}
	if duration > maxSession {
		return nil, validationError("The requested DurationSeconds exceeds the MaxSessionDuration set for this role.")
	}
	var arns []string
	for _, p := range in.PolicyArns {
		if m.policyByARN(a, p.Arn) == nil {
			return nil, invalidParameter("The policy %s does not exist or is not attachable.", p.Arn)
		}
		arns = append(arns, p.Arn)
	}

	id := newAccessKeyID(prefixTempKey)
	for m.keyIDInUse(id) {
		id = newAccessKeyID(prefixTempKey)
	}
	s := &session{
		ID: id, Account: a.id, Created: now, Expires: now.Add(time.Duration(duration) * time.Second),
		RoleName: role.Name, RoleID: role.ID, RolePath: role.Path, Name: in.RoleSessionName,
		Policy: in.Policy, PolicyARNs: arns, SourceAccount: c.Account(),
		secret: newSecret(), token: newSessionToken(), policy: sessPolicy,
	}
	s.SealedSecret = m.box.Seal(s.secret)
	s.SealedToken = m.box.Seal(s.token)
	b := m.store.NewBatch()
	if err := b.Put(sessionKey(a.id, s.ID), s); err != nil {
		return nil, err
	}
	if err := m.commit(b, func() { m.publishSession(s) }); err != nil {
		return nil, err
	}
	c.AddResource("AWS::IAM::Role", role.arn(a.id))
	out := &assumeRoleOutput{
		Credentials:     stsCredentials{AccessKeyId: s.ID, SecretAccessKey: s.secret, SessionToken: s.token, Expiration: timestamp(s.Expires)},
		AssumedRoleUser: assumedRoleUser{AssumedRoleId: role.ID + ":" + s.Name, Arn: assumedRoleARN(a.id, role.Name, s.Name)},
		SourceIdentity:  in.SourceIdentity,
	}
	if in.Policy != "" || len(arns) > 0 {
		size := policySize(in.Policy) * 100 / 2048
		out.PackedPolicySize = &size
	}
	return out, nil
}

func invalidParameter(format string, args ...any) *opentrail.Error {
	return opentrail.Errorf("InvalidParameterValue", format, args...)
}
