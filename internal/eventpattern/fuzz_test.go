package eventpattern

import "testing"

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
