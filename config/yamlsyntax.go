package config

import (
	"fmt"
	"regexp"
	"strings"
)

// A YAML file that does not parse has no node tree to learn keys from, so
// the key around a syntax error is found by reading the lines up to it by
// their indentation, as a person would. It is a guess, good for block
// style (what privdns's examples use); inside flow style ({…}, […]) it
// names the key that holds the flow.

// yamlKey matches "key:" at the start of a line's content: a plain key or
// a quoted one, followed by a blank or the end of the line.
var yamlKey = regexp.MustCompile(`^("[^"]*"|'[^']*'|[^\s#'"\[\]{},:&*!|>%@` + "`" + `-][^#:]*?|-[^\s#:][^#:]*?)\s*:(?:\s|$)`)

// yamlFrame is one open key or list item above the current line.
type yamlFrame struct {
	col  int    // column of the key or of the item's "-"
	path string // its key path, "zones[0].links"
	item bool   // a list item
	idx  int    // the item's index
}

// keyAround returns the key path of the last key or list item that starts
// on or before line (1-based) of a YAML text, or "" when none does.
func keyAround(data []byte, line int) string {
	var stack []yamlFrame
	parent := func() string {
		if len(stack) == 0 {
			return ""
		}
		return stack[len(stack)-1].path
	}
	pop := func(drop func(yamlFrame) bool) {
		for len(stack) > 0 && drop(stack[len(stack)-1]) {
			stack = stack[:len(stack)-1]
		}
	}
	last, scalarCol := "", -1
	for i, text := range strings.Split(string(data), "\n") {
		if i >= line {
			break
		}
		content := strings.TrimLeft(text, " \t")
		col := len(text) - len(content)
		if scalarCol >= 0 { // inside a block scalar (| or >): text, not keys
			if content == "" || col > scalarCol {
				continue
			}
			scalarCol = -1
		}
		switch {
		case content == "" || content[0] == '#':
			continue
		case strings.HasPrefix(content, "---"):
			stack = nil
			continue
		}
		blockStart := func(v string) bool { return strings.HasPrefix(v, "|") || strings.HasPrefix(v, ">") }
		for content == "-" || strings.HasPrefix(content, "- ") {
			pop(func(f yamlFrame) bool { return f.col > col })
			idx := 0
			if n := len(stack); n > 0 && stack[n-1].item && stack[n-1].col == col {
				idx = stack[n-1].idx + 1
				stack = stack[:n-1]
			}
			path := fmt.Sprintf("%s[%d]", parent(), idx)
			stack = append(stack, yamlFrame{col: col, path: path, item: true, idx: idx})
			last = path
			rest := strings.TrimLeft(content[1:], " \t")
			if blockStart(rest) { // "- |": the item is a block scalar
				scalarCol = col
			}
			col += len(content) - len(rest)
			content = rest
		}
		m := yamlKey.FindStringSubmatch(content)
		if m == nil {
			continue
		}
		pop(func(f yamlFrame) bool { return f.col >= col })
		path := joinPath(parent(), strings.Trim(m[1], `"'`))
		stack = append(stack, yamlFrame{col: col, path: path})
		last = path
		if blockStart(strings.TrimSpace(content[len(m[0]):])) {
			scalarCol = col
		}
	}
	return last
}

// yamlHints say what usually causes a YAML parser's complaint.
var yamlHints = map[string]string{
	"mapping values are not allowed in this context": "a ':' where a value was expected: check the indentation, or quote a value that holds ': '",
	"did not find expected key":                      "check the indentation of the lines below",
	"did not find expected '-' indicator":            "check the indentation of the list below",
	"found unexpected end of stream":                 "a quote or bracket is never closed",
	"did not find expected ',' or ']'":               "a [ … ] list is never closed",
	"did not find expected ',' or '}'":               "a { … } mapping is never closed",
	"found character that cannot start any token":    "a tab, or a character such as @ or ` that must be quoted",
}

// yamlSyntax turns a YAML parser message found at line into a problem that
// names the key around it and what usually causes it.
func yamlSyntax(file string, data []byte, line int, msg string) Problem {
	p := Problem{File: file, Line: line, Key: keyAround(data, line), Msg: "YAML syntax error: " + msg}
	hint := yamlHints[msg]
	if lines := strings.Split(string(data), "\n"); line > 0 && line <= len(lines) && strings.Contains(lines[line-1], "\t") &&
		msg == "found character that cannot start any token" {
		hint = "a tab: YAML indents with spaces only"
	}
	if hint != "" {
		p.Msg += " (" + hint + ")"
	}
	return p
}
