package azure

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// maxDepth bounds the nesting of a JSON file. What the Azure CLI prints is
// a handful of levels deep; the bound keeps a hostile file from taking the
// stack.
const maxDepth = 64

// kind is the JSON type of a value.
type kind uint8

const (
	kindNull kind = iota
	kindBool
	kindNumber
	kindString
	kindArray
	kindObject
)

func (k kind) String() string {
	return [...]string{"null", "true or false", "a number", "a string", "a list", "an object"}[k]
}

// jvalue is one JSON value with the byte offset it starts at, so problems
// found long after parsing can still be placed. Objects keep their members
// in file order, duplicates included.
type jvalue struct {
	kind kind
	off  int
	text string // a string's value or a number's literal
	b    bool
	arr  []*jvalue
	keys []string
	vals []*jvalue
}

// syntaxError is malformed JSON at a 1-based line and column (in
// characters).
type syntaxError struct {
	Line, Col int
	Msg       string
}

func (e *syntaxError) Error() string { return fmt.Sprintf("%d:%d: %s", e.Line, e.Col, e.Msg) }

// errTooDeep is the message of a file nested deeper than maxDepth.
var errTooDeep = fmt.Sprintf("malformed JSON: nested more than %d levels deep", maxDepth)

// parseJSON reads one JSON document (RFC 8259, as encoding/json accepts
// it, nesting up to maxDepth), after turning a UTF-16 file with a byte
// order mark — what PowerShell's ">" writes — into UTF-8 and dropping a
// UTF-8 byte order mark. The returned text is what offsets refer to.
func parseJSON(data []byte) (*jvalue, []byte, *syntaxError) {
	data = normalise(data)
	p := &jparser{data: data}
	p.space()
	if p.pos == len(data) {
		return nil, data, &syntaxError{Line: 1, Col: 1, Msg: "malformed JSON: the file is empty (did the az command fail?)"}
	}
	v, err := p.value(0)
	if err != nil {
		return nil, data, err
	}
	if p.space(); p.pos < len(data) {
		return nil, data, p.errorAt(p.pos, "malformed JSON: more after the end of the JSON value")
	}
	return v, data, nil
}

// jparser is a recursive-descent JSON reader that knows where it is, so
// every error names the byte at fault.
type jparser struct {
	data []byte
	pos  int
}

func (p *jparser) space() {
	for p.pos < len(p.data) {
		switch p.data[p.pos] {
		case ' ', '\t', '\r', '\n':
			p.pos++
			continue
		}
		return
	}
}

// unexpected reports the byte at pos (or the end of the file) where what
// was wanted is not.
func (p *jparser) unexpected(want string) *syntaxError {
	if p.pos >= len(p.data) {
		return p.errorAt(len(p.data), "malformed JSON: the file ends in the middle of a value")
	}
	r, _ := utf8.DecodeRune(p.data[p.pos:])
	return p.errorAt(p.pos, fmt.Sprintf("malformed JSON: invalid character %s %s", quoteChar(r), want))
}

func quoteChar(r rune) string {
	if r == '\'' {
		return `'\''`
	}
	if r == '"' {
		return `'"'`
	}
	return strconv.QuoteRune(r)
}

func (p *jparser) value(depth int) (*jvalue, *syntaxError) {
	if depth > maxDepth {
		return nil, p.errorAt(p.pos, errTooDeep)
	}
	if p.pos >= len(p.data) {
		return nil, p.unexpected("")
	}
	v := &jvalue{off: p.pos}
	switch c := p.data[p.pos]; {
	case c == '{':
		return v, p.object(v, depth)
	case c == '[':
		return v, p.array(v, depth)
	case c == '"':
		v.kind = kindString
		s, err := p.str()
		v.text = s
		return v, err
	case c == '-' || c >= '0' && c <= '9':
		v.kind = kindNumber
		return v, p.number(v)
	case c == 't':
		v.kind, v.b = kindBool, true
		return v, p.literal("true")
	case c == 'f':
		v.kind = kindBool
		return v, p.literal("false")
	case c == 'n':
		return v, p.literal("null")
	}
	return nil, p.unexpected("looking for the beginning of a value")
}

func (p *jparser) object(v *jvalue, depth int) *syntaxError {
	v.kind = kindObject
	p.pos++
	p.space()
	if p.pos < len(p.data) && p.data[p.pos] == '}' {
		p.pos++
		return nil
	}
	for {
		p.space()
		if p.pos >= len(p.data) || p.data[p.pos] != '"' {
			return p.unexpected("looking for the beginning of an object key string")
		}
		key, err := p.str()
		if err != nil {
			return err
		}
		p.space()
		if p.pos >= len(p.data) || p.data[p.pos] != ':' {
			return p.unexpected("after object key")
		}
		p.pos++
		p.space()
		val, err := p.value(depth + 1)
		if err != nil {
			return err
		}
		v.keys, v.vals = append(v.keys, key), append(v.vals, val)
		p.space()
		switch {
		case p.pos < len(p.data) && p.data[p.pos] == ',':
			p.pos++
		case p.pos < len(p.data) && p.data[p.pos] == '}':
			p.pos++
			return nil
		default:
			return p.unexpected("after object key:value pair")
		}
	}
}

func (p *jparser) array(v *jvalue, depth int) *syntaxError {
	v.kind = kindArray
	p.pos++
	p.space()
	if p.pos < len(p.data) && p.data[p.pos] == ']' {
		p.pos++
		return nil
	}
	for {
		p.space()
		item, err := p.value(depth + 1)
		if err != nil {
			return err
		}
		v.arr = append(v.arr, item)
		p.space()
		switch {
		case p.pos < len(p.data) && p.data[p.pos] == ',':
			p.pos++
		case p.pos < len(p.data) && p.data[p.pos] == ']':
			p.pos++
			return nil
		default:
			return p.unexpected("after array element")
		}
	}
}

// str reads a string literal at pos and returns its value.
func (p *jparser) str() (string, *syntaxError) {
	start := p.pos
	p.pos++ // the opening quote
	for p.pos < len(p.data) {
		switch c := p.data[p.pos]; {
		case c == '"':
			p.pos++
			var s string
			// The literal is valid by now; encoding/json decodes its escapes
			// (and turns invalid UTF-8 into U+FFFD, as it always does).
			if err := json.Unmarshal(p.data[start:p.pos], &s); err != nil {
				return "", p.errorAt(start, "malformed JSON: "+err.Error())
			}
			return s, nil
		case c == '\\':
			p.pos++
			if p.pos >= len(p.data) {
				return "", p.unexpected("")
			}
			switch p.data[p.pos] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				p.pos++
			case 'u':
				p.pos++
				for range 4 {
					if p.pos >= len(p.data) || !isHex(p.data[p.pos]) {
						return "", p.unexpected("in \\u hexadecimal character escape")
					}
					p.pos++
				}
			default:
				return "", p.unexpected("in string escape code")
			}
		case c < ' ':
			return "", p.unexpected("in string literal")
		default:
			p.pos++
		}
	}
	return "", p.unexpected("")
}

func isHex(c byte) bool { return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' }

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// number reads -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)? at pos.
func (p *jparser) number(v *jvalue) *syntaxError {
	start := p.pos
	at := func(ok func(byte) bool) bool { return p.pos < len(p.data) && ok(p.data[p.pos]) }
	is := func(cs string) func(byte) bool { return func(c byte) bool { return strings.IndexByte(cs, c) >= 0 } }
	digits := func(what string) *syntaxError {
		if !at(isDigit) {
			return p.unexpected(what)
		}
		for at(isDigit) {
			p.pos++
		}
		return nil
	}
	if at(is("-")) {
		p.pos++
	}
	if at(is("0")) {
		p.pos++
	} else if err := digits("in numeric literal"); err != nil {
		return err
	}
	if at(is(".")) {
		p.pos++
		if err := digits("after decimal point in numeric literal"); err != nil {
			return err
		}
	}
	if at(is("eE")) {
		p.pos++
		if at(is("+-")) {
			p.pos++
		}
		if err := digits("in exponent of numeric literal"); err != nil {
			return err
		}
	}
	v.text = string(p.data[start:p.pos])
	return nil
}

func (p *jparser) literal(word string) *syntaxError {
	for i := range len(word) {
		if p.pos >= len(p.data) || p.data[p.pos] != word[i] {
			return p.unexpected(fmt.Sprintf("in literal %s (expecting %q)", word, word[i]))
		}
		p.pos++
	}
	return nil
}

func (p *jparser) errorAt(off int, msg string) *syntaxError {
	line, col := position(p.data, off)
	return &syntaxError{Line: line, Col: col, Msg: msg}
}

// position turns a byte offset into a 1-based line and column, the column
// counted in characters as editors count them.
func position(data []byte, off int) (line, col int) {
	off = min(max(off, 0), len(data))
	before := data[:off]
	line = bytes.Count(before, []byte("\n")) + 1
	start := bytes.LastIndexByte(before, '\n') + 1
	return line, utf8.RuneCount(before[start:]) + 1
}

// normalise turns UTF-16 with a byte order mark into UTF-8 and drops a
// UTF-8 byte order mark; other text is returned as it is.
func normalise(data []byte) []byte {
	switch {
	case bytes.HasPrefix(data, []byte{0xEF, 0xBB, 0xBF}):
		return data[3:]
	case len(data) >= 2 && (data[0] == 0xFF && data[1] == 0xFE || data[0] == 0xFE && data[1] == 0xFF):
		little := data[0] == 0xFF
		units := make([]uint16, 0, len(data)/2)
		for i := 2; i+1 < len(data); i += 2 {
			if little {
				units = append(units, uint16(data[i])|uint16(data[i+1])<<8)
			} else {
				units = append(units, uint16(data[i])<<8|uint16(data[i+1]))
			}
		}
		return []byte(string(utf16.Decode(units)))
	}
	return data
}
