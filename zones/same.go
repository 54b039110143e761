package zones

import (
	"slices"

	"github.com/miekg/dns"
)

// Keep returns z, or, when old holds the same data as z (a file whose
// comments changed, or one rewritten with the same records), a Zone of
// old's data with z's files and warnings. z's own data is then garbage at
// once: a reload that rewrites every file of a thousand zones alike holds
// one set of zones, not two, and swaps it in whole as ever. The data is
// the same when every record is (names' case and TTLs included), each
// RRset's in the same order.
func (z *Zone) Keep(old *Zone) *Zone {
	if old == nil || !z.sameData(old) {
		return z
	}
	k := *old
	k.warnings, k.file, k.sources = z.warnings, z.file, z.sources
	return &k
}

// sameData reports whether z and o answer alike: the same names, each
// with the same RRsets of the same records (in order), the
// same SOA and delegations cut. The names may be laid out in another
// order (compact takes them from a map): o's are found by its index.
func (z *Zone) sameData(o *Zone) bool {
	if z.name != o.name || len(z.names) != len(o.names) || len(z.nodes) != len(o.nodes) || len(z.sets) != len(o.sets) ||
		len(z.rrs) != len(o.rrs) || len(z.addrs) != len(o.addrs) || len(z.targets) != len(o.targets) || !slices.Equal(z.cuts, o.cuts) ||
		!sameRR(z.soa, o.soa) || !sameRR(z.negSOA, o.negSOA) {
		return false
	}
	var key []byte
	for i := range z.nodes {
		key = append(key[:0], z.owner(uint32(i))...)
		j, ok := o.find(key)
		if !ok {
			return false
		}
		n, m := &z.nodes[i], &o.nodes[j]
		if n.nsets != m.nsets || z.targets[uint32(i)] != o.targets[j] {
			return false
		}
		for s := range uint32(n.nsets) {
			x, y := z.sets[n.set+s], o.sets[m.set+s]
			if x.typ != y.typ || x.n != y.n || x.compact != y.compact {
				return false
			}
			if x.compact {
				if !z.sameAddresses(x, o, y) {
					return false
				}
				continue
			}
			for r := range x.n {
				if !sameRecord(z.rrs[x.off+r], o.rrs[y.off+r]) {
					return false
				}
			}
		}
	}
	return true
}

func sameRR(x, y *dns.SOA) bool {
	if x == nil || y == nil {
		return x == y
	}
	return sameRecord(x, y)
}

// sameRecord reports whether x and y are the same record to a client:
// owner, type, class, TTL and data, the case of names in the data too. It
// only reads them (packing would write Rdlength into records in use).
func sameRecord(x, y dns.RR) bool {
	hx, hy := x.Header(), y.Header()
	if hx.Name != hy.Name || hx.Rrtype != hy.Rrtype || hx.Class != hy.Class || hx.Ttl != hy.Ttl || !dns.IsDuplicate(x, y) {
		return false
	}
	switch x.(type) {
	case *dns.A, *dns.AAAA:
		return true
	}
	return x.String() == y.String() // IsDuplicate ignores the case of names in the data
}
