package resolvertest

import (
	"net/netip"
	"strings"

	"github.com/miekg/dns"

	"github.com/privdns/privdns/zones"
)

// Zone loads a zone from records in master-file syntax, relative to origin.
func Zone(tb TB, origin string, records ...string) *zones.Zone {
	tb.Helper()
	z, err := zones.Load(origin, "", records)
	if err != nil {
		tb.Fatalf("zone %s: %v", origin, err)
	}
	return z
}

// Prefixes parses CIDR prefixes.
func Prefixes(tb TB, ps ...string) []netip.Prefix {
	tb.Helper()
	out := make([]netip.Prefix, len(ps))
	for i, p := range ps {
		pr, err := netip.ParsePrefix(p)
		if err != nil {
			tb.Fatalf("prefix %q: %v", p, err)
		}
		out[i] = pr
	}
	return out
}

// Query is a question for name with EDNS (UDP size 1232), as dig asks.
func Query(name string, qtype uint16) *dns.Msg {
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(name), qtype)
	m.SetEdns0(1232, false)
	return m
}

// StartPublic serves records like a public resolver for the test.
func StartPublic(tb TB, records ...string) *Server {
	tb.Helper()
	p, err := NewPublic(records...)
	if err != nil {
		tb.Fatalf("public records: %v", err)
	}
	return New(tb, p)
}

// RRStrings renders records (OPT left out) as zone-file lines with single
// spaces, for comparison.
func RRStrings(rrs []dns.RR) []string {
	out := make([]string, 0, len(rrs))
	for _, rr := range rrs {
		if rr.Header().Rrtype == dns.TypeOPT {
			continue
		}
		out = append(out, strings.ReplaceAll(rr.String(), "\t", " "))
	}
	return out
}

// ParseLines normalises expected zone-file lines as RRStrings renders them.
func ParseLines(tb TB, lines []string) []string {
	tb.Helper()
	var rrs []dns.RR
	for _, l := range lines {
		rr, err := dns.NewRR(l)
		if err != nil {
			tb.Fatalf("bad expected record %q: %v", l, err)
		}
		rrs = append(rrs, rr)
	}
	return RRStrings(rrs)
}

// EDETexts returns the Extended DNS Error texts of m.
func EDETexts(m *dns.Msg) []string {
	var out []string
	for _, rr := range m.Extra {
		if opt, ok := rr.(*dns.OPT); ok {
			for _, o := range opt.Option {
				if e, ok := o.(*dns.EDNS0_EDE); ok {
					out = append(out, e.ExtraText)
				}
			}
		}
	}
	return out
}
