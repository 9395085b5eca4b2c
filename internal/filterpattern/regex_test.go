package filterpattern

import (
	"regexp"
	"slices"
	"testing"
)

func TestSplitAlternatives(t *testing.T) {
	table := map[string][]string{
		`a|b`:           {"a", "b"},
		`^starting|^in`: {"^starting", "^in"},
		`[a|b]`:         {"[a|b]"},
		`a\|b`:          {`a\|b`},
		`[]|]|x`:        {"[]|]", "x"},
		`[^]|]|x`:       {"[^]|]", "x"},
		`a||b`:          {"a", "", "b"},
		`a|`:            {"a", ""},
		`[\]|]|y`:       {`[\]|]`, "y"},
	}
	for in, want := range table {
		if got := splitAlternatives(in); !slices.Equal(got, want) {
			t.Errorf("splitAlternatives(%q) = %q; want %q", in, got, want)
		}
	}
}

// FuzzRegex checks that matching the alternatives separately is the same as matching the
// whole expression.
func FuzzRegex(f *testing.F) {
	for _, s := range []string{`a|b`, `[a|b]c|d`, `^x|y$`, `\d+|[^]|]`, `colou?r|z{2,3}`} {
		f.Add(s, "the color zz of a|b")
	}
	f.Fuzz(func(t *testing.T, body, s string) {
		rx, err := compileRegex(body, 0)
		if err != nil {
			return
		}
		whole := regexp.MustCompile(body)
		if got, want := rx.MatchString(s), whole.MatchString(s); got != want {
			t.Fatalf("%q on %q: split %v, whole %v", body, s, got, want)
		}
	})
}
