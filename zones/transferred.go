package zones

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/miekg/dns"
)

// Transferred builds a zone from the records of a zone transfer (or of a
// copy of one), validated as Load validates a master file: one SOA at the
// apex, no owner outside the zone, no CNAME beside other data or at the
// apex, class IN only, and RFC 2181's rules with the repairs and warnings
// of Load (Zone.Warnings). It keeps rrs and canonicalises their owner names in
// place, so the caller must not change them afterwards.
//
// Delegations below the apex (NS records such as Active Directory's
// _msdcs) are not errors here, unlike in a file: each is dropped with
// everything at and under it (its glue and DS records) and returned in
// cuts, sorted, so the caller can warn; the zone remembers them for
// Delegated. A nested delegation is covered by the one above it.
func Transferred(origin string, rrs []dns.RR) (z *Zone, cuts []string, err error) {
	apex := canonical(origin)
	if _, ok := dns.IsDomainName(apex); !ok || origin == "" {
		return nil, nil, Errors{{Msg: fmt.Sprintf("bad zone name %q", origin)}}
	}
	for _, rr := range rrs {
		h := rr.Header()
		h.Name = canonical(h.Name)
		if h.Rrtype == dns.TypeNS && h.Name != apex && under(h.Name, apex) {
			cuts = append(cuts, h.Name)
		}
	}
	cuts = topmost(cuts)
	b := newBuilder(apex, len(rrs))
	defer b.release()
	hasSOA := false
	for _, rr := range rrs {
		if delegated(cuts, rr.Header().Name) {
			continue
		}
		hasSOA = hasSOA || rr.Header().Rrtype == dns.TypeSOA
		if msg := b.add(entry{rr: rr}); msg != "" {
			b.errs = append(b.errs, &Error{Msg: msg})
		}
	}
	if !hasSOA {
		b.errs = append(b.errs, &Error{Msg: fmt.Sprintf("%s: no SOA record", apex)})
	}
	if len(b.errs) > 0 {
		return nil, cuts, b.errs
	}
	z = b.finish()
	b.checkTargets(z)
	z.warnings = b.warns
	z.cuts = cuts
	return z, cuts, nil
}

// topmost sorts names and drops duplicates and names under another one.
func topmost(names []string) []string {
	slices.SortFunc(names, func(a, b string) int { return cmp.Compare(len(a), len(b)) })
	var out []string
	for _, n := range names {
		if !delegated(out, n) {
			out = append(out, n)
		}
	}
	slices.Sort(out)
	return out
}

// delegated reports whether name is at or under one of cuts.
func delegated(cuts []string, name string) bool {
	for _, c := range cuts {
		if under(name, c) {
			return true
		}
	}
	return false
}

// Delegated returns the delegation dropped from a transferred zone that
// qname is at or under (any case, trailing dot optional), if any. SPEC R12
// resolves such names on the public path, not from the zone, which holds
// no records for them: Lookup would answer NXDOMAIN. It does not allocate.
func (z *Zone) Delegated(qname string) (cut string, ok bool) {
	for _, c := range z.cuts {
		apex := c
		if !dns.IsFqdn(qname) {
			apex = c[:len(c)-1]
		}
		if under(qname, apex) {
			return c, true
		}
	}
	return "", false
}

// Records returns every record of the zone, the SOA first, then the rest
// of the apex, then the other names in a stable order (sorted by owner,
// records in loaded order):
// what an AXFR sends. The records are the zone's own: do not modify.
func (z *Zone) Records() []dns.RR {
	owners := make([]uint32, 0, len(z.nodes))
	for i := range z.nodes {
		if i > 0 && z.nodes[i].nsets > 0 {
			owners = append(owners, uint32(i))
		}
	}
	slices.SortFunc(owners, func(a, b uint32) int { return cmp.Compare(z.owner(a), z.owner(b)) })
	out := make([]dns.RR, 0, len(z.rrs)+len(z.addrs))
	out = append(out, z.soa)
	for _, i := range append([]uint32{0}, owners...) {
		for _, rr := range z.all(i) {
			if rr.Header().Rrtype != dns.TypeSOA {
				out = append(out, rr)
			}
		}
	}
	return out
}

// WithSerial returns a copy of the zone whose SOA carries serial, sharing
// every other record with z: how a served serial (R12) that differs from
// the file's is put in place. The copy has its own list of records (one
// interface value each), not its own records.
func (z *Zone) WithSerial(serial uint32) *Zone {
	soa := dns.Copy(z.soa).(*dns.SOA)
	soa.Serial = serial
	c := *z
	c.rrs = slices.Clone(z.rrs)
	for _, s := range z.nodeSets(0) {
		if s.typ == dns.TypeSOA {
			c.rrs[s.off] = soa
		}
	}
	c.soa = soa
	c.negSOA = dns.Copy(soa).(*dns.SOA)
	c.negSOA.Hdr.Ttl = min(soa.Hdr.Ttl, soa.Minttl)
	return &c
}
