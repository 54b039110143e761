package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/pelletier/go-toml/v2"
	"go.yaml.in/yaml/v3"
)

// position is where a key was written: its exact spelling (viper folds
// case) and its line.
type position struct {
	key  string // full key path as written, e.g. "zones[0].links[1].resolutionPolicy"
	line int
}

// positions maps lower-cased key paths, as viper sees them, to where the
// user wrote them. List items are paths too: "zones[0].records[2]".
type positions map[string]position

// keyScan is what a second reading of YAML learns: where every key is, and
// the keys written twice in one mapping in different case ("zones" and
// "Zones"), which viper would silently merge into one.
type keyScan struct {
	ps    positions
	twice []Problem // File left for the caller
	// visits counts the nodes walked, aliased those walked through an
	// alias, aliasLine is the line of the outermost alias being walked,
	// and bomb is set when aliases expand too much (aliasBomb).
	visits, aliased, inAlias, aliasLine int
	bomb                                *Problem
	// badKeys are keys viper cannot place (checkKey); File left for the
	// caller.
	badKeys []Problem
}

// checkKey reports a key that viper would turn into a path with an empty
// part, where no line could be found for it again: viper reads a dot in
// a key as nesting ("server.http" is http under server), so a key may not
// be empty or null, start or end with a dot, or hold two dots in a row.
func (s *keyScan) checkKey(name string, null bool, line int) {
	if null || name == "" || strings.HasPrefix(name, ".") || strings.HasSuffix(name, ".") || strings.Contains(name, "..") {
		s.badKeys = append(s.badKeys, Problem{Line: line, Key: name,
			Msg: "not a key name: a dot in a key nests it (server.http is http under server), so a key can be neither empty nor null, nor start or end with a dot, nor hold two in a row"})
	}
}

// yamlPositions parses YAML (or JSON, which YAML reads) a second time into
// a node tree to learn the line and spelling of every key and list item.
func yamlPositions(data []byte) (keyScan, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return keyScan{}, err
	}
	s := keyScan{ps: positions{}}
	for _, n := range doc.Content {
		s.walk(n, "")
	}
	return s, nil
}

// walk records every key and item below n. Keys of "<<" merges are walked
// after the mapping's own keys so that the keys written in place win.
func (s *keyScan) walk(n *yaml.Node, path string) {
	if s.bomb != nil {
		return
	}
	s.visits++
	if s.inAlias > 0 {
		s.aliased++
	}
	if aliasBomb(s.visits, s.aliased) {
		s.bomb = &Problem{Line: s.aliasLine, Msg: "document contains excessive aliasing: its aliases expand to too many nodes"}
		return
	}
	switch n.Kind {
	case yaml.AliasNode:
		if s.inAlias == 0 {
			s.aliasLine = n.Line
		}
		s.inAlias++
		s.walk(n.Alias, path)
		s.inAlias--
	case yaml.MappingNode:
		var merges []*yaml.Node
		seen := map[string]*yaml.Node{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if k.Tag == "!!merge" {
				merges = append(merges, v)
				continue
			}
			s.checkKey(k.Value, k.Tag == "!!null", k.Line)
			p := joinPath(path, k.Value)
			if first, ok := seen[strings.ToLower(k.Value)]; ok {
				s.twice = append(s.twice, Problem{Line: k.Line, Key: p,
					Msg: fmt.Sprintf("same key as %q on line %d (keys are case-insensitive)", first.Value, first.Line)})
			}
			seen[strings.ToLower(k.Value)] = k
			s.ps.addKey(path, k.Value, k.Line)
			s.walk(v, p)
		}
		for _, m := range merges {
			s.walk(m, path)
		}
	case yaml.SequenceNode:
		for i, item := range n.Content {
			p := fmt.Sprintf("%s[%d]", path, i)
			s.ps.add(p, item.Line)
			s.walk(item, p)
		}
	}
}

// aliasBomb reports whether a document whose walk reached visits nodes,
// aliased of them through aliases, is an alias bomb ("billion laughs"): a
// few lines whose aliases of aliases expand exponentially. The threshold
// is the one the YAML decoder behind viper applies (yaml.v3: up to 99% of
// aliased nodes while small, falling to 10% at 4 million), so that no
// document viper decodes is refused here, and none it refuses costs more
// than a moment here.
func aliasBomb(visits, aliased int) bool {
	if aliased <= 100 || visits <= 1000 {
		return false
	}
	const small, large = 400_000, 4_000_000
	allowed := 0.99
	switch {
	case visits >= large:
		allowed = 0.10
	case visits > small:
		allowed = 0.99 - 0.89*float64(visits-small)/float64(large-small)
	}
	return float64(aliased)/float64(visits) > allowed
}

// addKey records key k of the mapping at path. Viper nests a key at its
// dots, so every path up to each dot is written on this line too (unless
// written before): "u.v: 1" also writes u.
func (ps positions) addKey(path, k string, line int) {
	for i := range len(k) {
		if k[i] == '.' {
			ps.add(joinPath(path, k[:i]), line)
		}
	}
	ps.add(joinPath(path, k), line)
}

// add keeps the first position of a path; only merges write one twice.
func (ps positions) add(path string, line int) {
	lower := strings.ToLower(path)
	if _, ok := ps[lower]; !ok {
		ps[lower] = position{key: path, line: line}
	}
}

var yamlErrLine = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)

// syntaxProblems turns a parser's error into problems, each with the line
// where the parser says it stopped.
func syntaxProblems(file string, data []byte, err error) Errors {
	p := Problem{File: file, Msg: err.Error()}
	var (
		jsonErr *json.SyntaxError
		tomlErr *toml.DecodeError
		yamlErr *yaml.TypeError
	)
	switch {
	case errors.As(err, &jsonErr):
		p.Line = 1 + strings.Count(string(data[:min(int(jsonErr.Offset), len(data))]), "\n")
		p.Msg = jsonErr.Error()
	case errors.As(err, &tomlErr):
		p.Line, _ = tomlErr.Position()
		p.Msg = tomlErr.Error()
	case errors.As(err, &yamlErr): // e.g. a key written twice
		out := make(Errors, len(yamlErr.Errors))
		for i, msg := range yamlErr.Errors {
			out[i] = yamlProblem(file, data, msg, false)
		}
		return out
	default:
		return Errors{yamlProblem(file, data, p.Msg, true)}
	}
	return Errors{p}
}

// yamlProblem takes the line out of a YAML error message and names the key
// around it; a syntax error also says what usually causes it. The YAML
// parser leaves the line out for problems on the first line (it counts
// lines from 0 and reads 0 as unknown) and for text it cannot read at all
// (bad UTF-8, control characters): those are located here.
func yamlProblem(file string, data []byte, msg string, syntax bool) Problem {
	line, text := 0, strings.TrimPrefix(msg, "yaml: ")
	if m := yamlErrLine.FindStringSubmatch(msg); m != nil {
		line, _ = strconv.Atoi(m[1])
		text = m[2]
	} else {
		line = 1 + bytes.Count(data[:unreadable(data)], []byte("\n"))
	}
	if syntax {
		return yamlSyntax(file, data, line, text)
	}
	return Problem{File: file, Line: line, Key: keyAround(data, line), Msg: text}
}

// unreadable returns the offset of the first character YAML refuses to
// read (invalid UTF-8, or outside its printable set), or 0 when there is
// none.
func unreadable(data []byte) int {
	for i := 0; i < len(data); {
		r, size := utf8.DecodeRune(data[i:])
		ok := r == '\t' || r == '\n' || r == '\r' || r == 0x85 ||
			0x20 <= r && r <= 0x7e || 0xa0 <= r && r <= 0xd7ff ||
			0xe000 <= r && r <= 0xfffd || 0x10000 <= r && r <= 0x10ffff
		if !ok || r == utf8.RuneError && size == 1 {
			return i
		}
		i += size
	}
	return 0
}
