package zones

import (
	"strings"

	"github.com/miekg/dns"
)

// compact packs the drafts into a Zone: the apex first, then the other
// names; each name's RRsets and records in a row, in configured order.
// The A and AAAA RRsets of class IN, the bulk of a private zone, are kept
// as a TTL and an address per record (addresses.go); other records are
// kept as parsed, their owner names replaced by the shared one.
func (b *builder) compact() *Zone {
	owners := make([]string, 0, len(b.drafts))
	owners = append(owners, b.apex)
	size, nsets, nrrs, naddrs, nips := 0, 0, 0, 0, 0
	for name, d := range b.drafts {
		if name != b.apex {
			owners = append(owners, name)
		}
		size += len(name)
		nsets += len(d.sets)
		for _, s := range d.sets {
			if w := addressWidth(s); w > 0 {
				naddrs += len(s.rrs)
				nips += w * len(s.rrs)
			} else {
				nrrs += len(s.rrs)
			}
		}
	}
	var sb strings.Builder
	sb.Grow(size)
	for _, name := range owners {
		sb.WriteString(name)
	}
	z := &Zone{
		name:  b.apex,
		names: sb.String(),
		nodes: make([]node, len(owners)),
		sets:  make([]rrset, 0, nsets),
		rrs:   make([]dns.RR, 0, nrrs),
		addrs: make([]address, 0, naddrs),
		ips:   make([]byte, 0, nips),
	}
	off := 0
	for i, name := range owners {
		d := b.drafts[name]
		owner := z.names[off : off+len(name)]
		z.nodes[i] = node{name: uint32(off), nameLen: uint16(len(name)), nsets: uint16(len(d.sets)), set: uint32(len(z.sets))}
		off += len(name)
		for _, ds := range d.sets {
			if addressWidth(ds) > 0 {
				z.sets = append(z.sets, rrset{typ: ds.typ, compact: true, n: uint32(len(ds.rrs)), off: uint32(len(z.addrs))})
				for _, rr := range ds.rrs {
					z.addAddress(rr)
				}
				continue
			}
			z.sets = append(z.sets, rrset{typ: ds.typ, n: uint32(len(ds.rrs)), off: uint32(len(z.rrs))})
			for _, rr := range ds.rrs {
				rr.Header().Name = owner
				z.rrs = append(z.rrs, rr)
			}
			if ds.typ == dns.TypeCNAME {
				if z.targets == nil {
					z.targets = map[uint32]string{}
				}
				z.targets[uint32(i)] = canonical(ds.rrs[0].(*dns.CNAME).Target)
			}
		}
	}
	z.index = newIndex(z)
	return z
}
