package azure

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// node is a value being read, with its path from the file's top. Readers
// report a missing or mistyped value at the node's path and return the zero
// value, so one pass finds every problem of a file.
type node struct {
	c    *collector
	file string
	path string
	v    *jvalue // nil when absent
}

func (n node) at() loc { return loc{n.file, n.path} }

// present reports whether the value is there and not null.
func (n node) present() bool { return n.v != nil && n.v.kind != kindNull }

func (n node) is(k kind) bool { return n.v != nil && n.v.kind == k }

func (n node) errorf(format string, args ...any) { n.c.errorf(n.at(), format, args...) }

// get returns the member key of an object, matched without regard to case
// (Azure's own JSON readers ignore it, and ARM and the CLI spell some keys
// differently), with the path spelt as the file writes it. A key written
// twice is reported: which one Azure meant is unknowable.
func (n node) get(key string) node {
	child := node{c: n.c, file: n.file, path: n.path + "." + key}
	if n.path == "" {
		child.path = key
	}
	if !n.is(kindObject) {
		return child
	}
	found := -1
	for i, k := range n.v.keys {
		if !strings.EqualFold(k, key) {
			continue
		}
		p := joinKey(n.path, k)
		if found >= 0 {
			n.c.errorf(loc{n.file, p}, "written twice in one object (also as %q)", n.v.keys[found])
			continue
		}
		found = i
		child.path, child.v = p, n.v.vals[i]
	}
	return child
}

func joinKey(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// items returns the elements of a list; absent or null is an empty list.
func (n node) items() []node {
	if !n.present() {
		return nil
	}
	if !n.is(kindArray) {
		n.errorf("must be a list, not %s", n.describe())
		return nil
	}
	out := make([]node, len(n.v.arr))
	for i, v := range n.v.arr {
		out[i] = node{c: n.c, file: n.file, path: fmt.Sprintf("%s[%d]", n.path, i), v: v}
	}
	return out
}

// str returns a string value; absent or null reads as "" (and is reported
// when required, as is "").
func (n node) str(required bool) string {
	switch {
	case !n.present():
		if required {
			n.errorf("required")
		}
		return ""
	case !n.is(kindString):
		n.errorf("must be a string, not %s", n.describe())
		return ""
	case required && n.v.text == "":
		n.errorf("required, and empty")
	}
	return n.v.text
}

// boolean returns a true or false value; absent or null reads as false.
func (n node) boolean() bool {
	switch {
	case !n.present():
		return false
	case !n.is(kindBool):
		n.errorf("must be true or false, not %s", n.describe())
		return false
	}
	return n.v.b
}

// integer returns a whole number in [lo, hi]. ok is false, with the problem
// reported, when the value is missing (and required), not a whole number or
// out of range.
func (n node) integer(required bool, lo, hi int64) (v int64, ok bool) {
	switch {
	case !n.present():
		if required {
			n.errorf("required")
		}
		return 0, false
	case !n.is(kindNumber):
		n.errorf("must be a whole number, not %s", n.describe())
		return 0, false
	}
	// JSON allows 1e3 and 10.0 for whole numbers; every range here is far
	// inside what a float64 holds exactly.
	f, err := strconv.ParseFloat(n.v.text, 64)
	tiny := errors.Is(err, strconv.ErrRange) && f == 0 // 1e-999 underflows to 0
	if err != nil && !errors.Is(err, strconv.ErrRange) || tiny || f != math.Trunc(f) {
		n.errorf("must be a whole number, not %s", n.v.text)
		return 0, false
	}
	if f < float64(lo) || f > float64(hi) {
		n.errorf("%s is out of range (%d to %d)", n.v.text, lo, hi)
		return 0, false
	}
	return int64(f), true
}

// describe names a value of the wrong type for a message.
func (n node) describe() string {
	switch n.v.kind {
	case kindString:
		return strconv.Quote(n.v.text)
	case kindNumber:
		return n.v.text
	case kindBool:
		return strconv.FormatBool(n.v.b)
	}
	return n.v.kind.String()
}
