package secondary

import (
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/privdns/privdns/zones"
)

// FuzzApplyIXFR feeds arbitrary IXFR answers (records one per line) to
// the IXFR parser and the result to zones.Transferred: neither may panic,
// and an accepted answer must start with the new SOA.
func FuzzApplyIXFR(f *testing.F) {
	held := strings.Join(version(10, "old 60 IN TXT \"x\""), "\n")
	soa := func(n string) string { return "@ 3600 IN SOA ns1 hm " + n + " 60 30 600 10" }
	for _, seed := range []string{
		strings.Join([]string{soa("11"), soa("10"), "old 60 IN TXT \"x\"", soa("11"), "new 60 IN A 10.0.0.1", soa("11")}, "\n"),
		strings.Join([]string{soa("12"), soa("10"), soa("11"), "a 60 IN A 10.0.0.1", soa("11"), "a 60 IN A 10.0.0.1", soa("12"), soa("12")}, "\n"),
		strings.Join(append([]string{soa("11")}, append(version(11), soa("11"))[1:]...), "\n"),
		strings.Join([]string{soa("11"), soa("10"), "nothere 60 IN A 10.0.0.9", soa("11"), soa("11")}, "\n"),
		strings.Join([]string{soa("11"), soa("9"), soa("11"), soa("11")}, "\n"),
		soa("11"),
		"www 60 IN A 10.0.0.1",
	} {
		f.Add(held, seed)
	}
	f.Fuzz(func(t *testing.T, heldText, answer string) {
		base := parse(heldText)
		if len(base) == 0 || base[0].Header().Rrtype != dns.TypeSOA {
			return
		}
		out, _, err := applyIXFR(base, parse(answer))
		if err != nil {
			return
		}
		if len(out) == 0 || out[0].Header().Rrtype != dns.TypeSOA {
			t.Fatalf("accepted an answer into %v", out)
		}
		zones.Transferred("corp.example.", out)
	})
}

// parse reads records relative to corp.example, skipping what does not
// parse.
func parse(text string) []dns.RR {
	zp := dns.NewZoneParser(strings.NewReader(text), "corp.example.", "")
	var out []dns.RR
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		out = append(out, rr)
	}
	return out
}
