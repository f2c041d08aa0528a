// Package text formats messages as package fmt does, for the verbs and
// argument types this module's messages use, without fmt's reflection.
// A plugin that links fmt carries fmt's printer and, through it, reflect's
// value printing; the filters' configuration errors and log lines need
// neither.
//
// The verbs are %s, %q, %v, %d, %x, %t and, in Errorf, %w; %% is a
// literal '%'. The flags '-' and '0', a width and a precision work as in
// fmt. The arguments are strings, []byte, []string, bool, int, int32,
// int64, uint8 (byte), uint32, uint64, float64 (%v only: strconv's 'g'
// format, shortest or to the precision, as in fmt), nil, errors and values
// with a String method (time.Duration, for one). For these the output is
// fmt's, byte for byte.
//
// Anything else is not an error: a verb that does not apply to its
// argument is written as fmt writes it ("%!d(string=x)"), and an argument
// of another type (a named string type among them: convert it first), a
// flag other than '-' and '0', or '*' as a width is written as a marker
// "%!v(unsupported ...)", visible in the message rather than a panic.
package text

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// Sprintf formats args according to format.
func Sprintf(format string, args ...any) string {
	var p printer
	p.printf(format, args)
	return string(p.buf)
}

// Errorf formats args according to format and returns the result as an
// error. As with fmt.Errorf, an error argument of %w is wrapped: errors.Is,
// errors.As and errors.Unwrap see it.
func Errorf(format string, args ...any) error {
	p := printer{errorf: true}
	p.printf(format, args)
	msg := string(p.buf)
	switch len(p.wrapped) {
	case 0:
		return &plainError{msg}
	case 1:
		return &wrapError{msg, p.wrapped[0]}
	}
	return &wrapErrors{msg, p.wrapped}
}

type plainError struct{ msg string }

func (e *plainError) Error() string { return e.msg }

type wrapError struct {
	msg string
	err error
}

func (e *wrapError) Error() string { return e.msg }
func (e *wrapError) Unwrap() error { return e.err }

type wrapErrors struct {
	msg  string
	errs []error
}

func (e *wrapErrors) Error() string   { return e.msg }
func (e *wrapErrors) Unwrap() []error { return e.errs }

type stringer interface{ String() string }

// printer holds the output and the state of the verb being formatted.
type printer struct {
	buf     []byte
	errorf  bool
	wrapped []error

	minus, zero bool
	wid, prec   int // -1 when absent
}

// add appends s. It is not inlined: one copy of append's code instead of
// one per call is a third of this package's size in a Wasm module.
//
//go:noinline
func (p *printer) add(s string) { p.buf = append(p.buf, s...) }

func (p *printer) printf(format string, args []any) {
	n := 0 // the next argument
	for i := 0; i < len(format); {
		j := strings.IndexByte(format[i:], '%')
		if j < 0 {
			p.add(format[i:])
			break
		}
		p.add(format[i : i+j])
		i += j + 1
		p.minus, p.zero = false, false
		odd := false // a flag this package does not implement
	flags:
		for ; i < len(format); i++ {
			switch format[i] {
			case '-':
				p.minus = true
			case '0':
				p.zero = true
			case '+', '#', ' ', '*':
				odd = true
			default:
				break flags
			}
		}
		p.wid, i = number(format, i)
		p.prec = -1
		if i < len(format) && format[i] == '.' {
			p.prec, i = number(format, i+1)
			p.prec = max(p.prec, 0)
		}
		if i >= len(format) {
			p.add("%!(NOVERB)")
			break
		}
		verb, size := utf8.DecodeRuneInString(format[i:])
		i += size
		switch {
		case verb == '%':
			p.add("%")
		case n >= len(args):
			p.mark(verb, "MISSING")
		case odd:
			p.mark(verb, "unsupported flag")
			n++
		default:
			p.arg(verb, args[n])
			n++
		}
	}
	if n < len(args) {
		p.minus, p.zero, p.wid, p.prec = false, false, -1, -1
		p.add("%!(EXTRA ")
		for i, a := range args[n:] {
			if i > 0 {
				p.add(", ")
			}
			p.arg(0, a)
		}
		p.add(")")
	}
}

// number reads the decimal number at s[i:], or returns -1 if there is none.
func number(s string, i int) (n, end int) {
	n = -1
	for ; i < len(s) && '0' <= s[i] && s[i] <= '9'; i++ {
		n = min(max(n, 0)*10+int(s[i]-'0'), 1e6)
	}
	return n, i
}

// arg formats one argument. Verb 0 writes it as fmt writes an extra
// argument, with the name of its type: "int=3".
func (p *printer) arg(verb rune, a any) {
	if err, ok := a.(error); ok && verb == 'w' && p.errorf {
		p.wrapped = append(p.wrapped, err)
		verb = 'v'
	}
	switch a := a.(type) {
	case nil:
		if verb == 'v' || verb == 0 {
			p.pad("<nil>", p.zero)
			return
		}
		p.mark(verb, "<nil>")
	case string:
		p.str(verb, a)
	case []byte:
		if verb == 's' || verb == 'q' || verb == 'x' {
			p.str(verb, string(a))
			return
		}
		if verb == 0 {
			p.add("[]uint8=")
			verb = 'v'
		}
		p.add("[")
		for i, c := range a {
			if i > 0 {
				p.add(" ")
			}
			p.integer(verb, uint64(c), false, "uint8")
		}
		p.add("]")
	case []string:
		if verb == 0 {
			p.add("[]string=")
			verb = 'v'
		}
		p.add("[")
		for i, s := range a {
			if i > 0 {
				p.add(" ")
			}
			p.str(verb, s)
		}
		p.add("]")
	case bool:
		if verb != 'v' && verb != 't' {
			p.bad(verb, "bool", a)
			return
		}
		p.pad(strconv.FormatBool(a), p.zero)
	case int:
		p.signed(verb, int64(a), "int")
	case int32:
		p.signed(verb, int64(a), "int32")
	case int64:
		p.signed(verb, a, "int64")
	case uint8:
		p.integer(verb, uint64(a), false, "uint8")
	case uint32:
		p.integer(verb, uint64(a), false, "uint32")
	case uint64:
		p.integer(verb, a, false, "uint64")
	case float64:
		if verb != 'v' {
			p.bad(verb, "float64", a)
			return
		}
		s := strconv.FormatFloat(a, 'g', p.prec, 64)
		p.number(s, s != "NaN" && s != "+Inf" && s != "-Inf")
	case error:
		p.method(verb, a.Error())
	case stringer:
		p.method(verb, a.String())
	default:
		p.mark(verb, "unsupported type")
	}
}

func (p *printer) str(verb rune, s string) {
	if p.prec >= 0 {
		if verb == 'x' { // the precision counts bytes
			s = s[:min(p.prec, len(s))]
		} else {
			s = truncate(s, p.prec)
		}
	}
	switch verb {
	case 's', 'v':
	case 'q':
		s = strconv.Quote(s)
	case 'x':
		b := make([]byte, 0, 2*len(s))
		for i := 0; i < len(s); i++ {
			b = append(b, hex[s[i]>>4], hex[s[i]&15])
		}
		s = string(b)
	default:
		p.bad(verb, "string", s)
		return
	}
	p.pad(s, p.zero)
}

const hex = "0123456789abcdef"

// method formats the result of an Error or String method: fmt calls them
// for %v, %s, %q and %x only.
func (p *printer) method(verb rune, s string) {
	switch verb {
	case 'v', 's', 'q', 'x':
		p.str(verb, s)
	case 0:
		p.add(s)
	default:
		p.mark(verb, "unsupported verb")
	}
}

func (p *printer) signed(verb rune, v int64, name string) {
	if v < 0 {
		p.integer(verb, -uint64(v), true, name)
		return
	}
	p.integer(verb, uint64(v), false, name)
}

// integer formats an integer of magnitude u, negative if neg, whose type
// fmt calls name.
func (p *printer) integer(verb rune, u uint64, neg bool, name string) {
	base := 10
	switch verb {
	case 'd', 'v':
	case 'x':
		base = 16
	case 'q': // a character literal
		r := rune(u)
		if neg || u > utf8.MaxRune {
			r = utf8.RuneError
		}
		p.pad(strconv.QuoteRune(r), p.zero)
		return
	default:
		p.badName(verb, name)
		p.integer('v', u, neg, name)
		p.badEnd(verb)
		return
	}
	s := strconv.FormatUint(u, base)
	if p.prec == 0 && u == 0 {
		s = ""
	}
	if len(s) < p.prec {
		s = repeat('0', p.prec-len(s)) + s
	}
	if neg {
		s = "-" + s
	}
	p.number(s, p.prec < 0)
}

// number pads the number s, with zeros after its sign for the flag '0' if
// zeros is set.
func (p *printer) number(s string, zeros bool) {
	if zeros && p.zero && !p.minus {
		sign := ""
		if s[0] == '-' || s[0] == '+' {
			sign, s = s[:1], s[1:]
		}
		if n := p.wid - len(sign) - len(s); n > 0 {
			s = repeat('0', n) + s
		}
		s = sign + s
	}
	p.pad(s, false)
}

// pad writes s padded to the width, with spaces, or zeros if zero is set.
func (p *printer) pad(s string, zero bool) {
	n := p.wid - utf8.RuneCountInString(s)
	if n <= 0 {
		p.add(s)
		return
	}
	fill := byte(' ')
	if zero && !p.minus {
		fill = '0'
	}
	if p.minus {
		p.add(s)
		s = ""
	}
	p.add(repeat(fill, n))
	p.add(s)
}

// bad writes a verb that does not apply to its argument as fmt does:
// "%!d(string=x)", the value formatted with %v and the verb's flags.
func (p *printer) bad(verb rune, name string, a any) {
	p.badName(verb, name)
	p.arg('v', a)
	p.badEnd(verb)
}

func (p *printer) badName(verb rune, name string) {
	if verb != 0 {
		p.add("%!")
		p.buf = utf8.AppendRune(p.buf, verb)
		p.add("(")
	}
	p.add(name + "=")
}

func (p *printer) badEnd(verb rune) {
	if verb != 0 {
		p.add(")")
	}
}

// mark writes a marker "%!v(what)", for what fmt writes in its own way or
// this package does not format.
func (p *printer) mark(verb rune, what string) {
	if verb != 0 {
		p.add("%!")
		p.buf = utf8.AppendRune(p.buf, verb)
	}
	p.add("(" + what + ")")
}

// repeat returns n copies of c (smaller in Wasm than strings.Repeat).
func repeat(c byte, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = c
	}
	return string(b)
}

// truncate returns the first n runes of s.
func truncate(s string, n int) string {
	for i := range s {
		if n == 0 {
			return s[:i]
		}
		n--
	}
	return s
}
