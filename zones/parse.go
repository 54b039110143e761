package zones

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/miekg/dns"
)

// defaultTTL applies to records without a TTL when no $TTL is in effect.
const defaultTTL = 3600

// entry is one parsed record and where it came from.
type entry struct {
	rr  dns.RR
	loc Error // location only; Msg is empty
}

// parseFile reads a master file, following $INCLUDE relative to the file's
// folder. dns.ZoneParser stops at the first syntax error, so a file yields at
// most one syntax error (plus the records parsed before it).
func parseFile(origin, file string) ([]entry, *Error) {
	var out []entry
	_, err := eachRecord(origin, file, func(e entry) { out = append(out, e) })
	return out, err
}

// eachRecord is parseFile handing each record to fn as it is parsed, so
// that a large file is never held as a list of entries. It returns the
// files it read, the master file first, with the digest of their bytes.
func eachRecord(origin, file string, fn func(entry)) ([]*source, *Error) {
	abs, err := filepath.Abs(file)
	if err != nil {
		return nil, &Error{File: file, Msg: err.Error()}
	}
	f, err := os.Open(abs)
	if err != nil {
		return nil, &Error{File: file, Msg: fmt.Sprintf("open zone file: %v", unwrapPath(err))}
	}
	defer f.Close()

	t := &lineTracker{}
	hr := newHashingReader(abs, f)
	t.read = append(t.read, hr)
	top := newLineReader(file, hr, t)
	zp := dns.NewZoneParser(top, origin, abs)
	zp.SetDefaultTTL(defaultTTL)
	zp.SetIncludeAllowed(true)
	display := displayPath(file, abs)
	zp.SetIncludeFS(includeFS{t: t, display: display})

	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		cur := t.cur
		fn(entry{rr: rr, loc: Error{File: cur.name, Line: cur.recordLine()}})
	}
	if err := zp.Err(); err != nil {
		e := &Error{File: file}
		if t.cur != nil {
			e.File = t.cur.name
		}
		e.Line, e.Msg = splitParseError(err)
		if e.Line == 0 && t.cur != nil {
			// The parser gives no position for the end of its input
			// ("$GENERATE 0-0" there): blame the logical line it was in.
			e.Line = max(t.cur.recordLine(), 1)
		}
		var pe *fs.PathError
		if errors.As(err, &pe) { // a missing $INCLUDE: say so in the user's terms
			e.Msg = fmt.Sprintf("$INCLUDE: open %s: %v", display(pe.Path), pe.Err)
		}
		return nil, e
	}
	sources := make([]*source, len(t.read))
	for i, hr := range t.read {
		sources[i] = hr.done()
	}
	return sources, nil
}

// displayPath returns a function that shows an included file's absolute path
// relative to the folder the user named, so messages use familiar paths.
func displayPath(file, abs string) func(string) string {
	absDir, userDir := filepath.Dir(abs), filepath.Dir(file)
	return func(p string) string {
		rel, err := filepath.Rel(absDir, p)
		if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
			return p
		}
		return filepath.Join(userDir, rel)
	}
}

// unwrapPath drops the path from an *os.PathError, which Error.File already
// names.
func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// parseOne parses an inline entry, relative to the zone, that must hold
// exactly one record. It stops at the second record, so a $GENERATE cannot
// make it expand thousands.
func parseOne(origin, text string) (dns.RR, string) {
	zp := dns.NewZoneParser(strings.NewReader(text), origin, "")
	zp.SetDefaultTTL(defaultTTL)
	first, ok := zp.Next()
	if ok {
		if _, more := zp.Next(); more {
			return nil, "want exactly one record, found more"
		}
	}
	switch {
	case zp.Err() != nil:
		_, msg := splitParseError(zp.Err())
		return nil, msg
	case !ok:
		return nil, "want exactly one record, found none"
	}
	return first, ""
}
