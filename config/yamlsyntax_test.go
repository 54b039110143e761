package config

import (
	"path/filepath"
	"strings"
	"testing"
)

func TestYAMLSyntaxErrorsNameTheKeyAroundThem(t *testing.T) {
	cases := []struct {
		name, text string
		line       int
		key, msg   string
	}{
		{"a link key indented one space short", lines(
			"server:",
			"  http: 127.0.0.1:9153",
			"zones:",
			"  - name: a.example",
			"    links:",
			"      - name: l",
			"       network: n",
		), 5, "zones[0].links", "did not find expected '-' indicator (check the indentation of the list below)"},
		{"a value holding ': '", lines(
			"zones:",
			"  - name: a.example",
			"  - name: b.example",
			"    links:",
			"      - name: l",
			"        network: n: x",
		), 6, "zones[1].links[0].network", "mapping values are not allowed in this context (a ':' where a value was expected"},
		{"a tab", lines(
			"server:",
			"\thttp: x",
		), 2, "server.http", "found character that cannot start any token (a tab: YAML indents with spaces only)"},
		{"an unclosed quote", lines(
			"upstreams:",
			"  servers: [192.0.2.1]",
			"networks:",
			`  - name: "vnet-a`,
			"    addressPrefixes: [10.0.0.0/8]",
		), 4, "networks[0].name", "found unexpected end of stream (a quote or bracket is never closed)"},
		{"an unclosed flow mapping", lines(
			"upstreams:",
			"  servers: [192.0.2.1]",
			"networks:",
			"  - {name: a, addressPrefixes: [10.0.0.0/8]",
		), 3, "networks", "did not find expected ',' or '}'"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(writeFiles(t, map[string]string{"privdns.yaml": c.text}), "privdns.yaml")
			errs := problemsOf(t, path)
			if len(errs) != 1 {
				t.Fatalf("problems %v, want one", errs)
			}
			p := errs[0]
			want := "YAML syntax error: " + c.msg
			if p.File != path || p.Line != c.line || p.Key != c.key || !strings.HasPrefix(p.Msg, want) {
				t.Errorf("problem %q\nwant %s:%d: %s: %s…", p.Error(), path, c.line, c.key, want)
			}
		})
	}
}

func TestKeyAroundFollowsIndentationListsAndBlockScalars(t *testing.T) {
	text := []byte(lines(
		"# a comment",                   // 1
		"server:",                       // 2
		"  listeners:",                  // 3
		"    - address: 127.0.0.1:53",   // 4
		"    - address: 127.0.0.2:53",   // 5
		"      network: n",              // 6
		"zones:",                        // 7
		"- name: a.example",             // 8: a list at its key's column
		"  records:",                    // 9
		"    - |",                       // 10
		"      www: not a key",          // 11
		"- name: b.example",             // 12
		"  links: [{name: l}]",          // 13
		"",                              // 14
		`"quoted key": 1`,               // 15
		"cache:",                        // 16
		"  serveStale: {enabled: true}", // 17
	))
	for line, want := range map[int]string{
		1: "", 2: "server", 3: "server.listeners", 4: "server.listeners[0].address", 5: "server.listeners[1].address",
		6: "server.listeners[1].network", 7: "zones", 8: "zones[0].name", 9: "zones[0].records", 10: "zones[0].records[0]",
		11: "zones[0].records[0]", 12: "zones[1].name", 13: "zones[1].links", 14: "zones[1].links", 15: "quoted key",
		17: "cache.serveStale",
	} {
		if got := keyAround(text, line); got != want {
			t.Errorf("line %d: %q, want %q", line, got, want)
		}
	}
}

// FuzzKeyAround: any text, any line, no panic; the key is one the text
// spells (or an item index).
func FuzzKeyAround(f *testing.F) {
	f.Add([]byte("a:\n  - b: |\n      c: d\n  - - e: f\n"), 4)
	f.Add([]byte("- \n-\n- -\n\t- x:"), 3)
	f.Add([]byte(`"": 1`+"\n'x': {y: [1, 2]}"), 2)
	f.Fuzz(func(t *testing.T, data []byte, line int) {
		key := keyAround(data, line)
		for _, part := range strings.FieldsFunc(key, func(r rune) bool { return r == '.' || r == '[' || r == ']' }) {
			if !strings.Contains(string(data), part) && strings.Trim(part, "0123456789") != "" {
				t.Errorf("key %q: %q is not in the text", key, part)
			}
		}
	})
}
