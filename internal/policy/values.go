package policy

import (
	"math"
	"strconv"
	"time"
)

// number is a parsed Numeric condition value.
type number struct {
	i     int64
	f     float64
	isInt bool
}

// parseNumber parses an integer or decimal number. It does not allocate.
func parseNumber(s string) (number, bool) {
	if s == "" {
		return number{}, false
	}
	intLike := true
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && !(i == 0 && (c == '-' || c == '+') && len(s) > 1) {
			intLike = false
			break
		}
	}
	if intLike {
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			return number{i: n, f: float64(n), isInt: true}, true
		}
	}
	// Only plain decimal notation reaches ParseFloat, so that it does not
	// accept "Inf", "NaN", hexadecimal or underscores.
	digits := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			digits++
		case c == '.' || c == 'e' || c == 'E' || c == '-' || c == '+':
		default:
			return number{}, false
		}
	}
	if digits == 0 {
		return number{}, false
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		return number{}, false
	}
	return number{f: f}, true
}

// compareNumbers returns -1, 0 or +1.
func compareNumbers(a, b number) int {
	if a.isInt && b.isInt {
		switch {
		case a.i < b.i:
			return -1
		case a.i > b.i:
			return 1
		}
		return 0
	}
	switch {
	case a.f < b.f:
		return -1
	case a.f > b.f:
		return 1
	}
	return 0
}

// maxEpoch caps epoch seconds so that time arithmetic cannot overflow.
const maxEpoch = 1 << 50

// parseDate parses a date condition value: W3C ISO 8601
// (YYYY[-MM[-DD[Thh[:mm[:ss[.fraction]]][zone]]]], zone "Z" or ±hh[:mm],
// no zone meaning UTC) or, when the value contains neither "T" nor "-",
// epoch seconds. It does not allocate.
func parseDate(s string) (time.Time, bool) {
	if s == "" {
		return time.Time{}, false
	}
	iso := false
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == 't' || c == 'T' || c == '-' {
			iso = true
			break
		}
	}
	if !iso {
		var n int64
		for i := 0; i < len(s); i++ {
			c := s[i]
			if c < '0' || c > '9' {
				return time.Time{}, false
			}
			if n < maxEpoch {
				n = n*10 + int64(c-'0')
			}
		}
		if n > maxEpoch {
			n = maxEpoch
		}
		return time.Unix(n, 0).UTC(), true
	}

	p := dateParser{s: s}
	neg := p.accept('-')
	year, ok := p.digits(1, 9)
	if !ok {
		return time.Time{}, false
	}
	if neg {
		year = -year
	}
	month, day := 1, 1
	if p.accept('-') {
		if month, ok = p.digits(1, 2); !ok || month < 1 || month > 12 {
			return time.Time{}, false
		}
		if p.accept('-') {
			if day, ok = p.digits(1, 2); !ok || day < 1 || day > 31 {
				return time.Time{}, false
			}
		}
	}
	hour, minute, sec, nsec := 0, 0, 0, 0
	offset := 0
	if p.accept('T') || p.accept('t') {
		if p.more() && p.isDigit() {
			if hour, ok = p.digits(1, 2); !ok || hour > 23 {
				return time.Time{}, false
			}
			if p.accept(':') {
				if minute, ok = p.digits(1, 2); !ok || minute > 59 {
					return time.Time{}, false
				}
				if p.accept(':') {
					if sec, ok = p.digits(1, 2); !ok || sec > 59 {
						return time.Time{}, false
					}
					if p.accept('.') {
						start := p.i
						frac, ok := p.digits(1, 9)
						if !ok {
							return time.Time{}, false
						}
						for n := p.i - start; n < 9; n++ {
							frac *= 10
						}
						nsec = frac
					}
				}
			}
		}
		switch {
		case p.accept('Z') || p.accept('z'):
		case p.more() && (p.peek() == '+' || p.peek() == '-'):
			sign := 1
			if p.peek() == '-' {
				sign = -1
			}
			p.i++
			oh, ok := p.digits(2, 2)
			if !ok || oh > 23 {
				return time.Time{}, false
			}
			om := 0
			p.accept(':')
			if p.more() {
				if om, ok = p.digits(2, 2); !ok || om > 59 {
					return time.Time{}, false
				}
			}
			offset = sign * (oh*3600 + om*60)
		}
	}
	if p.more() {
		return time.Time{}, false
	}
	t := time.Date(year, time.Month(month), day, hour, minute, sec, nsec, time.UTC)
	return t.Add(-time.Duration(offset) * time.Second), true
}

type dateParser struct {
	s string
	i int
}

func (p *dateParser) more() bool    { return p.i < len(p.s) }
func (p *dateParser) peek() byte    { return p.s[p.i] }
func (p *dateParser) isDigit() bool { return p.s[p.i] >= '0' && p.s[p.i] <= '9' }

func (p *dateParser) accept(c byte) bool {
	if p.i < len(p.s) && p.s[p.i] == c {
		p.i++
		return true
	}
	return false
}

// digits reads between min and max decimal digits.
func (p *dateParser) digits(min, max int) (int, bool) {
	n, count := 0, 0
	for p.i < len(p.s) && count < max && p.s[p.i] >= '0' && p.s[p.i] <= '9' {
		n = n*10 + int(p.s[p.i]-'0')
		p.i++
		count++
	}
	return n, count >= min
}
