package filterpattern

import "testing"

func TestSmoke(t *testing.T) {
	for _, c := range []struct {
		p, m string
		want bool
	}{
		{`{ $.eventType = "UpdateTrail" }`, `{"eventType":"UpdateTrail"}`, true},
		{`ERROR -ARGUMENTS`, `[ERROR 400] BAD REQUEST`, true},
		{`[ip, user, ...]`, `a b c d`, true},
	} {
		p, err := Parse(c.p)
		if err != nil {
			t.Fatal(err)
		}
		if got := p.Match(c.m); got != c.want {
			t.Errorf("%s on %s: got %v", c.p, c.m, got)
		}
	}
}
