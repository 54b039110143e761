package zones

import (
	"strings"
	"sync"
	"testing"

	"github.com/miekg/dns"
)

// exampleInline merges with testdata/example.zone in the lookup tests.
var exampleInline = []string{
	"contoso 10 IN A 10.1.0.5",
	"web IN A 10.0.0.80", // duplicate of the file's record: merged
	"@ IN TXT \"inline\"",
}

func TestLookup(t *testing.T) {
	z := mustLoad(t, "Example.COM", "testdata/example.zone", exampleInline)
	const soa = "example.com. 60 IN SOA ns1.example.com. hostmaster.example.com. 2024010101 3600 300 2419200 60"
	tests := []struct {
		name       string
		qname      string
		qtype      uint16
		wantKind   Kind
		want       []string // Answer/CNAME records, as zone-file lines
		wantTarget string
		wantWild   bool
	}{
		{name: "exact A from file", qname: "ns1.example.com.", qtype: dns.TypeA, wantKind: Answer,
			want: []string{"ns1.example.com. 300 IN A 10.0.0.53"}},
		{name: "RRset keeps order and merges duplicate inline record", qname: "web.example.com.", qtype: dns.TypeA, wantKind: Answer,
			want: []string{"web.example.com. 300 IN A 10.0.0.80", "web.example.com. 300 IN A 10.0.0.81"}},
		{name: "inline record with its own TTL", qname: "contoso.example.com.", qtype: dns.TypeA, wantKind: Answer,
			want: []string{"contoso.example.com. 10 IN A 10.1.0.5"}},
		{name: "record from $INCLUDE file", qname: "included.example.com.", qtype: dns.TypeA, wantKind: Answer,
			want: []string{"included.example.com. 300 IN A 10.0.0.7"}},
		{name: "file continues after $INCLUDE", qname: "after.example.com.", qtype: dns.TypeA, wantKind: Answer,
			want: []string{"after.example.com. 300 IN A 10.0.0.9"}},
		{name: "case-insensitive name, no trailing dot", qname: "WEB.Example.Com", qtype: dns.TypeAAAA, wantKind: Answer,
			want: []string{"web.example.com. 30 IN AAAA fd00::80"}},
		{name: "TXT with quoted semicolon", qname: "a.b.c.example.com.", qtype: dns.TypeTXT, wantKind: Answer,
			want: []string{`a.b.c.example.com. 300 IN TXT "deep; (not a comment)"`}},
		{name: "apex SOA", qname: "example.com.", qtype: dns.TypeSOA, wantKind: Answer,
			want: []string{"example.com. 300 IN SOA ns1.example.com. hostmaster.example.com. 2024010101 3600 300 2419200 60"}},
		{name: "apex NS", qname: "example.com.", qtype: dns.TypeNS, wantKind: Answer,
			want: []string{"example.com. 300 IN NS ns1.example.com."}},
		{name: "apex ANY returns every RRset", qname: "example.com.", qtype: dns.TypeANY, wantKind: Answer,
			want: []string{
				"example.com. 300 IN SOA ns1.example.com. hostmaster.example.com. 2024010101 3600 300 2419200 60",
				"example.com. 300 IN NS ns1.example.com.",
				"example.com. 300 IN MX 10 mail.example.com.",
				`example.com. 3600 IN TXT "inline"`,
			}},
		{name: "ANY at a name with two types", qname: "web.example.com.", qtype: dns.TypeANY, wantKind: Answer,
			want: []string{"web.example.com. 300 IN A 10.0.0.80", "web.example.com. 300 IN A 10.0.0.81", "web.example.com. 30 IN AAAA fd00::80"}},
		{name: "CNAME for other type, target lower-cased", qname: "www.example.com.", qtype: dns.TypeA, wantKind: CNAME,
			want: []string{"www.example.com. 300 IN CNAME Web.Example.COM."}, wantTarget: "web.example.com."},
		{name: "CNAME query at CNAME is an answer", qname: "WWW.example.com.", qtype: dns.TypeCNAME, wantKind: Answer,
			want: []string{"www.example.com. 300 IN CNAME Web.Example.COM."}},
		{name: "existing name without the type is NODATA", qname: "ns1.example.com.", qtype: dns.TypeAAAA, wantKind: NoData},
		{name: "apex without the type is NODATA", qname: "example.com.", qtype: dns.TypeA, wantKind: NoData},
		{name: "empty non-terminal is NODATA", qname: "b.c.example.com.", qtype: dns.TypeA, wantKind: NoData},
		{name: "empty non-terminal two levels up is NODATA", qname: "C.example.com.", qtype: dns.TypeTXT, wantKind: NoData},
		{name: "empty non-terminal ANY is NODATA", qname: "c.example.com.", qtype: dns.TypeANY, wantKind: NoData},
		{name: "below empty non-terminal without wildcard is NXDOMAIN", qname: "x.c.example.com.", qtype: dns.TypeA, wantKind: NXDomain},
		{name: "missing name is NXDOMAIN", qname: "nope.example.com.", qtype: dns.TypeA, wantKind: NXDomain},
		{name: "name outside the zone is NXDOMAIN", qname: "web.example.org.", qtype: dns.TypeA, wantKind: NXDomain},
		{name: "suffix that is not a label boundary is outside", qname: "xexample.com.", qtype: dns.TypeA, wantKind: NXDomain},
		{name: "wildcard answers with the query name as owner", qname: "Any.WILD.example.com", qtype: dns.TypeA, wantKind: Answer,
			want: []string{"Any.WILD.example.com. 300 IN A 10.0.0.99"}, wantWild: true},
		{name: "wildcard covers several labels", qname: "a.b.wild.example.com.", qtype: dns.TypeTXT, wantKind: Answer,
			want: []string{`a.b.wild.example.com. 300 IN TXT "wild"`}, wantWild: true},
		{name: "wildcard ANY", qname: "z.wild.example.com.", qtype: dns.TypeANY, wantKind: Answer,
			want: []string{"z.wild.example.com. 300 IN A 10.0.0.99", `z.wild.example.com. 300 IN TXT "wild"`}, wantWild: true},
		{name: "wildcard without the type is NODATA", qname: "any.wild.example.com.", qtype: dns.TypeAAAA, wantKind: NoData},
		{name: "closer existing name beats wildcard", qname: "host.wild.example.com.", qtype: dns.TypeA, wantKind: Answer,
			want: []string{"host.wild.example.com. 300 IN A 10.0.0.1"}},
		{name: "closer existing name without the type is NODATA, not wildcard", qname: "host.wild.example.com.", qtype: dns.TypeTXT, wantKind: NoData},
		{name: "empty non-terminal beats wildcard", qname: "ent.wild.example.com.", qtype: dns.TypeA, wantKind: NoData},
		{name: "below an existing name the parent wildcard does not apply", qname: "x.host.wild.example.com.", qtype: dns.TypeA, wantKind: NXDomain},
		{name: "wildcard name queried literally is an exact match", qname: "*.wild.example.com.", qtype: dns.TypeA, wantKind: Answer,
			want: []string{"*.wild.example.com. 300 IN A 10.0.0.99"}},
		{name: "wildcard parent is an empty non-terminal", qname: "wild.example.com.", qtype: dns.TypeA, wantKind: NoData},
		{name: "wildcard CNAME is synthesised", qname: "Foo.alias.example.com.", qtype: dns.TypeA, wantKind: CNAME,
			want: []string{"Foo.alias.example.com. 300 IN CNAME target.example.net."}, wantTarget: "target.example.net.", wantWild: true},
		{name: "wildcard CNAME queried for CNAME is an answer", qname: "foo.alias.example.com.", qtype: dns.TypeCNAME, wantKind: Answer,
			want: []string{"foo.alias.example.com. 300 IN CNAME target.example.net."}, wantWild: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := z.Lookup(tt.qname, tt.qtype)
			if got.Kind != tt.wantKind {
				t.Fatalf("Kind = %v, want %v (records %v)", got.Kind, tt.wantKind, rrStrings(got.Records))
			}
			if want := normalise(t, tt.want); !equalStrings(rrStrings(got.Records), want) {
				t.Errorf("Records =\n%v\nwant\n%v", rrStrings(got.Records), want)
			}
			if got.Target != tt.wantTarget || got.Wildcard != tt.wantWild {
				t.Errorf("Target, Wildcard = %q, %v; want %q, %v", got.Target, got.Wildcard, tt.wantTarget, tt.wantWild)
			}
			negative := tt.wantKind == NoData || tt.wantKind == NXDomain
			switch {
			case negative && (got.SOA == nil || got.SOA.String() != normalise(t, []string{soa})[0]):
				t.Errorf("SOA = %v, want %s", got.SOA, soa)
			case !negative && got.SOA != nil:
				t.Errorf("SOA = %v on a positive answer", got.SOA)
			}
		})
	}
}

func TestNegativeSOATTL(t *testing.T) {
	tests := []struct {
		name    string
		inline  []string
		wantTTL uint32
		wantSOA string
	}{
		{name: "default SOA: minimum 10 below TTL 3600", wantTTL: 10,
			wantSOA: "example.com. 3600 IN SOA azureprivatedns.net. azureprivatedns-host.microsoft.com. 1 3600 300 2419200 10"},
		{name: "SOA TTL below minimum wins", inline: []string{"@ 30 IN SOA ns hm 1 2 3 4 3600"}, wantTTL: 30,
			wantSOA: "example.com. 30 IN SOA ns.example.com. hm.example.com. 1 2 3 4 3600"},
		{name: "minimum below SOA TTL wins", inline: []string{"@ 900 IN SOA ns hm 1 2 3 4 120"}, wantTTL: 120,
			wantSOA: "example.com. 900 IN SOA ns.example.com. hm.example.com. 1 2 3 4 120"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			z := mustLoad(t, "example.com", "", append(tt.inline, "a IN A 10.0.0.1"))
			if got := z.SOA().String(); got != normalise(t, []string{tt.wantSOA})[0] {
				t.Errorf("SOA() = %s, want %s", got, tt.wantSOA)
			}
			for _, q := range []struct {
				name  string
				qtype uint16
			}{{"nope.example.com.", dns.TypeA}, {"a.example.com.", dns.TypeMX}} {
				r := z.Lookup(q.name, q.qtype)
				if r.SOA == nil || r.SOA.Hdr.Ttl != tt.wantTTL {
					t.Fatalf("Lookup(%s) SOA = %v, want TTL %d", q.name, r.SOA, tt.wantTTL)
				}
			}
			if r := z.Lookup("example.com.", dns.TypeSOA); r.Kind != Answer || r.Records[0] != dns.RR(z.SOA()) {
				t.Errorf("apex SOA query = %v %v, want the zone SOA", r.Kind, rrStrings(r.Records))
			}
		})
	}
}

func TestZoneAccessors(t *testing.T) {
	z := mustLoad(t, "Example.COM", "testdata/example.zone", exampleInline)
	if z.Name() != "example.com." {
		t.Errorf("Name() = %q", z.Name())
	}
	// apex SOA NS MX TXT, ns1 A, mail A, www CNAME, web A AAAA, a.b.c TXT,
	// *.wild A TXT, host.wild A, x.ent.wild A, *.alias CNAME, included A,
	// after A, contoso A.
	if z.Len() != 18 {
		t.Errorf("Len() = %d, want 18", z.Len())
	}
	contains := map[string]bool{
		"example.com.": true, "EXAMPLE.com": true, "a.b.Example.Com.": true, "x.example.com": true,
		"example.org.": false, "xexample.com.": false, "com.": false, "": false,
		`a\.b.example.com.`: true, `a\.example.com.`: false, `a.b\.example.com.`: false,
	}
	for name, want := range contains {
		if got := z.Contains(name); got != want {
			t.Errorf("Contains(%q) = %v, want %v", name, got, want)
		}
	}
}

func TestLookupEscapedLabels(t *testing.T) {
	z := mustLoad(t, "example.com", "", []string{`a\.b IN A 10.0.0.1`, `*.a\.b IN A 10.0.0.2`})
	tests := []struct {
		name     string
		qname    string
		wantKind Kind
		want     []string
	}{
		{name: "escaped dot stays inside the label", qname: `A\.B.example.com.`, wantKind: Answer,
			want: []string{`a\.b.example.com. 3600 IN A 10.0.0.1`}},
		{name: "unescaped twin is another name", qname: "a.b.example.com.", wantKind: NXDomain},
		{name: "wildcard below an escaped label", qname: `x.a\.b.example.com.`, wantKind: Answer,
			want: []string{`x.a\.b.example.com. 3600 IN A 10.0.0.2`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := z.Lookup(tt.qname, dns.TypeA)
			if got.Kind != tt.wantKind || !equalStrings(rrStrings(got.Records), normalise(t, tt.want)) {
				t.Errorf("Lookup = %v %v, want %v %v", got.Kind, rrStrings(got.Records), tt.wantKind, tt.want)
			}
		})
	}
}

// TestConcurrentLookups lets the race detector confirm that lookups,
// including wildcard synthesis, never write to the shared zone.
func TestConcurrentLookups(t *testing.T) {
	z := mustLoad(t, "example.com", "testdata/example.zone", nil)
	names := []string{"web.example.com.", "Any.wild.example.com.", "foo.alias.example.com.", "nope.example.com.", "c.example.com."}
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for i := range 200 {
				r := z.Lookup(names[i%len(names)], dns.TypeA)
				if r.Kind == Answer && len(r.Records) == 0 {
					t.Error("empty answer")
				}
			}
		})
	}
	wg.Wait()
	if r := z.Lookup("*.wild.example.com.", dns.TypeA); r.Records[0].Header().Name != "*.wild.example.com." {
		t.Errorf("wildcard synthesis renamed the stored record to %s", r.Records[0].Header().Name)
	}
}

// TestNamesWrittenWithDecimalEscapesMatchTheWire: a zone file may spell a
// name with \DDD escapes; clients' names arrive in miekg/dns's spelling of
// the wire form. Both must be the same name.
func TestNamesWrittenWithDecimalEscapesMatchTheWire(t *testing.T) {
	z := mustLoad(t, "example.com", "", []string{
		`x\065y IN A 10.0.0.1`, `sp\032ace IN A 10.0.0.2`, `semi\059x IN A 10.0.0.3`,
		`a\046c IN A 10.0.0.4`, `caf\195\169 IN A 10.0.0.5`, `alias IN CNAME X\065Y`,
	})
	for _, asked := range []string{"XAY", `sp\032ace`, `semi\;x`, `a\.c`, `CAF\195\169`} {
		// The name as a server reads it from a client's packet.
		m := new(dns.Msg)
		m.SetQuestion(asked+".example.com.", dns.TypeA)
		wire, err := m.Pack()
		if err != nil {
			t.Fatal(err)
		}
		if err := m.Unpack(wire); err != nil {
			t.Fatal(err)
		}
		if got := z.Lookup(m.Question[0].Name, dns.TypeA); got.Kind != Answer || len(got.Records) != 1 {
			t.Errorf("%s (read as %s): %v %v, want its A record", asked, m.Question[0].Name, got.Kind, rrStrings(got.Records))
		}
	}
	if got := z.Lookup("alias.example.com.", dns.TypeA); got.Kind != CNAME || got.Target != "xay.example.com." {
		t.Errorf("alias: %v → %q, want a CNAME to xay.example.com.", got.Kind, got.Target)
	}
	// The same name spelt two ways is one name: a CNAME next to its A.
	if _, err := Load("example.com", "", []string{`xAy IN CNAME www`, `x\065y IN A 10.0.0.1`}); err == nil || !strings.Contains(err.Error(), "next to a CNAME record") {
		t.Errorf("CNAME at xAy and A at x\\065y: %v, want the CNAME-and-other-data error", err)
	}
}
