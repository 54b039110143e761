package azure

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// Problem is one thing wrong with the input, placed so a user finds it: the
// file relative to the --from folder and the JSON path from the file's top
// as written ("[2].properties.virtualNetwork.id"), or for malformed JSON
// the line and column.
type Problem struct {
	File      string
	Line, Col int    // malformed JSON only; 0 otherwise
	Path      string // "" for the file as a whole
	Msg       string
}

// Error formats the problem as "file: path: msg" or, for malformed JSON,
// "file:line:col: msg"; a problem of the input as a whole has no file.
func (p Problem) Error() string {
	var b strings.Builder
	if p.File != "" {
		b.WriteString(p.File)
		if p.Line > 0 {
			fmt.Fprintf(&b, ":%d:%d", p.Line, p.Col)
		}
		b.WriteString(": ")
	}
	if p.Path != "" {
		b.WriteString(p.Path + ": ")
	}
	b.WriteString(p.Msg)
	return b.String()
}

// Problems is every problem an import found; any one of them means nothing
// is written.
type Problems []Problem

// Error lists the problems one per line.
func (ps Problems) Error() string {
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = p.Error()
	}
	return strings.Join(lines, "\n")
}

// loc is where an object or value was read: a file and a JSON path.
type loc struct {
	file, path string
}

// String names the place for a message that points at a second one.
func (l loc) String() string {
	if l.path == "" {
		return l.file
	}
	return l.file + ": " + l.path
}

// collector gathers the problems and notices of one import.
type collector struct {
	problems Problems
	notices  []string
}

func (c *collector) errorf(at loc, format string, args ...any) {
	c.problems = append(c.problems, Problem{File: at.file, Path: at.path, Msg: fmt.Sprintf(format, args...)})
}

func (c *collector) noticef(format string, args ...any) {
	c.notices = append(c.notices, fmt.Sprintf(format, args...))
}

// sorted returns the problems by file, then in the order they were found
// (file order, for the problems of one file).
func (c *collector) sorted() Problems {
	out := slices.Clone(c.problems)
	slices.SortStableFunc(out, func(a, b Problem) int { return cmp.Compare(a.File, b.File) })
	return out
}
