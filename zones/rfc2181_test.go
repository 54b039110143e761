package zones

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

// warningStrings renders a zone's warnings as Load's callers print them.
func warningStrings(z *Zone) []string {
	out := make([]string, len(z.Warnings()))
	for i, w := range z.Warnings() {
		out[i] = w.Error()
	}
	return out
}

// writeZone writes a master file into a fresh folder and returns its path.
func writeZone(t *testing.T, lines ...string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "z.zone")
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestOneTTLPerRRset: RFC 2181 §5.2 forbids an RRset whose records carry
// different TTLs. Like BIND, Load gives every record the TTL of the
// RRset's first one and warns at each record it changed.
func TestOneTTLPerRRset(t *testing.T) {
	tests := []struct {
		name     string
		file     string
		inline   []string
		qname    string
		qtype    uint16
		want     []string
		warnings []string
	}{
		{name: "inline records: the first TTL wins", inline: []string{"a 60 IN A 10.0.0.1", "a 120 IN A 10.0.0.2", "a 60 IN A 10.0.0.3"},
			qname: "a.example.com.", qtype: dns.TypeA,
			want:     []string{"a.example.com. 60 IN A 10.0.0.1", "a.example.com. 60 IN A 10.0.0.2", "a.example.com. 60 IN A 10.0.0.3"},
			warnings: []string{"records[1]: a.example.com.: A record: TTL 120 differs from the TTL of its RRset (RFC 2181 §5.2); set to prior TTL 60"}},
		{name: "file without $TTL: the RFC 1035 carried TTL is overruled per RRset, with the file's line", file: "testdata/nottl.zone",
			qname: "b.example.com.", qtype: dns.TypeA,
			want:     []string{"b.example.com. 3600 IN A 10.0.0.1", "b.example.com. 3600 IN A 10.0.0.3"},
			warnings: []string{"testdata/nottl.zone:4: b.example.com.: A record: TTL 42 differs from the TTL of its RRset (RFC 2181 §5.2); set to prior TTL 3600"}},
		{name: "the file's record comes before the inline ones", file: "testdata/example.zone", inline: []string{"web 5 IN A 10.0.0.82"},
			qname: "web.example.com.", qtype: dns.TypeA,
			want:     []string{"web.example.com. 300 IN A 10.0.0.80", "web.example.com. 300 IN A 10.0.0.81", "web.example.com. 300 IN A 10.0.0.82"},
			warnings: []string{"records[0]: web.example.com.: A record: TTL 5 differs from the TTL of its RRset (RFC 2181 §5.2); set to prior TTL 300"}},
		{name: "a duplicate with another TTL merges, with the warning", inline: []string{"a 60 IN A 10.0.0.1", "a 30 IN A 10.0.0.1"},
			qname: "a.example.com.", qtype: dns.TypeA,
			want:     []string{"a.example.com. 60 IN A 10.0.0.1"},
			warnings: []string{"records[1]: a.example.com.: A record: TTL 30 differs from the TTL of its RRset (RFC 2181 §5.2); set to prior TTL 60"}},
		{name: "an exact duplicate merges silently", inline: []string{"a 60 IN A 10.0.0.1", "A.example.com. 60 IN A 10.0.0.1"},
			qname: "a.example.com.", qtype: dns.TypeA,
			want: []string{"a.example.com. 60 IN A 10.0.0.1"}},
		{name: "a duplicate whose data differs only in case merges silently", inline: []string{"@ 60 IN MX 10 Mail.example.com.", "@ 60 IN MX 10 mail.example.com."},
			qname: "example.com.", qtype: dns.TypeMX,
			want: []string{"example.com. 60 IN MX 10 Mail.example.com."}},
		{name: "types at one name are separate RRsets", inline: []string{"a 60 IN A 10.0.0.1", "a 120 IN AAAA fd00::1"},
			qname: "a.example.com.", qtype: dns.TypeANY,
			want: []string{"a.example.com. 60 IN A 10.0.0.1", "a.example.com. 120 IN AAAA fd00::1"}},
		{name: "wildcard RRsets too, and the synthesised answer carries the one TTL", inline: []string{"*.w 60 IN TXT \"a\"", "*.w 61 IN TXT \"b\""},
			qname: "x.w.example.com.", qtype: dns.TypeTXT,
			want:     []string{`x.w.example.com. 60 IN TXT "a"`, `x.w.example.com. 60 IN TXT "b"`},
			warnings: []string{"records[1]: *.w.example.com.: TXT record: TTL 61 differs from the TTL of its RRset (RFC 2181 §5.2); set to prior TTL 60"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			z := mustLoad(t, "example.com", tt.file, tt.inline)
			r := z.Lookup(tt.qname, tt.qtype)
			if got, want := rrStrings(r.Records), normalise(t, tt.want); r.Kind != Answer || !equalStrings(got, want) {
				t.Errorf("%v %v, want Answer %v", r.Kind, got, want)
			}
			if got := warningStrings(z); !equalStrings(got, tt.warnings) {
				t.Errorf("warnings =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tt.warnings, "\n"))
			}
		})
	}
}

// TestEveryRRsetHasOneTTL walks a whole zone, as the fuzz target does.
func TestEveryRRsetHasOneTTL(t *testing.T) {
	z := mustLoad(t, "example.com", "testdata/example.zone", append(exampleInline, "web 1 IN A 10.0.0.1", "ns1 2 IN A 10.0.0.2"))
	if bad := mixedTTLs(z); bad != "" {
		t.Error(bad)
	}
	if len(z.Warnings()) != 3 { // web (twice: the duplicate of exampleInline too) and ns1
		t.Errorf("warnings = %q, want 3", warningStrings(z))
	}
}

// TestTTLAboveMaximumIsZero: RFC 2181 §8 treats a TTL with the top bit set
// as 0; BIND warns and sets it to 0 when loading.
func TestTTLAboveMaximumIsZero(t *testing.T) {
	file := writeZone(t,
		"a 2147483647 IN A 10.0.0.1",
		"b 2147483648 IN A 10.0.0.2",
		"$TTL 4294967295",
		"c IN A 10.0.0.3",
		"b 0 IN A 10.0.0.4",
	)
	z := mustLoad(t, "example.com", file, nil)
	for name, want := range map[string]uint32{"a": 2147483647, "b": 0, "c": 0} {
		r := z.Lookup(name+".example.com.", dns.TypeA)
		for _, rr := range r.Records {
			if rr.Header().Ttl != want {
				t.Errorf("%s: TTL %d, want %d", rr, rr.Header().Ttl, want)
			}
		}
	}
	want := []string{
		file + ":2: b.example.com.: A record: TTL 2147483648 is above 2147483647 (RFC 2181 §8); set to 0",
		file + ":4: c.example.com.: A record: TTL 4294967295 is above 2147483647 (RFC 2181 §8); set to 0",
	}
	if got := warningStrings(z); !equalStrings(got, want) {
		t.Errorf("warnings =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestNameAndRecordLengths: RFC 2181 §11 limits labels to 63 octets and
// names to 255; a record's data is limited to 65535 octets. Each is an
// error, as in BIND: a reply carrying such a record cannot be read.
func TestNameAndRecordLengths(t *testing.T) {
	l63 := strings.Repeat("a", 63)
	// Under example.com. (13 octets on the wire): 64+64+64+50 = 242 more
	// octets make a name of exactly 255.
	max := l63 + "." + l63 + "." + l63 + "." + strings.Repeat("b", 49)
	tooLong := max + "b"
	txt := func(n int) string { return "t IN TXT" + strings.Repeat(` "`+strings.Repeat("x", 255)+`"`, n) }
	tests := []struct {
		name    string
		records []string
		wantErr string // "" = loads
	}{
		{name: "owner of 255 octets loads", records: []string{max + " IN A 10.0.0.1"}},
		{name: "target of 255 octets loads", records: []string{"x IN CNAME " + max}},
		{name: "label of 64 octets", records: []string{strings.Repeat("a", 64) + " IN A 10.0.0.1"}, wantErr: `records[0]: "` + strings.Repeat("a", 64) + `" is not a valid owner name (an empty label, or one longer than 63 octets)`},
		{name: "owner of 256 octets", records: []string{tooLong + " IN A 10.0.0.1"},
			wantErr: "records[0]: " + tooLong + ".example.com.: A record holds a name longer than 255 octets (RFC 2181 §11)"},
		{name: "CNAME target of 256 octets", records: []string{"x IN CNAME " + tooLong},
			wantErr: "records[0]: x.example.com.: CNAME record holds a name longer than 255 octets (RFC 2181 §11)"},
		{name: "MX exchange of 256 octets", records: []string{"@ IN MX 10 " + tooLong},
			wantErr: "records[0]: example.com.: MX record holds a name longer than 255 octets (RFC 2181 §11)"},
		{name: "SOA mailbox of 256 octets", records: []string{"@ IN SOA ns " + tooLong + " 1 2 3 4 5"},
			wantErr: "records[0]: example.com.: SOA record holds a name longer than 255 octets (RFC 2181 §11)"},
		{name: "TXT data of 65280 octets loads", records: []string{txt(255)}},
		{name: "TXT data of 65536 octets", records: []string{txt(256)},
			wantErr: "records[0]: t.example.com.: TXT record is longer than the 65535 octets a record may hold"},
		{name: "TXT data of 76800 octets", records: []string{txt(300)},
			wantErr: "records[0]: t.example.com.: TXT record is longer than the 65535 octets a record may hold"},
		{name: "owner of 256 octets, type with names in its data", records: []string{tooLong + " IN MX 10 mail"},
			wantErr: "records[0]: " + tooLong + ".example.com.: MX record holds a name longer than 255 octets (RFC 2181 §11)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			z, err := Load("example.com", "", tt.records)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("Load: %v", err)
			case tt.wantErr == "":
				if r := z.Lookup(tt.records[0][:strings.Index(tt.records[0], " ")]+".example.com.", dns.TypeANY); r.Kind != Answer {
					t.Errorf("record not served: %v", r.Kind)
				}
			case err == nil:
				t.Fatalf("Load accepted it, want %q", tt.wantErr)
			case !strings.HasPrefix(err.Error(), tt.wantErr):
				t.Errorf("err = %.300v\nwant %s", err, tt.wantErr)
			}
		})
	}
}

// TestAliasTargets: RFC 2181 §10.3 forbids MX and NS targets that are
// aliases, RFC 2782 SRV targets. BIND warns (MX, SRV) or logs and loads
// anyway (NS), so Load warns, for targets inside the zone.
func TestAliasTargets(t *testing.T) {
	file := writeZone(t,
		"@      IN NS    alias",
		"@      IN NS    ns",
		"@      IN MX    10 alias",
		"@      IN MX    20 mail",
		"@      IN MX    30 elsewhere.example.net.",
		"_x._tcp IN SRV  0 0 80 foo.wild",
		"_y._tcp IN SRV  0 0 80 .",
		"null   IN MX    0 .",
		"alias  IN CNAME mail",
		"*.wild IN CNAME mail",
		"mail   IN A     10.0.0.25",
		"ns     IN A     10.0.0.53",
		"ptr    IN PTR   alias",
	)
	z := mustLoad(t, "example.com", file, []string{"@ IN MX 40 ALIAS"})
	want := []string{
		file + ":1: example.com.: NS target alias.example.com. is an alias (CNAME) in this zone; RFC 2181 §10.3 wants the name the CNAME points to",
		file + ":3: example.com.: MX target alias.example.com. is an alias (CNAME) in this zone; RFC 2181 §10.3 wants the name the CNAME points to",
		file + ":6: _x._tcp.example.com.: SRV target foo.wild.example.com. is an alias (CNAME) in this zone; RFC 2181 §10.3 wants the name the CNAME points to",
		"records[0]: example.com.: MX target ALIAS.example.com. is an alias (CNAME) in this zone; RFC 2181 §10.3 wants the name the CNAME points to",
	}
	if got := warningStrings(z); !equalStrings(got, want) {
		t.Errorf("warnings =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if r := z.Lookup("example.com.", dns.TypeMX); len(r.Records) != 4 {
		t.Errorf("MX records = %v, want all four served", rrStrings(r.Records))
	}
}

func TestCleanZoneHasNoWarnings(t *testing.T) {
	if z := mustLoad(t, "example.com", "testdata/example.zone", nil); len(z.Warnings()) != 0 {
		t.Errorf("warnings = %q", warningStrings(z))
	}
}

// mixedTTLs returns a description of the first RRset of z whose records
// differ in TTL, or "".
func mixedTTLs(z *Zone) string {
	for n := range z.nodes {
		for _, s := range z.nodeSets(uint32(n)) {
			rrs := z.records(uint32(n), s)
			for _, rr := range rrs {
				if rr.Header().Ttl != rrs[0].Header().Ttl {
					return z.owner(uint32(n)) + " " + dns.TypeToString[s.typ] + ": " + strings.Join(rrStrings(rrs), " | ")
				}
			}
		}
	}
	return ""
}
