package config

import (
	"fmt"
	"strings"

	"github.com/pelletier/go-toml/v2/unstable"
)

// tomlScan walks a TOML document's expressions, keeping what the tables
// and arrays of tables written so far mean as key paths.
type tomlScan struct {
	keyScan
	p       *unstable.Parser
	current string            // the key path of the table being filled
	arrays  map[string]int    // lower-cased array-of-tables path → items so far
	seen    map[string]string // lower-cased key path → the spelling first seen
	lines   map[string]int    // lower-cased key path → the line first seen
}

// tomlPositions parses TOML a second time to learn the line and spelling
// of every key and list item, as yamlPositions does for YAML.
func tomlPositions(data []byte) (keyScan, error) {
	s := &tomlScan{
		keyScan: keyScan{ps: positions{}},
		p:       &unstable.Parser{},
		arrays:  map[string]int{}, seen: map[string]string{}, lines: map[string]int{},
	}
	s.p.Reset(data)
	for s.p.NextExpression() {
		e := s.p.Expression()
		switch e.Kind {
		case unstable.Table:
			s.current = s.resolve(keyOf(e.Key()), s.line(e))
		case unstable.ArrayTable:
			keys := keyOf(e.Key())
			parent := s.resolve(keys[:len(keys)-1], s.line(e))
			path := s.key(parent, keys[len(keys)-1], s.line(e))
			lower := strings.ToLower(path)
			i := s.arrays[lower]
			s.arrays[lower] = i + 1
			s.current = fmt.Sprintf("%s[%d]", path, i)
			s.ps.add(s.current, s.line(e))
		case unstable.KeyValue:
			s.keyValue(s.current, e)
		}
	}
	return s.keyScan, s.p.Error()
}

// resolve turns the keys of a table header into a path: a key naming an
// array of tables means its last item, as in TOML.
func (s *tomlScan) resolve(keys []string, line int) string {
	path := ""
	for _, k := range keys {
		path = s.key(path, k, line)
		if n, ok := s.arrays[strings.ToLower(path)]; ok {
			path = fmt.Sprintf("%s[%d]", path, n-1)
		}
	}
	return path
}

// key records key k under parent at line and returns its path. A key
// spelt differently from one already there in another case is reported:
// viper folds case and would keep only one of them.
func (s *tomlScan) key(parent, k string, line int) string {
	s.checkKey(k, false, line)
	path := joinPath(parent, k)
	lower := strings.ToLower(path)
	if first, ok := s.seen[lower]; ok && first != path {
		s.twice = append(s.twice, Problem{Line: line, Key: path,
			Msg: fmt.Sprintf("same key as %q on line %d (keys are case-insensitive)", first, s.lines[lower])})
	} else if !ok {
		s.seen[lower], s.lines[lower] = path, line
	}
	s.ps.addKey(parent, k, line)
	return path
}

// keyValue records a key = value line under table and what its value holds.
func (s *tomlScan) keyValue(table string, e *unstable.Node) {
	keys := keyOf(e.Key())
	path := table
	for _, k := range keys {
		path = s.key(path, k, s.line(e))
	}
	s.value(path, e.Value(), s.line(e))
}

// value records the items of an array and the keys of an inline table.
func (s *tomlScan) value(path string, v *unstable.Node, line int) {
	switch v.Kind {
	case unstable.Array:
		i := 0
		for it := v.Children(); it.Next(); {
			item := it.Node()
			if item.Kind == unstable.Comment {
				continue
			}
			p := fmt.Sprintf("%s[%d]", path, i)
			itemLine := s.lineOr(item, line)
			s.ps.add(p, itemLine)
			s.value(p, item, itemLine)
			i++
		}
	case unstable.InlineTable:
		for it := v.Children(); it.Next(); {
			if kv := it.Node(); kv.Kind == unstable.KeyValue {
				s.keyValue(path, kv)
			}
		}
	}
}

// line is the line of the first byte of n, or of its first part that
// the parser kept a place for.
func (s *tomlScan) line(n *unstable.Node) int { return s.lineOr(n, 0) }

func (s *tomlScan) lineOr(n *unstable.Node, fallback int) int {
	if n.Raw.Length > 0 {
		return s.p.Shape(n.Raw).Start.Line
	}
	for it := n.Children(); it.Next(); {
		if l := s.lineOr(it.Node(), 0); l > 0 {
			return l
		}
	}
	return fallback
}

// keyOf returns the parts of a dotted key.
func keyOf(it unstable.Iterator) []string {
	var keys []string
	for it.Next() {
		keys = append(keys, string(it.Node().Data))
	}
	return keys
}
