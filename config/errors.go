package config

import (
	"strconv"
	"strings"
)

// Problem is one thing wrong with a configuration, located precisely enough
// for a user to jump to it.
type Problem struct {
	File string // file holding the problem; "" for the embedded default
	Line int    // 1-based line in File; 0 when unknown (TOML, environment)
	Key  string // key path such as "zones[0].links[1].network"
	Msg  string
}

// Error formats the problem as "file:line: key: msg", leaving out the parts
// that are unknown.
func (p Problem) Error() string {
	var b strings.Builder
	if p.File != "" {
		b.WriteString(p.File)
		if p.Line > 0 {
			b.WriteString(":" + strconv.Itoa(p.Line))
		}
		b.WriteString(": ")
	}
	if p.Key != "" {
		b.WriteString(p.Key + ": ")
	}
	b.WriteString(p.Msg)
	return b.String()
}

// Errors is every problem a load found, so that a reload or `privdns check`
// reports them all in one pass.
type Errors []Problem

// Error lists the problems one per line.
func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, p := range es {
		lines[i] = p.Error()
	}
	return strings.Join(lines, "\n")
}
