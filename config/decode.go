package config

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// node is one mapping of the settings tree. Its readers convert a value to
// the wanted type, record the key as known, and report a value of the wrong
// type at its key; an absent or null value reads as the zero value.
type node struct {
	r    *report
	path string         // canonical key path of this mapping, "" at the root
	m    map[string]any // lower-cased keys, as viper leaves them; nil when absent
}

// value returns the value at key (nil when absent) and its full key path.
func (n node) value(key string) (any, string) {
	path := joinPath(n.path, key)
	n.r.known[strings.ToLower(path)] = path
	return n.m[strings.ToLower(key)], path
}

// has reports whether key holds a non-null value.
func (n node) has(key string) bool {
	v, _ := n.value(key)
	return v != nil
}

// child returns the mapping at key.
func (n node) child(key string) node {
	v, path := n.value(key)
	m, ok := v.(map[string]any)
	if !ok && v != nil {
		n.r.breakf(path, "must be a mapping, not %s", describe(v))
	}
	return node{r: n.r, path: path, m: m}
}

// items returns the list of mappings at key, one node per item (an item
// that is not a mapping is reported and reads as empty) so that indexes in
// the result match the file.
func (n node) items(key string) []node {
	list, path := n.list(key)
	out := make([]node, len(list))
	for i, v := range list {
		item := fmt.Sprintf("%s[%d]", path, i)
		n.r.known[strings.ToLower(item)] = item
		m, ok := v.(map[string]any)
		if !ok {
			n.r.breakf(item, "must be a mapping, not %s", describe(v))
		}
		out[i] = node{r: n.r, path: item, m: m}
	}
	return out
}

func (n node) list(key string) ([]any, string) {
	v, path := n.value(key)
	switch v := v.(type) {
	case nil:
		return nil, path
	case []any:
		return v, path
	case []string: // a default
		out := make([]any, len(v))
		for i, s := range v {
			out[i] = s
		}
		return out, path
	}
	n.r.breakf(path, "must be a list, not %s", describe(v))
	return nil, path
}

// strs returns the list of strings at key.
func (n node) strs(key string) []string {
	list, path := n.list(key)
	out := make([]string, len(list))
	for i, v := range list {
		item := fmt.Sprintf("%s[%d]", path, i)
		n.r.known[strings.ToLower(item)] = item
		s, ok := scalarString(v)
		if !ok {
			n.r.breakf(item, "must be a string, not %s", describe(v))
		}
		out[i] = s
	}
	return out
}

// str returns the string at key; numbers and booleans read as their text.
func (n node) str(key string) string {
	v, path := n.value(key)
	s, ok := scalarString(v)
	if !ok {
		n.r.breakf(path, "must be a string, not %s", describe(v))
	}
	return s
}

func (n node) boolean(key string) bool {
	v, path := n.value(key)
	switch v := v.(type) {
	case nil:
		return false
	case bool:
		return v
	case string:
		if b, err := strconv.ParseBool(v); err == nil {
			return b
		}
	}
	n.r.breakf(path, "must be true or false, not %s", describe(v))
	return false
}

func (n node) integer(key string) int {
	v, path := n.value(key)
	f, ok := toFloat(v)
	if !ok || f != math.Trunc(f) || math.Abs(f) > 1<<53 {
		n.r.breakf(path, "must be an integer, not %s", describe(v))
		return 0
	}
	return int(f)
}

func (n node) number(key string) float64 {
	v, path := n.value(key)
	f, ok := toFloat(v)
	if !ok {
		n.r.breakf(path, "must be a number, not %s", describe(v))
	}
	return f
}

// duration reads Go duration syntax ("2s", "24h"); a bare 0 is allowed.
func (n node) duration(key string) time.Duration {
	v, path := n.value(key)
	if v == nil {
		return 0
	}
	s, ok := scalarString(v)
	d, err := time.ParseDuration(s)
	if !ok || err != nil {
		n.r.breakf(path, "must be a duration such as 30s or 24h, not %s", describe(v))
	}
	return d
}

func scalarString(v any) (string, bool) {
	switch v := v.(type) {
	case nil:
		return "", true
	case string:
		return v, true
	case bool, int, int64, uint64, float64:
		return fmt.Sprint(v), true
	}
	return "", false
}

func toFloat(v any) (float64, bool) {
	switch v := v.(type) {
	case nil:
		return 0, true
	case int:
		return float64(v), true
	case int64:
		return float64(v), true
	case uint64:
		return float64(v), true
	case float64:
		return v, true
	case string:
		f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		return f, err == nil
	}
	return 0, false
}

// describe names a bad value for a message.
func describe(v any) string {
	switch v := v.(type) {
	case map[string]any:
		return "a mapping"
	case []any:
		return "a list"
	case string:
		return strconv.Quote(v)
	default:
		return fmt.Sprint(v)
	}
}
