package filterpattern

import (
	"math"
	"math/bits"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// maxJSONDepth is the deepest nesting of objects and arrays a Record accepts; deeper messages
// are treated as unreadable (not JSON). Jackson, which AWS's Java services use, has the same
// default limit.
const maxJSONDepth = 1000

// Record is a log message parsed for JSON patterns. Parsing validates the whole message and
// indexes every value without copying or unescaping anything; strings are unescaped only when
// a comparison needs them. A Record is read-only once parsed, so any number of patterns (also
// concurrently) can match against it; Reset reuses its memory for the next message.
type Record struct {
	msg   string
	ok    bool
	nodes []node
	// root indexes the members of a root object by key hash (node index+1; 0 is empty), so that
	// the selectors of many patterns find top-level keys without a linear scan.
	root     [rootSlots]uint64 // key hash<<32 | node index+1
	rootIdx  bool              // root holds every member of the root object
	rootUsed bool              // root holds entries (cleared by Reset)
	rootN    int
}

const rootSlots = 64

// Node kinds.
const (
	kString uint8 = iota + 1
	kNumber
	kTrue
	kFalse
	kNull
	kObject
	kArray
)

// node is one JSON value. Containers are followed by their members; next is the index after
// the subtree, so siblings are reached by following next.
type node struct {
	start, end       int32 // string: between the quotes; number/literal: its text; containers: brackets
	keyStart, keyEnd int32 // the key of an object member, between the quotes
	next             int32
	kind             uint8
	esc              bool // the string value holds escapes
	kesc             bool // the key holds escapes
}

// ParseRecord parses msg. It never fails: a message that is not a JSON object or array gives
// a Record that no JSON pattern matches (IsJSON reports false).
func ParseRecord(msg string) *Record {
	r := &Record{}
	r.Reset(msg)
	return r
}

// Reset parses msg into r, reusing r's memory.
func (r *Record) Reset(msg string) {
	r.msg = msg
	r.nodes = r.nodes[:0]
	r.ok = false
	if r.rootUsed {
		r.root = [rootSlots]uint64{}
		r.rootUsed = false
	}
	r.rootIdx, r.rootN = false, 0
	if len(msg) > math.MaxInt32-1 {
		return
	}
	p := jsonParser{s: msg, r: r}
	i := p.ws(0)
	if i >= len(msg) || (msg[i] != '{' && msg[i] != '[') {
		return
	}
	i, ok := p.value(i, -1, -1, false, 0)
	if !ok || p.ws(i) != len(msg) {
		r.nodes = r.nodes[:0]
		return
	}
	r.ok = true
}

// Message returns the message r holds.
func (r *Record) Message() string { return r.msg }

// IsJSON reports whether the message is a JSON object or array, the only messages JSON
// patterns can match.
func (r *Record) IsJSON() bool { return r.ok }

// indexRoot adds member c (with key ks:ke) of the root object to the hash index; objects with
// more than half as many members as slots are searched linearly instead.
func (r *Record) indexRoot(c, ks, ke int32, kesc bool) {
	r.rootN++
	if r.rootN > rootSlots/2 {
		r.rootIdx = false
		return
	}
	r.rootUsed = true
	key := r.msg[ks:ke]
	if kesc {
		key = unescape(key)
	}
	h := keyHash(key)
	entry := uint64(h)<<32 | uint64(c+1)
	for s := h & (rootSlots - 1); ; s = (s + 1) & (rootSlots - 1) {
		slot := r.root[s]
		if slot == 0 {
			r.root[s] = entry
			return
		}
		if uint32(slot>>32) == h && r.keyEquals(int32(uint32(slot))-1, key) {
			r.root[s] = entry // duplicate key: the last one wins
			return
		}
	}
}

// keyHash mixes the length and the first and last eight bytes of a key: O(1) per key and
// distinct for keys such as eventName, eventTime and eventType.
func keyHash(k string) uint32 {
	n := len(k)
	var a, b uint64
	if n >= 8 {
		a = load64(k)
		b = load64(k[n-8:])
	} else {
		for i := 0; i < n; i++ {
			a |= uint64(k[i]) << (8 * i)
		}
	}
	h := (a*0x9E3779B97F4A7C15 ^ b*0xC2B2AE3D27D4EB4F) + uint64(n)*0x165667B19E3779F9
	return uint32(h>>32) ^ uint32(h)
}

func load64(s string) uint64 {
	_ = s[7]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}

func (r *Record) keyEquals(i int32, key string) bool {
	nd := &r.nodes[i]
	raw := r.msg[nd.keyStart:nd.keyEnd]
	if !nd.kesc {
		return raw == key
	}
	return unescape(raw) == key
}

// member returns the index of the member of object o named by st, or -1. With duplicate keys
// the last one wins, as in most JSON libraries.
func (r *Record) member(o int32, st *step) int32 {
	if o == 0 && r.rootIdx {
		for s := st.hash & (rootSlots - 1); ; s = (s + 1) & (rootSlots - 1) {
			slot := r.root[s]
			if slot == 0 {
				return -1
			}
			if uint32(slot>>32) == st.hash {
				if i := int32(uint32(slot)) - 1; r.keyIs(i, st) {
					return i
				}
			}
		}
	}
	found := int32(-1)
	end := r.nodes[o].next
	for c := o + 1; c < end; c = r.nodes[c].next {
		if r.keyIs(c, st) {
			found = c
		}
	}
	return found
}

// keyIs reports whether the key of member i is st.key. Keys of 8 to 16 bytes compare as two
// overlapping 8-byte words.
func (r *Record) keyIs(i int32, st *step) bool {
	nd := &r.nodes[i]
	if nd.kesc {
		return unescape(r.msg[nd.keyStart:nd.keyEnd]) == st.key
	}
	n := int(nd.keyEnd - nd.keyStart)
	if n != len(st.key) {
		return false
	}
	if st.words {
		k := r.msg[nd.keyStart:nd.keyEnd]
		return load64(k) == st.first && load64(k[n-8:]) == st.last
	}
	return r.msg[nd.keyStart:nd.keyEnd] == st.key
}

// element returns the index of element i of array a, or -1.
func (r *Record) element(a int32, i int) int32 {
	end := r.nodes[a].next
	for c := a + 1; c < end; c = r.nodes[c].next {
		if i == 0 {
			return c
		}
		i--
	}
	return -1
}

// text returns the text a comparison sees for a string or number node: the unescaped string,
// or the number as written.
func (r *Record) text(i int32) string {
	nd := &r.nodes[i]
	s := r.msg[nd.start:nd.end]
	if nd.esc {
		return unescape(s)
	}
	return s
}

// scalarText returns the text of a scalar node for Fields.Lookup.
func (r *Record) scalarText(i int32) (string, bool) {
	switch r.nodes[i].kind {
	case kString, kNumber:
		return r.text(i), true
	case kTrue:
		return "true", true
	case kFalse:
		return "false", true
	}
	return "", false
}

// lookupText resolves sel and returns the text of the first scalar it reaches.
func (r *Record) lookupText(sel *selector) (string, bool) {
	if !r.ok {
		return "", false
	}
	var out string
	found := false
	r.resolve(sel, 0, 0, func(i int32) bool {
		out, found = r.scalarText(i)
		return found
	})
	return out, found
}

// resolve calls fn for every node sel reaches from node at, starting at step k, until fn
// returns true; it reports whether fn did.
func (r *Record) resolve(sel *selector, k int, at int32, fn func(int32) bool) bool {
	for ; k < len(sel.steps); k++ {
		st := &sel.steps[k]
		nd := &r.nodes[at]
		switch st.kind {
		case stepKey:
			if nd.kind != kObject {
				return false
			}
			at = r.member(at, st)
		case stepIndex:
			if nd.kind != kArray {
				return false
			}
			at = r.element(at, st.index)
		case stepWild:
			if nd.kind != kObject && nd.kind != kArray {
				return false
			}
			end := nd.next
			for c := at + 1; c < end; c = r.nodes[c].next {
				if r.resolve(sel, k+1, c, fn) {
					return true
				}
			}
			return false
		}
		if at < 0 {
			return false
		}
	}
	return fn(at)
}

// resolve1 resolves a selector without wildcards: the node it reaches, or -1.
func (r *Record) resolve1(sel *selector) int32 {
	at := int32(0)
	for k := range sel.steps {
		st := &sel.steps[k]
		nd := &r.nodes[at]
		switch st.kind {
		case stepKey:
			if nd.kind != kObject {
				return -1
			}
			at = r.member(at, st)
		case stepIndex:
			if nd.kind != kArray {
				return -1
			}
			at = r.element(at, st.index)
		}
		if at < 0 {
			return -1
		}
	}
	return at
}

// jsonParser validates a JSON document (RFC 8259) and records its values in r.nodes.
type jsonParser struct {
	s string
	r *Record
}

func (p *jsonParser) ws(i int) int {
	for i < len(p.s) {
		switch p.s[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// value parses the value at i (which is not whitespace) as the member keyStart:keyEnd of its
// parent (-1 for array elements and the root) and returns the index after it.
func (p *jsonParser) value(i int, keyStart, keyEnd int32, kesc bool, depth int) (int, bool) {
	s := p.s
	if i >= len(s) {
		return i, false
	}
	idx := len(p.r.nodes)
	p.r.nodes = append(p.r.nodes, node{keyStart: keyStart, keyEnd: keyEnd, kesc: kesc, start: int32(i)})
	var kind uint8
	switch c := s[i]; c {
	case '"':
		end, esc, ok := p.str(i + 1)
		if !ok {
			return end, false
		}
		nd := &p.r.nodes[idx]
		nd.start, nd.end, nd.esc, nd.kind = int32(i+1), int32(end), esc, kString
		nd.next = int32(idx + 1)
		return end + 1, true
	case '{':
		if depth >= maxJSONDepth {
			return i, false
		}
		var ok bool
		if i, ok = p.object(i+1, depth); !ok {
			return i, false
		}
		kind = kObject
	case '[':
		if depth >= maxJSONDepth {
			return i, false
		}
		var ok bool
		if i, ok = p.array(i+1, depth); !ok {
			return i, false
		}
		kind = kArray
	default:
		var ok bool
		if i, kind, ok = scalar(s, i); !ok {
			return i, false
		}
	}
	nd := &p.r.nodes[idx]
	nd.end, nd.kind, nd.next = int32(i), kind, int32(len(p.r.nodes))
	return i, true
}

// object parses the members of an object after its '{' and returns the index after its '}'.
// Strings, numbers and literals are recorded here directly; containers recurse.
func (p *jsonParser) object(i int, depth int) (int, bool) {
	s := p.s
	root := depth == 0
	if root {
		p.r.rootIdx = true
	}
	i = p.ws(i)
	if i < len(s) && s[i] == '}' {
		return i + 1, true
	}
	for {
		if i >= len(s) || s[i] != '"' {
			return i, false
		}
		kend, kesc, ok := p.str(i + 1)
		if !ok {
			return kend, false
		}
		ks, ke := int32(i+1), int32(kend)
		i = kend + 1
		if i+1 < len(s) && s[i] == ':' && s[i+1] == ' ' { // the common ": "
			i += 2
		} else {
			i = p.ws(i)
			if i >= len(s) || s[i] != ':' {
				return i, false
			}
			i++
		}
		i = p.ws(i)
		if i >= len(s) {
			return i, false
		}
		member := int32(len(p.r.nodes))
		switch c := s[i]; c {
		case '"':
			end, esc, ok := p.str(i + 1)
			if !ok {
				return end, false
			}
			n := int32(len(p.r.nodes))
			p.r.nodes = append(p.r.nodes, node{start: int32(i + 1), end: int32(end), keyStart: ks, keyEnd: ke,
				next: n + 1, kind: kString, esc: esc, kesc: kesc})
			i = end + 1
		case '{', '[':
			if i, ok = p.value(i, ks, ke, kesc, depth+1); !ok {
				return i, false
			}
		default:
			start := i
			var kind uint8
			if i, kind, ok = scalar(s, i); !ok {
				return i, false
			}
			n := int32(len(p.r.nodes))
			p.r.nodes = append(p.r.nodes, node{start: int32(start), end: int32(i), keyStart: ks, keyEnd: ke,
				next: n + 1, kind: kind, kesc: kesc})
		}
		if root && p.r.rootIdx {
			p.r.indexRoot(member, ks, ke, kesc)
		}
		if i < len(s) && s[i] == ',' {
			i++
			if i < len(s) && s[i] == ' ' { // the common ", "
				i++
			}
			i = p.ws(i)
			continue
		}
		i = p.ws(i)
		if i >= len(s) {
			return i, false
		}
		if s[i] == ',' {
			i = p.ws(i + 1)
			continue
		}
		if s[i] != '}' {
			return i, false
		}
		return i + 1, true
	}
}

// array parses the elements of an array after its '[' and returns the index after its ']'.
func (p *jsonParser) array(i int, depth int) (int, bool) {
	s := p.s
	i = p.ws(i)
	if i < len(s) && s[i] == ']' {
		return i + 1, true
	}
	for {
		var ok bool
		if i, ok = p.value(i, -1, -1, false, depth+1); !ok {
			return i, false
		}
		i = p.ws(i)
		if i >= len(s) {
			return i, false
		}
		if s[i] == ',' {
			i = p.ws(i + 1)
			continue
		}
		if s[i] != ']' {
			return i, false
		}
		return i + 1, true
	}
}

// scalar scans a number, true, false or null at i.
func scalar(s string, i int) (int, uint8, bool) {
	switch s[i] {
	case 't':
		if strings.HasPrefix(s[i:], "true") {
			return i + 4, kTrue, true
		}
		return i, 0, false
	case 'f':
		if strings.HasPrefix(s[i:], "false") {
			return i + 5, kFalse, true
		}
		return i, 0, false
	case 'n':
		if strings.HasPrefix(s[i:], "null") {
			return i + 4, kNull, true
		}
		return i, 0, false
	}
	end, ok := scanJSONNumber(s, i)
	return end, kNumber, ok
}

const (
	lsb = 0x0101010101010101
	msb = 0x8080808080808080
)

// strStop marks the bytes that end the fast path of a string scan.
var strStop = func() (t [256]bool) {
	for c := 0; c < 0x20; c++ {
		t[c] = true
	}
	t['"'], t['\\'] = true, true
	return t
}()

// str scans a string body starting at i (after the opening quote). It returns the index of
// the closing quote and whether the string holds escapes.
func (p *jsonParser) str(i int) (int, bool, bool) {
	s := p.s
	esc := false
	for {
		// Eight bytes at a time while none of them is a quote, a backslash or a control
		// character, then byte by byte.
		for i+8 <= len(s) {
			x := load64(s[i:])
			q := x ^ 0x2222222222222222
			b := x ^ 0x5C5C5C5C5C5C5C5C
			m := ((q - lsb) &^ q) | ((b - lsb) &^ b) | ((x - 0x2020202020202020) &^ x)
			if m &= msb; m != 0 {
				// The lowest flagged byte is exact: the borrows of these bit tricks only
				// flag bytes above a true hit.
				i += bits.TrailingZeros64(m) >> 3
				goto stop
			}
			i += 8
		}
		for i < len(s) && !strStop[s[i]] {
			i++
		}
	stop:
		if i >= len(s) {
			return i, esc, false
		}
		switch s[i] {
		case '"':
			return i, esc, true
		case '\\':
			esc = true
			if i+1 >= len(s) {
				return i, esc, false
			}
			switch s[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+6 > len(s) || !isHex4(s[i+2:i+6]) {
					return i, esc, false
				}
				i += 6
			default:
				return i, esc, false
			}
		default: // a control character
			return i, esc, false
		}
	}
}

func isHex4(s string) bool {
	for i := 0; i < 4; i++ {
		if !isHex(s[i]) {
			return false
		}
	}
	return true
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// scanJSONNumber scans a JSON number at i: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func scanJSONNumber(s string, i int) (int, bool) {
	if i < len(s) && s[i] == '-' {
		i++
	}
	if i >= len(s) {
		return i, false
	}
	if s[i] == '0' {
		i++
	} else if s[i] >= '1' && s[i] <= '9' {
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
	} else {
		return i, false
	}
	if i < len(s) && s[i] == '.' {
		i++
		d := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i == d {
			return i, false
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		d := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i == d {
			return i, false
		}
	}
	return i, true
}

// unescape decodes the body of a JSON string that the parser has validated.
func unescape(s string) string {
	if strings.IndexByte(s, '\\') < 0 {
		return s
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); {
		c := s[i]
		if c != '\\' {
			b = append(b, c)
			i++
			continue
		}
		if i+1 >= len(s) {
			break
		}
		switch s[i+1] {
		case 'b':
			b = append(b, '\b')
		case 'f':
			b = append(b, '\f')
		case 'n':
			b = append(b, '\n')
		case 'r':
			b = append(b, '\r')
		case 't':
			b = append(b, '\t')
		case 'u':
			if i+6 > len(s) {
				return string(b)
			}
			r1 := hex4(s[i+2 : i+6])
			i += 6
			if utf16.IsSurrogate(r1) {
				if i+6 <= len(s) && s[i] == '\\' && s[i+1] == 'u' {
					if r := utf16.DecodeRune(r1, hex4(s[i+2:i+6])); r != utf8.RuneError {
						b = utf8.AppendRune(b, r)
						i += 6
						continue
					}
				}
				r1 = utf8.RuneError
			}
			b = utf8.AppendRune(b, r1)
			continue
		default: // " \ /
			b = append(b, s[i+1])
		}
		i += 2
	}
	return string(b)
}

func hex4(s string) rune {
	n, err := strconv.ParseUint(s, 16, 32)
	if err != nil {
		return utf8.RuneError
	}
	return rune(n)
}
