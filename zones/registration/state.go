package registration

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"
	"time"

	"github.com/miekg/dns"

	"github.com/privdns/privdns/zones"
)

// entry is one registered name. Entries are immutable once published in a
// state; a change makes a new one.
type entry struct {
	owner   Principal
	since   time.Time // first registered
	renewed time.Time // last accepted update that added to it
	// rrs are the records, owner canonical, class IN, TTL 0 (the served
	// TTL is set when the zone is built), grouped by type in the order
	// the types first came.
	rrs []dns.RR
}

// state is what a Registry serves: one snapshot, swapped whole.
type state struct {
	manual *zones.Zone
	zone   *zones.Zone         // manual + registered records, with serial
	serial uint32              // served serial
	digest string              // of manual and the TTL: what the serial was given for
	names  map[string]*entry   // registered names, canonical
	ptr    map[string][]dns.RR // reverse name → PTR records, served TTL
	// nextExpiry is the earliest time an address registration expires;
	// zero when none will.
	nextExpiry time.Time
}

// expires is when e lapses, or zero when it does not.
func (e *entry) expires(expireAfter time.Duration) time.Time {
	if expireAfter <= 0 || e.owner.key != "" {
		return time.Time{}
	}
	return e.renewed.Add(expireAfter)
}

// sameRecords reports whether a and b hold the same records (TTLs are all 0).
func sameRecords(a, b []dns.RR) bool {
	if len(a) != len(b) {
		return false
	}
	for _, x := range a {
		if !slices.ContainsFunc(b, func(y dns.RR) bool { return dns.IsDuplicate(x, y) }) {
			return false
		}
	}
	return true
}

// sortedNames returns the names of m in order, for stable builds and journals.
func sortedNames[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for n := range m {
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}

// build makes the served zone and the reverse map from the manual data and
// the registrations. The manual records are copied: zones.Transferred
// rewrites owner names in place, and the manual zone is being served.
func build(manual *zones.Zone, serial uint32, names map[string]*entry, ttl uint32) (*zones.Zone, map[string][]dns.RR, error) {
	recs := manual.Records()
	rrs := make([]dns.RR, 0, len(recs)+2*len(names))
	for i, rr := range recs {
		c := dns.Copy(rr)
		if i == 0 {
			c.(*dns.SOA).Serial = serial
		}
		rrs = append(rrs, c)
	}
	ptr := map[string][]dns.RR{}
	for _, name := range sortedNames(names) {
		for _, rr := range names[name].rrs {
			c := dns.Copy(rr)
			c.Header().Ttl = ttl
			rrs = append(rrs, c)
			if ip, ok := address(rr); ok {
				rev, err := dns.ReverseAddr(ip.String())
				if err != nil {
					continue
				}
				ptr[rev] = append(ptr[rev], &dns.PTR{
					Hdr: dns.RR_Header{Name: rev, Rrtype: dns.TypePTR, Class: dns.ClassINET, Ttl: ttl},
					Ptr: name,
				})
			}
		}
	}
	for _, set := range ptr {
		slices.SortFunc(set, func(a, b dns.RR) int { return cmp.Compare(a.(*dns.PTR).Ptr, b.(*dns.PTR).Ptr) })
	}
	z, _, err := zones.Transferred(manual.Name(), rrs)
	if err != nil {
		return nil, nil, fmt.Errorf("registration %s: building the served zone: %w", manual.Name(), err)
	}
	return z, ptr, nil
}

// address is the address of an A or AAAA record.
func address(rr dns.RR) (netip.Addr, bool) {
	var ip []byte
	switch rr := rr.(type) {
	case *dns.A:
		ip = rr.A.To4()
	case *dns.AAAA:
		ip = rr.AAAA.To16()
	default:
		return netip.Addr{}, false
	}
	a, ok := netip.AddrFromSlice(ip)
	return a, ok
}

// nextExpiry is the earliest expiry of names, zero when none expires.
func nextExpiry(names map[string]*entry, expireAfter time.Duration) time.Time {
	var next time.Time
	for _, e := range names {
		if t := e.expires(expireAfter); !t.IsZero() && (next.IsZero() || t.Before(next)) {
			next = t
		}
	}
	return next
}
