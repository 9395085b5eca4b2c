package policy

import (
	"encoding/base64"
	"net/netip"
	"strings"
	"time"
)

type family uint8

const (
	fString family = iota
	fNumeric
	fDate
	fBool
	fBinary
	fIP
	fArn
	fNull
)

type comparison uint8

const (
	cmpEq comparison = iota
	cmpEqFold
	cmpLike
	cmpLt
	cmpLe
	cmpGt
	cmpGe
)

type baseOp struct {
	fam     family
	cmp     comparison
	negated bool
}

// lookupBaseOp returns the semantics of a condition operator name without
// qualifier and IfExists suffix.
func lookupBaseOp(name string) (baseOp, bool) {
	switch name {
	case "StringEquals":
		return baseOp{fString, cmpEq, false}, true
	case "StringNotEquals":
		return baseOp{fString, cmpEq, true}, true
	case "StringEqualsIgnoreCase":
		return baseOp{fString, cmpEqFold, false}, true
	case "StringNotEqualsIgnoreCase":
		return baseOp{fString, cmpEqFold, true}, true
	case "StringLike":
		return baseOp{fString, cmpLike, false}, true
	case "StringNotLike":
		return baseOp{fString, cmpLike, true}, true
	case "NumericEquals":
		return baseOp{fNumeric, cmpEq, false}, true
	case "NumericNotEquals":
		return baseOp{fNumeric, cmpEq, true}, true
	case "NumericLessThan":
		return baseOp{fNumeric, cmpLt, false}, true
	case "NumericLessThanEquals":
		return baseOp{fNumeric, cmpLe, false}, true
	case "NumericGreaterThan":
		return baseOp{fNumeric, cmpGt, false}, true
	case "NumericGreaterThanEquals":
		return baseOp{fNumeric, cmpGe, false}, true
	case "DateEquals":
		return baseOp{fDate, cmpEq, false}, true
	case "DateNotEquals":
		return baseOp{fDate, cmpEq, true}, true
	case "DateLessThan":
		return baseOp{fDate, cmpLt, false}, true
	case "DateLessThanEquals":
		return baseOp{fDate, cmpLe, false}, true
	case "DateGreaterThan":
		return baseOp{fDate, cmpGt, false}, true
	case "DateGreaterThanEquals":
		return baseOp{fDate, cmpGe, false}, true
	case "Bool":
		return baseOp{fBool, cmpEqFold, false}, true
	case "BinaryEquals":
		return baseOp{fBinary, cmpEq, false}, true
	case "IpAddress":
		return baseOp{fIP, cmpEq, false}, true
	case "NotIpAddress":
		return baseOp{fIP, cmpEq, true}, true
	case "ArnEquals":
		return baseOp{fArn, cmpLike, false}, true
	case "ArnLike":
		return baseOp{fArn, cmpLike, false}, true
	case "ArnNotEquals":
		return baseOp{fArn, cmpLike, true}, true
	case "ArnNotLike":
		return baseOp{fArn, cmpLike, true}, true
	case "Null":
		return baseOp{fNull, cmpEq, false}, true
	}
	return baseOp{}, false
}

type qualifier uint8

const (
	qNone qualifier = iota
	qAny            // ForAnyValue:
	qAll            // ForAllValues:
)

type operator struct {
	baseOp
	qual     qualifier
	ifExists bool
}

// parseOperator parses a condition operator name such as
// "ForAllValues:StringLikeIfExists". Names are case-sensitive.
func parseOperator(name string) (operator, bool) {
	var op operator
	switch {
	case strings.HasPrefix(name, "ForAnyValue:"):
		op.qual, name = qAny, name[len("ForAnyValue:"):]
	case strings.HasPrefix(name, "ForAllValues:"):
		op.qual, name = qAll, name[len("ForAllValues:"):]
	}
	b, ok := lookupBaseOp(name)
	if !ok {
		trimmed, found := strings.CutSuffix(name, "IfExists")
		if !found {
			return op, false
		}
		if b, ok = lookupBaseOp(trimmed); !ok || b.fam == fNull {
			return op, false
		}
		op.ifExists = true
	}
	op.baseOp = b
	return op, true
}

// condValue is one compiled policy value of a condition.
type condValue struct {
	valid bool
	str   glob    // fString, fBool
	arn   arnGlob // fArn
	num   number
	time  time.Time
	ip    netip.Prefix
	raw   string // fBinary: base64 text; fNull: "true"/"false" lower-cased
	bin   string // fBinary: decoded bytes
}

type condition struct {
	op       operator
	key      string
	keyLower string
	values   []condValue
}

// compileCondition compiles one operator/key entry. It returns false when a
// Date value does not parse (IAM's "legacy parsing" failure).
func compileCondition(op operator, key string, values []string, vars bool) (condition, bool) {
	c := condition{op: op, key: key, keyLower: strings.ToLower(key), values: make([]condValue, len(values))}
	for i, v := range values {
		cv := &c.values[i]
		cv.valid = true
		switch op.fam {
		case fString:
			cv.str = compileGlob(v, op.cmp == cmpLike, vars, op.cmp == cmpEqFold)
		case fBool:
			cv.str = compileGlob(v, false, vars, true)
		case fArn:
			cv.arn = compileARN(v, vars)
		case fNumeric:
			cv.num, cv.valid = parseNumber(v)
		case fDate:
			var ok bool
			if cv.time, ok = parseDate(v); !ok {
				return c, false
			}
		case fIP:
			cv.ip, cv.valid = parsePrefix(v)
		case fBinary:
			cv.raw = v
			b, err := base64.StdEncoding.DecodeString(v)
			if err != nil {
				b, err = base64.RawStdEncoding.DecodeString(v)
			}
			cv.bin, cv.valid = string(b), err == nil
		case fNull:
			cv.raw = strings.ToLower(v)
			cv.valid = cv.raw == "true" || cv.raw == "false"
		}
	}
	return c, true
}

func parsePrefix(v string) (netip.Prefix, bool) {
	if strings.IndexByte(v, '/') >= 0 {
		p, err := netip.ParsePrefix(v)
		if err != nil {
			return netip.Prefix{}, false
		}
		if p.Addr().Is4In6() && p.Bits() >= 96 {
			p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
		}
		return p.Masked(), true
	}
	a, err := netip.ParseAddr(v)
	if err != nil || a.Zone() != "" {
		return netip.Prefix{}, false
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), true
}

// eval evaluates the condition against the request.
func (c *condition) eval(r *resolver) bool {
	vals := r.lookup(c.key, c.keyLower)
	if c.op.fam == fNull {
		present := vals.n > 0
		for i := range c.values {
			v := &c.values[i]
			if v.valid && (v.raw == "true") == !present {
				return true
			}
		}
		return false
	}
	if vals.n == 0 {
		if c.op.ifExists {
			return true
		}
		switch c.op.qual {
		case qAll:
			return true
		case qAny:
			return false
		}
		return c.op.negated
	}
	// Without a qualifier a positive operator needs one matching request
	// value and a negated operator needs every request value to match none
	// of the policy values.
	all := c.op.qual == qAll || (c.op.qual == qNone && c.op.negated)
	for i := 0; i < vals.n; i++ {
		t := c.test(vals.at(i), r)
		if all && !t {
			return false
		}
		if !all && t {
			return true
		}
	}
	return all
}

// test applies the operator to one request value: a positive operator is
// true when the value matches one of the policy values, a negated one when
// it matches none of them (and all of them could be resolved).
func (c *condition) test(v string, r *resolver) bool {
	matched, unresolved := c.matchAny(v, r)
	if c.op.negated {
		return !matched && !unresolved
	}
	return matched
}

// matchAny reports whether request value v matches one of the policy
// values, and whether a policy value had an unresolvable variable.
func (c *condition) matchAny(v string, r *resolver) (matched, unresolved bool) {
	switch c.op.fam {
	case fString, fBool:
		for i := range c.values {
			g := &c.values[i].str
			if !g.resolvable(r) {
				unresolved = true
				continue
			}
			if g.match(v, r) {
				return true, unresolved
			}
		}
	case fArn:
		for i := range c.values {
			a := &c.values[i].arn
			if !a.resolvable(r) {
				unresolved = true
				continue
			}
			if a.match(v, r) {
				return true, unresolved
			}
		}
	case fNumeric:
		n, ok := parseNumber(v)
		if !ok {
			return false, false
		}
		for i := range c.values {
			cv := &c.values[i]
			if cv.valid && compared(compareNumbers(n, cv.num), c.op.cmp) {
				return true, false
			}
		}
	case fDate:
		t, ok := parseDate(v)
		if !ok {
			return false, false
		}
		for i := range c.values {
			if compared(t.Compare(c.values[i].time), c.op.cmp) {
				return true, false
			}
		}
	case fIP:
		a, err := netip.ParseAddr(v)
		if err != nil {
			return false, false
		}
		a = a.Unmap()
		for i := range c.values {
			cv := &c.values[i]
			if cv.valid && cv.ip.Contains(a) {
				return true, false
			}
		}
	case fBinary:
		for i := range c.values {
			cv := &c.values[i]
			if cv.valid && (v == cv.bin || v == cv.raw) {
				return true, false
			}
		}
	}
	return false, unresolved
}

// compared turns a three-way comparison of request value and policy value
// into the operator's result.
func compared(c int, cmp comparison) bool {
	switch cmp {
	case cmpLt:
		return c < 0
	case cmpLe:
		return c <= 0
	case cmpGt:
		return c > 0
	case cmpGe:
		return c >= 0
	default:
		return c == 0
	}
}
