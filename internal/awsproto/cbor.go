package awsproto

import (
	"encoding/binary"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/opentrail/opentrail"
)

// CBOR, as the Smithy rpc-v2-cbor protocol uses it (RFC 8949): requests are
// POST /service/<ServiceName>/operation/<Operation> with a CBOR map body and the header
// smithy-protocol: rpc-v2-cbor; structures are maps keyed by member name, timestamps are
// tag 1 (epoch seconds, integer or float), blobs are byte strings. Errors are maps with
// "__type" (the error shape) and "message".

// Rpc-v2-cbor header values.
const (
	ContentTypeCBOR    = "application/cbor"
	HeaderSmithyProto  = "Smithy-Protocol"
	SmithyProtocolCBOR = "rpc-v2-cbor"
	maxCBORDepth       = 64
	maxCBORTimeSeconds = 1 << 40 // far beyond any timestamp a client sends; keeps conversions exact
	headerQueryError   = "x-amzn-query-error"
)

// DecodeCBOR decodes an rpc-v2-cbor request body into v, a pointer to a struct whose members
// are named as for JSON (the json tag or the field name). An empty body decodes as {}.
// Malformed CBOR and values of the wrong type give a SerializationException.
func DecodeCBOR(body []byte, v any) error {
	if len(body) == 0 {
		return nil
	}
	tree, n, err := parseCBOR(body, 0)
	if err != nil {
		return opentrail.Errorf("SerializationException", "The request body is not valid CBOR: %v", err)
	}
	if n != len(body) {
		return opentrail.Errorf("SerializationException", "The request body holds more than one CBOR data item")
	}
	if _, ok := tree.(map[string]any); !ok {
		return opentrail.Errorf("SerializationException", "Start of structure or map found where not expected")
	}
	return assignValue(tree, v)
}

// ParseCBOR decodes one CBOR data item into a tree of map[string]any, []any, string, []byte,
// bool, nil, uint64, int64, float64 and time.Time (tag 1). It is exported for tests.
func ParseCBOR(p []byte) (any, error) {
	v, n, err := parseCBOR(p, 0)
	if err != nil {
		return nil, err
	}
	if n != len(p) {
		return nil, fmt.Errorf("%d trailing bytes", len(p)-n)
	}
	return v, nil
}

var errCBOREOF = fmt.Errorf("unexpected end of data")

// cborArg reads the argument of the head at p[0]: the count, length or value.
func cborArg(p []byte) (arg uint64, n int, err error) {
	minor := p[0] & 0x1f
	switch {
	case minor < 24:
		return uint64(minor), 1, nil
	case minor == 24:
		if len(p) < 2 {
			return 0, 0, errCBOREOF
		}
		return uint64(p[1]), 2, nil
	case minor == 25:
		if len(p) < 3 {
			return 0, 0, errCBOREOF
		}
		return uint64(binary.BigEndian.Uint16(p[1:])), 3, nil
	case minor == 26:
		if len(p) < 5 {
			return 0, 0, errCBOREOF
		}
		return uint64(binary.BigEndian.Uint32(p[1:])), 5, nil
	case minor == 27:
		if len(p) < 9 {
			return 0, 0, errCBOREOF
		}
		return binary.BigEndian.Uint64(p[1:]), 9, nil
	}
	return 0, 0, fmt.Errorf("invalid additional information %d", minor)
}

func parseCBOR(p []byte, depth int) (any, int, error) {
	if len(p) == 0 {
		return nil, 0, errCBOREOF
	}
	if depth > maxCBORDepth {
		return nil, 0, fmt.Errorf("nesting deeper than %d", maxCBORDepth)
	}
	major, minor := p[0]>>5, p[0]&0x1f
	if minor == 31 {
		switch major {
		case 2, 3:
			return parseIndefiniteString(p, major)
		case 4:
			return parseList(p[1:], -1, depth, 1)
		case 5:
			return parseMap(p[1:], -1, depth, 1)
		case 7:
			return nil, 0, fmt.Errorf("unexpected break")
		}
		return nil, 0, fmt.Errorf("indefinite length not allowed for major type %d", major)
	}
	if major == 7 {
		return parseSimple(p)
	}
	arg, n, err := cborArg(p)
	if err != nil {
		return nil, 0, err
	}
	switch major {
	case 0:
		return arg, n, nil
	case 1:
		if arg > math.MaxInt64 {
			return nil, 0, fmt.Errorf("negative integer out of range")
		}
		return -1 - int64(arg), n, nil
	case 2, 3:
		if arg > uint64(len(p)-n) {
			return nil, 0, errCBOREOF
		}
		b := p[n : n+int(arg)]
		if major == 3 {
			if !utf8.Valid(b) {
				return nil, 0, fmt.Errorf("text string is not valid UTF-8")
			}
			return string(b), n + int(arg), nil
		}
		return append([]byte{}, b...), n + int(arg), nil
	case 4:
		if arg > uint64(len(p)-n) { // every item takes at least one byte
			return nil, 0, errCBOREOF
		}
		return parseList(p[n:], int(arg), depth, n)
	case 5:
		if arg > uint64(len(p)-n)/2 {
			return nil, 0, errCBOREOF
		}
		return parseMap(p[n:], int(arg), depth, n)
	default: // 6: tag
		v, m, err := parseCBOR(p[n:], depth+1)
		if err != nil {
			return nil, 0, err
		}
		if arg != 1 {
			return v, n + m, nil // other tags are not used by the protocol: take the content
		}
		var secs float64
		switch x := v.(type) {
		case uint64:
			secs = float64(x)
		case int64:
			secs = float64(x)
		case float64:
			secs = x
		default:
			return nil, 0, fmt.Errorf("tag 1 must hold a number")
		}
		t, err := epochTime(secs)
		if err != nil {
			return nil, 0, err
		}
		return t, n + m, nil
	}
}

func parseIndefiniteString(p []byte, major byte) (any, int, error) {
	var buf []byte
	off := 1
	for {
		if off >= len(p) {
			return nil, 0, errCBOREOF
		}
		if p[off] == 0xff {
			off++
			break
		}
		if p[off]>>5 != major || p[off]&0x1f == 31 {
			return nil, 0, fmt.Errorf("bad chunk in indefinite-length string")
		}
		arg, n, err := cborArg(p[off:])
		if err != nil {
			return nil, 0, err
		}
		if arg > uint64(len(p)-off-n) {
			return nil, 0, errCBOREOF
		}
		buf = append(buf, p[off+n:off+n+int(arg)]...)
		off += n + int(arg)
	}
	if major == 3 {
		if !utf8.Valid(buf) {
			return nil, 0, fmt.Errorf("text string is not valid UTF-8")
		}
		return string(buf), off, nil
	}
	if buf == nil {
		buf = []byte{}
	}
	return buf, off, nil
}

// parseList reads count items (-1: until a break) from p; head is the size of the list's head.
func parseList(p []byte, count, depth, head int) (any, int, error) {
	list := make([]any, 0, min(max(count, 0), 64))
	off := 0
	for i := 0; count < 0 || i < count; i++ {
		if count < 0 {
			if off >= len(p) {
				return nil, 0, errCBOREOF
			}
			if p[off] == 0xff {
				off++
				break
			}
		}
		v, n, err := parseCBOR(p[off:], depth+1)
		if err != nil {
			return nil, 0, err
		}
		list = append(list, v)
		off += n
	}
	return list, head + off, nil
}

func parseMap(p []byte, count, depth, head int) (any, int, error) {
	m := make(map[string]any, min(max(count, 0), 64))
	off := 0
	for i := 0; count < 0 || i < count; i++ {
		if off >= len(p) {
			return nil, 0, errCBOREOF
		}
		if count < 0 && p[off] == 0xff {
			off++
			break
		}
		if p[off]>>5 != 3 {
			return nil, 0, fmt.Errorf("map key is not a text string")
		}
		k, n, err := parseCBOR(p[off:], depth+1)
		if err != nil {
			return nil, 0, err
		}
		off += n
		v, n, err := parseCBOR(p[off:], depth+1)
		if err != nil {
			return nil, 0, err
		}
		off += n
		m[k.(string)] = v
	}
	return m, head + off, nil
}

func parseSimple(p []byte) (any, int, error) {
	switch p[0] & 0x1f {
	case 20:
		return false, 1, nil
	case 21:
		return true, 1, nil
	case 22, 23:
		return nil, 1, nil
	case 25:
		if len(p) < 3 {
			return nil, 0, errCBOREOF
		}
		return float16(binary.BigEndian.Uint16(p[1:])), 3, nil
	case 26:
		if len(p) < 5 {
			return nil, 0, errCBOREOF
		}
		return float64(math.Float32frombits(binary.BigEndian.Uint32(p[1:]))), 5, nil
	case 27:
		if len(p) < 9 {
			return nil, 0, errCBOREOF
		}
		return math.Float64frombits(binary.BigEndian.Uint64(p[1:])), 9, nil
	}
	return nil, 0, fmt.Errorf("unsupported simple value %d", p[0]&0x1f)
}

// float16 converts an IEEE 754 half-precision value.
func float16(h uint16) float64 {
	sign := 1.0
	if h&0x8000 != 0 {
		sign = -1
	}
	exp, frac := int(h>>10&0x1f), float64(h&0x3ff)
	switch exp {
	case 0:
		return sign * math.Ldexp(frac, -24)
	case 31:
		if frac == 0 {
			return math.Inf(int(sign))
		}
		return math.NaN()
	}
	return sign * math.Ldexp(1+frac/1024, exp-15)
}

// epochTime converts epoch seconds to a time with millisecond precision, as AWS keeps them.
func epochTime(secs float64) (time.Time, error) {
	if math.IsNaN(secs) || math.Abs(secs) > maxCBORTimeSeconds {
		return time.Time{}, fmt.Errorf("timestamp out of range")
	}
	return time.UnixMilli(int64(math.Round(secs * 1000))).UTC(), nil
}

// MarshalCBOR encodes v (structures by their JSON member names, honouring omitempty) as CBOR:
// time.Time as tag 1 with float epoch seconds, []byte as a byte string, floats as float64.
func MarshalCBOR(v any) ([]byte, error) {
	t, err := toTree(v)
	if err != nil {
		return nil, err
	}
	return appendCBOR(nil, t), nil
}

// WriteCBOR writes a successful rpc-v2-cbor response. A nil v writes an empty map.
func WriteCBOR(w http.ResponseWriter, v any) error {
	body := []byte{0xa0}
	if v != nil {
		var err error
		if body, err = MarshalCBOR(v); err != nil {
			return fmt.Errorf("encode response: %w", err)
		}
	}
	h := w.Header()
	h.Set("Content-Type", ContentTypeCBOR)
	h.Set(HeaderSmithyProto, SmithyProtocolCBOR)
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	_, err := w.Write(body)
	return err
}

func appendHead(b []byte, major byte, arg uint64) []byte {
	switch {
	case arg < 24:
		return append(b, major<<5|byte(arg))
	case arg <= math.MaxUint8:
		return append(b, major<<5|24, byte(arg))
	case arg <= math.MaxUint16:
		return binary.BigEndian.AppendUint16(append(b, major<<5|25), uint16(arg))
	case arg <= math.MaxUint32:
		return binary.BigEndian.AppendUint32(append(b, major<<5|26), uint32(arg))
	}
	return binary.BigEndian.AppendUint64(append(b, major<<5|27), arg)
}

func appendFloat(b []byte, f float64) []byte {
	return binary.BigEndian.AppendUint64(append(b, 0xfb), math.Float64bits(f))
}

func appendCBOR(b []byte, v any) []byte {
	switch x := v.(type) {
	case nil:
		return append(b, 0xf6)
	case bool:
		if x {
			return append(b, 0xf5)
		}
		return append(b, 0xf4)
	case string:
		return append(appendHead(b, 3, uint64(len(x))), x...)
	case []byte:
		return append(appendHead(b, 2, uint64(len(x))), x...)
	case uint64:
		return appendHead(b, 0, x)
	case int64:
		if x < 0 {
			return appendHead(b, 1, uint64(-1-x))
		}
		return appendHead(b, 0, uint64(x))
	case float64:
		return appendFloat(b, x)
	case time.Time:
		return appendFloat(append(b, 0xc1), float64(x.UnixMilli())/1000)
	case []any:
		b = appendHead(b, 4, uint64(len(x)))
		for _, e := range x {
			b = appendCBOR(b, e)
		}
		return b
	case object:
		b = appendHead(b, 5, uint64(len(x)))
		for _, f := range x {
			b = appendCBOR(append(appendHead(b, 3, uint64(len(f.name))), f.name...), f.value)
		}
		return b
	}
	panic(fmt.Sprintf("awsproto: no CBOR encoding for %T", v))
}

// cborError is the body of an rpc-v2-cbor error.
func cborError(typ, message string) []byte {
	return appendCBOR(nil, object{{"__type", typ}, {"message", message}})
}

// queryCompatible applies the awsQueryCompatible rules to an error in JSON or CBOR: the
// x-amzn-query-error header carries the Query code and fault, and the returned __type is the
// modeled error shape.
func queryCompatible(h http.Header, wire Wire, e *opentrail.Error, status int) string {
	if wire.QueryErrors == nil {
		return e.Code
	}
	fault := "Sender"
	if status >= 500 {
		fault = "Receiver"
	}
	h.Set(headerQueryError, e.Code+";"+fault)
	return wire.QueryErrors(e.Code)
}
