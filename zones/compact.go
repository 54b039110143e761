package zones

import (
	"strings"

	"github.com/miekg/dns"
)

// compact packs the drafts into a Zone: the apex first, then the other
// names; each name's RRsets and records in a row, in configured order.
// The drafts' A and AAAA records are copied into one array per type; other
// records are kept as parsed, their owner names replaced by the shared one.
func (b *builder) compact() *Zone {
	owners := make([]string, 0, len(b.drafts))
	owners = append(owners, b.apex)
	size, nsets, nrrs := 0, 0, 0
	var sl slabs
	for name, d := range b.drafts {
		if name != b.apex {
			owners = append(owners, name)
		}
		size += len(name)
		nsets += len(d.sets)
		for _, s := range d.sets {
			nrrs += len(s.rrs)
			sl.count(s.typ, len(s.rrs))
		}
	}
	sl.alloc()
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
	}
	off := 0
	for i, name := range owners {
		d := b.drafts[name]
		owner := z.names[off : off+len(name)]
		z.nodes[i] = node{name: uint32(off), nameLen: uint16(len(name)), nsets: uint16(len(d.sets)), set: uint32(len(z.sets))}
		off += len(name)
		for _, ds := range d.sets {
			z.sets = append(z.sets, rrset{typ: ds.typ, n: uint32(len(ds.rrs)), off: uint32(len(z.rrs))})
			for _, rr := range ds.rrs {
				rr = sl.place(rr)
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

// slabs holds a zone's A and AAAA records, the bulk of a private zone, in
// one array per type and their addresses in one byte slice: three
// allocations instead of two per record.
type slabs struct {
	na, naaaa int
	a         []dns.A
	aaaa      []dns.AAAA
	ips       []byte
}

func (sl *slabs) count(typ uint16, n int) {
	switch typ {
	case dns.TypeA:
		sl.na += n
	case dns.TypeAAAA:
		sl.naaaa += n
	}
}

func (sl *slabs) alloc() {
	sl.a = make([]dns.A, 0, sl.na)
	sl.aaaa = make([]dns.AAAA, 0, sl.naaaa)
	sl.ips = make([]byte, 0, 4*sl.na+16*sl.naaaa)
}

// place returns rr's copy in the slabs, or rr itself for other types. The
// slabs never grow past what count reserved, so earlier copies stay put.
func (sl *slabs) place(rr dns.RR) dns.RR {
	switch rr := rr.(type) {
	case *dns.A:
		if ip := rr.A.To4(); ip != nil && len(sl.a) < cap(sl.a) {
			sl.a = append(sl.a, *rr)
			c := &sl.a[len(sl.a)-1]
			c.A = sl.addr(ip)
			return c
		}
	case *dns.AAAA:
		if ip := rr.AAAA.To16(); ip != nil && len(sl.aaaa) < cap(sl.aaaa) {
			sl.aaaa = append(sl.aaaa, *rr)
			c := &sl.aaaa[len(sl.aaaa)-1]
			c.AAAA = sl.addr(ip)
			return c
		}
	}
	return rr
}

// addr copies ip into the address bytes, capped so that no append reaches
// the next address.
func (sl *slabs) addr(ip []byte) []byte {
	start := len(sl.ips)
	sl.ips = append(sl.ips, ip...)
	return sl.ips[start:len(sl.ips):len(sl.ips)]
}
