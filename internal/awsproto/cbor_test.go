package awsproto

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"math"
	"net/http/httptest"
	"reflect"
	"testing"
	"time"

	smithycbor "github.com/aws/smithy-go/encoding/cbor"

	"github.com/opentrail/opentrail"
)

type cborDim struct {
	Name  string
	Value string `json:"Value,omitempty"`
}

type cborIn struct {
	Namespace  *string
	Period     *int32
	Threshold  *float64
	Enabled    *bool
	StartTime  time.Time
	Stamps     []time.Time
	Values     []float64
	Dimensions []cborDim
	Tags       map[string]string
	Data       []byte
	Ignored    string `json:"-"`
}

func TestCBORRoundTrip(t *testing.T) {
	ns, p, th, en := "App/Web", int32(60), 1.5, true
	in := cborIn{Namespace: &ns, Period: &p, Threshold: &th, Enabled: &en,
		StartTime: time.UnixMilli(1700000000123).UTC(), Stamps: []time.Time{time.Unix(5, 0).UTC()},
		Values: []float64{0, -2.5, 1e300}, Dimensions: []cborDim{{"Host", "a"}, {"Az", ""}},
		Tags: map[string]string{"k": "v"}, Data: []byte{1, 2, 3}}
	b, err := MarshalCBOR(&in)
	if err != nil {
		t.Fatal(err)
	}
	var out cborIn
	if err := DecodeCBOR(b, &out); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(in, out) {
		t.Fatalf("round trip:\n got %+v\nwant %+v", out, in)
	}
	// The same bytes through smithy-go's decoder, as the SDK reads them.
	v, err := smithycbor.Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	m := v.(smithycbor.Map)
	if tag, ok := m["StartTime"].(*smithycbor.Tag); !ok || tag.ID != 1 || float64(tag.Value.(smithycbor.Float64)) != 1700000000.123 {
		t.Fatalf("StartTime encoded as %#v", m["StartTime"])
	}
	if _, ok := m["Ignored"]; ok {
		t.Fatal(`json:"-" member encoded`)
	}
}

// TestCBORFromSmithy decodes what smithy-go's encoder writes: indefinite maps as the SDK's
// serializer writes structures, integer timestamps, half floats.
func TestCBORFromSmithy(t *testing.T) {
	body := smithycbor.Encode(smithycbor.Map{
		"Namespace":  smithycbor.String("N"),
		"Period":     smithycbor.Uint(10),
		"Threshold":  smithycbor.NegInt(3),
		"StartTime":  &smithycbor.Tag{ID: 1, Value: smithycbor.Uint(1700000000)},
		"Values":     smithycbor.List{smithycbor.Float32(0.5), smithycbor.Uint(2)},
		"Dimensions": smithycbor.List{smithycbor.Map{"Name": smithycbor.String("Host"), "Value": smithycbor.String("a")}},
		"Unknown":    smithycbor.List{&smithycbor.Nil{}},
	})
	var in cborIn
	if err := DecodeCBOR(body, &in); err != nil {
		t.Fatal(err)
	}
	if *in.Namespace != "N" || *in.Period != 10 || *in.Threshold != -3 || !in.StartTime.Equal(time.Unix(1700000000, 0)) ||
		!reflect.DeepEqual(in.Values, []float64{0.5, 2}) || in.Dimensions[0] != (cborDim{"Host", "a"}) {
		t.Fatalf("got %+v", in)
	}

	// Hand-written: indefinite map {"Namespace": "ab" (two chunks), "Threshold": f16 1.5, "Enabled": true}.
	raw, _ := hex.DecodeString("bf" + "694e616d657370616365" + "7f61616162ff" + "695468726573686f6c64" + "f93e00" + "67456e61626c6564" + "f5" + "ff")
	in = cborIn{}
	if err := DecodeCBOR(raw, &in); err != nil {
		t.Fatal(err)
	}
	if *in.Namespace != "ab" || *in.Threshold != 1.5 || !*in.Enabled {
		t.Fatalf("got %+v", in)
	}
}

func TestCBORErrors(t *testing.T) {
	cases := map[string]string{
		"truncated map":      "a1",
		"not a map":          "83010203",
		"wrong type":         "a1664e616d65737061636501",           // Namespace: 1
		"int overflow":       "a166506572696f641a80000000",         // Period: 2^31
		"float for int":      "a166506572696f64fb3ff0000000000000", // Period: 1.0
		"trailing":           "a0a0",
		"bad utf8":           "a1664e616d6573706163656162ff",       // wrong length
		"huge list":          "a16656616c7565739b00ffffffffffffff", // Values: 2^56 items
		"non-string key":     "a10101",
		"break outside":      "ff",
		"timestamp not num":  "a169537461727454696d65c16161",
		"reserved minor":     "a1664e616d6573706163657c",
		"indefinite int":     "1f",
		"unsupported simple": "a1664e616d657370616365f0",
		"nested too deep":    "a1664e616d657370616365" + string(bytes.Repeat([]byte("81"), 100)) + "01",
	}
	for name, h := range cases {
		b, err := hex.DecodeString(h)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var in cborIn
		err = DecodeCBOR(b, &in)
		if e := opentrail.ErrorOf(err); e == nil || e.Code != "SerializationException" {
			t.Errorf("%s: got %v; want SerializationException", name, err)
		}
	}
	var in cborIn
	if err := DecodeCBOR(nil, &in); err != nil {
		t.Errorf("empty body: %v", err)
	}
}

func TestWriteErrorCBORQueryCompatible(t *testing.T) {
	wire := Wire{Protocol: CBOR, QueryErrors: func(code string) string {
		if code == "InvalidParameterValue" {
			return "com.amazonaws.cloudwatch#InvalidParameterValueException"
		}
		return code
	}}
	rec := httptest.NewRecorder()
	WriteError(rec, wire, "rid", opentrail.Errorf("InvalidParameterValue", "bad"))
	if rec.Code != 400 || rec.Header().Get("Content-Type") != ContentTypeCBOR || rec.Header().Get("Smithy-Protocol") != "rpc-v2-cbor" ||
		rec.Header().Get("x-amzn-query-error") != "InvalidParameterValue;Sender" {
		t.Fatalf("%d %v", rec.Code, rec.Header())
	}
	v, err := ParseCBOR(rec.Body.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	m := v.(map[string]any)
	if m["__type"] != "com.amazonaws.cloudwatch#InvalidParameterValueException" || m["message"] != "bad" {
		t.Fatalf("body %v", m)
	}

	wire.Protocol, wire.ContentType = JSON, ContentTypeJSON10
	rec = httptest.NewRecorder()
	WriteError(rec, wire, "rid", opentrail.ErrInternal)
	var body map[string]string
	_ = json.Unmarshal(rec.Body.Bytes(), &body)
	if rec.Code != 500 || rec.Header().Get("x-amzn-query-error") != "InternalFailure;Receiver" || body["__type"] != "InternalFailure" {
		t.Fatalf("%d %v %s", rec.Code, rec.Header(), rec.Body)
	}
}

func TestJSONValues(t *testing.T) {
	var in cborIn
	body := `{"Namespace":"N","Period":60,"Threshold":"NaN","StartTime":1700000000.5,"Stamps":["2024-01-02T03:04:05Z"],"Values":["Infinity",-1],"Data":"AQI="}`
	if err := DecodeJSONValues([]byte(body), &in); err != nil {
		t.Fatal(err)
	}
	if !math.IsNaN(*in.Threshold) || !in.StartTime.Equal(time.UnixMilli(1700000000500)) || !in.Stamps[0].Equal(time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)) ||
		!math.IsInf(in.Values[0], 1) || !bytes.Equal(in.Data, []byte{1, 2}) {
		t.Fatalf("got %+v", in)
	}
	for _, bad := range []string{`{"Period":1.5}`, `{"StartTime":"yesterday"}`, `{"Values":{}}`, `[]`, `{"Namespace":`, `{"Period":99999999999}`} {
		err := DecodeJSONValues([]byte(bad), &in)
		if e := opentrail.ErrorOf(err); e == nil || e.Code != "SerializationException" {
			t.Errorf("%s: got %v", bad, err)
		}
	}
	out, err := MarshalJSONValues(struct {
		T   time.Time
		Z   time.Time `json:",omitempty"`
		F   float64
		L   []string
		Opt *int `json:"Opt,omitempty"`
	}{T: time.UnixMilli(1700000000250), F: math.Inf(-1)})
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"T":1700000000.25,"F":"-Infinity","L":[]}`; string(out) != want {
		t.Fatalf("got %s; want %s", out, want)
	}
}

func FuzzDecodeCBOR(f *testing.F) {
	ns := "N"
	seed, _ := MarshalCBOR(&cborIn{Namespace: &ns, StartTime: time.Unix(1, 0), Values: []float64{1}, Dimensions: []cborDim{{"a", "b"}}, Tags: map[string]string{"x": "y"}})
	f.Add(seed)
	f.Add(smithycbor.Encode(smithycbor.Map{"Period": smithycbor.Uint(5), "Stamps": smithycbor.List{&smithycbor.Tag{ID: 1, Value: smithycbor.Float64(1.5)}}}))
	for _, h := range []string{"bf61416141ff", "9f01ff", "5f4101ff", "a0", "f97c00", "c1fb7ff8000000000000"} {
		b, _ := hex.DecodeString(h)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var in cborIn
		if err := DecodeCBOR(b, &in); err != nil {
			if opentrail.ErrorOf(err) == nil {
				t.Fatalf("DecodeCBOR(%x) returned a non-AWS error %v", b, err)
			}
			return
		}
		// Whatever decoded must encode, and decode again to the same value.
		enc, err := MarshalCBOR(&in)
		if err != nil {
			t.Fatalf("re-encode: %v", err)
		}
		var again cborIn
		if err := DecodeCBOR(enc, &again); err != nil {
			t.Fatalf("decode re-encoded %x: %v", enc, err)
		}
		a, _ := MarshalCBOR(&again)
		if !bytes.Equal(a, enc) {
			t.Fatalf("not stable: %x vs %x", a, enc)
		}
	})
}

func FuzzParseCBOR(f *testing.F) {
	for _, h := range []string{"bf61416141ff", "9f01ff", "5f4101ff", "7f61616162ff", "a0", "f93e00", "c11a00000001", "1bffffffffffffffff", "3bffffffffffffffff"} {
		b, _ := hex.DecodeString(h)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		v, err := ParseCBOR(b)
		if err != nil {
			return
		}
		// A map that parsed decodes into any structure without panicking.
		if _, ok := v.(map[string]any); ok {
			var in cborIn
			_ = DecodeCBOR(b, &in)
		}
	})
}

func FuzzDecodeJSONValues(f *testing.F) {
	for _, s := range []string{`{"Namespace":"N","StartTime":1.5,"Values":["NaN",1]}`, `{"Stamps":["2024-01-01T00:00:00Z"]}`, `{"Period":1e3}`, `{"Data":"AQ=="}`, `[]`, `{"Tags":{"a":"b"}}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var in cborIn
		if err := DecodeJSONValues(b, &in); err != nil {
			if opentrail.ErrorOf(err) == nil {
				t.Fatalf("DecodeJSONValues(%q) returned a non-AWS error %v", b, err)
			}
			return
		}
		out, err := MarshalJSONValues(&in)
		if err != nil {
			t.Fatalf("re-encode: %v", err)
		}
		var again cborIn
		if err := DecodeJSONValues(out, &again); err != nil {
			t.Fatalf("decode re-encoded %s: %v", out, err)
		}
	})
}
