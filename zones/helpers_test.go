package zones

import (
	"testing"

	"github.com/miekg/dns"
)

// rrStrings renders records the way zone files (and test tables) write them.
func rrStrings(rrs []dns.RR) []string {
	out := make([]string, len(rrs))
	for i, rr := range rrs {
		out[i] = rr.String()
	}
	return out
}

// normalise parses zone-file lines and renders them back, so tables can be
// written loosely (spaces, relative TTL layout) and compared exactly.
func normalise(t *testing.T, lines []string) []string {
	t.Helper()
	out := make([]string, len(lines))
	for i, l := range lines {
		rr, err := dns.NewRR(l)
		if err != nil {
			t.Fatalf("bad want record %q: %v", l, err)
		}
		out[i] = rr.String()
	}
	return out
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// mustLoad loads a zone or fails the test with every error.
func mustLoad(t testing.TB, origin, file string, inline []string) *Zone {
	t.Helper()
	z, err := Load(origin, file, inline)
	if err != nil {
		t.Fatalf("Load(%q, %q): %v", origin, file, err)
	}
	return z
}
