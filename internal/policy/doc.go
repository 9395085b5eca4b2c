// Package policy parses, validates and evaluates AWS IAM policy documents.
//
// The package is pure: it does no I/O and never reads the clock. Everything
// that depends on the request (the caller, the time, the source address, …)
// is passed in a [Request].
//
// # Parsing and validation
//
// [ParseIdentity] validates an identity-based policy (CreatePolicy,
// PutUserPolicy, …), [ParseTrust] a role trust policy (CreateRole,
// UpdateAssumeRolePolicy) and [Parse] accepts any document that follows the
// policy grammar without the kind-specific rules (useful to reload documents
// that were validated when they were stored). Failures are reported as a
// [*MalformedError] whose Message uses the wording of IAM's
// MalformedPolicyDocument errors, for example "Syntax errors in policy.",
// "Policy document should not specify a principal.",
// "Policy statement must contain actions." or "Has prohibited field Resource".
// Document size limits are the caller's business.
//
// Wildcards and policy variables are compiled when the document is parsed so
// that evaluation, which runs on every API call, does not allocate.
//
// # Evaluation
//
// [Evaluate] implements the identity-based part of the AWS evaluation logic
// for a set of policies that apply to one principal:
//
//  1. A statement applies to a request when its Principal/NotPrincipal (if
//     any) matches the caller, its Action/NotAction matches the action, its
//     Resource/NotResource (if any) matches the resource and every condition
//     in its Condition block is true.
//  2. If any applicable statement has "Effect": "Deny" the decision is
//     [ExplicitDeny]; an explicit deny always wins.
//  3. Otherwise, if any applicable statement has "Effect": "Allow" the
//     decision is [Allow].
//  4. Otherwise the request is implicitly denied ([ImplicitDeny]).
//
// [Document.AllowsPrincipal] applies the same rules to a single role trust
// policy to decide whether a principal may call sts:AssumeRole (or another
// action named in the trust policy).
//
// Matching rules, as documented by AWS:
//
//   - Action and NotAction values are matched case-insensitively; "*" matches
//     any sequence of characters and "?" any single character.
//   - Resource and NotResource values are matched case-sensitively with the
//     same wildcards. When both the pattern and the resource are ARNs with six
//     colon-separated components, each of the first five components is matched
//     separately (a wildcard does not cross a colon there) and the sixth, the
//     resource part, is matched as a whole (it may contain colons). Other
//     values are matched as plain strings. "*" matches every resource.
//   - Policy variables (${aws:username}, ${aws:userid}, ${aws:PrincipalAccount},
//     ${aws:PrincipalTag/key}, any context key, with an optional default
//     written ${key, 'default'}) and the escapes ${*}, ${?} and ${$} are
//     substituted in Resource/NotResource and in the values of String, Arn and
//     Bool conditions, only when the document's Version is "2012-10-17";
//     otherwise they are literal text. The substituted value is literal text
//     (wildcard characters in it have no special meaning). A variable whose key
//     is missing from the request context (or has several values) and has no
//     default cannot be resolved: the pattern it appears in matches nothing,
//     a NotResource element containing it does not apply, and a negated
//     condition operator that compares against it evaluates to false, so a
//     statement never applies because of an unresolvable variable.
//   - Condition: several operators are ANDed, several keys under one operator
//     are ANDed, several values for one key are ORed (for negated operators
//     such as StringNotEquals they are NORed: no value may match). Condition
//     key names are case-insensitive. A key missing from the request makes
//     a positive operator false and a negated operator (StringNotEquals,
//     StringNotEqualsIgnoreCase, StringNotLike, NumericNotEquals,
//     DateNotEquals, NotIpAddress, ArnNotEquals, ArnNotLike) true. The
//     ...IfExists suffix makes a condition true when its key is missing. The
//     ForAnyValue: qualifier is true when at least one request value passes
//     the test (false when the key is missing or empty); ForAllValues: is true
//     when every request value passes it (true when the key is missing or
//     empty). Without a qualifier, a multi-valued key passes a positive
//     operator when any of its values matches and a negated operator when
//     none of its values matches. Null tests whether the key is absent ("true")
//     or present ("false"); a set qualifier on Null is ignored.
//   - Supported operators: StringEquals, StringNotEquals,
//     StringEqualsIgnoreCase, StringNotEqualsIgnoreCase, StringLike,
//     StringNotLike, NumericEquals, NumericNotEquals, NumericLessThan,
//     NumericLessThanEquals, NumericGreaterThan, NumericGreaterThanEquals,
//     DateEquals, DateNotEquals, DateLessThan, DateLessThanEquals,
//     DateGreaterThan, DateGreaterThanEquals, Bool, BinaryEquals, IpAddress,
//     NotIpAddress, ArnEquals, ArnLike, ArnNotEquals, ArnNotLike and Null.
//     Dates are W3C ISO 8601 (2020-01-01, 2020-01-01T00:00:00Z,
//     2020-01-01T00:00:00.5+02:00, …; no zone means UTC) or epoch seconds.
//     IP values are IPv4 or IPv6 CIDR blocks or single addresses (/32, /128).
//     BinaryEquals values are base64 in the policy; the request value is
//     compared with the decoded bytes (or with the base64 text itself).
//     Numeric, date, IP and binary values that do not parse never match.
//   - Principal (trust and other resource-based policies): "*" and
//     {"AWS": "*"} match every caller. An account ID or
//     "arn:aws:iam::ACCOUNT:root" matches every principal of that account
//     (Request.PrincipalAccount, or the account in Request.Principal). A role
//     ARN matches the role itself and its sessions
//     (arn:aws:sts::ACCOUNT:assumed-role/NAME/SESSION); other ARNs (users,
//     sessions, federated users) must equal Request.Principal or the
//     aws:PrincipalArn context key. Service principals match Request.Principal
//     case-insensitively; Federated and CanonicalUser principals must equal it.
//
// When the aws:PrincipalArn or aws:PrincipalAccount context keys are absent
// from Request.Context they are taken from Request.Principal and
// Request.PrincipalAccount.
//
// # Not supported
//
// Only identity-based policies and role trust policies are evaluated. The
// package does not implement: resource-based policies of other services
// (their cross-account rules), service control policies and resource control
// policies (AWS Organizations), permissions boundaries, session policies,
// and the combination of several policy types into one decision. Condition
// keys are not checked against the service authorization reference, action
// names are not checked against the list of real actions, and unknown
// condition keys are simply absent from the request. Validation follows the
// messages IAM returns for the cases listed in this package's tests; IAM
// checks some further details (for example that a principal ARN names an
// existing entity) that need state and are left to the caller.
package policy
