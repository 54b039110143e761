package zones

import (
	"strings"
	"testing"

	"github.com/miekg/dns"
)

// rrs parses zone-file lines (absolute names) into records.
func rrs(t *testing.T, lines ...string) []dns.RR {
	t.Helper()
	out := make([]dns.RR, len(lines))
	for i, l := range lines {
		rr, err := dns.NewRR(l)
		if err != nil {
			t.Fatalf("bad record %q: %v", l, err)
		}
		out[i] = rr
	}
	return out
}

const testSOA = "corp.example. 3600 IN SOA ns1.corp.example. hm.corp.example. 7 60 30 600 10"

func TestTransferredIsValidatedLikeAZoneFile(t *testing.T) {
	cases := []struct {
		name    string
		records []string
		want    string
	}{
		{"CNAME beside other data", []string{testSOA, "www.corp.example. IN CNAME web.corp.example.", "www.corp.example. IN A 10.0.0.1"}, "www.corp.example.: A record next to a CNAME record"},
		{"CNAME at the apex", []string{testSOA, "corp.example. IN CNAME other.example."}, "CNAME record at the zone apex"},
		{"owner outside the zone", []string{testSOA, "www.other.example. IN A 10.0.0.1"}, "www.other.example.: owner is outside zone corp.example."},
		{"a second SOA", []string{testSOA, "corp.example. IN SOA a. b. 8 1 1 1 1"}, "more than one SOA record"},
		{"SOA below the apex", []string{testSOA, "x.corp.example. IN SOA a. b. 8 1 1 1 1"}, "SOA record not at the zone apex"},
		{"no SOA", []string{"www.corp.example. IN A 10.0.0.1"}, "corp.example.: no SOA record"},
		{"class other than IN", []string{testSOA, "www.corp.example. CH A 10.0.0.1"}, "class CH not supported"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			z, _, err := Transferred("corp.example", rrs(t, c.records...))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Transferred = %v, %v; want an error holding %q", z, err, c.want)
			}
		})
	}
}

func TestTransferredDropsDelegationsWithTheirGlue(t *testing.T) {
	z, cuts, err := Transferred("Corp.Example.", rrs(t,
		testSOA,
		"corp.example. IN NS ns1.corp.example.",
		"ns1.corp.example. IN A 10.0.0.53",
		"_msdcs.corp.example. IN NS dc1._msdcs.corp.example.",
		"dc1._msdcs.corp.example. IN A 10.0.0.10",
		"x.dc1._msdcs.corp.example. IN NS deeper.example.",
		"_msdcs.corp.example. IN DS 1 8 2 AABBCCDD",
		"SUB.corp.example. IN NS ns.elsewhere.example.",
		"www.sub.corp.example. IN A 10.0.0.11",
		"www.corp.example. IN A 10.0.0.1",
	))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(cuts, " ") != "_msdcs.corp.example. sub.corp.example." {
		t.Errorf("cuts = %q, want _msdcs and sub (the nested one covered)", cuts)
	}
	for _, c := range []struct {
		qname string
		qtype uint16
		want  Kind
	}{
		{"www.corp.example.", dns.TypeA, Answer},
		{"corp.example.", dns.TypeNS, Answer},
		{"ns1.corp.example.", dns.TypeA, Answer},
		{"dc1._msdcs.corp.example.", dns.TypeA, NXDomain},
		{"_msdcs.corp.example.", dns.TypeDS, NXDomain},
		{"www.sub.corp.example.", dns.TypeA, NXDomain},
	} {
		if got := z.Lookup(c.qname, c.qtype).Kind; got != c.want {
			t.Errorf("Lookup(%s, %s) = %v, want %v", c.qname, dns.TypeToString[c.qtype], got, c.want)
		}
	}
	for _, c := range []struct {
		qname, cut string
	}{
		{"dc1._msdcs.corp.example.", "_msdcs.corp.example."},
		{"_MSDCS.corp.example", "_msdcs.corp.example."},
		{"a.b.sub.corp.example.", "sub.corp.example."},
		{"www.corp.example.", ""},
		{"xsub.corp.example.", ""},
		{"corp.example.", ""},
	} {
		cut, ok := z.Delegated(c.qname)
		if cut != c.cut || ok != (c.cut != "") {
			t.Errorf("Delegated(%s) = %q, %v; want %q", c.qname, cut, ok, c.cut)
		}
	}
	if allocs := testing.AllocsPerRun(100, func() { z.Delegated("dc1._msdcs.corp.example.") }); allocs != 0 {
		t.Errorf("Delegated allocates %v times", allocs)
	}
}

func TestRecordsListsTheZoneSOAFirst(t *testing.T) {
	z := mustLoad(t, "corp.example", "", []string{
		"www 60 IN A 10.0.0.1",
		"@ 60 IN NS ns1",
		"@ 3600 IN SOA ns1 hm 7 60 30 600 10",
		"*.wild 60 IN TXT \"w\"",
		"a.b.c 60 IN A 10.0.0.2",
	})
	got := rrStrings(z.Records())
	want := normalise(t, []string{
		"corp.example. 3600 IN SOA ns1.corp.example. hm.corp.example. 7 60 30 600 10",
		"corp.example. 60 IN NS ns1.corp.example.",
		"*.wild.corp.example. 60 IN TXT \"w\"",
		"a.b.c.corp.example. 60 IN A 10.0.0.2",
		"www.corp.example. 60 IN A 10.0.0.1",
	})
	if !equalStrings(got, want) {
		t.Errorf("Records =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	back, _, err := Transferred("corp.example", z.Records())
	if err != nil || !equalStrings(rrStrings(back.Records()), want) {
		t.Errorf("Transferred(Records) = %v, %v; want the same zone", back, err)
	}
}

func TestWithSerialChangesOnlyTheSerial(t *testing.T) {
	z := mustLoad(t, "corp.example", "", []string{"@ 3600 IN SOA ns1 hm 7 60 30 600 10", "@ 60 IN NS ns1", "www 60 IN A 10.0.0.1"})
	c := z.WithSerial(8)
	if z.SOA().Serial != 7 || c.SOA().Serial != 8 {
		t.Fatalf("serials = %d, %d; want 7 kept and 8", z.SOA().Serial, c.SOA().Serial)
	}
	if r := c.Lookup("nope.corp.example.", dns.TypeA); r.SOA.Serial != 8 || r.SOA.Hdr.Ttl != 10 {
		t.Errorf("negative SOA = %v, want serial 8, TTL 10", r.SOA)
	}
	any := c.Lookup("corp.example.", dns.TypeANY).Records
	if len(any) != 2 || any[0].(*dns.SOA).Serial != 8 {
		t.Errorf("apex ANY = %v, want the new SOA and the NS", any)
	}
	if soa := c.Lookup("corp.example.", dns.TypeSOA).Records; soa[0].(*dns.SOA).Serial != 8 {
		t.Errorf("apex SOA = %v, want serial 8", soa)
	}
	if soa := z.Lookup("corp.example.", dns.TypeSOA).Records; soa[0].(*dns.SOA).Serial != 7 {
		t.Errorf("the original changed: %v", soa)
	}
	if c.Lookup("www.corp.example.", dns.TypeA).Kind != Answer || c.Len() != z.Len() {
		t.Errorf("the copy lost records")
	}
}
