// Package text formats messages as package fmt does, for the verbs and
// argument types this module's messages use, without fmt's reflection.
// A plugin that links fmt carries fmt's printer and, through it, reflect's
// value printing; the filters' configuration errors and log lines need
// neither.
//
// The verbs are %s, %q, %v, %d and, in Errorf, %w; %% is a literal '%'.
// The arguments are strings, []byte, []string, bool, int, int32, int64,
// uint8 (byte), uint32, uint64, float64 (as strconv's shortest 'g' format,
// which is fmt's %v), nil, errors and values with a String method
// (time.Duration, for one). For these the output is fmt's, byte for byte.
//
// Anything else is not an error: a verb that does not apply to its
// argument is written as fmt writes it ("%!d(string=x)"), and an argument
// of another type (a named string type among them: convert it first), a
// flag, a width or a precision is written as a marker "%!v(unsupported
// ...)", visible in the message rather than a panic.
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

// printer holds the output.
type printer struct {
	buf     []byte
	errorf  bool
	wrapped []error
}

// add appends s. It is not inlined: one copy of append's code instead of
// one per call is a third of this package's size in a Wasm module.
//
//go:noinline
func (p *printer) add(s string) { p.buf = append(p.buf, s...) }

func (p *printer) printf(format string, args []any) {
	n := 0 // the next argument
	for {
		i := strings.IndexByte(format, '%')
		if i < 0 {
			p.add(format)
			break
		}
		p.add(format[:i])
		format = format[i+1:]
		if format == "" {
			p.add("%!(NOVERB)")
			break
		}
		verb, size := utf8.DecodeRuneInString(format)
		format = format[size:]
		switch {
		case verb == '%':
			p.add("%")
		case strings.ContainsRune("+-# 0123456789.*", verb):
			p.mark(verb, "unsupported flag, width or precision")
			// Skip the rest of the directive; its argument stays unused.
			for format != "" && strings.IndexByte("+-# 0123456789.*", format[0]) >= 0 {
				format = format[1:]
			}
			if format != "" {
				_, size := utf8.DecodeRuneInString(format)
				format = format[size:]
			}
			n++
		case n >= len(args):
			p.mark(verb, "MISSING")
		default:
			p.arg(verb, args[n])
			n++
		}
	}
	if n < len(args) {
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
			p.add("<nil>")
			return
		}
		p.mark(verb, "<nil>")
	case string:
		p.str(verb, a)
	case []byte:
		if verb == 's' || verb == 'q' {
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
		if verb != 'v' {
			p.bad(verb, "bool", a)
			return
		}
		p.add(strconv.FormatBool(a))
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
		p.add(strconv.FormatFloat(a, 'g', -1, 64))
	case error:
		p.method(verb, a.Error())
	case stringer:
		p.method(verb, a.String())
	default:
		p.mark(verb, "unsupported type")
	}
}

func (p *printer) str(verb rune, s string) {
	switch verb {
	case 's', 'v':
		p.add(s)
	case 'q':
		p.add(strconv.Quote(s))
	default:
		p.bad(verb, "string", s)
	}
}

// method formats the result of an Error or String method: fmt calls them
// for %v, %s and %q (and %x, which this package lacks).
func (p *printer) method(verb rune, s string) {
	switch verb {
	case 'v', 's', 'q':
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
	switch verb {
	case 'd', 'v':
		if neg {
			p.add("-")
		}
		p.add(strconv.FormatUint(u, 10))
	case 'q': // a character literal
		r := rune(u)
		if neg || u > utf8.MaxRune {
			r = utf8.RuneError
		}
		p.add(strconv.QuoteRune(r))
	default:
		p.badName(verb, name)
		p.integer('v', u, neg, name)
		p.badEnd(verb)
	}
}

// bad writes a verb that does not apply to its argument as fmt does:
// "%!d(string=x)".
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
