package zones

import (
	"strconv"
	"strings"
)

// Error is one problem found while loading a zone, or one warning about
// data Load accepted (Zone.Warnings). It names where the problem is so that
// `privdns check` can point the user at the exact line or inline record to
// fix.
type Error struct {
	File   string // master file holding the problem ("" for inline records)
	Line   int    // 1-based line in File (0 if unknown or not from a file)
	Record int    // 1-based index into the inline records (0 if from a file)
	Msg    string
}

// Error formats the location the way editors and config paths expect:
// "FILE:LINE: msg" for master files and "records[N-1]: msg" for inline
// records (the 0-based index as it appears in the configuration).
func (e *Error) Error() string {
	switch {
	case e.Record > 0:
		return "records[" + strconv.Itoa(e.Record-1) + "]: " + e.Msg
	case e.File != "" && e.Line > 0:
		return e.File + ":" + strconv.Itoa(e.Line) + ": " + e.Msg
	case e.File != "":
		return e.File + ": " + e.Msg
	default:
		return e.Msg
	}
}

// Errors is every problem Load found, so a user fixes a zone in one pass
// instead of one error per reload.
type Errors []*Error

// Error lists the problems one per line.
func (es Errors) Error() string {
	var b strings.Builder
	for i, e := range es {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(e.Error())
	}
	return b.String()
}

// Unwrap lets errors.As find the individual *Error values.
func (es Errors) Unwrap() []error {
	out := make([]error, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
}
