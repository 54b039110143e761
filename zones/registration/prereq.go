package registration

import (
	"github.com/miekg/dns"

	"github.com/privdns/privdns/zones"
)

// setKey names one RRset of a value-dependent prerequisite.
type setKey struct {
	name string
	typ  uint16
}

// prerequisites is RFC 2136 §3.2 against z, the zone as served: every
// record in order, then the value-dependent RRsets whole (TTL ignored).
func (r *checker) prerequisites(z *zones.Zone, rrs []dns.RR) Result {
	var temp map[setKey][]dns.RR
	var order []setKey
	for _, rr := range rrs {
		if rr == nil {
			return fail(dns.RcodeFormatError, "an empty prerequisite")
		}
		h := rr.Header()
		name, typ := dns.CanonicalName(h.Name), h.Rrtype
		if h.Ttl != 0 {
			return fail(dns.RcodeFormatError, "prerequisite on %s with TTL %d, not 0", name, h.Ttl)
		}
		if !dns.IsSubDomain(r.apex, name) {
			return fail(dns.RcodeNotZone, "prerequisite on %s, outside zone %s", name, r.apex)
		}
		n, packs := r.rdlen(rr)
		if !packs {
			return fail(dns.RcodeFormatError, "prerequisite on %s does not pack", name)
		}
		switch h.Class {
		case dns.ClassANY, dns.ClassNONE:
			if n != 0 || (isMeta(typ) && typ != dns.TypeANY) {
				return fail(dns.RcodeFormatError, "prerequisite on %s %s with data or a meta type", name, dns.Type(typ))
			}
			if res := existence(z, name, typ, h.Class == dns.ClassANY); res.Rcode != dns.RcodeSuccess {
				return res
			}
		case dns.ClassINET:
			if isMeta(typ) {
				return fail(dns.RcodeFormatError, "prerequisite on %s of meta type %s", name, dns.Type(typ))
			}
			k := setKey{name, typ}
			if temp == nil {
				temp = map[setKey][]dns.RR{}
			}
			if _, seen := temp[k]; !seen {
				order = append(order, k)
			}
			temp[k] = append(temp[k], rr)
		default:
			return fail(dns.RcodeFormatError, "prerequisite on %s in class %s", name, dns.Class(h.Class))
		}
	}
	for _, k := range order {
		if !sameSet(temp[k], rrset(z, k.name, k.typ)) {
			return fail(dns.RcodeNXRrset, "prerequisite: the %s RRset of %s is not the one given", dns.Type(k.typ), k.name)
		}
	}
	return ok
}

// existence is the value-independent prerequisites (RFC 2136 §2.4.1,
// §2.4.3–5): want says whether the name (type ANY) or RRset must exist.
func existence(z *zones.Zone, name string, typ uint16, want bool) Result {
	if typ == dns.TypeANY {
		switch in := holds(z, name); {
		case want && !in:
			return fail(dns.RcodeNameError, "prerequisite: %s is not in use", name)
		case !want && in:
			return fail(dns.RcodeYXDomain, "prerequisite: %s is in use", name)
		}
		return ok
	}
	switch has := rrset(z, name, typ) != nil; {
	case want && !has:
		return fail(dns.RcodeNXRrset, "prerequisite: %s has no %s RRset", name, dns.Type(typ))
	case !want && has:
		return fail(dns.RcodeYXRrset, "prerequisite: %s has a %s RRset", name, dns.Type(typ))
	}
	return ok
}

// rrset is the RRset of typ at name itself in z (a wildcard does not
// count, RFC 2136 §3.2 compares names as they are), or nil.
func rrset(z *zones.Zone, name string, typ uint16) []dns.RR {
	res := z.Lookup(name, typ)
	if res.Kind != zones.Answer || res.Wildcard {
		return nil
	}
	return res.Records
}

// sameSet reports whether the records given and the RRset held are the
// same set: duplicates in want count once, TTLs and name case do not count.
func sameSet(want, have []dns.RR) bool {
	if len(have) == 0 {
		return false
	}
	for _, w := range want {
		if !containsRR(have, w) {
			return false
		}
	}
	for _, h := range have {
		if !containsRR(want, h) {
			return false
		}
	}
	return true
}

func containsRR(set []dns.RR, rr dns.RR) bool {
	for _, x := range set {
		if dns.IsDuplicate(x, rr) {
			return true
		}
	}
	return false
}
