package zones

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name   string
		origin string
		file   string
		inline []string
		want   []string // Error() of every problem, in order
	}{
		{name: "every semantic error in a file, with its line, included files too", origin: "example.com", file: "testdata/errors.zone",
			want: []string{
				"testdata/errors.zone:4: example.com.: more than one SOA record",
				"testdata/errors.zone:5: example.com.: CNAME record at the zone apex",
				"testdata/errors.zone:7: www.example.com.: A record next to a CNAME record",
				"testdata/errors.zone:8: sub.example.com.: NS record below the apex (delegations are not supported)",
				"testdata/errors.zone:9: sub.example.com.: SOA record not at the zone apex example.com.",
				"testdata/errors.zone:10: out.example.org.: owner is outside zone example.com.",
				"testdata/inc/errors.zone:3: mail.example.com.: CNAME record next to other records (A)",
				"testdata/errors.zone:14: after.example.com.: NS record below the apex (delegations are not supported)",
			}},
		{name: "syntax error stops the file; earlier semantic errors still reported", origin: "example.com", file: "testdata/syntax.zone",
			want: []string{
				"testdata/syntax.zone:4: www.example.com.: A record next to a CNAME record",
				`testdata/syntax.zone:5: A record: the address "10.0.0" is not an IPv4 address`,
			}},
		{name: "every inline error, by index", origin: "example.com",
			inline: []string{
				"ok IN A 10.0.0.1",
				"bad IN A 10.0.0",
				"www IN CNAME web",
				"www IN TXT \"x\"",
				"@ IN CNAME web",
				"sub IN NS ns.sub",
				"out.example.org. IN A 10.0.0.2",
				"a IN A 10.0.0.3\nb IN A 10.0.0.4",
				"",
				"$INCLUDE /etc/hostname",
				"sub IN SOA ns hm 1 2 3 4 5",
				"c CH A 10.0.0.5",
				"www IN CNAME other",
				"$GENERATE 1-65535 h$ A 10.0.0.1",
			},
			want: []string{
				`records[1]: A record: the address "10.0.0" is not an IPv4 address`,
				"records[3]: www.example.com.: TXT record next to a CNAME record",
				"records[4]: example.com.: CNAME record at the zone apex",
				"records[5]: sub.example.com.: NS record below the apex (delegations are not supported)",
				"records[6]: out.example.org.: owner is outside zone example.com.",
				`records[7]: want exactly one record, found more`,
				`records[8]: want exactly one record, found none`,
				`records[9]: $INCLUDE is not allowed in inline records`,
				"records[10]: sub.example.com.: SOA record not at the zone apex example.com.",
				"records[11]: c.example.com.: class CH not supported, only IN",
				"records[12]: www.example.com.: more than one CNAME record",
				"records[13]: want exactly one record, found more",
			}},
		{name: "inline conflicting with the file names the inline record", origin: "example.com", file: "testdata/example.zone",
			inline: []string{"www IN A 10.0.0.1", "@ IN SOA ns hm 1 2 3 4 5"},
			want: []string{
				"records[0]: www.example.com.: A record next to a CNAME record",
				"records[1]: example.com.: more than one SOA record",
			}},
		{name: "missing file", origin: "example.com", file: "testdata/nope.zone",
			want: []string{"testdata/nope.zone: open zone file: no such file or directory"}},
		{name: "missing include names the including line", origin: "example.com", file: "testdata/badinclude.zone",
			want: []string{"testdata/badinclude.zone:2: $INCLUDE: open testdata/missing.zone: no such file or directory"}},
		{name: "syntax error in an included file names that file", origin: "example.com", file: "testdata/includesyntax.zone",
			want: []string{`testdata/inc/syntax.zone:3: AAAA record: the address "fd00::x" is not an IPv6 address`}},
		{name: "a syntax error at the end of the file names its last line", origin: "example.com", file: "testdata/eofsyntax.zone",
			want: []string{`testdata/eofsyntax.zone:3: $GENERATE is incomplete: it needs a range, an owner and a record, such as "$GENERATE 1-10 host$ A 10.0.0.$"`}},
		{name: "bad zone name", origin: "bad..name",
			want: []string{`bad zone name "bad..name"`}},
		{name: "empty zone name", origin: "",
			want: []string{`bad zone name ""`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			z, err := Load(tt.origin, tt.file, tt.inline)
			if z != nil {
				t.Errorf("Load returned a zone despite errors")
			}
			var errs Errors
			if !errors.As(err, &errs) {
				t.Fatalf("err = %v (%T), want Errors", err, err)
			}
			got := strings.Split(err.Error(), "\n")
			if !equalStrings(got, tt.want) {
				t.Errorf("errors =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

func TestErrorFields(t *testing.T) {
	_, err := Load("example.com", "testdata/errors.zone", []string{"x IN TXT \"ok\"", "www IN CNAME a"})
	var one *Error
	if !errors.As(err, &one) || one.File != "testdata/errors.zone" || one.Line != 4 || one.Record != 0 {
		t.Fatalf("first error = %+v, want testdata/errors.zone line 4", one)
	}
	errs := err.(Errors)
	last := errs[len(errs)-1]
	if last.Record != 2 || last.File != "" || last.Line != 0 {
		t.Errorf("last error = %+v, want inline record 2", last)
	}
}

func TestLoadValid(t *testing.T) {
	tests := []struct {
		name   string
		origin string
		file   string
		inline []string
		qname  string
		qtype  uint16
		want   []string
	}{
		{name: "no file, no records: default SOA at apex", origin: "privatelink.blob.core.windows.net", qname: "privatelink.blob.core.windows.net.",
			want: []string{"privatelink.blob.core.windows.net. 3600 IN SOA azureprivatedns.net. azureprivatedns-host.microsoft.com. 1 3600 300 2419200 10"}},
		{name: "inline default TTL is 3600 and names are zone-relative", origin: "Example.com.", inline: []string{"@ IN MX 10 mail"}, qname: "example.com.", qtype: dns.TypeMX,
			want: []string{"example.com. 3600 IN MX 10 mail.example.com."}},
		{name: "absolute inline owner inside the zone", origin: "example.com", inline: []string{"A.Example.COM. 5 IN A 10.0.0.1"}, qname: "a.example.com.",
			want: []string{"a.example.com. 5 IN A 10.0.0.1"}},
		{name: "duplicate records merge", origin: "example.com", inline: []string{"a IN A 10.0.0.1", "A 60 IN A 10.0.0.1", "a IN A 10.0.0.2"}, qname: "a.example.com.",
			want: []string{"a.example.com. 3600 IN A 10.0.0.1", "a.example.com. 3600 IN A 10.0.0.2"}},
		{name: "file without $TTL: 3600, then the last stated TTL (RFC 1035), but one TTL per RRset", origin: "example.com", file: "testdata/nottl.zone", qname: "b.example.com.",
			want: []string{"b.example.com. 3600 IN A 10.0.0.1", "b.example.com. 3600 IN A 10.0.0.3"}},
		{name: "file without $TTL: a stated TTL carries to later records", origin: "example.com", file: "testdata/nottl.zone", qname: "c.example.com.",
			want: []string{"c.example.com. 42 IN A 10.0.0.2", "c.example.com. 42 IN A 10.0.0.4"}},
		{name: "file's own $ORIGIN", origin: "example.com", file: "testdata/origin.zone", qname: "x.sub.example.com.",
			want: []string{"x.sub.example.com. 3600 IN A 10.0.0.5"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			z := mustLoad(t, tt.origin, tt.file, tt.inline)
			qtype := tt.qtype
			if qtype == 0 {
				qtype = dns.TypeANY
			}
			r := z.Lookup(tt.qname, qtype)
			if got, want := rrStrings(r.Records), normalise(t, tt.want); r.Kind != Answer || !equalStrings(got, want) {
				t.Errorf("%v %v, want Answer %v", r.Kind, got, want)
			}
		})
	}
}

// TestRecordLines checks the line reader against the zone parser: each
// record must be reported on the line where it starts.
func TestRecordLines(t *testing.T) {
	text := strings.Join([]string{
		"$TTL 300",                     // 1
		"@ IN SOA ns hm (",             // 2
		"   1 2 3",                     // 3
		"   4 5 ) ; trailing",          // 4
		"",                             // 5
		"; a comment with ( and \"",    // 6
		"www IN A 10.0.0.1 ; comment",  // 7
		"    IN A 10.0.0.2",            // 8
		`txt IN TXT "a;(b" "c\"(" ; x`, // 9
		"$ORIGIN sub.example.com.",     // 10
		"esc\\;name IN A 10.0.0.3",     // 11
		"   ",                          // 12
		"mx IN MX ( 10",                // 13
		"   mail )",                    // 14
		"last IN A 10.0.0.4",           // 15, no final newline
	}, "\n")
	path := filepath.Join(t.TempDir(), "lines.zone")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	entries, err := parseFile("example.com.", path)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int{
		"example.com. SOA": 2, "www.example.com. A": 8, "txt.example.com. TXT": 9,
		"esc\\;name.sub.example.com. A": 11, "mx.sub.example.com. MX": 13, "last.sub.example.com. A": 15,
	}
	wantLines := []int{2, 7, 8, 9, 11, 13, 15}
	if len(entries) != len(wantLines) {
		t.Fatalf("parsed %d records, want %d", len(entries), len(wantLines))
	}
	for i, e := range entries {
		key := e.rr.Header().Name + " " + dns.TypeToString[e.rr.Header().Rrtype]
		if _, ok := want[key]; !ok {
			t.Errorf("unexpected record %s", e.rr)
		}
		if e.loc.Line != wantLines[i] || e.loc.File != path {
			t.Errorf("%s: at %s:%d, want line %d", e.rr, e.loc.File, e.loc.Line, wantLines[i])
		}
	}
}
