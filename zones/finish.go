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

// finish adds the default SOA if needed and the empty non-terminals, then
// packs the drafts into the zone's compact layout (compact.go).
func (b *builder) finish() *Zone {
	apex := b.drafts[b.apex]
	var soa *dns.SOA
	if rrs := apex.get(dns.TypeSOA); rrs != nil {
		soa = rrs[0].(*dns.SOA)
	} else {
		s := defaultSOA
		s.Hdr.Name = b.apex
		soa = &s
		// The SOA goes first so apex ANY answers lead with it.
		apex.sets = append([]draftSet{{typ: dns.TypeSOA, rrs: []dns.RR{soa}}}, apex.sets...)
	}
	owners := make([]string, 0, len(b.drafts))
	for name := range b.drafts {
		owners = append(owners, name)
	}
	for _, name := range owners {
		b.addEmptyNonTerminals(name)
	}
	z := b.compact()
	z.soa = soa
	z.negSOA = dns.Copy(soa).(*dns.SOA)
	z.negSOA.Hdr.Ttl = min(soa.Hdr.Ttl, soa.Minttl)
	return z
}

// addEmptyNonTerminals creates a draft for every ancestor of name below the
// apex that has none, so that those names answer NODATA (R3c) and block
// wildcards, while lookups stay one table probe per label.
func (b *builder) addEmptyNonTerminals(name string) {
	for off, end := nextLabel(name, 0); !end; off, end = nextLabel(name, off) {
		parent := name[off:]
		if len(parent) <= len(b.apex) {
			return
		}
		if _, ok := b.drafts[parent]; ok {
			return // its own ancestors are handled when it is visited
		}
		b.drafts[parent] = &draft{}
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
