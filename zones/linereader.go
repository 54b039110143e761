package zones

import (
	"bufio"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// lineTracker remembers which master file the zone parser read from last.
// $INCLUDE makes dns.ZoneParser switch between files on its own, so the file
// that delivered the most recent byte is the file of the record just parsed.
type lineTracker struct {
	cur  *lineReader
	read []*hashingReader // every file opened, in order (sources.go)
}

// lineReader feeds a master file to dns.ZoneParser and works out the line on
// which each record starts. dns.NewZoneParser only skips its own bufio layer
// when the reader is an io.ByteReader, so every byte the lexer consumes passes
// through ReadByte and the count is exact.
//
// The lexer consumes a record up to and including the newline that ends it
// (the newline of the closing parenthesis for multi-line records) and reads
// nothing of the next line before ZoneParser.Next returns (checked by
// TestRecordLines). So the start of the last completed logical line, where a
// logical line spans parentheses and ignores comments and blank lines, is the
// line of the record just returned.
type lineReader struct {
	name string // file name as shown to users
	br   io.ByteReader
	t    *lineTracker

	line      int // line of the next byte
	depth     int // open parentheses
	quote     bool
	comment   bool
	escape    bool
	start     int // line where the current logical line started (0 = none yet)
	lastStart int // start of the last completed logical line
}

func newLineReader(name string, r io.Reader, t *lineTracker) *lineReader {
	return &lineReader{name: name, br: bufio.NewReader(r), t: t, line: 1}
}

// ReadByte passes the byte on and updates the logical-line bookkeeping.
func (lr *lineReader) ReadByte() (byte, error) {
	b, err := lr.br.ReadByte()
	if err != nil {
		return b, err
	}
	lr.t.cur = lr
	lr.track(b)
	return b, nil
}

// track mirrors the lexer's view of quotes, escapes, comments and
// parentheses closely enough to know where logical lines begin and end.
func (lr *lineReader) track(b byte) {
	switch {
	case b == '\n':
		lr.escape = false
		if !lr.quote { // the lexer ends a line here even after a backslash
			lr.comment = false
			if lr.depth <= 0 {
				if lr.start != 0 {
					lr.lastStart = lr.start
				}
				lr.start, lr.depth = 0, 0
			}
		}
		lr.line++
		return
	case lr.comment:
		return
	case lr.escape:
		lr.escape = false
	case b == '\\':
		lr.escape = true
	case lr.quote:
		lr.quote = b != '"'
	case b == '"':
		lr.quote = true
	case b == ';':
		lr.comment = true
		return
	case b == '(':
		lr.depth++
	case b == ')':
		lr.depth--
	case b == ' ' || b == '\t' || b == '\r':
		return
	}
	if lr.start == 0 {
		lr.start = lr.line
	}
}

// recordLine is the line on which the record just returned by the parser
// starts. At end of input without a final newline the logical line is still
// open, hence the first case.
func (lr *lineReader) recordLine() int {
	if lr.start != 0 {
		return lr.start
	}
	return lr.lastStart
}

// Read exists so lineReader is an io.Reader; the lexer only uses ReadByte.
func (lr *lineReader) Read(p []byte) (int, error) {
	for i := range p {
		b, err := lr.ReadByte()
		if err != nil {
			return i, err
		}
		p[i] = b
	}
	return len(p), nil
}

// includeFS opens $INCLUDE targets as line-counting files. The top-level
// file is parsed under its absolute path, so every path the parser asks for
// is absolute with the leading slash stripped (fs.FS rules); Open puts it
// back. display maps the absolute path to what users should see.
type includeFS struct {
	t       *lineTracker
	display func(abs string) string
}

// Open implements fs.FS.
func (fsys includeFS) Open(name string) (fs.File, error) {
	abs := string(filepath.Separator) + filepath.FromSlash(name)
	f, err := os.Open(abs)
	if err != nil {
		return nil, err
	}
	hr := newHashingReader(abs, f)
	fsys.t.read = append(fsys.t.read, hr)
	return &includeFile{lineReader: newLineReader(fsys.display(abs), hr, fsys.t), f: f}, nil
}

// includeFile is an fs.File whose reads go through a lineReader.
type includeFile struct {
	*lineReader
	f *os.File
}

func (f *includeFile) Stat() (fs.FileInfo, error) { return f.f.Stat() }
func (f *includeFile) Close() error               { return f.f.Close() }
