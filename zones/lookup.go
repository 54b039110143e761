package zones

import (
	"github.com/miekg/dns"
)

// maxKey bounds the stack buffer for canonical query names. Presentation
// format can exceed 255 bytes with escapes; longer names take a slower path.
const maxKey = 512

// Lookup answers qname/qtype from the zone by SPEC R3. qname may be in any
// case, with or without the trailing dot; a name outside the zone is
// NXDomain. qtype dns.TypeANY returns every RRset at the node as Answer.
//
// The cost is one table probe per label of qname at most; negative answers
// and exact matches of other types do not allocate, an A or AAAA answer
// makes its records (two allocations).
func (z *Zone) Lookup(qname string, qtype uint16) Result {
	var buf [maxKey]byte
	key := canonicalKey(buf[:0], qname)
	if !underKey(key, z.name) {
		return z.nxdomain()
	}
	if i, ok := z.find(key); ok {
		return z.answer(i, qtype)
	}
	off := closestEncloser(z, key)
	// Overwrite the label before the closest encloser with "*." to form the
	// source of synthesis without allocating. off >= 2: qname has at least
	// one label more than its closest encloser.
	key[off-2], key[off-1] = '*', '.'
	w, ok := z.find(key[off-2:])
	if !ok {
		return z.nxdomain()
	}
	r := z.answer(w, qtype)
	if r.Kind == Answer || r.Kind == CNAME {
		r.Records = synthesise(r.Records, dns.Fqdn(qname))
		r.Wildcard = true
	}
	return r
}

// answer is R3a–c for an existing node (or an existing wildcard node).
func (z *Zone) answer(i uint32, qtype uint16) Result {
	if z.nodes[i].nsets == 0 {
		return Result{Kind: NoData, SOA: z.negSOA}
	}
	if qtype == dns.TypeANY {
		return Result{Kind: Answer, Records: z.all(i)}
	}
	if rrs := z.get(i, qtype); rrs != nil {
		return Result{Kind: Answer, Records: rrs}
	}
	if cname := z.get(i, dns.TypeCNAME); cname != nil {
		return Result{Kind: CNAME, Records: cname, Target: z.targets[i]}
	}
	return Result{Kind: NoData, SOA: z.negSOA}
}

func (z *Zone) nxdomain() Result { return Result{Kind: NXDomain, SOA: z.negSOA} }

// closestEncloser returns the offset in key of the longest existing ancestor
// of key (RFC 4592 §3.3.1); empty non-terminals exist. The apex always
// exists, so the walk ends there at the latest.
func closestEncloser(z *Zone, key []byte) int {
	off, end := nextLabel(key, 0)
	for !end && len(key)-off > len(z.name) {
		if _, ok := z.find(key[off:]); ok {
			return off
		}
		off, end = nextLabel(key, off)
	}
	return len(key) - len(z.name)
}

// synthesise copies wildcard records with the query name as owner (R3d).
func synthesise(rrs []dns.RR, owner string) []dns.RR {
	out := make([]dns.RR, len(rrs))
	for i, rr := range rrs {
		out[i] = dns.Copy(rr)
		out[i].Header().Name = owner
	}
	return out
}

// canonicalKey appends name in lower case (ASCII, as DNS compares) with a
// trailing dot, the form of the zone's map keys.
func canonicalKey(dst []byte, name string) []byte {
	for i := 0; i < len(name); i++ {
		c := name[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		dst = append(dst, c)
	}
	if !dns.IsFqdn(name) {
		dst = append(dst, '.')
	}
	return dst
}
