package policy

// MalformedError reports a policy document that IAM would reject with the
// MalformedPolicyDocument error code. Message is the text IAM returns.
type MalformedError struct {
	Message string
}

// Error returns the message, as IAM reports it.
func (e *MalformedError) Error() string { return e.Message }

// Code returns the AWS error code, "MalformedPolicyDocument".
func (e *MalformedError) Code() string { return "MalformedPolicyDocument" }

func malformed(msg string) *MalformedError { return &MalformedError{Message: msg} }

// Messages used by IAM for MalformedPolicyDocument errors.
const (
	msgSyntax             = "Syntax errors in policy."
	msgInvalidJSON        = "This policy contains invalid Json"
	msgLegacy             = "The policy failed legacy parsing"
	msgNoPrincipal        = "Policy document should not specify a principal."
	msgMissingPrincipal   = "Missing required field Principal"
	msgActions            = "Policy statement must contain actions."
	msgResources          = "Policy statement must contain resources."
	msgSidUnique          = "Statement IDs (SID) in a single policy must be unique."
	msgSidAlnum           = "Statement IDs (SID) must be alpha-numeric. Check that your input satisfies the regular expression [0-9A-Za-z]*"
	msgVendor             = "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc."
	msgOneColon           = "Actions/Condition can contain only one colon."
	msgStarPrincipalTrust = `AssumeRolepolicy contained an invalid principal: "STAR":"*".`
)

// Kind selects the validation rules applied by [ParseKind].
type Kind int

const (
	// KindAny applies only the rules common to every policy: the grammar,
	// Version, Effect, actions, Sid uniqueness, resource and principal
	// formats and condition operators. Principal and Resource are optional.
	KindAny Kind = iota
	// KindIdentity is an identity-based policy: no Principal or
	// NotPrincipal, every statement needs Resource or NotResource, and Sids
	// must be alphanumeric.
	KindIdentity
	// KindTrust is a role trust policy: every statement needs Principal or
	// NotPrincipal, Resource and NotResource are prohibited, the bare
	// principal "*" is rejected (use {"AWS": "*"}) and Sids must be
	// alphanumeric.
	KindTrust
)

// String returns "Any", "Identity" or "Trust".
func (k Kind) String() string {
	switch k {
	case KindIdentity:
		return "Identity"
	case KindTrust:
		return "Trust"
	default:
		return "Any"
	}
}

// Effect is the Effect element of a statement.
type Effect string

// Statement effects.
const (
	EffectAllow Effect = "Allow"
	EffectDeny  Effect = "Deny"
)

// Document is a parsed and compiled policy document. Obtain one from
// [Parse], [ParseIdentity], [ParseTrust] or [ParseKind]; the exported fields
// describe the document and must not be modified (evaluation uses the form
// compiled at parse time, not these fields). A Document is safe for
// concurrent use.
type Document struct {
	// Kind is the set of rules the document was validated with.
	Kind Kind
	// Version is the Version element, "" when absent.
	Version string
	// ID is the Id element, "" when absent.
	ID string
	// Statement lists the statements in document order; a single statement
	// object is returned as a list of one.
	Statement []Statement
}

// Statement is one statement of a [Document].
type Statement struct {
	Sid    string
	Effect Effect
	// Principal and NotPrincipal are nil when the element is absent.
	Principal    *Principal
	NotPrincipal *Principal
	// Exactly one of Action and NotAction is non-nil.
	Action    []string
	NotAction []string
	// At most one of Resource and NotResource is non-nil.
	Resource    []string
	NotResource []string
	// Condition lists the condition block, sorted by operator then key.
	Condition []Condition

	c compiledStatement
}

// Principal is a Principal or NotPrincipal element.
type Principal struct {
	// Wildcard is true for the bare string "*".
	Wildcard      bool
	AWS           []string
	Service       []string
	Federated     []string
	CanonicalUser []string
}

// Condition is one operator/key entry of a Condition block, for example
// Operator "ForAnyValue:StringLikeIfExists", Key "aws:TagKeys" and Values
// ["env", "team*"]. JSON booleans and numbers are kept as their text.
type Condition struct {
	Operator string
	Key      string
	Values   []string
}

// Request is the request context an evaluation is made against.
type Request struct {
	// Action is the action being authorized, such as "iam:CreateUser";
	// matched case-insensitively.
	Action string
	// Resource is the ARN of the resource, or "*" for actions that do not
	// support resource-level permissions.
	Resource string
	// Principal is the caller: an IAM user or role ARN, an assumed-role
	// session ARN, an account root ARN (arn:aws:iam::123456789012:root), or
	// a service principal such as "ec2.amazonaws.com".
	Principal string
	// PrincipalAccount is the caller's 12-digit account ID.
	PrincipalAccount string
	// Context holds the condition keys of the request, for example
	// aws:SourceIp, aws:SecureTransport ("true"/"false"), aws:CurrentTime
	// (RFC 3339), aws:EpochTime, aws:PrincipalArn, aws:username,
	// aws:userid, aws:PrincipalAccount, aws:PrincipalTag/KEY,
	// aws:TagKeys. Keys are looked up case-insensitively (an exact match
	// is fastest). A key with no values is treated as absent.
	Context map[string][]string
}

// Decision is the result of an evaluation.
type Decision int

const (
	// ImplicitDeny: no statement allows the request (the default).
	ImplicitDeny Decision = iota
	// Allow: a statement allows the request and none denies it.
	Allow
	// ExplicitDeny: a statement denies the request.
	ExplicitDeny
)

// String returns "ImplicitDeny", "Allow" or "ExplicitDeny".
func (d Decision) String() string {
	switch d {
	case Allow:
		return "Allow"
	case ExplicitDeny:
		return "ExplicitDeny"
	default:
		return "ImplicitDeny"
	}
}
