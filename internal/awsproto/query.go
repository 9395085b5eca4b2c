package awsproto

import (
	"bytes"
	"encoding"
	"encoding/xml"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/opentrail/opentrail"
)

// ParseQuery parses a Query-protocol request: the form-encoded body merged with the URL's
// query string. A body that is not valid form encoding gives MalformedQueryString.
func ParseQuery(r *http.Request, body []byte) (url.Values, error) {
	vals, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return nil, opentrail.Errorf("MalformedQueryString", "The query string is malformed: %v", err)
	}
	if len(bytes.TrimSpace(body)) > 0 {
		form, err := url.ParseQuery(string(body))
		if err != nil {
			return nil, opentrail.Errorf("MalformedQueryString", "The request body is not valid form encoding: %v", err)
		}
		for k, vs := range form {
			vals[k] = append(vals[k], vs...)
		}
	}
	// Drop the SigV4 presign parameters: they are not operation input.
	for k := range vals {
		if strings.HasPrefix(k, "X-Amz-") {
			delete(vals, k)
		}
	}
	return vals, nil
}

// DecodeQuery decodes Query-protocol form values into the struct pointed to by v. Member names
// are the field names (or the `query:"Name"` tag); lists use Name.member.N, maps use
// Name.entry.N.key / Name.entry.N.value, nested structures use Name.Member. Values of the wrong
// type give InvalidParameterValue (or ValidationError for IAM-style services; the caller maps).
func DecodeQuery(vals url.Values, v any) error {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.Elem().Kind() != reflect.Struct {
		return fmt.Errorf("awsproto: DecodeQuery needs a pointer to a struct, got %T", v)
	}
	return decodeStruct(vals, "", rv.Elem())
}

func memberName(f reflect.StructField) string {
	if tag := f.Tag.Get("query"); tag != "" {
		return tag
	}
	return f.Name
}

func decodeStruct(vals url.Values, prefix string, sv reflect.Value) error {
	st := sv.Type()
	for i := 0; i < st.NumField(); i++ {
		f := st.Field(i)
		if !f.IsExported() || f.Tag.Get("query") == "-" {
			continue
		}
		if err := decodeValue(vals, prefix+memberName(f), sv.Field(i)); err != nil {
			return err
		}
	}
	return nil
}

func hasPrefix(vals url.Values, prefix string) bool {
	for k := range vals {
		if strings.HasPrefix(k, prefix) {
			return true
		}
	}
	return false
}

var timeType = reflect.TypeFor[time.Time]()

func decodeValue(vals url.Values, name string, fv reflect.Value) error {
	t := fv.Type()
	if t.Kind() == reflect.Pointer {
		elem := t.Elem()
		present := false
		if elem.Kind() == reflect.Struct && elem != timeType {
			present = hasPrefix(vals, name+".")
		} else {
			_, present = vals[name]
		}
		if !present {
			return nil
		}
		nv := reflect.New(elem)
		if err := decodeValue(vals, name, nv.Elem()); err != nil {
			return err
		}
		fv.Set(nv)
		return nil
	}
	switch {
	case t == timeType:
		s, ok := vals[name]
		if !ok {
			return nil
		}
		tm, err := time.Parse(time.RFC3339, s[0])
		if err != nil {
			return invalidValue(name, s[0])
		}
		fv.Set(reflect.ValueOf(tm))
		return nil
	case t.Kind() == reflect.Struct:
		return decodeStruct(vals, name+".", fv)
	case t.Kind() == reflect.Slice:
		return decodeList(vals, name, fv)
	case t.Kind() == reflect.Map:
		return decodeMap(vals, name, fv)
	}
	s, ok := vals[name]
	if !ok {
		return nil
	}
	return setScalar(fv, name, s[0])
}

func setScalar(fv reflect.Value, name, s string) error {
	switch fv.Kind() {
	case reflect.String:
		fv.SetString(s)
	case reflect.Bool:
		b, err := strconv.ParseBool(s)
		if err != nil {
			return invalidValue(name, s)
		}
		fv.SetBool(b)
	case reflect.Int, reflect.Int32, reflect.Int64:
		n, err := strconv.ParseInt(s, 10, fv.Type().Bits())
		if err != nil {
			return invalidValue(name, s)
		}
		fv.SetInt(n)
	case reflect.Float64:
		n, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return invalidValue(name, s)
		}
		fv.SetFloat(n)
	default:
		return fmt.Errorf("awsproto: unsupported field kind %s for %s", fv.Kind(), name)
	}
	return nil
}

func invalidValue(name, s string) error {
	return opentrail.Errorf("InvalidParameterValue", "Value (%s) for parameter %s is invalid.", s, name)
}

// maxListMembers bounds list decoding so that a hostile request cannot make us allocate much.
const maxListMembers = 1000

func decodeList(vals url.Values, name string, fv reflect.Value) error {
	elem := fv.Type().Elem()
	isStruct := elem.Kind() == reflect.Struct || (elem.Kind() == reflect.Pointer && elem.Elem().Kind() == reflect.Struct)
	list := reflect.MakeSlice(fv.Type(), 0, 0)
	for i := 1; i <= maxListMembers; i++ {
		key := name + ".member." + strconv.Itoa(i)
		if isStruct {
			if !hasPrefix(vals, key+".") {
				break
			}
		} else if _, ok := vals[key]; !ok {
			break
		}
		ev := reflect.New(elem).Elem()
		if err := decodeValue(vals, key, ev); err != nil {
			return err
		}
		list = reflect.Append(list, ev)
	}
	if list.Len() > 0 {
		fv.Set(list)
	} else if _, ok := vals[name]; ok {
		fv.Set(reflect.MakeSlice(fv.Type(), 0, 0)) // "Name=" is an explicitly empty list
	}
	return nil
}

func decodeMap(vals url.Values, name string, fv reflect.Value) error {
	t := fv.Type()
	if t.Key().Kind() != reflect.String {
		return fmt.Errorf("awsproto: map key of %s must be a string", name)
	}
	var m reflect.Value
	for i := 1; i <= maxListMembers; i++ {
		base := name + ".entry." + strconv.Itoa(i)
		k, ok := vals[base+".key"]
		if !ok {
			break
		}
		ev := reflect.New(t.Elem()).Elem()
		if err := decodeValue(vals, base+".value", ev); err != nil {
			return err
		}
		if !m.IsValid() {
			m = reflect.MakeMap(t)
		}
		m.SetMapIndex(reflect.ValueOf(k[0]), ev)
	}
	if m.IsValid() {
		fv.Set(m)
	}
	return nil
}

// WriteQuery writes a successful Query-protocol response for action: out (nil for operations
// without a result) is encoded as <ActionResult>, followed by ResponseMetadata.
//
// Results that are flat structures of strings (GetCallerIdentity's, for one) are written
// without encoding/xml, byte for byte as encoding/xml writes them (see flatPlanOf); anything
// else goes through encoding/xml.
func WriteQuery(w http.ResponseWriter, action, xmlns, requestID string, out any) error {
	if b, ok := appendFlatQuery(make([]byte, 0, 1024), action, xmlns, requestID, out); ok {
		return writeXML(w, requestID, b)
	}
	b, err := marshalQuery(action, xmlns, requestID, out)
	if err != nil {
		return err
	}
	return writeXML(w, requestID, b)
}

// writeXML writes a successful XML response body.
func writeXML(w http.ResponseWriter, requestID string, body []byte) error {
	h := w.Header()
	h["Content-Type"] = []string{ContentTypeXML}
	h["Content-Length"] = []string{strconv.Itoa(len(body))}
	SetRequestID(w, requestID)
	w.WriteHeader(http.StatusOK)
	_, err := w.Write(body)
	return err
}

// marshalQuery renders a Query-protocol response with encoding/xml.
func marshalQuery(action, xmlns, requestID string, out any) ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteString(xml.Header)
	enc := xml.NewEncoder(&buf)
	root := xml.StartElement{Name: xml.Name{Local: action + "Response"}}
	if xmlns != "" {
		root.Attr = []xml.Attr{{Name: xml.Name{Local: "xmlns"}, Value: xmlns}}
	}
	if err := enc.EncodeToken(root); err != nil {
		return nil, err
	}
	if out != nil {
		if err := enc.EncodeElement(out, xml.StartElement{Name: xml.Name{Local: action + "Result"}}); err != nil {
			return nil, fmt.Errorf("encode %s result: %w", action, err)
		}
	}
	meta := struct {
		RequestID string `xml:"RequestId"`
	}{requestID}
	if err := enc.EncodeElement(meta, xml.StartElement{Name: xml.Name{Local: "ResponseMetadata"}}); err != nil {
		return nil, err
	}
	if err := enc.EncodeToken(root.End()); err != nil {
		return nil, err
	}
	if err := enc.Flush(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// flatField is one member of a flat result structure.
type flatField struct {
	index     int
	name      string
	omitEmpty bool
}

// flatPlan lists the members of a flat result structure, in encoding order.
type flatPlan struct {
	fields []flatField
}

// flatPlans caches flatPlanOf by type; a nil *flatPlan means "not flat".
var flatPlans sync.Map // reflect.Type → *flatPlan

var (
	stringType        = reflect.TypeFor[string]()
	xmlMarshalerType  = reflect.TypeFor[xml.Marshaler]()
	textMarshalerType = reflect.TypeFor[encoding.TextMarshaler]()
)

// flatPlanOf returns the plan of a struct type whose exported members are all plain strings
// with no xml tag options but a name and omitempty, or nil for any other type: those are left
// to encoding/xml, so that the fast path only ever covers what it writes exactly alike.
func flatPlanOf(t reflect.Type) *flatPlan {
	if p, ok := flatPlans.Load(t); ok {
		return p.(*flatPlan)
	}
	p := buildFlatPlan(t)
	flatPlans.Store(t, p)
	return p
}

func buildFlatPlan(t reflect.Type) *flatPlan {
	if t.Kind() != reflect.Struct || t.Implements(xmlMarshalerType) || t.Implements(textMarshalerType) ||
		reflect.PointerTo(t).Implements(xmlMarshalerType) || reflect.PointerTo(t).Implements(textMarshalerType) {
		return nil
	}
	p := &flatPlan{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if f.Anonymous || f.Name == "XMLName" {
			return nil
		}
		if !f.IsExported() {
			continue
		}
		tag, hasTag := f.Tag.Lookup("xml")
		if tag == "-" {
			continue
		}
		if f.Type != stringType {
			return nil
		}
		ff := flatField{index: i, name: f.Name}
		if hasTag {
			name, opts, _ := strings.Cut(tag, ",")
			switch opts {
			case "":
			case "omitempty":
				ff.omitEmpty = true
			default:
				return nil
			}
			if strings.ContainsAny(name, " >") {
				return nil
			}
			if name != "" {
				ff.name = name
			}
		}
		p.fields = append(p.fields, ff)
	}
	return p
}

// appendFlatQuery appends the response document for a result that is nil or a (pointer to a)
// flat structure, and reports whether it could.
func appendFlatQuery(dst []byte, action, xmlns, requestID string, out any) ([]byte, bool) {
	var (
		plan *flatPlan
		v    reflect.Value
	)
	if out != nil {
		v = reflect.ValueOf(out)
		if v.Kind() == reflect.Pointer {
			if v.IsNil() {
				return dst, false
			}
			v = v.Elem()
		}
		if plan = flatPlanOf(v.Type()); plan == nil {
			return dst, false
		}
	}
	dst = append(dst, xml.Header...)
	dst = append(dst, '<')
	dst = append(dst, action...)
	dst = append(dst, "Response"...)
	if xmlns != "" {
		dst = append(dst, ` xmlns="`...)
		dst = appendXMLEscaped(dst, xmlns)
		dst = append(dst, '"')
	}
	dst = append(dst, '>')
	if plan != nil {
		dst = append(dst, '<')
		dst = append(dst, action...)
		dst = append(dst, "Result>"...)
		for _, f := range plan.fields {
			s := v.Field(f.index).String()
			if s == "" && f.omitEmpty {
				continue
			}
			dst = append(dst, '<')
			dst = append(dst, f.name...)
			dst = append(dst, '>')
			dst = appendXMLEscaped(dst, s)
			dst = append(dst, "</"...)
			dst = append(dst, f.name...)
			dst = append(dst, '>')
		}
		dst = append(dst, "</"...)
		dst = append(dst, action...)
		dst = append(dst, "Result>"...)
	}
	dst = append(dst, "<ResponseMetadata><RequestId>"...)
	dst = appendXMLEscaped(dst, requestID)
	dst = append(dst, "</RequestId></ResponseMetadata></"...)
	dst = append(dst, action...)
	dst = append(dst, "Response>"...)
	return dst, true
}

// appendXMLEscaped appends s escaped as encoding/xml escapes text and attribute values.
func appendXMLEscaped(dst []byte, s string) []byte {
	last := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf && c >= 0x20 && c != '"' && c != '\'' && c != '&' && c != '<' && c != '>' {
			i++
			continue
		}
		r, width := utf8.DecodeRuneInString(s[i:])
		var esc string
		switch r {
		case '"':
			esc = "&#34;"
		case '\'':
			esc = "&#39;"
		case '&':
			esc = "&amp;"
		case '<':
			esc = "&lt;"
		case '>':
			esc = "&gt;"
		case '\t':
			esc = "&#x9;"
		case '\n':
			esc = "&#xA;"
		case '\r':
			esc = "&#xD;"
		default:
			if !xmlChar(r) || (r == utf8.RuneError && width == 1) {
				esc = "\uFFFD"
				break
			}
			i += width
			continue
		}
		dst = append(dst, s[last:i]...)
		dst = append(dst, esc...)
		i += width
		last = i
	}
	return append(dst, s[last:]...)
}

// xmlChar reports whether r is in XML's Char production.
func xmlChar(r rune) bool {
	return r == 0x09 || r == 0x0A || r == 0x0D ||
		r >= 0x20 && r <= 0xD7FF ||
		r >= 0xE000 && r <= 0xFFFD ||
		r >= 0x10000 && r <= 0x10FFFF
}
