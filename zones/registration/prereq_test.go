package registration

import (
	"testing"

	"github.com/miekg/dns"
)

// TestPrerequisites checks every form of RFC 2136 §2.4, answered as §3.2
// says, against manual and registered data alike; each case comes with a
// harmless update (TXT of a free name, by key dhcp) that must not apply
// when the prerequisite fails.
func TestPrerequisites(t *testing.T) {
	cases := []struct {
		name string
		pre  []string
		want int
	}{
		{"name in use, manual", []string{"pre www 0 ANY ANY"}, dns.RcodeSuccess},
		{"name in use, registered", []string{"pre vm 0 ANY ANY"}, dns.RcodeSuccess},
		{"name in use, absent", []string{"pre nothere 0 ANY ANY"}, dns.RcodeNameError},
		{"name in use, empty non-terminal", []string{"pre b 0 ANY ANY"}, dns.RcodeNameError},
		{"name in use, wildcard match does not count", []string{"pre x.wild 0 ANY ANY"}, dns.RcodeNameError},
		{"name not in use, absent", []string{"pre nothere 0 NONE ANY"}, dns.RcodeSuccess},
		{"name not in use, manual", []string{"pre www 0 NONE ANY"}, dns.RcodeYXDomain},
		{"name not in use, registered", []string{"pre vm 0 NONE ANY"}, dns.RcodeYXDomain},
		{"RRset exists, manual", []string{"pre www 0 ANY TXT"}, dns.RcodeSuccess},
		{"RRset exists, registered", []string{"pre vm 0 ANY A"}, dns.RcodeSuccess},
		{"RRset exists, other type", []string{"pre vm 0 ANY AAAA"}, dns.RcodeNXRrset},
		{"RRset exists, CNAME is not A", []string{"pre alias 0 ANY A"}, dns.RcodeNXRrset},
		{"RRset exists, CNAME", []string{"pre alias 0 ANY CNAME"}, dns.RcodeSuccess},
		{"RRset exists, SOA at the apex", []string{"pre @ 0 ANY SOA"}, dns.RcodeSuccess},
		{"RRset does not exist, absent", []string{"pre vm 0 NONE TXT"}, dns.RcodeSuccess},
		{"RRset does not exist, present", []string{"pre vm 0 NONE A"}, dns.RcodeYXRrset},
		{"value dependent, whole RRset", []string{"pre h1 0 IN A 10.2.0.1", "pre h1 0 IN A 10.2.0.2"}, dns.RcodeSuccess},
		{"value dependent, in another order, a duplicate", []string{"pre h1 0 IN A 10.2.0.2", "pre h1 0 IN A 10.2.0.1", "pre h1 0 IN A 10.2.0.2"}, dns.RcodeSuccess},
		{"value dependent, part of the RRset", []string{"pre h1 0 IN A 10.2.0.1"}, dns.RcodeNXRrset},
		{"value dependent, more than the RRset", []string{"pre h1 0 IN A 10.2.0.1", "pre h1 0 IN A 10.2.0.2", "pre h1 0 IN A 10.2.0.3"}, dns.RcodeNXRrset},
		{"value dependent, DHCID", []string{"pre h1 0 IN DHCID " + dhcidA}, dns.RcodeSuccess},
		{"value dependent, another DHCID", []string{"pre h1 0 IN DHCID " + dhcidB}, dns.RcodeNXRrset},
		{"value dependent, manual, TTL of the zone ignored", []string{`pre www 0 IN TXT "web"`}, dns.RcodeSuccess},
		{"value dependent, name case ignored", []string{"pre H1.CORP.EXAMPLE. 0 IN DHCID " + dhcidA}, dns.RcodeSuccess},
		{"value dependent, absent", []string{"pre nothere 0 IN A 10.2.0.1"}, dns.RcodeNXRrset},
		{"all must hold", []string{"pre www 0 ANY ANY", "pre vm 0 NONE ANY"}, dns.RcodeYXDomain},
		{"first failure answers", []string{"pre nothere 0 ANY ANY", "pre vm 0 NONE ANY"}, dns.RcodeNameError},
		{"TTL not zero", []string{"pre vm 60 ANY A"}, dns.RcodeFormatError},
		{"data with class ANY", []string{"pre vm 0 ANY A 10.1.0.4"}, dns.RcodeFormatError},
		{"data with class NONE", []string{"pre vm 0 NONE A 10.1.0.4"}, dns.RcodeFormatError},
		{"class CH", []string{"pre vm 0 CH A 10.1.0.4"}, dns.RcodeFormatError},
		{"meta type with the zone's class", []string{"pre vm 0 IN ANY"}, dns.RcodeFormatError},
		{"meta type AXFR", []string{"pre vm 0 ANY AXFR"}, dns.RcodeFormatError},
		{"outside the zone", []string{"pre www.example.org. 0 ANY ANY"}, dns.RcodeNotZone},
		{"outside the zone, a suffix that is no label", []string{"pre xcorp.example. 0 ANY ANY"}, dns.RcodeNotZone},
		{"value dependent after value-independent failures still fails first", []string{"pre vm 0 NONE A", "pre h1 0 IN DHCID " + dhcidB}, dns.RcodeYXRrset},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w := newWorld(t)
			w.update(vm1, dns.RcodeSuccess, "up vm 0 IN A 10.1.0.4")
			w.update(dhcp, dns.RcodeSuccess, "up h1 0 IN A 10.2.0.1", "up h1 0 IN A 10.2.0.2", "up h1 0 IN DHCID "+dhcidA)
			serial := w.serial()
			w.update(dhcp, c.want, append(c.pre, `up free 0 IN TXT "probe"`)...)
			applied := w.served("free", dns.TypeTXT) != nil
			if applied != (c.want == dns.RcodeSuccess) || (!applied && w.serial() != serial) {
				t.Errorf("update applied = %v with rcode %s", applied, dns.RcodeToString[c.want])
			}
		})
	}
}

// TestPrerequisitesComeBeforeTheRules: a refused update still answers its
// failed prerequisite (R13: prerequisites, then the rules).
func TestPrerequisitesComeBeforeTheRules(t *testing.T) {
	w := newWorld(t)
	w.update(vm1, dns.RcodeYXDomain, "pre www 0 NONE ANY", "up www 0 IN A 10.1.0.4")
	w.update(vm1, dns.RcodeRefused, "pre www 0 ANY ANY", "up www 0 IN A 10.1.0.4")
}
