package azure

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/privdns/privdns/config"
)

// FuzzParseJSON checks the JSON reader against encoding/json: it accepts
// exactly what json.Valid accepts (nesting aside), reads the same values,
// and every value's offset points at its first byte.
func FuzzParseJSON(f *testing.F) {
	for _, seed := range []string{
		`[]`, `{}`, `{"value": [{"id": "/a", "type": "x", "properties": {"ttl": 1e3}}]}`,
		`["\u00e9\ud83d\ude00", -0.5E+2, true, false, null]`, "[1,]", `{"a" 1}`, `["\x"]`, "[01]", "\xff\xfe[\x00]\x00",
		"[\"a\x01\"]", `{"k": "v", "K": "w"}`, "[1 2]", `"\ud800"`, "-", "1.", "\xef\xbb\xbf{}",
	} {
		f.Add([]byte(seed))
	}
	addFixtures(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		v, text, err := parseJSON(data)
		if err != nil && err.Msg == errTooDeep {
			return
		}
		if valid := json.Valid(text) && len(bytes.TrimSpace(text)) > 0; valid != (err == nil) {
			t.Fatalf("json.Valid %v, parseJSON error %v, for %q", valid, err, text)
		}
		if err != nil {
			if err.Line < 1 || err.Col < 1 {
				t.Fatalf("error at %d:%d", err.Line, err.Col)
			}
			return
		}
		var want any
		dec := json.NewDecoder(bytes.NewReader(text))
		dec.UseNumber()
		if err := dec.Decode(&want); err != nil {
			t.Fatal(err)
		}
		if got := toAny(v, text, t); !reflect.DeepEqual(got, want) {
			t.Fatalf("read %#v, encoding/json %#v", got, want)
		}
	})
}

// toAny turns a tree into what encoding/json decodes (a later duplicate
// key wins there), checking offsets on the way.
func toAny(v *jvalue, text []byte, t *testing.T) any {
	if v.off >= len(text) || !strings.ContainsRune(`{["tfn-0123456789`, rune(text[v.off])) {
		t.Fatalf("value of kind %v at offset %d", v.kind, v.off)
	}
	switch v.kind {
	case kindBool:
		return v.b
	case kindNumber:
		return json.Number(v.text)
	case kindString:
		return v.text
	case kindArray:
		out := make([]any, len(v.arr))
		for i, item := range v.arr {
			out[i] = toAny(item, text, t)
		}
		return out
	case kindObject:
		out := map[string]any{}
		for i, k := range v.keys {
			out[k] = toAny(v.vals[i], text, t)
		}
		return out
	}
	return nil
}

// FuzzImport imports one arbitrary file beside the small estate: it must
// not panic, must give the same result twice, and whatever it accepts must
// load with privdns's configuration loader.
func FuzzImport(f *testing.F) {
	f.Add([]byte(`[` + aSet("fuzz", 60, "10.1.0.9") + `]`))
	f.Add([]byte(`[{"id": "` + zoneZ + `/TXT/t", "name": "t", "type": "Microsoft.Network/privateDnsZones/TXT", "ttl": 1, "txtRecords": [{"value": ["a\"b\\c;(d)\u00e9", ""]}]}]`))
	f.Add([]byte(`[{"id": "` + zoneZ + `/MX/@", "name": "@", "type": "Microsoft.Network/privateDnsZones/MX", "ttl": 1, "mxRecords": [{"preference": 0, "exchange": "."}]}]`))
	addFixtures(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		files := fstest.MapFS{}
		for name, text := range smallEstate() {
			files[name] = &fstest.MapFile{Data: []byte(text)}
		}
		files["fuzz.json"] = &fstest.MapFile{Data: data}
		res, err := Import(files, Options{})
		again, err2 := Import(files, Options{})
		if (err == nil) != (err2 == nil) || err != nil && err.Error() != err2.Error() {
			t.Fatalf("two runs differ: %v / %v", err, err2)
		}
		if err != nil {
			return
		}
		for name, b := range res.Files {
			if !bytes.Equal(b, again.Files[name]) {
				t.Fatalf("two runs wrote different %s", name)
			}
		}
		dir := filepath.Join(t.TempDir(), "out")
		if err := Write(dir, res.Files, WriteOptions{}); err != nil {
			t.Fatal(err)
		}
		if _, err := config.Load(filepath.Join(dir, ConfigFile)); err != nil {
			t.Fatalf("accepted input that does not load: %v\n%s", err, data)
		}
	})
}

// addFixtures seeds a fuzz target with the fixture files.
func addFixtures(f *testing.F) {
	for _, dir := range []string{cliDir, armDir} {
		matches, _ := filepath.Glob(filepath.Join(dir, "*", "*.json"))
		top, _ := filepath.Glob(filepath.Join(dir, "*.json"))
		for _, m := range append(top, matches...) {
			if data, err := os.ReadFile(m); err == nil {
				f.Add(data)
			}
		}
	}
}
