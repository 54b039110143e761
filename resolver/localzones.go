package resolver

import (
	"fmt"
	"strings"
	"sync"

	"github.com/miekg/dns"

	"github.com/privdns/privdns/zones"
)

// LocalZoneNames are the zones served locally, empty, as RFC 6303 §3 says
// (SPEC §10): the reverse zones of addresses that are private, local,
// reserved for documentation, or the loopback and unspecified addresses of
// IPv6 (RFC 6303 §4.1–§4.6). Their names never belong on the internet:
// asking public resolvers for them leaks a network's addresses and loads
// the AS112 servers.
var LocalZoneNames = localZoneNames()

func localZoneNames() []string {
	names := []string{"10.in-addr.arpa."}
	for i := 16; i <= 31; i++ {
		names = append(names, fmt.Sprintf("%d.172.in-addr.arpa.", i))
	}
	names = append(names,
		"168.192.in-addr.arpa.",
		"0.in-addr.arpa.",
		"127.in-addr.arpa.",
		"254.169.in-addr.arpa.",
		"2.0.192.in-addr.arpa.",
		"100.51.198.in-addr.arpa.",
		"113.0.203.in-addr.arpa.",
		"255.255.255.255.in-addr.arpa.",
		"d.f.ip6.arpa.",
		"8.e.f.ip6.arpa.", "9.e.f.ip6.arpa.", "a.e.f.ip6.arpa.", "b.e.f.ip6.arpa.",
		"8.b.d.0.1.0.0.2.ip6.arpa.",
	)
	for _, addr := range []string{"::1", "::"} {
		rev, err := dns.ReverseAddr(addr)
		if err != nil {
			panic(err)
		}
		names = append(names, rev)
	}
	return names
}

// localZoneRecords are the records of each empty zone (RFC 6303 §3).
var localZoneRecords = []string{
	"@ 10800 IN SOA @ nobody.invalid. 1 604800 86400 2419200 10800",
	"@ 10800 IN NS @",
}

// localZones returns the zones of LocalZoneNames by name, loaded once and
// shared by every View (zones are immutable).
var localZones = sync.OnceValue(func() map[string]*zones.Zone {
	m := make(map[string]*zones.Zone, len(LocalZoneNames))
	for _, name := range LocalZoneNames {
		z, err := zones.Load(name, "", localZoneRecords)
		if err != nil {
			panic(fmt.Sprintf("local zone %s: %v", name, err))
		}
		m[name] = z
	}
	return m
})

// localZoneFor returns the locally served zone that answers name on
// route, or nil: none holds it, local zones are off, or route is a
// forwarding rule for the zone or a name inside it, which the network's
// operators set up to reach their own reverse zones (a rule above the
// zone, "." among them, does not count). Linked zones were chosen before
// this is asked (R2). name is lower-case and fully qualified.
func (v *View) localZoneFor(name string, route *Route) *zones.Zone {
	if v.local == nil || !strings.HasSuffix(name, ".arpa.") {
		return nil
	}
	for off, end := 0, false; !end; off, end = dns.NextLabel(name, off) {
		if z := v.local[name[off:]]; z != nil {
			if route.Domain != "" && route.Domain != "." && dns.IsSubDomain(z.Name(), route.Domain) {
				return nil
			}
			return z
		}
	}
	return nil
}

// local answers name from a locally served zone: NXDOMAIN below the
// apex, NODATA at it (its SOA and NS answer as records), the zone's SOA
// in authority.
func (w *walk) local(z *zones.Zone, name string) {
	w.step("localzone")
	res := z.Lookup(name, w.qtype)
	switch res.Kind {
	case zones.Answer:
		if w.tracing() {
			w.trace("locally served zone %s (RFC 6303): %s %s → answer", z.Name(), name, typeName(w.qtype))
		}
		w.rcode = dns.RcodeSuccess
		w.add(false, res.Records...)
	case zones.NoData:
		if w.tracing() {
			w.trace("locally served zone %s (RFC 6303): %s has no %s records → NODATA", z.Name(), name, typeName(w.qtype))
		}
		w.rcode, w.auth, w.authPublic = dns.RcodeSuccess, []dns.RR{res.SOA}, false
	default:
		if w.tracing() {
			w.trace("locally served zone %s (RFC 6303): %s → NXDOMAIN, never asked upstream", z.Name(), name)
		}
		w.rcode, w.auth, w.authPublic = dns.RcodeNameError, []dns.RR{res.SOA}, false
	}
}
