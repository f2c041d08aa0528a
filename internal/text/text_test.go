package text

import (
	"errors"
	"fmt"
	"io/fs"
	"math"
	"strings"
	"testing"
	"time"
)

type name string

func (n name) String() string { return "name:" + string(n) }

// values are the argument types the package formats, with the edge cases
// of each.
var values = []any{
	"", "abc", "héllo", "tab\there\n\x00\xff", `quote"back\`, "\u2028",
	[]byte(nil), []byte("ab"), []byte{0, 255},
	[]string(nil), []string{}, []string{"a"}, []string{"a", `b"c`, ""},
	true, false,
	0, 7, -3, 255, math.MaxInt64, math.MinInt64,
	int32(-70000), int64(1) << 40, int64(math.MinInt64),
	uint8(0), uint8(7), uint8(255), uint32(1) << 31, uint64(math.MaxUint64),
	0.0, 2.5, -2.5, 1e21, 1e20, 1e-5, 123456789.0, 0.1 + 0.2, math.Inf(1), math.Inf(-1), math.NaN(), math.Copysign(0, -1),
	errors.New("boom"), fmt.Errorf("wrapped: %w", fs.ErrNotExist),
	time.Duration(0), 1500 * time.Millisecond, -time.Hour, 90 * time.Second,
	name("x"),
	nil,
}

// formats are the verbs, and two that no argument takes.
var formats = []string{"%s", "%q", "%v", "%d", "%t", "%z"}

// differs says whether this package is allowed to differ from fmt for
// format and v: it writes a marker instead, where fmt would print a value's
// representation by reflection or a verb this package does not implement.
func differs(format string, v any) bool {
	verb := format[len(format)-1]
	switch v.(type) {
	case error, fmt.Stringer:
		// fmt prints the value by reflection for a verb other than %v %s
		// %q %x.
		return verb != 'v' && verb != 's' && verb != 'q'
	case bool:
		return verb == 't' // fmt's other verb for bools
	}
	return false
}

func TestSprintfAsFmt(t *testing.T) {
	for _, f := range formats {
		for _, v := range values {
			got, want := Sprintf(f, v), fmt.Sprintf(f, v)
			if differs(f, v) {
				if got != want && !strings.Contains(got, "%!") {
					t.Errorf("Sprintf(%q, %#v) = %q: neither fmt's %q nor a %%! marker", f, v, got, want)
				}
				continue
			}
			if got != want {
				t.Errorf("Sprintf(%q, %#v) = %q, fmt has %q", f, v, got, want)
			}
		}
	}
}

func TestMessagesAsFmt(t *testing.T) {
	for _, c := range []struct {
		format string
		args   []any
	}{
		{"plain", nil},
		{"", nil},
		{"100%%", nil},
		{"%%%d%%", []any{5}},
		{"%s: must be at most %d, not %d", []any{"rules[0].limit", 100, int64(-4)}},
		{"must be one of %s, not %q (%v)", []any{"a, b", "c\n", errors.New("bad")}},
		{"the value of %s holds the control character %d", []any{"%REQ(x)%", byte(10)}},
		{"exp %s, now %s, clock skew %s", []any{"1", "2", 30 * time.Second}},
		{"aud %s names none of %q", []any{`"x"`, []string{"a", "b"}}},
		{"%d %d", []any{1}},
		{"%d", []any{1, "x"}},
		{"%d", []any{1, "x", 2, nil}},
		{"%s", nil},
		{"end %", []any{}},
		{"%!", []any{1}},
		{"%z %s", []any{true, 2.5}},
		{"héllo %s wörld %q", []any{"ü", "ö"}},
	} {
		got, want := Sprintf(c.format, c.args...), fmt.Sprintf(c.format, c.args...)
		if got != want {
			t.Errorf("Sprintf(%q, %#v) = %q, fmt has %q", c.format, c.args, got, want)
		}
		if err := Errorf(c.format, c.args...); err.Error() != want || errors.Unwrap(err) != nil {
			t.Errorf("Errorf(%q, %#v) = %q (wraps %v), want %q wrapping nothing", c.format, c.args, err, errors.Unwrap(err), want)
		}
	}
}

func TestUnsupportedIsVisible(t *testing.T) {
	type point struct{ x, y int }
	for _, c := range []struct {
		format string
		arg    any
	}{
		{"%v", point{1, 2}},
		{"%s", &point{}},
		{"%v", map[string]int{}},
		{"%+d", 3},
		{"%#x", 3},
		{"%*d", 3},
		{"%5s", "x"},
		{"%-5s", "x"},
		{"%02x", byte(3)},
		{"%.2s", "abc"},
		{"%x", "abc"},
		{"%t", true},
		{"%w", errors.New("x")}, // %w outside Errorf, as fmt
		{"%d", time.Second},
		{"%v", float32(0.1)},
		{"%v", uintptr(42)},
		{"%v", uint(42)},
		{"%v", int8(42)},
		{"%v", struct{}{}},
	} {
		got := Sprintf(c.format, c.arg)
		if !strings.Contains(got, "%!") {
			t.Errorf("Sprintf(%q, %#v) = %q, want a %%! marker", c.format, c.arg, got)
		}
	}
}

func TestErrorfWraps(t *testing.T) {
	err := Errorf("keys[%d]: %w", 2, fs.ErrNotExist)
	if want := fmt.Errorf("keys[%d]: %w", 2, fs.ErrNotExist).Error(); err.Error() != want {
		t.Errorf("Errorf = %q, want %q", err, want)
	}
	if errors.Unwrap(err) != fs.ErrNotExist || !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Errorf(%%w) does not wrap: Unwrap = %v", errors.Unwrap(err))
	}
	var pe *fs.PathError
	if !errors.As(Errorf("at: %w", &fs.PathError{Op: "open", Path: "p", Err: fs.ErrPermission}), &pe) || pe.Path != "p" {
		t.Errorf("errors.As does not find the wrapped *fs.PathError")
	}
	two := Errorf("%w and %w", fs.ErrNotExist, fs.ErrPermission)
	if !errors.Is(two, fs.ErrNotExist) || !errors.Is(two, fs.ErrPermission) || two.Error() != "file does not exist and permission denied" {
		t.Errorf("Errorf with two %%w = %q, wrapping both: %v %v", two, errors.Is(two, fs.ErrNotExist), errors.Is(two, fs.ErrPermission))
	}
	for _, arg := range []any{"not an error", nil} {
		w := "%w" // a variable, for vet: the argument is deliberately not an error
		got, want := Errorf(w, arg), fmt.Errorf(w, arg)
		if got.Error() != want.Error() || errors.Unwrap(got) != nil {
			t.Errorf("Errorf(%%w, %#v) = %q, fmt has %q", arg, got, want)
		}
	}
}

func TestAllocs(t *testing.T) {
	n := testing.AllocsPerRun(100, func() { _ = Sprintf("%s: must be at most %d, not %q", "a", 5, "b") })
	if n > 6 {
		t.Errorf("Sprintf allocates %v times", n)
	}
}
