package azure

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
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

// parseJSON reads one JSON document. It accepts what encoding/json accepts
// (nesting up to maxDepth), after turning a UTF-16 file with a byte order
// mark — what PowerShell's ">" writes — into UTF-8 and dropping a UTF-8
// byte order mark. The returned text is what offsets refer to.
func parseJSON(data []byte) (*jvalue, []byte, *syntaxError) {
	data = normalise(data)
	p := &jparser{data: data, dec: json.NewDecoder(bytes.NewReader(data))}
	p.dec.UseNumber()
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, data, &syntaxError{Line: 1, Col: 1, Msg: "malformed JSON: the file is empty (did the az command fail?)"}
	}
	v, err := p.value(0)
	if err != nil {
		return nil, data, err
	}
	off := p.next()
	if _, terr := p.dec.Token(); terr != io.EOF {
		return nil, data, p.errorAt(off, "malformed JSON: more after the end of the JSON value")
	}
	return v, data, nil
}

type jparser struct {
	data []byte
	dec  *json.Decoder
}

// next returns the offset of the next token: the decoder stops right after
// the last token, before any space, comma or colon.
func (p *jparser) next() int {
	off := int(p.dec.InputOffset())
	for off < len(p.data) {
		switch p.data[off] {
		case ' ', '\t', '\r', '\n', ',', ':':
			off++
			continue
		}
		break
	}
	return off
}

func (p *jparser) value(depth int) (*jvalue, *syntaxError) {
	if depth > maxDepth {
		return nil, p.errorAt(p.next(), errTooDeep)
	}
	off := p.next()
	tok, err := p.dec.Token()
	if err != nil {
		return nil, p.tokenError(off, err)
	}
	v := &jvalue{off: off}
	switch t := tok.(type) {
	case nil:
		v.kind = kindNull
	case bool:
		v.kind, v.b = kindBool, t
	case json.Number:
		v.kind, v.text = kindNumber, string(t)
	case string:
		v.kind, v.text = kindString, t
	case json.Delim:
		if t == '[' {
			v.kind = kindArray
			for p.dec.More() {
				item, err := p.value(depth + 1)
				if err != nil {
					return nil, err
				}
				v.arr = append(v.arr, item)
			}
		} else {
			v.kind = kindObject
			for p.dec.More() {
				koff := p.next()
				key, err := p.dec.Token()
				if err != nil {
					return nil, p.tokenError(koff, err)
				}
				val, serr := p.value(depth + 1)
				if serr != nil {
					return nil, serr
				}
				v.keys = append(v.keys, key.(string)) // the decoder allows only strings here
				v.vals = append(v.vals, val)
			}
		}
		end := p.next()
		if _, err := p.dec.Token(); err != nil { // the closing bracket
			return nil, p.tokenError(end, err)
		}
	}
	return v, nil
}

// tokenError places an error of the decoder: a syntax error at the byte it
// names, a file cut short at its end.
func (p *jparser) tokenError(off int, err error) *syntaxError {
	var se *json.SyntaxError
	switch {
	case errors.As(err, &se):
		at := int(se.Offset) - 1 // the offset counts the offending byte
		if at < off {
			at = off
		}
		return p.errorAt(at, "malformed JSON: "+se.Error())
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return p.errorAt(len(p.data), "malformed JSON: the file ends in the middle of a value")
	}
	return p.errorAt(off, "malformed JSON: "+err.Error())
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
