package eventpattern

import (
	"encoding/json"
	"strings"
	"testing"
)

func FuzzParse(f *testing.F) {
	for _, s := range []string{`{"a":["x"]}`, `{"a":[{"numeric":[">",0,"<=",5]}]}`, `{"$or":[{"a":["x"]},{"b":[1]}]}`,
		`{"a":[{"wildcard":"a\\*b*"}]}`, `{"a":[{"anything-but":{"prefix":"x"}}]}`, `{"a":[{"cidr":"10.0.0.0/8"}]}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := Parse(s)
		if err != nil {
			if _, ok := err.(*Error); !ok {
				t.Fatalf("error of type %T", err)
			}
			return
		}
		p.Matches([]byte(c1))
	})
}

func FuzzMatch(f *testing.F) {
	f.Add(`{"detail":{"eventName":[{"prefix":"Auth"}],"$or":[{"readOnly":[true]},{"x":[{"exists":false}]}]}}`, c1)
	f.Add(`{"a":[{"numeric":[">",1]}],"b":[{"cidr":"::/0"}]}`, `{"a":[2,"x",null],"b":"::1"}`)
	f.Add(`{"source":["s",{"prefix":"a"}],"detail":{"eventName":["A"],"x":["1"]}}`, `{"source":["ab","s"],"detail":[{"eventName":"A","x":"2"},{"eventName":"B","x":"1"}]}`)
	f.Fuzz(func(t *testing.T, pattern, event string) {
		p, err := Parse(pattern)
		if err != nil {
			return
		}
		ev, err := ParseEvent([]byte(event))
		if err != nil {
			return
		}
		want := p.Match(ev)
		s := NewSet[int]()
		s.Add(0, p)
		got := false
		s.Match(ev, func(int) { got = true })
		if got != want {
			t.Fatalf("Set = %v, Match = %v", got, want)
		}
	})
}

// FuzzDecode checks the parser against encoding/json: the same documents are valid, and
// strings decode to the same text.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{`{"a":[1,-2.5e3,"x\u00e9\n",true,null,{}]}`, `"\ud83d\ude00"`, `[0.1, 01]`, `{"a":1,}`, "\"\xff\""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := decode([]byte(s))
		if (err == nil) != json.Valid([]byte(s)) {
			if err != nil && strings.Contains(err.Error(), "nested") {
				return
			}
			t.Fatalf("decode err %v, json.Valid %v", err, json.Valid([]byte(s)))
		}
		if str, ok := v.(string); ok {
			var ref string
			if err := json.Unmarshal([]byte(s), &ref); err != nil || str != ref {
				t.Fatalf("decode %q, encoding/json %q (%v)", str, ref, err)
			}
		}
	})
}
