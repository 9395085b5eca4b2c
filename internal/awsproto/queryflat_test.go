package awsproto

import (
	"bytes"
	"encoding/xml"
	"net/http"
	"testing"
)

type flatOut struct {
	UserId  string
	Account string
	Arn     string
}

type flatTagged struct {
	A      string `xml:"Renamed"`
	B      string `xml:",omitempty"`
	C      string `xml:"Cee,omitempty"`
	D      string `xml:"-"`
	hidden string
	E      string `query:"Ignored"`
}

type notFlatNested struct{ User struct{ Name string } }
type notFlatInt struct{ N int }
type notFlatAttr struct {
	A string `xml:"a,attr"`
}
type notFlatPath struct {
	A string `xml:"x>a"`
}
type notFlatXMLName struct {
	XMLName xml.Name
	A       string
}
type notFlatPtr struct{ A *string }
type namedString string
type notFlatNamed struct{ A namedString }
type notFlatEmbedded struct{ flatOut }
type notFlatMarshaler struct{ A string }

func (notFlatMarshaler) MarshalXML(e *xml.Encoder, start xml.StartElement) error {
	return e.EncodeElement("custom", start)
}

// checkFlat compares the fast path with encoding/xml for one result.
func checkFlat(t *testing.T, action, xmlns, rid string, out any) {
	t.Helper()
	fast, ok := appendFlatQuery(nil, action, xmlns, rid, out)
	if !ok {
		t.Fatalf("%T not written by the fast path", out)
	}
	slow, err := marshalQuery(action, xmlns, rid, out)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(fast, slow) {
		t.Fatalf("fast path differs from encoding/xml for %#v:\nfast %q\nslow %q", out, fast, slow)
	}
}

var tricky = []string{
	"", "plain", `a"b'c&d<e>f`, "tab\there\nnl\rcr", "\x00\x01\x1f\x7f", "caf\u00e9 \u2028 \U0001F600",
	"\xff\xfe bad utf8 \xc3", "\uFFFD", "\ufffe\uffff", "\ud7ff\ue000", "]]>", "&amp;", "\xed\xa0\x80",
}

func TestFlatQueryMatchesEncodingXML(t *testing.T) {
	for _, s := range tricky {
		checkFlat(t, "GetCallerIdentity", "https://sts.amazonaws.com/doc/2011-06-15/", s, &flatOut{UserId: s, Account: "123456789012", Arn: s + "x"})
		checkFlat(t, "Op", s, "rid", flatOut{Arn: s})
		checkFlat(t, "Op", "", s, &flatTagged{A: s, B: s, C: s, D: s, hidden: s, E: s})
		checkFlat(t, "Op", "", "rid", &flatTagged{})
	}
	checkFlat(t, "Op", "ns", "rid", nil)
	checkFlat(t, "Op", "ns", "rid", &struct{}{})
}

func TestFlatQueryLeavesOtherShapesToEncodingXML(t *testing.T) {
	s := "x"
	for _, out := range []any{
		&notFlatNested{}, &notFlatInt{}, &notFlatAttr{}, &notFlatPath{}, &notFlatXMLName{}, &notFlatPtr{A: &s},
		&notFlatNamed{}, &notFlatEmbedded{}, &notFlatMarshaler{}, notFlatMarshaler{}, (*flatOut)(nil), []string{"a"}, "str",
	} {
		if _, ok := appendFlatQuery(nil, "Op", "", "rid", out); ok {
			t.Errorf("%T written by the fast path", out)
		}
	}
}

func FuzzFlatQuery(f *testing.F) {
	for _, s := range tricky {
		f.Add(s, s, "rid")
	}
	f.Fuzz(func(t *testing.T, a, b, rid string) {
		checkFlat(t, "GetCallerIdentity", b, rid, &flatOut{UserId: a, Account: b, Arn: a + b})
		checkFlat(t, "Op", "", rid, &flatTagged{A: a, B: b, C: a, D: b})
	})
}

// SetRequestID assigns the header map directly: its key must be in canonical form.
func TestHeaderRequestIDCanonical(t *testing.T) {
	if got := http.CanonicalHeaderKey(HeaderRequestID); got != HeaderRequestID {
		t.Fatalf("HeaderRequestID %q is not canonical (%q)", HeaderRequestID, got)
	}
}
