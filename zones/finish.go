package zones

import (
	"github.com/miekg/dns"
)

// defaultSOA is what Azure gives a private zone (SPEC §3); Load copies it and
// sets the owner to the apex.
var defaultSOA = dns.SOA{
	Hdr:     dns.RR_Header{Rrtype: dns.TypeSOA, Class: dns.ClassINET, Ttl: 3600},
	Ns:      "azureprivatedns.net.",
	Mbox:    "azureprivatedns-host.microsoft.com.",
	Serial:  1,
	Refresh: 3600,
	Retry:   300,
	Expire:  2419200,
	Minttl:  10,
}

// finish adds the default SOA if needed, the empty non-terminals, and the
// per-node precomputations that keep lookups allocation-free.
func (b *builder) finish() *Zone {
	z := b.z
	apex := z.nodes[z.name]
	if soa := apex.get(dns.TypeSOA); soa != nil {
		z.soa = soa[0].(*dns.SOA)
	} else {
		s := defaultSOA
		s.Hdr.Name = z.name
		z.soa = &s
		// The SOA goes first so apex ANY answers lead with it.
		apex.sets = append([]rrset{{typ: dns.TypeSOA, rrs: []dns.RR{z.soa}}}, apex.sets...)
	}
	z.negSOA = dns.Copy(z.soa).(*dns.SOA)
	z.negSOA.Hdr.Ttl = min(z.soa.Hdr.Ttl, z.soa.Minttl)

	owners := make([]string, 0, len(z.nodes))
	for name := range z.nodes {
		owners = append(owners, name)
	}
	for _, name := range owners {
		z.addEmptyNonTerminals(name)
		n := z.nodes[name]
		z.rrsets += len(n.sets)
		n.prepare()
	}
	return z
}

// addEmptyNonTerminals creates a node for every ancestor of name below the
// apex that has none, so that those names answer NODATA (R3c) and block
// wildcards, while lookups stay one map access per label.
func (z *Zone) addEmptyNonTerminals(name string) {
	for off, end := nextLabel(name, 0); !end; off, end = nextLabel(name, off) {
		parent := name[off:]
		if len(parent) <= len(z.name) {
			return
		}
		if _, ok := z.nodes[parent]; ok {
			return // its own ancestors are handled when it is visited
		}
		z.nodes[parent] = &node{}
	}
}

// prepare fills the ANY list and the CNAME shortcut.
func (n *node) prepare() {
	switch len(n.sets) {
	case 0:
	case 1:
		n.all = n.sets[0].rrs
	default:
		for _, s := range n.sets {
			n.all = append(n.all, s.rrs...)
		}
	}
	if c := n.get(dns.TypeCNAME); c != nil {
		n.cname = c[0]
		n.target = canonical(c[0].(*dns.CNAME).Target)
	}
}

// nextLabel returns the offset of the label after the one starting at off in
// the FQDN name, and whether off was already at the root. Escaped dots
// ("a\.b") stay inside their label.
func nextLabel[T string | []byte](name T, off int) (int, bool) {
	if off >= len(name) || (len(name)-off == 1 && name[off] == '.') {
		return len(name), true
	}
	for i := off; i < len(name); i++ {
		switch name[i] {
		case '\\':
			i++
		case '.':
			return i + 1, false
		}
	}
	return len(name), false
}
