package zones

import (
	"slices"

	"github.com/miekg/dns"
)

// bigRRset is the size from which an RRset's duplicates are found through
// an index instead of a scan: a scan per record makes loading quadratic,
// and one $GENERATE line can make an RRset of 65536 records.
const bigRRset = 32

// rrsetKey names one RRset being built.
type rrsetKey struct {
	n   *draft
	typ uint16
}

// isDuplicate reports whether set, the RRset of rr's type at n, already
// holds rr by dns.IsDuplicate (names in the data compare without case).
func (b *builder) isDuplicate(n *draft, set []dns.RR, rr dns.RR) bool {
	same := func(old dns.RR) bool { return dns.IsDuplicate(old, rr) }
	if len(set) < bigRRset {
		return slices.ContainsFunc(set, same)
	}
	key := rrsetKey{n, rr.Header().Rrtype}
	idx := b.index[key]
	if idx == nil {
		if b.index == nil {
			b.index = map[rrsetKey]map[string][]dns.RR{}
		}
		idx = make(map[string][]dns.RR, len(set))
		for _, old := range set {
			k := b.foldedData(old)
			idx[k] = append(idx[k], old)
		}
		b.index[key] = idx
	}
	return slices.ContainsFunc(idx[b.foldedData(rr)], same)
}

// indexAdd adds a stored record to the index of its RRset, if it has one.
func (b *builder) indexAdd(n *draft, rr dns.RR) {
	if idx := b.index[rrsetKey{n, rr.Header().Rrtype}]; idx != nil {
		k := b.foldedData(rr)
		idx[k] = append(idx[k], rr)
	}
}

// foldedData is rr's data on the wire in ASCII lower case: records that
// dns.IsDuplicate calls equal have equal folded data (the converse need
// not hold, so it only picks the records to compare).
func (b *builder) foldedData(rr dns.RR) string {
	b.scratch()
	n, err := dns.PackRR(rr, b.wire, 0, nil, false)
	if err != nil {
		return "" // not reached: add packed rr already (fitsWire)
	}
	data := b.wire[min(ownerOctets(b.wire[:n])+10, n):n]
	for i, c := range data {
		if 'A' <= c && c <= 'Z' {
			data[i] = c + 'a' - 'A'
		}
	}
	return string(data)
}
