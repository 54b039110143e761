package zones

import (
	"strings"
	"testing"

	"github.com/miekg/dns"
)

// FuzzLoad feeds arbitrary inline text to Load (one record per line) and
// looks up every owner it accepted: neither may panic, and an accepted zone
// must answer its own records.
func FuzzLoad(f *testing.F) {
	for _, seed := range []string{
		"contoso 10 IN A 10.1.0.5",
		"@ IN MX 10 mail\nmail IN A 10.0.0.1",
		"www IN CNAME web.example.com.\nwww IN A 10.0.0.1",
		"*.wild IN TXT \"a;(b\"\nx.y.z IN AAAA fd00::1",
		"@ IN SOA ns hm ( 1 2 3 4 5 )",
		"a\\.b IN A 10.0.0.1\n*.a\\.b IN A 10.0.0.2",
		"$GENERATE 1-3 h$ A 10.0.0.$",
		"bad IN A 10.0.0",
		"sub IN NS ns.sub\nout.example.org. IN A 10.0.0.1",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, text string) {
		z, err := Load("example.com", "", strings.Split(text, "\n"))
		if err != nil {
			return
		}
		for _, n := range z.nodes {
			for _, rr := range n.all {
				name := rr.Header().Name
				for _, q := range []uint16{rr.Header().Rrtype, dns.TypeANY, dns.TypeA} {
					r := z.Lookup(name, q)
					if q != dns.TypeA && r.Kind != Answer {
						t.Fatalf("Lookup(%q, %d) = %v for an existing record", name, q, r.Kind)
					}
				}
				z.Lookup("x."+name, dns.TypeA)
				z.Lookup(strings.ToUpper(name), dns.TypeCNAME)
			}
		}
	})
}
