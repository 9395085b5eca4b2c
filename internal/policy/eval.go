package policy

import "strings"

// compiledStatement is the form of a statement used for evaluation.
type compiledStatement struct {
	deny         bool
	actions      []glob
	notAction    bool
	resources    []arnGlob
	hasResource  bool
	notResource  bool
	principals   *principalSet
	notPrincipal bool
	conditions   []condition
}

// ctxVals is the value list of a context key. It holds a single value
// without a slice so that lookups never allocate.
type ctxVals struct {
	list []string
	one  string
	n    int
}

func (v ctxVals) at(i int) string {
	if v.list != nil {
		return v.list[i]
	}
	return v.one
}

// resolver gives access to the request context during one evaluation.
type resolver struct {
	req *Request
}

// lookup returns the values of a context key, matching the name
// case-insensitively; lower is the lower-case form of key.
func (r *resolver) lookup(key, lower string) ctxVals {
	ctx := r.req.Context
	if v, ok := ctx[key]; ok {
		return ctxVals{list: v, n: len(v)}
	}
	if v, ok := ctx[lower]; ok {
		return ctxVals{list: v, n: len(v)}
	}
	for k, v := range ctx {
		if len(k) == len(key) && strings.EqualFold(k, key) {
			return ctxVals{list: v, n: len(v)}
		}
	}
	switch lower {
	case "aws:principalarn":
		if r.req.Principal != "" {
			return ctxVals{one: r.req.Principal, n: 1}
		}
	case "aws:principalaccount":
		if acct := requestAccount(r.req); acct != "" {
			return ctxVals{one: acct, n: 1}
		}
	}
	return ctxVals{}
}

// variable returns the value of a policy variable: the single value of its
// context key, or its default.
func (r *resolver) variable(t *token) (string, bool) {
	if v := r.lookup(t.key, t.keyLower); v.n == 1 {
		return v.at(0), true
	}
	if t.hasDef {
		return t.def, true
	}
	return "", false
}

// applies reports whether the statement applies to the request.
func (s *compiledStatement) applies(r *resolver) bool {
	req := r.req
	if s.principals != nil && s.principals.match(req, r) == s.notPrincipal {
		return false
	}
	matched := false
	for i := range s.actions {
		if s.actions[i].match(req.Action, nil) {
			matched = true
			break
		}
	}
	if matched == s.notAction {
		return false
	}
	if s.hasResource {
		matched, unresolved := false, false
		for i := range s.resources {
			g := &s.resources[i]
			if !g.resolvable(r) {
				unresolved = true
				continue
			}
			if g.match(req.Resource, r) {
				matched = true
				break
			}
		}
		if s.notResource {
			if matched || unresolved {
				return false
			}
		} else if !matched {
			return false
		}
	}
	for i := range s.conditions {
		if !s.conditions[i].eval(r) {
			return false
		}
	}
	return true
}

// evaluate returns the decision of one document; it stops at the first
// applicable Deny.
func (d *Document) evaluate(r *resolver) Decision {
	dec := ImplicitDeny
	for i := range d.Statement {
		s := &d.Statement[i].c
		if !s.applies(r) {
			continue
		}
		if s.deny {
			return ExplicitDeny
		}
		dec = Allow
	}
	return dec
}

// Evaluate decides a request against the identity-based policies that apply
// to the caller (inline and attached policies of the user, its groups, or
// the role): ExplicitDeny if any applicable statement denies the request,
// otherwise Allow if any applicable statement allows it, otherwise
// ImplicitDeny. Nil documents are skipped. Statements with a Principal or
// NotPrincipal (documents from [Parse]) also require the caller to match it.
// Evaluate does not allocate.
func Evaluate(docs []*Document, req Request) Decision {
	r := resolver{req: &req}
	dec := ImplicitDeny
	for _, d := range docs {
		if d == nil {
			continue
		}
		switch d.evaluate(&r) {
		case ExplicitDeny:
			return ExplicitDeny
		case Allow:
			dec = Allow
		}
	}
	return dec
}

// AllowsPrincipal evaluates a role trust policy (or another resource-based
// policy) for a request such as sts:AssumeRole: a statement applies when its
// Principal (or NotPrincipal) matches the caller described by
// req.Principal, req.PrincipalAccount and the aws:PrincipalArn context key,
// its Action matches req.Action, its Resource (if any) matches req.Resource
// and its conditions hold. The result is ExplicitDeny if an applicable
// statement denies, Allow if one allows, ImplicitDeny otherwise. A role
// trusting its own account (root) still requires the caller's identity
// policies to allow the action; that is the caller's responsibility.
func (d *Document) AllowsPrincipal(req Request) Decision {
	if d == nil {
		return ImplicitDeny
	}
	r := resolver{req: &req}
	return d.evaluate(&r)
}
