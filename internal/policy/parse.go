package policy

import (
	"encoding/json"
	"io"
	"sort"
	"strings"
)

// Parse parses a policy document of any kind with the rules common to all
// policies ([KindAny]): use it for documents of unknown kind or documents
// that were validated when they were stored. Use [ParseIdentity] and
// [ParseTrust] to validate documents supplied by a caller. The error is a
// [*MalformedError].
func Parse(doc string) (*Document, error) { return ParseKind(doc, KindAny) }

// ParseIdentity parses and validates an identity-based policy (for
// CreatePolicy, CreatePolicyVersion, PutUserPolicy, PutGroupPolicy,
// PutRolePolicy). The error is a [*MalformedError].
func ParseIdentity(doc string) (*Document, error) { return ParseKind(doc, KindIdentity) }

// ParseTrust parses and validates a role trust policy (for CreateRole and
// UpdateAssumeRolePolicy). The error is a [*MalformedError].
func ParseTrust(doc string) (*Document, error) { return ParseKind(doc, KindTrust) }

// ParseKind parses doc and validates it with the rules of kind. On failure
// it returns a [*MalformedError] whose Message is IAM's. The checks run in
// this order, the first failure being reported:
//
//  1. JSON and grammar: top-level keys Version, Id and Statement only;
//     Version "2012-10-17" or "2008-10-17" when present; Statement an object
//     or non-empty array of objects whose keys are Sid, Effect, Principal,
//     NotPrincipal, Action, NotAction, Resource, NotResource and Condition;
//     not both X and NotX; Effect Allow or Deny (any case); string or
//     string-array values; Principal "*" or a map of AWS, Service,
//     Federated and CanonicalUser; Condition a map of known operators to
//     maps of keys to values → "Syntax errors in policy." (for
//     [KindTrust], a document that is not JSON → "This policy contains
//     invalid Json").
//  2. [KindIdentity]: Principal or NotPrincipal present → "Policy document
//     should not specify a principal."
//  3. Effect not spelled exactly "Allow" or "Deny", or a Date condition value
//     that is neither ISO 8601 nor epoch seconds → "The policy failed legacy
//     parsing".
//  4. Duplicate non-empty Sids → "Statement IDs (SID) in a single policy
//     must be unique."; with [KindIdentity] and [KindTrust], a Sid that is
//     not alphanumeric → "Statement IDs (SID) must be alpha-numeric. …".
//  5. No Action/NotAction, or an empty list → "Policy statement must
//     contain actions."
//  6. [KindIdentity]: no Resource/NotResource, or an empty list → "Policy
//     statement must contain resources." [KindTrust]: Resource or
//     NotResource present → "Has prohibited field Resource" (or
//     NotResource); no Principal/NotPrincipal, or an empty one → "Missing
//     required field Principal"; Principal "*" → "AssumeRolepolicy
//     contained an invalid principal: "STAR":"*"."
//  7. An AWS principal that is not "*", an account ID or an IAM/STS ARN of
//     an account root, user, role, assumed-role session or federated user
//     (no wildcards), or an empty Service or Federated principal →
//     `Invalid principal in policy: "AWS":"value"` (or "SERVICE",
//     "FEDERATED", "CANONICAL_USER").
//  8. A resource that is neither "*" nor an ARN → `Resource value must be in
//     ARN format or "*".`
//  9. An action without a service prefix → "Actions/Conditions must be
//     prefaced by a vendor, e.g., iam, sdb, ec2, etc.", with more than one
//     colon → "Actions/Condition can contain only one colon.", with a prefix
//     that is not made of letters, digits, "-" and "." → "Vendor X is not
//     valid".
//
// An unknown condition operator is a syntax error unless its key map is
// empty, in which case it is accepted and ignored.
func ParseKind(doc string, kind Kind) (*Document, error) {
	dec := json.NewDecoder(strings.NewReader(doc))
	dec.UseNumber()
	var root any
	err := dec.Decode(&root)
	if err == nil {
		if _, tokErr := dec.Token(); tokErr != io.EOF {
			err = io.ErrUnexpectedEOF
		}
	}
	if err != nil {
		if kind == KindTrust {
			return nil, malformed(msgInvalidJSON)
		}
		return nil, malformed(msgSyntax)
	}
	d, raw, ok := parseGrammar(root)
	if !ok {
		return nil, malformed(msgSyntax)
	}
	d.Kind = kind
	if err := validate(d, raw, kind); err != nil {
		return nil, err
	}
	return d, nil
}

// rawStatement keeps what the grammar pass learned about a statement.
type rawStatement struct {
	effect string
	// conditions with a known operator, in the order of Statement.Condition.
	ops []operator
}

// parseGrammar checks the JSON structure and fills a Document.
func parseGrammar(root any) (*Document, []rawStatement, bool) {
	top, ok := root.(map[string]any)
	if !ok {
		return nil, nil, false
	}
	d := &Document{}
	var stmts []any
	haveStatement := false
	for k, v := range top {
		switch k {
		case "Version":
			s, ok := v.(string)
			if !ok || (s != "2012-10-17" && s != "2008-10-17") {
				return nil, nil, false
			}
			d.Version = s
		case "Id":
			s, ok := v.(string)
			if !ok {
				return nil, nil, false
			}
			d.ID = s
		case "Statement":
			haveStatement = true
			switch st := v.(type) {
			case map[string]any:
				stmts = []any{st}
			case []any:
				stmts = st
			default:
				return nil, nil, false
			}
		default:
			return nil, nil, false
		}
	}
	if !haveStatement || len(stmts) == 0 {
		return nil, nil, false
	}
	d.Statement = make([]Statement, len(stmts))
	raws := make([]rawStatement, len(stmts))
	for i, sv := range stmts {
		m, ok := sv.(map[string]any)
		if !ok || !parseStatement(m, &d.Statement[i], &raws[i]) {
			return nil, nil, false
		}
	}
	return d, raws, true
}

func parseStatement(m map[string]any, s *Statement, raw *rawStatement) bool {
	var ok bool
	for k, v := range m {
		switch k {
		case "Sid":
			if s.Sid, ok = v.(string); !ok {
				return false
			}
		case "Effect":
			e, isStr := v.(string)
			if !isStr || (!strings.EqualFold(e, "Allow") && !strings.EqualFold(e, "Deny")) {
				return false
			}
			raw.effect = e
		case "Action":
			if s.Action, ok = stringList(v); !ok {
				return false
			}
		case "NotAction":
			if s.NotAction, ok = stringList(v); !ok {
				return false
			}
		case "Resource":
			if s.Resource, ok = stringList(v); !ok {
				return false
			}
		case "NotResource":
			if s.NotResource, ok = stringList(v); !ok {
				return false
			}
		case "Principal":
			if s.Principal, ok = parsePrincipal(v); !ok {
				return false
			}
		case "NotPrincipal":
			if s.NotPrincipal, ok = parsePrincipal(v); !ok {
				return false
			}
		case "Condition":
			if !parseConditionBlock(v, s, raw) {
				return false
			}
		default:
			return false
		}
	}
	if raw.effect == "" ||
		(s.Action != nil && s.NotAction != nil) ||
		(s.Resource != nil && s.NotResource != nil) ||
		(s.Principal != nil && s.NotPrincipal != nil) {
		return false
	}
	if strings.EqualFold(raw.effect, "Deny") {
		s.Effect = EffectDeny
	} else {
		s.Effect = EffectAllow
	}
	return true
}

// stringList accepts a string or an array of strings. The result is
// non-nil (possibly empty) on success.
func stringList(v any) ([]string, bool) {
	switch t := v.(type) {
	case string:
		return []string{t}, true
	case []any:
		out := make([]string, 0, len(t))
		for _, e := range t {
			s, ok := e.(string)
			if !ok {
				return nil, false
			}
			out = append(out, s)
		}
		return out, true
	}
	return nil, false
}

func parsePrincipal(v any) (*Principal, bool) {
	switch t := v.(type) {
	case string:
		if t != "*" {
			return nil, false
		}
		return &Principal{Wildcard: true}, true
	case map[string]any:
		p := &Principal{}
		for k, e := range t {
			l, ok := stringList(e)
			if !ok {
				return nil, false
			}
			switch k {
			case "AWS":
				p.AWS = l
			case "Service":
				p.Service = l
			case "Federated":
				p.Federated = l
			case "CanonicalUser":
				p.CanonicalUser = l
			default:
				return nil, false
			}
		}
		return p, true
	}
	return nil, false
}

// conditionValues accepts a value or an array of values; strings, booleans
// and numbers are kept as text.
func conditionValues(v any) ([]string, bool) {
	one := func(e any) (string, bool) {
		switch t := e.(type) {
		case string:
			return t, true
		case bool:
			if t {
				return "true", true
			}
			return "false", true
		case json.Number:
			return t.String(), true
		}
		return "", false
	}
	if arr, ok := v.([]any); ok {
		out := make([]string, 0, len(arr))
		for _, e := range arr {
			s, ok := one(e)
			if !ok {
				return nil, false
			}
			out = append(out, s)
		}
		return out, true
	}
	s, ok := one(v)
	if !ok {
		return nil, false
	}
	return []string{s}, true
}

func parseConditionBlock(v any, s *Statement, raw *rawStatement) bool {
	block, ok := v.(map[string]any)
	if !ok {
		return false
	}
	type entry struct {
		c  Condition
		op operator
	}
	var entries []entry
	for opName, body := range block {
		keys, ok := body.(map[string]any)
		if !ok {
			return false
		}
		op, known := parseOperator(opName)
		if !known {
			if len(keys) != 0 {
				return false
			}
			continue
		}
		for key, val := range keys {
			vals, ok := conditionValues(val)
			if !ok {
				return false
			}
			entries = append(entries, entry{Condition{Operator: opName, Key: key, Values: vals}, op})
		}
	}
	sort.Slice(entries, func(i, j int) bool {
		if entries[i].c.Operator != entries[j].c.Operator {
			return entries[i].c.Operator < entries[j].c.Operator
		}
		return entries[i].c.Key < entries[j].c.Key
	})
	s.Condition = make([]Condition, len(entries))
	raw.ops = make([]operator, len(entries))
	for i, e := range entries {
		s.Condition[i], raw.ops[i] = e.c, e.op
	}
	return true
}

func isAlnum(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return false
		}
	}
	return true
}

func validVendor(v string) bool {
	if v == "" {
		return false
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

func invalidPrincipal(typ, value string) *MalformedError {
	return malformed(`Invalid principal in policy: "` + typ + `":"` + value + `"`)
}

func principalEmpty(p *Principal) bool {
	return !p.Wildcard && len(p.AWS) == 0 && len(p.Service) == 0 && len(p.Federated) == 0 && len(p.CanonicalUser) == 0
}

// validate applies the semantic checks in IAM's order, then compiles the
// document.
func validate(d *Document, raws []rawStatement, kind Kind) error {
	strict := kind != KindAny
	// 2. Principals in identity policies.
	if kind == KindIdentity {
		for i := range d.Statement {
			if d.Statement[i].Principal != nil || d.Statement[i].NotPrincipal != nil {
				return malformed(msgNoPrincipal)
			}
		}
	}
	// 3. Legacy parsing: exact Effect, dates. Conditions are compiled here.
	vars := d.Version == "2012-10-17"
	for i := range d.Statement {
		s := &d.Statement[i]
		if raws[i].effect != "Allow" && raws[i].effect != "Deny" {
			return malformed(msgLegacy)
		}
		s.c.conditions = make([]condition, len(s.Condition))
		for j, c := range s.Condition {
			cc, ok := compileCondition(raws[i].ops[j], c.Key, c.Values, vars)
			if !ok {
				return malformed(msgLegacy)
			}
			s.c.conditions[j] = cc
		}
	}
	// 4. Sids.
	seen := make(map[string]bool, len(d.Statement))
	for i := range d.Statement {
		sid := d.Statement[i].Sid
		if sid == "" {
			continue
		}
		if seen[sid] {
			return malformed(msgSidUnique)
		}
		seen[sid] = true
	}
	if strict {
		for i := range d.Statement {
			if !isAlnum(d.Statement[i].Sid) {
				return malformed(msgSidAlnum)
			}
		}
	}
	// 5. Actions.
	for i := range d.Statement {
		s := &d.Statement[i]
		if len(s.Action) == 0 && len(s.NotAction) == 0 {
			return malformed(msgActions)
		}
	}
	// 6. Kind-specific elements.
	for i := range d.Statement {
		s := &d.Statement[i]
		switch kind {
		case KindIdentity:
			if len(s.Resource) == 0 && len(s.NotResource) == 0 {
				return malformed(msgResources)
			}
		case KindTrust:
			if s.Resource != nil {
				return malformed("Has prohibited field Resource")
			}
			if s.NotResource != nil {
				return malformed("Has prohibited field NotResource")
			}
			p := s.Principal
			if p == nil {
				p = s.NotPrincipal
			}
			if p == nil || principalEmpty(p) {
				return malformed(msgMissingPrincipal)
			}
			if p.Wildcard {
				return malformed(msgStarPrincipalTrust)
			}
		default:
			if (s.Resource != nil && len(s.Resource) == 0) || (s.NotResource != nil && len(s.NotResource) == 0) {
				return malformed(msgResources)
			}
		}
	}
	// 7. Principal values.
	for i := range d.Statement {
		for _, p := range []*Principal{d.Statement[i].Principal, d.Statement[i].NotPrincipal} {
			if p == nil {
				continue
			}
			for _, v := range p.AWS {
				if !validAWSPrincipal(v) {
					return invalidPrincipal("AWS", v)
				}
			}
			for _, v := range p.Service {
				if strings.TrimSpace(v) == "" || strings.ContainsAny(v, "*? \t\n") {
					return invalidPrincipal("SERVICE", v)
				}
			}
			for _, v := range p.Federated {
				if strings.TrimSpace(v) == "" {
					return invalidPrincipal("FEDERATED", v)
				}
			}
			for _, v := range p.CanonicalUser {
				if strings.TrimSpace(v) == "" {
					return invalidPrincipal("CANONICAL_USER", v)
				}
			}
		}
	}
	// 8. Resource format.
	for i := range d.Statement {
		s := &d.Statement[i]
		for _, list := range [][]string{s.Resource, s.NotResource} {
			for _, r := range list {
				if r != "*" && !strings.HasPrefix(r, "arn:") {
					return malformed(`Resource ` + r + ` must be in ARN format or "*".`)
				}
			}
		}
	}
	// 9. Action prefixes.
	for i := range d.Statement {
		s := &d.Statement[i]
		for _, list := range [][]string{s.Action, s.NotAction} {
			for _, a := range list {
				if a == "*" {
					continue
				}
				vendor, _, found := strings.Cut(a, ":")
				switch {
				case !found:
					return malformed(msgVendor)
				case strings.Count(a, ":") > 1:
					return malformed(msgOneColon)
				case vendor != "*" && !validVendor(vendor):
					return malformed("Vendor " + vendor + " is not valid")
				}
			}
		}
	}
	compile(d, vars)
	return nil
}

// compile fills the evaluation form of every statement (conditions were
// compiled by validate).
func compile(d *Document, vars bool) {
	for i := range d.Statement {
		s := &d.Statement[i]
		c := &s.c
		c.deny = s.Effect == EffectDeny
		actions := s.Action
		if s.NotAction != nil {
			actions, c.notAction = s.NotAction, true
		}
		c.actions = make([]glob, len(actions))
		for j, a := range actions {
			c.actions[j] = compileGlob(a, true, false, true)
		}
		resources := s.Resource
		if s.NotResource != nil {
			resources, c.notResource = s.NotResource, true
		}
		if resources != nil {
			c.hasResource = true
			c.resources = make([]arnGlob, len(resources))
			for j, r := range resources {
				c.resources[j] = compileARN(r, vars)
			}
		}
		if s.Principal != nil {
			c.principals = compilePrincipal(s.Principal)
		} else if s.NotPrincipal != nil {
			c.principals, c.notPrincipal = compilePrincipal(s.NotPrincipal), true
		}
	}
}
