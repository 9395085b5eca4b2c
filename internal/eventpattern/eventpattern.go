// Package eventpattern compiles EventBridge event patterns and matches events against them,
// with the semantics of AWS's event-ruler as documented for EventBridge
// (reference: cloudwatch-monitoring.md §6.2):
//
//   - A pattern mirrors the event's JSON structure; every field it names must match, fields
//     are ANDed and fields it does not name are ignored.
//   - Every leaf is an array of allowed values, ORed. An event array matches when any of its
//     elements matches.
//   - Exact values compare strings case-sensitively, numbers by their JSON text (300 and
//     300.0 differ, as the EventBridge guide says; use numeric for value comparison), and
//     null only with null. null and "" are distinct.
//   - Operators: prefix, suffix (each optionally {"equals-ignore-case": …}),
//     equals-ignore-case, wildcard, anything-but (a value, a list of strings or of numbers,
//     or prefix/suffix/equals-ignore-case/wildcard), numeric ranges, cidr (IPv4 and IPv6),
//     exists, and $or at any object level.
//   - exists:false matches when the leaf is absent, including when the path ends at an object;
//     exists:true does not match an object or an empty array.
//
// Invalid patterns fail Parse with an *Error whose Reason is worded for
// InvalidEventPatternException. Limits: a pattern of at most MaxPatternLength characters (the
// PutRule limit), at most MaxOrCombinations combinations of $or alternatives, at most
// MaxDepth levels of nesting.
//
// Events are parsed once (ParseEvent) and matched against any number of patterns; a Set
// matches one event against many patterns, using an index on exact values of source,
// detail-type and detail.eventName so that only candidate patterns are evaluated in full.
package eventpattern

import (
	"encoding/json"
	"fmt"
	"math"
	"net/netip"
	"sort"
	"strings"
)

// Limits of AWS.
const (
	// MaxPatternLength is the longest EventPattern PutRule accepts.
	MaxPatternLength = 4096
	// MaxOrCombinations is the most combinations the $or alternatives of a pattern may expand to.
	MaxOrCombinations = 1000
	// MaxDepth is the deepest nesting of a pattern or an event.
	MaxDepth = 1000
	// numericLimit bounds numeric-match values (the EventBridge guide: -5.0e9 to +5.0e9).
	numericLimit = 5e9
)

// Error is an invalid pattern; Reason says why, as InvalidEventPatternException's message does.
type Error struct {
	Reason string
}

func (e *Error) Error() string { return "Event pattern is not valid. Reason: " + e.Reason }

func invalid(format string, args ...any) *Error {
	return &Error{Reason: fmt.Sprintf(format, args...)}
}

// Pattern is a compiled event pattern. It is immutable and safe for concurrent use.
type Pattern struct {
	root *node
	src  string
}

// String returns the pattern's source text.
func (p *Pattern) String() string { return p.src }

// node is one object level of a pattern.
type node struct {
	fields []field
	ors    [][]*node // each: alternatives, one of which must match (ANDed with fields)
}

type field struct {
	name  string
	hash  uint32   // keyHash(name)
	child *node    // an object in the pattern
	leaf  []*value // an array in the pattern: the alternatives
}

type kind uint8

const (
	kExact kind = iota // str/num/null/bool
	kPrefix
	kSuffix
	kEqualsIgnoreCase
	kWildcard
	kAnythingBut
	kNumeric
	kCIDR
	kExists
)

type jsonType uint8

const (
	tString jsonType = iota
	tNumber
	tNull
	tBool
)

// value is one alternative of a leaf.
type value struct {
	kind  kind
	typ   jsonType // kExact: the JSON type
	str   string   // kExact: the string or the number's text; kPrefix/kSuffix/kEqualsIgnoreCase/kWildcard operand
	fold  bool     // prefix/suffix with equals-ignore-case
	b     bool     // kExact bool value; kExists
	num   []numCmp // kNumeric
	cidr  netip.Prefix
	glob  []string // kWildcard: literal segments between stars
	but   *anythingBut
	folds string // folded operand, for case-insensitive comparisons
}

type numCmp struct {
	op string
	v  float64
}

type anythingBut struct {
	strs []string
	nums []float64
	sub  []*value // prefix/suffix/equals-ignore-case/wildcard operands
}

// Parse compiles pattern text.
func Parse(text string) (*Pattern, error) {
	if len(text) > MaxPatternLength {
		return nil, invalid("Event pattern is longer than %d characters", MaxPatternLength)
	}
	v, err := decode([]byte(text))
	if err != nil {
		return nil, invalid("%s", err.Error())
	}
	obj, ok := v.(*object)
	if !ok {
		return nil, invalid("Filter is not an object")
	}
	root, err := compileNode(obj, 1)
	if err != nil {
		return nil, err
	}
	if n := combinations(root); n > MaxOrCombinations {
		return nil, invalid("The total number of combinations of the $or alternatives (%d) exceeds %d", n, MaxOrCombinations)
	}
	return &Pattern{root: root, src: text}, nil
}

// MustParse is Parse for patterns known to be valid; it panics on an error.
func MustParse(text string) *Pattern {
	p, err := Parse(text)
	if err != nil {
		panic(err)
	}
	return p
}

func combinations(n *node) int {
	total := 1
	for _, f := range n.fields {
		if f.child != nil {
			total = mulCap(total, combinations(f.child))
		}
	}
	for _, alts := range n.ors {
		sum := 0
		for _, a := range alts {
			sum += combinations(a)
			if sum > MaxOrCombinations {
				sum = MaxOrCombinations + 1
			}
		}
		total = mulCap(total, sum)
	}
	return total
}

func mulCap(a, b int) int {
	if a > MaxOrCombinations || b > MaxOrCombinations || a*b > MaxOrCombinations {
		return MaxOrCombinations + 1
	}
	return a * b
}

func compileNode(obj *object, depth int) (*node, error) {
	if depth > MaxDepth {
		return nil, invalid("Event pattern is nested more than %d levels", MaxDepth)
	}
	n := &node{}
	for _, kv := range obj.members() {
		name, v := kv.key, kv.val
		if name == "$or" {
			if alts, ok := v.([]any); ok && isOrList(alts) {
				if len(alts) < 2 {
					return nil, invalid("$or must have at least 2 alternatives")
				}
				var group []*node
				for _, a := range alts {
					c, err := compileNode(a.(*object), depth+1)
					if err != nil {
						return nil, err
					}
					group = append(group, c)
				}
				n.ors = append(n.ors, group)
				continue
			}
			// Otherwise "$or" is an ordinary field name, as in event-ruler.
		}
		switch v := v.(type) {
		case *object:
			c, err := compileNode(v, depth+1)
			if err != nil {
				return nil, err
			}
			n.fields = append(n.fields, field{name: name, hash: keyHash(name), child: c})
		case []any:
			if len(v) == 0 {
				return nil, invalid("Empty arrays are not allowed (field %q)", name)
			}
			leaf := make([]*value, 0, len(v))
			for _, e := range v {
				val, err := compileValue(name, e)
				if err != nil {
					return nil, err
				}
				leaf = append(leaf, val)
			}
			n.fields = append(n.fields, field{name: name, hash: keyHash(name), leaf: leaf})
		default:
			return nil, invalid("%q must be an object or an array", name)
		}
	}
	return n, nil
}

// isOrList reports whether v is a list of objects (a $or); event-ruler treats $or with other
// values as a field name.
func isOrList(v []any) bool {
	if len(v) == 0 {
		return false
	}
	for _, e := range v {
		if _, ok := e.(*object); !ok {
			return false
		}
	}
	return true
}

func compileValue(name string, e any) (*value, error) {
	switch e := e.(type) {
	case string:
		return &value{kind: kExact, typ: tString, str: e}, nil
	case json.Number:
		return &value{kind: kExact, typ: tNumber, str: e.String()}, nil
	case nil:
		return &value{kind: kExact, typ: tNull}, nil
	case bool:
		return &value{kind: kExact, typ: tBool, b: e}, nil
	case []any:
		return nil, invalid("Match value must be String, number, true, false, or null (field %q has a nested array)", name)
	case *object:
		return compileOperator(name, e)
	}
	return nil, invalid("Unrecognized value in field %q", name)
}

func compileOperator(name string, o *object) (*value, error) {
	m := o.members()
	if len(m) != 1 {
		return nil, invalid("Only one key allowed in match expression (field %q)", name)
	}
	op, arg := m[0].key, m[0].val
	switch op {
	case "prefix", "suffix":
		k := kPrefix
		if op == "suffix" {
			k = kSuffix
		}
		switch a := arg.(type) {
		case string:
			return &value{kind: k, str: a}, nil
		case *object:
			am := a.members()
			if len(am) == 1 && am[0].key == "equals-ignore-case" {
				if s, ok := am[0].val.(string); ok {
					return &value{kind: k, str: s, fold: true, folds: foldString(s)}, nil
				}
			}
		}
		return nil, invalid("%s match pattern must be a string (field %q)", op, name)
	case "equals-ignore-case":
		s, ok := arg.(string)
		if !ok {
			return nil, invalid("equals-ignore-case match pattern must be a string (field %q)", name)
		}
		return &value{kind: kEqualsIgnoreCase, str: s, folds: foldString(s)}, nil
	case "wildcard":
		s, ok := arg.(string)
		if !ok {
			return nil, invalid("wildcard match pattern must be a string (field %q)", name)
		}
		return compileWildcard(name, s)
	case "exists":
		b, ok := arg.(bool)
		if !ok {
			return nil, invalid("exists match pattern must be either true or false (field %q)", name)
		}
		return &value{kind: kExists, b: b}, nil
	case "cidr":
		s, ok := arg.(string)
		if !ok {
			return nil, invalid("cidr match pattern must be a string (field %q)", name)
		}
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return nil, invalid("Malformed CIDR, one '/' required (field %q: %q)", name, s)
		}
		return &value{kind: kCIDR, cidr: p.Masked()}, nil
	case "numeric":
		return compileNumeric(name, arg)
	case "anything-but":
		return compileAnythingBut(name, arg)
	}
	return nil, invalid("Unrecognized match type %s (field %q)", op, name)
}

func compileWildcard(name, s string) (*value, error) {
	var segs []string
	var cur strings.Builder
	prevStar := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '\\':
			if i+1 >= len(s) || (s[i+1] != '*' && s[i+1] != '\\') {
				return nil, invalid("Invalid escape in wildcard pattern (field %q)", name)
			}
			i++
			cur.WriteByte(s[i])
			prevStar = false
		case '*':
			if prevStar {
				return nil, invalid("Consecutive wildcard characters are not allowed (field %q)", name)
			}
			segs = append(segs, cur.String())
			cur.Reset()
			prevStar = true
		default:
			cur.WriteByte(c)
			prevStar = false
		}
	}
	segs = append(segs, cur.String())
	return &value{kind: kWildcard, str: s, glob: segs}, nil
}

func compileNumeric(name string, arg any) (*value, error) {
	list, ok := arg.([]any)
	if !ok || len(list) == 0 || len(list)%2 != 0 || len(list) > 4 {
		return nil, invalid("Value of numeric must be an array of operator and number pairs (field %q)", name)
	}
	v := &value{kind: kNumeric}
	var lower, upper, eq bool
	for i := 0; i < len(list); i += 2 {
		op, ok := list[i].(string)
		if !ok {
			return nil, invalid("Unrecognized numeric range operator (field %q)", name)
		}
		num, ok := list[i+1].(json.Number)
		if !ok {
			return nil, invalid("Value of %s must be numeric (field %q)", op, name)
		}
		f, err := num.Float64()
		if err != nil || math.IsInf(f, 0) || f < -numericLimit || f > numericLimit {
			return nil, invalid("Value of %s must be a number between -5.0E9 and 5.0E9 (field %q)", op, name)
		}
		switch op {
		case "=":
			if len(list) != 2 {
				return nil, invalid("= cannot be combined with other numeric operators (field %q)", name)
			}
			eq = true
		case ">", ">=":
			if lower {
				return nil, invalid("Too many lower bounds in numeric range (field %q)", name)
			}
			lower = true
		case "<", "<=":
			if upper {
				return nil, invalid("Too many upper bounds in numeric range (field %q)", name)
			}
			upper = true
		default:
			return nil, invalid("Unrecognized numeric range operator: %s (field %q)", op, name)
		}
		v.num = append(v.num, numCmp{op: op, v: f})
	}
	_ = eq
	if lower && upper {
		var lo, hi float64
		for _, c := range v.num {
			if c.op[0] == '>' {
				lo = c.v
			} else {
				hi = c.v
			}
		}
		if lo > hi {
			return nil, invalid("Bottom must be less than top in numeric range (field %q)", name)
		}
	}
	return v, nil
}

func compileAnythingBut(name string, arg any) (*value, error) {
	ab := &anythingBut{}
	switch a := arg.(type) {
	case string:
		ab.strs = []string{a}
	case json.Number:
		f, err := a.Float64()
		if err != nil {
			return nil, invalid("anything-but number out of range (field %q)", name)
		}
		ab.nums = []float64{f}
	case []any:
		if len(a) == 0 {
			return nil, invalid("Empty arrays are not allowed in anything-but (field %q)", name)
		}
		for _, e := range a {
			switch e := e.(type) {
			case string:
				ab.strs = append(ab.strs, e)
			case json.Number:
				f, err := e.Float64()
				if err != nil {
					return nil, invalid("anything-but number out of range (field %q)", name)
				}
				ab.nums = append(ab.nums, f)
			default:
				return nil, invalid("Inside anything-but list, start|null|boolean is not supported (field %q)", name)
			}
		}
		if len(ab.strs) > 0 && len(ab.nums) > 0 {
			return nil, invalid("Inside anything-but list, mixed types are not supported (field %q)", name)
		}
	case *object:
		m := a.members()
		if len(m) != 1 {
			return nil, invalid("Only one key allowed in anything-but expression (field %q)", name)
		}
		op, inner := m[0].key, m[0].val
		switch op {
		case "prefix", "suffix", "equals-ignore-case", "wildcard":
		default:
			return nil, invalid("Unsupported anything-but pattern: %s (field %q)", op, name)
		}
		var operands []string
		switch x := inner.(type) {
		case string:
			operands = []string{x}
		case []any:
			if len(x) == 0 {
				return nil, invalid("Empty arrays are not allowed in anything-but (field %q)", name)
			}
			for _, e := range x {
				s, ok := e.(string)
				if !ok {
					return nil, invalid("Inside anything-but/%s list, only strings are supported (field %q)", op, name)
				}
				operands = append(operands, s)
			}
		default:
			return nil, invalid("Value of anything-but/%s must be a string (field %q)", op, name)
		}
		for _, s := range operands {
			if (op == "prefix" || op == "suffix") && s == "" {
				return nil, invalid("Null %s not allowed in anything-but (field %q)", op, name)
			}
			sub, err := compileOperator(name, &object{keys: []string{op}, vals: []any{s}})
			if err != nil {
				return nil, err
			}
			ab.sub = append(ab.sub, sub)
		}
	default:
		return nil, invalid("Value of anything-but must be an array or single string/number value (field %q)", name)
	}
	return &value{kind: kAnythingBut, but: ab}, nil
}

// foldString is the Unicode simple case folding used by equals-ignore-case.
func foldString(s string) string {
	return strings.ToLower(strings.ToUpper(s))
}

// ---- JSON decoding that keeps number text and member order (last duplicate wins) ----

type object struct {
	keys   []string
	vals   []any
	hashes []uint32 // keyHash of each key, so that a lookup compares strings only on a hit
}

// keyHash is FNV-1a: patterns hash their field names once, events their keys when parsed.
func keyHash(k string) uint32 {
	h := uint32(2166136261)
	for i := 0; i < len(k); i++ {
		h ^= uint32(k[i])
		h *= 16777619
	}
	return h
}

type member struct {
	key string
	val any
}

// members returns the members with duplicate keys resolved: the last occurrence wins, at the
// position of its first occurrence.
func (o *object) members() []member {
	out := make([]member, 0, len(o.keys))
	idx := make(map[string]int, len(o.keys))
	for i, k := range o.keys {
		if j, ok := idx[k]; ok {
			out[j].val = o.vals[i]
			continue
		}
		idx[k] = len(out)
		out = append(out, member{k, o.vals[i]})
	}
	return out
}

func (o *object) get(k string) (any, bool) { return o.getHash(k, keyHash(k)) }

// getHash returns the last member named k, whose keyHash is h.
func (o *object) getHash(k string, h uint32) (any, bool) {
	if o.hashes != nil {
		for i := len(o.hashes) - 1; i >= 0; i-- {
			if o.hashes[i] == h && o.keys[i] == k {
				return o.vals[i], true
			}
		}
		return nil, false
	}
	for i := len(o.keys) - 1; i >= 0; i-- {
		if o.keys[i] == k {
			return o.vals[i], true
		}
	}
	return nil, false
}

// ---- events ----

// Event is a parsed event, ready to be matched against any number of patterns.
type Event struct {
	root *object
}

// ParseEvent parses an event's JSON text; the event must be a JSON object.
func ParseEvent(b []byte) (*Event, error) {
	v, err := decode(b)
	if err != nil {
		return nil, err
	}
	o, ok := v.(*object)
	if !ok {
		return nil, fmt.Errorf("event is not a JSON object")
	}
	return &Event{root: o}, nil
}

// Matches reports whether the event text matches; a malformed event matches nothing.
func (p *Pattern) Matches(event []byte) bool {
	ev, err := ParseEvent(event)
	if err != nil {
		return false
	}
	return p.Match(ev)
}

// Match reports whether the parsed event matches the pattern.
func (p *Pattern) Match(ev *Event) bool { return matchNode(p.root, ev.root) }

// matchNode matches a pattern object against an event object; o is nil when the event has
// no object at this path (every leaf is then absent).
func matchNode(n *node, o *object) bool {
	for i := range n.fields {
		f := &n.fields[i]
		var v any
		present := false
		if o != nil {
			v, present = o.getHash(f.name, f.hash)
		}
		if f.child != nil {
			if !matchChild(f.child, v, present) {
				return false
			}
			continue
		}
		if !matchLeaf(f.leaf, v, present) {
			return false
		}
	}
	for _, alts := range n.ors {
		ok := false
		for _, a := range alts {
			if matchNode(a, o) {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

func matchChild(n *node, v any, present bool) bool {
	if present {
		switch v := v.(type) {
		case *object:
			return matchNode(n, v)
		case []any:
			for _, e := range v {
				if eo, ok := e.(*object); ok && matchNode(n, eo) {
					return true
				}
			}
			if len(v) > 0 {
				return false
			}
		}
	}
	// Absent, or a scalar where the pattern expects an object: every leaf below is absent.
	return matchNode(n, nil)
}

// matchLeaf matches an event value against the alternatives of a pattern leaf.
func matchLeaf(leaf []*value, v any, present bool) bool {
	// A path ending at an object, or an empty array, has no leaf value.
	if present {
		switch x := v.(type) {
		case *object:
			present = false
		case []any:
			if !anyLeaf(x) {
				present = false
			}
		}
	}
	for _, pv := range leaf {
		if pv.kind == kExists {
			if pv.b == present {
				return true
			}
			continue
		}
		if !present {
			continue
		}
		if arr, ok := v.([]any); ok {
			for _, e := range arr {
				if matchScalar(pv, e) {
					return true
				}
			}
			continue
		}
		if matchScalar(pv, v) {
			return true
		}
	}
	return false
}

func anyLeaf(arr []any) bool {
	for _, e := range arr {
		switch e.(type) {
		case *object, []any:
		default:
			return true
		}
	}
	return false
}

func matchScalar(pv *value, v any) bool {
	switch v.(type) {
	case *object, []any:
		return false
	}
	switch pv.kind {
	case kExact:
		switch pv.typ {
		case tString:
			s, ok := v.(string)
			return ok && s == pv.str
		case tNumber:
			n, ok := v.(json.Number)
			return ok && string(n) == pv.str
		case tNull:
			return v == nil
		case tBool:
			b, ok := v.(bool)
			return ok && b == pv.b
		}
	case kPrefix, kSuffix, kEqualsIgnoreCase, kWildcard:
		s, ok := v.(string)
		return ok && matchString(pv, s)
	case kNumeric:
		n, ok := v.(json.Number)
		if !ok {
			return false
		}
		f, err := n.Float64()
		if err != nil {
			return false
		}
		for _, c := range pv.num {
			var ok bool
			switch c.op {
			case "=":
				ok = f == c.v
			case ">":
				ok = f > c.v
			case ">=":
				ok = f >= c.v
			case "<":
				ok = f < c.v
			case "<=":
				ok = f <= c.v
			}
			if !ok {
				return false
			}
		}
		return true
	case kCIDR:
		s, ok := v.(string)
		if !ok {
			return false
		}
		a, err := netip.ParseAddr(s)
		if err != nil {
			return false
		}
		return pv.cidr.Contains(a.Unmap()) || pv.cidr.Contains(a)
	case kAnythingBut:
		return matchAnythingBut(pv.but, v)
	}
	return false
}

func matchString(pv *value, s string) bool {
	switch pv.kind {
	case kPrefix:
		if pv.fold {
			return strings.HasPrefix(foldString(s), pv.folds)
		}
		return strings.HasPrefix(s, pv.str)
	case kSuffix:
		if pv.fold {
			return strings.HasSuffix(foldString(s), pv.folds)
		}
		return strings.HasSuffix(s, pv.str)
	case kEqualsIgnoreCase:
		return foldString(s) == pv.folds
	case kWildcard:
		return globMatch(pv.glob, s)
	}
	return false
}

// globMatch matches s against literal segments separated by '*'.
func globMatch(segs []string, s string) bool {
	if len(segs) == 1 {
		return s == segs[0]
	}
	if !strings.HasPrefix(s, segs[0]) {
		return false
	}
	s = s[len(segs[0]):]
	last := segs[len(segs)-1]
	for _, seg := range segs[1 : len(segs)-1] {
		i := strings.Index(s, seg)
		if i < 0 {
			return false
		}
		s = s[i+len(seg):]
	}
	return len(s) >= len(last) && strings.HasSuffix(s, last)
}

func matchAnythingBut(ab *anythingBut, v any) bool {
	switch x := v.(type) {
	case string:
		for _, s := range ab.strs {
			if s == x {
				return false
			}
		}
		for _, sub := range ab.sub {
			if matchString(sub, x) {
				return false
			}
		}
		return true
	case json.Number:
		if len(ab.sub) > 0 {
			return false // string operators: only strings can qualify
		}
		f, err := x.Float64()
		if err != nil {
			return false
		}
		for _, n := range ab.nums {
			if n == f {
				return false
			}
		}
		return true
	default:
		// null and booleans are neither in a string nor in a number list.
		return len(ab.sub) == 0
	}
}

// ---- a set of patterns ----

// Set matches one event against many patterns. Each pattern is indexed by the most
// selective of its leaves that is a list of exact strings or prefixes — detail.eventName,
// then detail.eventSource, source and detail-type — and evaluated in full only for events
// whose value at that leaf hits the index; patterns with no such leaf are evaluated for every
// event. A Set is not safe for concurrent modification; build a new one when rules change.
// Match is safe for concurrent use.
type Set[ID comparable] struct {
	idx  [len(indexPaths)]index[ID]
	rest []entry[ID]
	n    int
}

// indexPaths are the leaves a Set indexes, most selective first.
var indexPaths = [...][2]string{{"detail", "eventName"}, {"detail", "eventSource"}, {"", "source"}, {"", "detail-type"}}

type index[ID comparable] struct {
	exact    map[string][]entry[ID]
	prefixes []string // distinct prefixes, each a key of byPrefix
	byPrefix map[string][]entry[ID]
}

type entry[ID comparable] struct {
	id ID
	p  *Pattern
	// rest is the pattern without the leaf it is indexed by: an event reaches the entry only
	// through a value that satisfies that leaf, so only the rest needs evaluating.
	rest *node
}

// NewSet returns an empty set.
func NewSet[ID comparable]() *Set[ID] {
	s := &Set[ID]{}
	for i := range s.idx {
		s.idx[i] = index[ID]{exact: map[string][]entry[ID]{}, byPrefix: map[string][]entry[ID]{}}
	}
	return s
}

// Len is the number of patterns in the set.
func (s *Set[ID]) Len() int { return s.n }

// Add adds a pattern under id.
func (s *Set[ID]) Add(id ID, p *Pattern) {
	s.n++
	e := entry[ID]{id: id, p: p, rest: p.root}
	for i, path := range indexPaths {
		n := p.root
		if path[0] != "" {
			if n = n.child(path[0]); n == nil {
				continue
			}
		}
		exact, prefixes, ok := n.indexable(path[1])
		if !ok {
			continue
		}
		ix := &s.idx[i]
		e.rest = without(p.root, path)
		for _, k := range dedupe(exact) {
			ix.exact[k] = append(ix.exact[k], e)
		}
		for _, k := range dedupe(prefixes) {
			if _, seen := ix.byPrefix[k]; !seen {
				ix.prefixes = append(ix.prefixes, k)
			}
			ix.byPrefix[k] = append(ix.byPrefix[k], e)
		}
		return
	}
	s.rest = append(s.rest, e)
}

// without returns n with the leaf at path (one or two levels) removed; n is not modified.
func without(n *node, path [2]string) *node {
	if path[0] == "" {
		return dropField(n, path[1])
	}
	c := n.child(path[0])
	rest := dropField(c, path[1])
	out := &node{ors: n.ors}
	for _, f := range n.fields {
		if f.name == path[0] && f.child == c {
			if len(rest.fields) == 0 && len(rest.ors) == 0 {
				continue
			}
			f.child = rest
		}
		out.fields = append(out.fields, f)
	}
	return out
}

func dropField(n *node, name string) *node {
	out := &node{ors: n.ors}
	for _, f := range n.fields {
		if f.name != name {
			out.fields = append(out.fields, f)
		}
	}
	return out
}

func dedupe(ss []string) []string {
	sort.Strings(ss)
	out := ss[:0]
	for i, s := range ss {
		if i == 0 || s != ss[i-1] {
			out = append(out, s)
		}
	}
	return out
}

func (n *node) child(name string) *node {
	var c *node
	for i := range n.fields {
		if n.fields[i].name == name {
			c = n.fields[i].child
		}
	}
	return c
}

// indexable returns the exact strings and the case-sensitive prefixes of a leaf made only of
// those; ok is false for any other leaf.
func (n *node) indexable(name string) (exact, prefixes []string, ok bool) {
	for i := range n.fields {
		f := &n.fields[i]
		if f.name != name {
			continue
		}
		if f.leaf == nil {
			return nil, nil, false
		}
		exact, prefixes = nil, nil
		for _, v := range f.leaf {
			switch {
			case v.kind == kExact && v.typ == tString:
				exact = append(exact, v.str)
			case v.kind == kPrefix && !v.fold:
				prefixes = append(prefixes, v.str)
			default:
				return nil, nil, false
			}
		}
		ok = true
	}
	return exact, prefixes, ok
}

// Match calls fn with the id of every pattern the event matches, each at most once.
func (s *Set[ID]) Match(ev *Event, fn func(ID)) {
	m := matcher[ID]{fn: fn, ev: ev}
	for i, path := range indexPaths {
		ix := &s.idx[i]
		if len(ix.exact) == 0 && len(ix.prefixes) == 0 {
			continue
		}
		o := ev.root
		if path[0] != "" {
			v, _ := o.get(path[0])
			if arr, ok := v.([]any); ok && len(arr) > 0 {
				// An array of objects where the pattern has an object: each element is
				// matched on its own, so these patterns are evaluated in full.
				m.full(ix)
				continue
			}
			if o, _ = v.(*object); o == nil {
				continue
			}
		}
		v, present := o.get(path[1])
		if !present {
			continue
		}
		switch x := v.(type) {
		case string:
			m.lookup(ix, x)
		case []any:
			if m.seen == nil {
				m.seen = map[ID]struct{}{}
			}
			for _, e := range x {
				if str, ok := e.(string); ok {
					m.lookup(ix, str)
				}
			}
		}
	}
	m.visit(s.rest)
}

type matcher[ID comparable] struct {
	fn   func(ID)
	seen map[ID]struct{} // set when one event value can reach a pattern twice (event arrays)
	ev   *Event
}

func (m *matcher[ID]) lookup(ix *index[ID], v string) {
	if m.seen == nil {
		for _, p := range ix.prefixes {
			if strings.HasPrefix(v, p) {
				m.seen = map[ID]struct{}{} // a pattern may list v and several prefixes of it
				break
			}
		}
	}
	m.visit(ix.exact[v])
	for _, p := range ix.prefixes {
		if strings.HasPrefix(v, p) {
			m.visit(ix.byPrefix[p])
		}
	}
}

// full evaluates every pattern of an index in full, each once.
func (m *matcher[ID]) full(ix *index[ID]) {
	done := map[ID]bool{}
	each := func(list []entry[ID]) {
		for _, e := range list {
			if done[e.id] {
				continue
			}
			done[e.id] = true
			if e.p.Match(m.ev) {
				m.fn(e.id)
			}
		}
	}
	for _, list := range ix.exact {
		each(list)
	}
	for _, list := range ix.byPrefix {
		each(list)
	}
}

func (m *matcher[ID]) visit(list []entry[ID]) {
	for _, e := range list {
		if !matchNode(e.rest, m.ev.root) {
			continue
		}
		if m.seen != nil {
			if _, dup := m.seen[e.id]; dup {
				continue
			}
			m.seen[e.id] = struct{}{}
		}
		m.fn(e.id)
	}
}

// Get returns a top-level string member of the event ("source", "detail-type", ...), if any.
func (e *Event) Get(name string) (string, bool) {
	v, ok := e.root.get(name)
	if !ok {
		return "", false
	}
	s, ok := v.(string)
	return s, ok
}
