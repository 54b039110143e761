package metrics

import (
	"strconv"

	"github.com/miekg/dns"
)

// otherType stands for every query type outside dns.TypeToString in a
// requestKey, so unknown types share one series and one cache entry.
const otherType = -1

// typeSet marks the query types known when New ran, one bit per type, so the
// request path can fold unknown types into otherType without a map lookup.
type typeSet [1 << 16 / 64]uint64

// newTypeSet builds the set from dns.TypeToString, less type 0 ("None"),
// which no query asks for: a request without a question counts as OTHER.
func newTypeSet() *typeSet {
	var s typeSet
	for t := range dns.TypeToString {
		if t != dns.TypeNone {
			s[t/64] |= 1 << (t % 64)
		}
	}
	return &s
}

// key returns t when it is known, else otherType.
func (s *typeSet) key(t uint16) int32 {
	if s[t/64]&(1<<(t%64)) != 0 {
		return int32(t)
	}
	return otherType
}

// typeLabel names a query type key: its mnemonic, or "OTHER".
func typeLabel(key int32) string {
	if key == otherType {
		return "OTHER"
	}
	return dns.TypeToString[uint16(key)]
}

// rcodeLabel names an rcode, or spells its number when it has no name.
// 16 is BADVERS in responses (BADSIG only exists inside TSIG records,
// which privdns never answers), although miekg names it BADSIG.
func rcodeLabel(rcode int) string {
	if rcode == dns.RcodeBadVers {
		return "BADVERS"
	}
	if name, ok := dns.RcodeToString[rcode]; ok {
		return name
	}
	return strconv.Itoa(rcode)
}

// networkLabel reports the empty network (a refused unknown client) as
// "unknown", so the series has a readable, non-empty label value.
func networkLabel(network string) string {
	if network == "" {
		return "unknown"
	}
	return network
}
