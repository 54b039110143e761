package azure

import (
	"strings"
	"testing"
)

func TestParseJSONKeepsWhereEveryValueStarts(t *testing.T) {
	text := "{\n  \"a\": [1, \"x\", true],\n  \"b\": {\"c\": null}, \"é\": -2.5e3\n}"
	v, data, err := parseJSON([]byte(text))
	if err != nil {
		t.Fatal(err)
	}
	var walk func(v *jvalue)
	n := 0
	walk = func(v *jvalue) {
		n++
		if first := data[v.off]; !strings.ContainsRune(`{["tfn-0123456789`, rune(first)) {
			t.Errorf("value of kind %v starts at %q", v.kind, data[v.off:])
		}
		for _, c := range append(v.arr, v.vals...) {
			walk(c)
		}
	}
	walk(v)
	if n != 8 || v.keys[2] != "é" || v.vals[2].text != "-2.5e3" || v.vals[0].arr[2].b != true {
		t.Errorf("tree: %d values, keys %q", n, v.keys)
	}
	if line, col := position(data, v.vals[1].vals[0].off); line != 3 || col != 14 {
		t.Errorf("b.c at %d:%d, want 3:14", line, col)
	}
}

func TestParseJSONErrorsHaveLineAndColumn(t *testing.T) {
	for _, tc := range []struct{ text, want string }{
		{"[\n  {\"id\" 1}]", "2:9: malformed JSON: invalid character '1' after object key"},
		{"{\"a\": é}", "1:7: malformed JSON: invalid character"},
		{"[1,\n2,\n", "3:1: malformed JSON: the file ends in the middle of a value"},
		{"  ", "1:1: malformed JSON: the file is empty"},
		{"{} x", "1:4: malformed JSON: more after the end"},
		{strings.Repeat("[", maxDepth+2), "1:66: " + errTooDeep},
	} {
		_, _, err := parseJSON([]byte(tc.text))
		if err == nil || err.Error() != tc.want && !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("%q: got %v, want %s", tc.text, err, tc.want)
		}
	}
}

func TestParseJSONReadsByteOrderMarks(t *testing.T) {
	for name, data := range map[string][]byte{
		"UTF-8":    append([]byte{0xEF, 0xBB, 0xBF}, `["é"]`...),
		"UTF-16LE": {0xFF, 0xFE, '[', 0, '"', 0, 0xE9, 0, '"', 0, ']', 0},
		"UTF-16BE": {0xFE, 0xFF, 0, '[', 0, '"', 0, 0xE9, 0, '"', 0, ']'},
	} {
		v, _, err := parseJSON(data)
		if err != nil || len(v.arr) != 1 || v.arr[0].text != "é" {
			t.Errorf("%s: %v %+v", name, err, v)
		}
	}
}
