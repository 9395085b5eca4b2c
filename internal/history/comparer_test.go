package history

import (
	"bytes"
	"math/rand/v2"
	"testing"
)

// TestComparerSplit checks the properties Pebble requires of Split over keys of every shape
// History writes: a key is its family prefix plus a 12-byte suffix, and bytewise order is
// prefix order first, then suffix order.
func TestComparerSplit(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 7))
	accts := []string{"", "1", "12", "123456789012", "1234567890123"}
	regions := []string{"", "us-east-1", "us-east-10"}
	values := []string{"", "a", "ab", "b", string(make([]byte, 200)), "\x00", "\xff\xff"}
	kinds := []byte{kindEvent, kindInsight, indexMgmt | byte(attrEventID), indexMgmt | byte(attrUsername), indexInsight | byte(attrEventName)}
	type key struct{ prefix, full []byte }
	var keys []key
	for range 3000 {
		kind := kinds[r.IntN(len(kinds))]
		v := ""
		if kind >= indexMgmt {
			v = values[r.IntN(len(values))]
		}
		p := familyPrefix(nil, uint32(r.IntN(3)), accts[r.IntN(len(accts))], regions[r.IntN(len(regions))], kind, v)
		full := appendSuffix(append([]byte(nil), p...), pos{sec: int64(r.IntN(3 * secondsADay)), seq: r.Uint64N(4)})
		// appendSuffix takes the second of the day; the day in the prefix may differ, which
		// does not matter for ordering.
		keys = append(keys, key{p, full})
	}
	for _, k := range keys {
		if n := splitKey(k.full); n != len(k.prefix) {
			t.Fatalf("Split(%x) = %d, want %d", k.full, n, len(k.prefix))
		}
		if n := splitKey(k.prefix); n != len(k.prefix) {
			t.Fatalf("Split of a bare prefix %x = %d", k.prefix, n)
		}
	}
	for i := range 20000 {
		a, b := keys[r.IntN(len(keys))], keys[r.IntN(len(keys))]
		full := bytes.Compare(a.full, b.full)
		want := bytes.Compare(a.prefix, b.prefix)
		if want == 0 {
			want = bytes.Compare(a.full[len(a.prefix):], b.full[len(b.prefix):])
		}
		if full != want {
			t.Fatalf("%d: order of %x and %x: bytewise %d, prefix-then-suffix %d", i, a.full, b.full, full, want)
		}
		// A bare prefix sorts before every key with that prefix.
		if bytes.Equal(a.prefix, b.prefix) && bytes.Compare(a.prefix, b.full) >= 0 {
			t.Fatalf("prefix %x not before %x", a.prefix, b.full)
		}
	}
	// Keys that are not family keys split as a whole.
	for _, k := range [][]byte{nil, {nsMeta}, keyCursor, dayBound(5), indexDayBound(indexMgmt|1, 5), {nsDay, 0, 0, 0, 1, 200}, {nsIndex, indexMgmt | 1, 0, 0, 0, 1, 200}, {nsIndex, 1, 0, 0, 0, 1, 200}, prefixEnd(keys[0].prefix), append(keys[0].full, 0)} {
		if n := splitKey(k); n != len(k) {
			t.Fatalf("Split(%x) = %d", k, n)
		}
	}
}

func FuzzSplitKey(f *testing.F) {
	f.Add(appendSuffix(familyPrefix(nil, 1, "a", "b", indexMgmt|1, "v"), pos{sec: 5, seq: 1}))
	f.Fuzz(func(t *testing.T, k []byte) {
		if n := splitKey(k); n < 0 || n > len(k) {
			t.Fatalf("Split = %d for %d bytes", n, len(k))
		}
	})
}

// Tables never mix namespaces or index kinds: the metadata (rewritten by every batch) apart
// from the entries, the entries apart from the index, each index kind apart from the next.
func TestSpanEnd(t *testing.T) {
	entry := appendSuffix(familyPrefix(nil, 20000, "123456789012", "us-east-1", kindEvent, ""), pos{sec: 1, seq: 1})
	index := appendSuffix(familyPrefix(nil, 20000, "123456789012", "us-east-1", indexMgmt|byte(attrEventName), "GetCallerIdentity"), pos{sec: 1, seq: 1})
	for _, c := range []struct {
		start, want []byte
	}{
		{nil, []byte{nsDay}},
		{keyCursor, []byte{nsDay}},
		{keyFormat, []byte{nsDay}},
		{entry, []byte{nsIndex}},
		{index, []byte{nsIndex, indexMgmt | byte(attrEventName) + 1}},
		{[]byte{nsIndex, 0xff}, nil},
		{[]byte{nsIndex + 1}, nil},
	} {
		if got := spanEnd(c.start); !bytes.Equal(got, c.want) {
			t.Errorf("spanEnd(%x) = %x, want %x", c.start, got, c.want)
		}
	}
}
