package zones

import (
	"net"

	"github.com/miekg/dns"
)

// The A and AAAA records of a zone, most of a private zone's records,
// are not kept as dns.RRs (56 bytes each, two pointers, plus 16 for the
// interface value) but as a TTL and the offset of the address in one
// byte slice (8 bytes, no pointer, plus the 4 or 16 of the address):
// about half the heap of a million-record zone set, and nothing there for
// the collector to scan. A lookup makes the RRset's dns.RRs when asked,
// two allocations per RRset.

// address is one A or AAAA record of an RRset held compactly: its TTL
// and where its address starts in Zone.ips. The owner, type and class
// (IN) are the RRset's.
type address struct {
	ttl uint32
	ip  uint32
}

// addressWidth is the address length of the records of s, 4 (A) or 16
// (AAAA), when s can be held compactly: every record of class IN with an
// address of its type. 0 otherwise.
func addressWidth(s draftSet) int {
	var w int
	switch s.typ {
	case dns.TypeA:
		w = net.IPv4len
	case dns.TypeAAAA:
		w = net.IPv6len
	default:
		return 0
	}
	for _, rr := range s.rrs {
		if rr.Header().Class != dns.ClassINET {
			return 0
		}
		switch rr := rr.(type) {
		case *dns.A:
			if rr.A.To4() == nil {
				return 0
			}
		case *dns.AAAA:
			if len(rr.AAAA) != net.IPv6len {
				return 0
			}
		default:
			return 0
		}
	}
	return w
}

// addAddress appends the A or AAAA record rr (addressWidth said it fits).
func (z *Zone) addAddress(rr dns.RR) {
	var ip []byte
	switch rr := rr.(type) {
	case *dns.A:
		ip = rr.A.To4()
	case *dns.AAAA:
		ip = rr.AAAA.To16()
	}
	z.addrs = append(z.addrs, address{ttl: rr.Header().Ttl, ip: uint32(len(z.ips))})
	z.ips = append(z.ips, ip...)
}

// addresses makes the dns.RRs of the compact RRset set at owner: fresh
// records whose addresses are the zone's (capped, not to be modified).
func (z *Zone) addresses(owner string, set rrset) []dns.RR {
	cells := z.addrs[set.off : set.off+set.n]
	out := make([]dns.RR, len(cells))
	hdr := dns.RR_Header{Name: owner, Rrtype: set.typ, Class: dns.ClassINET}
	if set.typ == dns.TypeA {
		as := make([]dns.A, len(cells))
		for k, c := range cells {
			as[k] = dns.A{Hdr: hdr, A: z.ips[c.ip : c.ip+net.IPv4len : c.ip+net.IPv4len]}
			as[k].Hdr.Ttl = c.ttl
			out[k] = &as[k]
		}
		return out
	}
	as := make([]dns.AAAA, len(cells))
	for k, c := range cells {
		as[k] = dns.AAAA{Hdr: hdr, AAAA: z.ips[c.ip : c.ip+net.IPv6len : c.ip+net.IPv6len]}
		as[k].Hdr.Ttl = c.ttl
		out[k] = &as[k]
	}
	return out
}

// sameAddresses reports whether the compact RRsets x of z and y of o hold
// the same records, in the same order.
func (z *Zone) sameAddresses(x rrset, o *Zone, y rrset) bool {
	w := uint32(net.IPv4len)
	if x.typ == dns.TypeAAAA {
		w = net.IPv6len
	}
	for r := range x.n {
		a, b := z.addrs[x.off+r], o.addrs[y.off+r]
		if a.ttl != b.ttl || string(z.ips[a.ip:a.ip+w]) != string(o.ips[b.ip:b.ip+w]) {
			return false
		}
	}
	return true
}
