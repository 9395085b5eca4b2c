package awsproto

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/opentrail/opentrail"
)

// Protocol-neutral member values. JSON 1.0 and CBOR write timestamps as epoch seconds and
// doubles' special values as "NaN", "Infinity" and "-Infinity" (JSON) — which encoding/json
// does not do for time.Time and float64. Services whose members hold timestamps decode with
// DecodeJSONValues (from an UnmarshalJSON method of their input type) and encode with
// MarshalJSONValues; DecodeCBOR and MarshalCBOR share the same member mapping.

// DecodeJSONValues decodes a JSON request body into v as DecodeJSON does, except that
// time.Time members take epoch seconds (or an RFC 3339 string) and float members also take
// "NaN", "Infinity" and "-Infinity".
func DecodeJSONValues(body []byte, v any) error {
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		return nil
	}
	if body[0] != '{' {
		return opentrail.Errorf("SerializationException", "Start of structure or map found where not expected")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var tree any
	if err := dec.Decode(&tree); err != nil {
		return opentrail.Errorf("SerializationException", "The request body is not valid JSON: %s", cleanJSONError(err))
	}
	if dec.More() {
		return opentrail.Errorf("SerializationException", "The request body holds more than one JSON value")
	}
	return assignValue(tree, v)
}

// MarshalJSONValues encodes v as JSON 1.0 does: time.Time members as epoch seconds, []byte
// as base64, non-finite floats as strings; member names and omitempty from the json tags.
func MarshalJSONValues(v any) ([]byte, error) {
	t, err := toTree(v)
	if err != nil {
		return nil, err
	}
	return appendJSON(nil, t), nil
}

func assignValue(tree any, v any) error {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return fmt.Errorf("awsproto: decode needs a non-nil pointer, got %T", v)
	}
	return assign(tree, rv.Elem(), "")
}

func typeMismatch(path string, want string) error {
	if path == "" {
		path = "(root)"
	}
	return opentrail.Errorf("SerializationException", "Unexpected value type for field %s: expected %s", path, want)
}

// fieldName is a struct field's member name and whether it is omitted when empty; "" skips it.
func fieldName(f reflect.StructField) (string, bool) {
	if !f.IsExported() {
		return "", false
	}
	tag := f.Tag.Get("json")
	if tag == "-" {
		return "", false
	}
	name, opts, _ := strings.Cut(tag, ",")
	if name == "" {
		name = f.Name
	}
	return name, strings.Contains(opts, "omitempty")
}

func assign(tree any, rv reflect.Value, path string) error {
	if tree == nil {
		rv.SetZero()
		return nil
	}
	t := rv.Type()
	if t == timeType {
		switch x := tree.(type) {
		case time.Time:
			rv.Set(reflect.ValueOf(x))
			return nil
		case string:
			tm, err := time.Parse(time.RFC3339, x)
			if err != nil {
				return typeMismatch(path, "timestamp")
			}
			rv.Set(reflect.ValueOf(tm))
			return nil
		}
		f, ok := number(tree)
		if !ok {
			return typeMismatch(path, "timestamp")
		}
		tm, err := epochTime(f)
		if err != nil {
			return typeMismatch(path, "timestamp")
		}
		rv.Set(reflect.ValueOf(tm))
		return nil
	}
	switch t.Kind() {
	case reflect.Pointer:
		nv := reflect.New(t.Elem())
		if err := assign(tree, nv.Elem(), path); err != nil {
			return err
		}
		rv.Set(nv)
	case reflect.Struct:
		m, ok := tree.(map[string]any)
		if !ok {
			return typeMismatch(path, "structure")
		}
		for i := 0; i < t.NumField(); i++ {
			name, _ := fieldName(t.Field(i))
			if name == "" {
				continue
			}
			if v, ok := m[name]; ok {
				if err := assign(v, rv.Field(i), joinPath(path, name)); err != nil {
					return err
				}
			}
		}
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			switch x := tree.(type) {
			case []byte:
				rv.SetBytes(x)
				return nil
			case string:
				b, err := base64.StdEncoding.DecodeString(x)
				if err != nil {
					return typeMismatch(path, "blob")
				}
				rv.SetBytes(b)
				return nil
			}
			return typeMismatch(path, "blob")
		}
		l, ok := tree.([]any)
		if !ok {
			return typeMismatch(path, "list")
		}
		s := reflect.MakeSlice(t, len(l), len(l))
		for i, e := range l {
			if err := assign(e, s.Index(i), path+"["+strconv.Itoa(i)+"]"); err != nil {
				return err
			}
		}
		rv.Set(s)
	case reflect.Map:
		m, ok := tree.(map[string]any)
		if !ok || t.Key().Kind() != reflect.String {
			return typeMismatch(path, "map")
		}
		out := reflect.MakeMapWithSize(t, len(m))
		for k, e := range m {
			ev := reflect.New(t.Elem()).Elem()
			if err := assign(e, ev, joinPath(path, k)); err != nil {
				return err
			}
			out.SetMapIndex(reflect.ValueOf(k).Convert(t.Key()), ev)
		}
		rv.Set(out)
	case reflect.String:
		s, ok := tree.(string)
		if !ok {
			return typeMismatch(path, "string")
		}
		rv.SetString(s)
	case reflect.Bool:
		b, ok := tree.(bool)
		if !ok {
			return typeMismatch(path, "boolean")
		}
		rv.SetBool(b)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		var n int64
		switch x := tree.(type) {
		case json.Number:
			v, err := strconv.ParseInt(string(x), 10, 64)
			if err != nil {
				return typeMismatch(path, "integer")
			}
			n = v
		case uint64:
			if x > math.MaxInt64 {
				return typeMismatch(path, "integer")
			}
			n = int64(x)
		case int64:
			n = x
		default:
			return typeMismatch(path, "integer")
		}
		if rv.OverflowInt(n) {
			return typeMismatch(path, "integer")
		}
		rv.SetInt(n)
	case reflect.Float32, reflect.Float64:
		f, ok := number(tree)
		if !ok {
			s, _ := tree.(string)
			switch s {
			case "NaN":
				f = math.NaN()
			case "Infinity":
				f = math.Inf(1)
			case "-Infinity":
				f = math.Inf(-1)
			default:
				return typeMismatch(path, "double")
			}
		}
		rv.SetFloat(f)
	case reflect.Interface:
		if t.NumMethod() == 0 {
			rv.Set(reflect.ValueOf(tree))
			return nil
		}
		return typeMismatch(path, "document")
	default:
		return fmt.Errorf("awsproto: cannot decode into %s", t)
	}
	return nil
}

func joinPath(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

func number(tree any) (float64, bool) {
	switch x := tree.(type) {
	case json.Number:
		f, err := strconv.ParseFloat(string(x), 64)
		return f, err == nil
	case uint64:
		return float64(x), true
	case int64:
		return float64(x), true
	case float64:
		return x, true
	}
	return 0, false
}

// object is an encoded structure: members in field order.
type object []member

type member struct {
	name  string
	value any
}

// toTree turns a Go value into the encoding tree: object, []any, string, []byte, bool, nil,
// uint64, int64, float64, time.Time.
func toTree(v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	return treeOf(reflect.ValueOf(v), 0)
}

func treeOf(rv reflect.Value, depth int) (any, error) {
	if depth > 100 {
		return nil, fmt.Errorf("awsproto: value nested too deeply")
	}
	if rv.Type() == timeType {
		return rv.Interface().(time.Time), nil
	}
	switch rv.Kind() {
	case reflect.Pointer, reflect.Interface:
		if rv.IsNil() {
			return nil, nil
		}
		return treeOf(rv.Elem(), depth+1)
	case reflect.Struct:
		t := rv.Type()
		obj := object{}
		for i := 0; i < t.NumField(); i++ {
			name, omit := fieldName(t.Field(i))
			if name == "" {
				continue
			}
			fv := rv.Field(i)
			if omit && isEmpty(fv) {
				continue
			}
			e, err := treeOf(fv, depth+1)
			if err != nil {
				return nil, err
			}
			obj = append(obj, member{name, e})
		}
		return obj, nil
	case reflect.Slice, reflect.Array:
		if rv.Type().Elem().Kind() == reflect.Uint8 {
			return append([]byte{}, rv.Bytes()...), nil
		}
		l := make([]any, rv.Len())
		for i := range l {
			e, err := treeOf(rv.Index(i), depth+1)
			if err != nil {
				return nil, err
			}
			l[i] = e
		}
		return l, nil
	case reflect.Map:
		keys := rv.MapKeys()
		sort.Slice(keys, func(i, j int) bool { return keys[i].String() < keys[j].String() })
		obj := make(object, 0, len(keys))
		for _, k := range keys {
			e, err := treeOf(rv.MapIndex(k), depth+1)
			if err != nil {
				return nil, err
			}
			obj = append(obj, member{k.String(), e})
		}
		return obj, nil
	case reflect.String:
		return rv.String(), nil
	case reflect.Bool:
		return rv.Bool(), nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return rv.Int(), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return rv.Uint(), nil
	case reflect.Float32, reflect.Float64:
		return rv.Float(), nil
	}
	return nil, fmt.Errorf("awsproto: cannot encode %s", rv.Type())
}

func isEmpty(v reflect.Value) bool {
	if v.Type() == timeType {
		return v.Interface().(time.Time).IsZero()
	}
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		return v.IsNil()
	case reflect.Slice, reflect.Map, reflect.String, reflect.Array:
		return v.Len() == 0
	case reflect.Bool:
		return !v.Bool()
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return v.Int() == 0
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return v.Uint() == 0
	case reflect.Float32, reflect.Float64:
		return v.Float() == 0
	}
	return false
}

func appendJSON(b []byte, v any) []byte {
	switch x := v.(type) {
	case nil:
		return append(b, "null"...)
	case bool:
		return strconv.AppendBool(b, x)
	case string:
		s, _ := json.Marshal(x)
		return append(b, s...)
	case []byte:
		return append(append(append(b, '"'), base64.StdEncoding.EncodeToString(x)...), '"')
	case uint64:
		return strconv.AppendUint(b, x, 10)
	case int64:
		return strconv.AppendInt(b, x, 10)
	case float64:
		switch {
		case math.IsNaN(x):
			return append(b, `"NaN"`...)
		case math.IsInf(x, 1):
			return append(b, `"Infinity"`...)
		case math.IsInf(x, -1):
			return append(b, `"-Infinity"`...)
		}
		s, _ := json.Marshal(x)
		return append(b, s...)
	case time.Time:
		return strconv.AppendFloat(b, float64(x.UnixMilli())/1000, 'f', -1, 64)
	case []any:
		b = append(b, '[')
		for i, e := range x {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSON(b, e)
		}
		return append(b, ']')
	case object:
		b = append(b, '{')
		for i, f := range x {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSON(append(appendJSON(b, f.name), ':'), f.value)
		}
		return append(b, '}')
	}
	panic(fmt.Sprintf("awsproto: no JSON encoding for %T", v))
}
