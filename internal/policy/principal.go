package policy

import "strings"

type awsPrincipalKind uint8

const (
	apAll     awsPrincipalKind = iota // "*"
	apAccount                         // "123456789012" or arn:aws:iam::123456789012:root
	apRole                            // arn:aws:iam::123456789012:role/[path/]name
	apARN                             // any other ARN: exact match
)

type awsPrincipal struct {
	kind     awsPrincipalKind
	raw      string
	account  string
	roleName string
}

// principalSet is a compiled Principal or NotPrincipal element.
type principalSet struct {
	all       bool
	aws       []awsPrincipal
	service   []string
	federated []string
	canonical []string
}

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

// arnParts splits an ARN into partition, service, region, account and
// resource without allocating.
func arnParts(s string) (partition, service, region, account, resource string, ok bool) {
	rest, found := strings.CutPrefix(s, "arn:")
	if !found {
		return
	}
	var f [4]string
	for i := 0; i < 4; i++ {
		j := strings.IndexByte(rest, ':')
		if j < 0 {
			return
		}
		f[i], rest = rest[:j], rest[j+1:]
	}
	return f[0], f[1], f[2], f[3], rest, true
}

func compileAWSPrincipal(v string) awsPrincipal {
	p := awsPrincipal{kind: apARN, raw: v}
	switch {
	case v == "*":
		p.kind = apAll
	case isAccountID(v):
		p.kind, p.account = apAccount, v
	default:
		_, service, _, account, resource, ok := arnParts(v)
		if !ok || service != "iam" {
			break
		}
		switch {
		case resource == "root":
			p.kind, p.account = apAccount, account
		case strings.HasPrefix(resource, "role/"):
			p.kind, p.account = apRole, account
			p.roleName = resource[strings.LastIndexByte(resource, '/')+1:]
		}
	}
	return p
}

// validAWSPrincipal reports whether v is an AWS principal IAM accepts: "*",
// an account ID, or an IAM/STS ARN of an account, user, role, assumed-role
// session or federated user, without wildcards.
func validAWSPrincipal(v string) bool {
	if v == "*" || isAccountID(v) {
		return true
	}
	if strings.ContainsAny(v, "*? \t\n") {
		return false
	}
	partition, service, region, account, resource, ok := arnParts(v)
	if !ok || partition == "" || region != "" || !isAccountID(account) {
		return false
	}
	switch service {
	case "iam":
		if resource == "root" {
			return true
		}
		for _, prefix := range []string{"user/", "role/"} {
			if name, found := strings.CutPrefix(resource, prefix); found && name != "" && !strings.HasSuffix(name, "/") {
				return true
			}
		}
	case "sts":
		if name, found := strings.CutPrefix(resource, "assumed-role/"); found {
			role, session, ok := strings.Cut(name, "/")
			return ok && role != "" && session != ""
		}
		if name, found := strings.CutPrefix(resource, "federated-user/"); found {
			return name != ""
		}
	}
	return false
}

func compilePrincipal(p *Principal) *principalSet {
	if p == nil {
		return nil
	}
	ps := &principalSet{all: p.Wildcard, service: p.Service, federated: p.Federated, canonical: p.CanonicalUser}
	for _, v := range p.AWS {
		ap := compileAWSPrincipal(v)
		if ap.kind == apAll {
			ps.all = true
		}
		ps.aws = append(ps.aws, ap)
	}
	return ps
}

// requestAccount returns the caller's account: Request.PrincipalAccount, or
// the account of Request.Principal when it is an ARN.
func requestAccount(req *Request) string {
	if req.PrincipalAccount != "" {
		return req.PrincipalAccount
	}
	if _, _, _, account, _, ok := arnParts(req.Principal); ok {
		return account
	}
	return ""
}

// match reports whether the caller of req is one of the principals.
func (ps *principalSet) match(req *Request, r *resolver) bool {
	if ps.all {
		return true
	}
	caller := req.Principal
	for i := range ps.aws {
		p := &ps.aws[i]
		if p.kind == apAccount {
			if acct := requestAccount(req); acct != "" && acct == p.account {
				return true
			}
			continue
		}
		if caller == p.raw || (p.kind == apRole && isSessionOf(caller, p)) {
			return true
		}
		if arn := r.lookup("aws:PrincipalArn", "aws:principalarn"); arn.n == 1 && arn.at(0) == p.raw {
			return true
		}
	}
	for _, s := range ps.service {
		if caller != "" && strings.EqualFold(caller, s) {
			return true
		}
	}
	for _, s := range ps.federated {
		if caller != "" && caller == s {
			return true
		}
	}
	for _, s := range ps.canonical {
		if caller != "" && caller == s {
			return true
		}
	}
	return false
}

// isSessionOf reports whether caller is an assumed-role session
// (arn:PARTITION:sts::ACCOUNT:assumed-role/NAME/SESSION) of role p.
func isSessionOf(caller string, p *awsPrincipal) bool {
	_, service, _, account, resource, ok := arnParts(caller)
	if !ok || service != "sts" || account != p.account {
		return false
	}
	name, found := strings.CutPrefix(resource, "assumed-role/")
	if !found {
		return false
	}
	role, _, ok := strings.Cut(name, "/")
	return ok && role == p.roleName
}
