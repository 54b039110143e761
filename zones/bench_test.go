package zones

import (
	"fmt"
	"testing"

	"github.com/miekg/dns"
)

// benchZone builds a zone at Azure's limit of 25,000 RRsets: the default
// SOA, one wildcard and 24,998 A records two labels below the apex.
func benchZone(b *testing.B) *Zone {
	b.Helper()
	const n = 24998
	recs := make([]string, 0, n+1)
	for i := range n {
		recs = append(recs, fmt.Sprintf("host-%d.group-%d 300 IN A 10.%d.%d.%d", i, i%50, i>>16&255, i>>8&255, i&255))
	}
	recs = append(recs, "*.wild 300 IN A 10.255.0.1")
	z := mustLoad(b, "privatelink.blob.core.windows.net", "", recs)
	if z.Len() != 25000 {
		b.Fatalf("Len() = %d, want 25000", z.Len())
	}
	return z
}

func BenchmarkLookup(b *testing.B) {
	z := benchZone(b)
	cases := []struct {
		name  string
		qname string
		want  Kind
	}{
		{"exact", "host-12345.group-45.privatelink.blob.core.windows.net.", Answer},
		{"exact-mixed-case", "Host-12345.Group-45.PrivateLink.blob.core.windows.net.", Answer},
		{"nxdomain", "nope.group-45.privatelink.blob.core.windows.net.", NXDomain},
		{"nxdomain-deep", "a.b.c.nope.privatelink.blob.core.windows.net.", NXDomain},
		{"wildcard", "acct.wild.privatelink.blob.core.windows.net.", Answer},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			if r := z.Lookup(c.qname, dns.TypeA); r.Kind != c.want {
				b.Fatalf("Kind = %v, want %v", r.Kind, c.want)
			}
			b.ReportAllocs()
			for b.Loop() {
				z.Lookup(c.qname, dns.TypeA)
			}
		})
	}
}

func BenchmarkLoad(b *testing.B) {
	for b.Loop() {
		benchZone(b)
	}
}
