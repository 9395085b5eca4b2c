package opentrail

import "time"

// Identity types of callers, as they appear in userIdentity.type.
const (
	IdentityRoot        = "Root"
	IdentityIAMUser     = "IAMUser"
	IdentityAssumedRole = "AssumedRole"
	IdentityAWSService  = "AWSService"
	IdentityUnknown     = "Unknown"
)

// Caller is an authenticated principal: who signed a request, in which account.
type Caller struct {
	Type        string // IdentityRoot, IdentityIAMUser or IdentityAssumedRole
	AccountID   string
	ARN         string // arn:aws:iam::<acct>:root, ...:user/<path><name>, arn:aws:sts::<acct>:assumed-role/<role>/<session>
	PrincipalID string // the account ID for root, AIDA... for users, AROA...:<session> for roles
	UserName    string // user name; role session name for assumed roles
	AccessKeyID string

	// Assumed roles only.
	RoleName       string
	RoleID         string
	RoleARN        string
	SessionName    string
	SessionCreated time.Time
	MFA            bool
}

// UserIdentity renders the caller as a record's userIdentity element.
func (c *Caller) UserIdentity() *UserIdentity {
	u := &UserIdentity{
		Type:        c.Type,
		PrincipalID: c.PrincipalID,
		ARN:         c.ARN,
		AccountID:   c.AccountID,
		AccessKeyID: c.AccessKeyID,
	}
	switch c.Type {
	case IdentityIAMUser:
		u.UserName = c.UserName
	case IdentityAssumedRole:
		mfa := "false"
		if c.MFA {
			mfa = "true"
		}
		u.SessionContext = &SessionContext{
			SessionIssuer: SessionIssuer{
				Type: "Role", PrincipalID: c.RoleID, ARN: c.RoleARN,
				AccountID: c.AccountID, UserName: c.RoleName,
			},
			WebIDFederationData: map[string]string{},
			Attributes: SessionAttributes{
				CreationDate:     c.SessionCreated.UTC().Format(TimeFormat),
				MFAAuthenticated: mfa,
			},
		}
	}
	return u
}

// FriendlyName is the name LookupEvents reports as Username: the user name, the role
// session name, or "root".
func (c *Caller) FriendlyName() string {
	switch c.Type {
	case IdentityRoot:
		return "root"
	case IdentityAssumedRole:
		return c.SessionName
	}
	return c.UserName
}
