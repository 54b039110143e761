package registration

import (
	"testing"

	"github.com/miekg/dns"
)

func TestKeyRules(t *testing.T) {
	cases := []struct {
		name  string
		setup func(w *world)
		from  Principal
		lines []string
		want  int
	}{
		{name: "A, AAAA, TXT and DHCID of any name", from: dhcp, lines: []string{"up h1 0 IN A 10.2.0.1", "up h1 0 IN AAAA fd00::21", `up h1 0 IN TXT "x"`, "up h1 0 IN DHCID " + dhcidA, "up deep.h2 0 IN A 10.2.0.2"}, want: dns.RcodeSuccess},
		{name: "key name in any case", from: Key("DHCP2"), lines: []string{"up h1 0 IN A 10.2.0.1"}, want: dns.RcodeSuccess},
		{name: "a key not in tsigKeys", from: other, lines: []string{"up h1 0 IN A 10.2.0.1"}, want: dns.RcodeRefused},
		{name: "PTR", from: dhcp, lines: []string{"up h1 0 IN PTR h1.corp.example."}, want: dns.RcodeRefused},
		{name: "MX", from: dhcp, lines: []string{"up h1 0 IN MX 10 mail.corp.example."}, want: dns.RcodeRefused},
		{name: "CNAME", from: dhcp, lines: []string{"up h1 0 IN CNAME www.corp.example."}, want: dns.RcodeRefused},
		{name: "the apex", from: dhcp, lines: []string{"up @ 0 IN TXT \"x\""}, want: dns.RcodeRefused},
		{name: "a wildcard", from: dhcp, lines: []string{"up *.h 0 IN A 10.2.0.1"}, want: dns.RcodeRefused},
		{name: "manual records win", from: dhcp, lines: []string{"up www 0 IN A 10.2.0.1"}, want: dns.RcodeRefused},
		{name: "delete a manual RRset", from: dhcp, lines: []string{"up www 0 ANY A"}, want: dns.RcodeRefused},
		{name: "delete a manual name", from: dhcp, lines: []string{"up www 0 ANY ANY"}, want: dns.RcodeRefused},
		{name: "a name of another key", setup: reg(dhcp2, "up h1 0 IN A 10.2.0.1"), from: dhcp, lines: []string{"up h1 0 IN TXT \"x\""}, want: dns.RcodeRefused},
		{name: "a name of a client", setup: reg(vm1, "up vm 0 IN A 10.1.0.4"), from: dhcp, lines: []string{"up vm 0 ANY A"}, want: dns.RcodeRefused},
		{name: "delete every RRset of its own name", setup: reg(dhcp, "up h1 0 IN A 10.2.0.1", `up h1 0 IN TXT "x"`), from: dhcp, lines: []string{"up h1 0 ANY ANY"}, want: dns.RcodeSuccess},
		{name: "delete its own record", setup: reg(dhcp, "up h1 0 IN A 10.2.0.1", "up h1 0 IN A 10.2.0.9"), from: dhcp, lines: []string{"up h1 0 NONE A 10.2.0.9"}, want: dns.RcodeSuccess},
		{name: "one bad record refuses all", from: dhcp, lines: []string{"up h1 0 IN A 10.2.0.1", "up www 0 IN A 10.2.0.1"}, want: dns.RcodeRefused},
		{name: "only prerequisites", from: dhcp, lines: []string{"pre www 0 ANY A"}, want: dns.RcodeSuccess},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w := newWorld(t)
			if c.setup != nil {
				c.setup(w)
			}
			serial, names := w.serial(), w.reg.Registrations()
			w.update(c.from, c.want, c.lines...)
			if c.want != dns.RcodeSuccess && (w.serial() != serial || w.reg.Registrations() != names) {
				t.Errorf("a refused update changed the zone")
			}
		})
	}
}

func TestKeyAddsToTheRRsetAndDeletesTheName(t *testing.T) {
	w := newWorld(t)
	w.update(dhcp, dns.RcodeSuccess, "up h1 300 IN A 10.2.0.1")
	w.update(dhcp, dns.RcodeSuccess, "up h1 300 IN A 10.2.0.2")
	w.wantServed("h1", dns.TypeA, "h1.corp.example. 10 IN A 10.2.0.1", "h1.corp.example. 10 IN A 10.2.0.2")
	r, _ := w.reg.Lookup("h1." + apex)
	if r.By != dhcp || !r.Expires.IsZero() {
		t.Errorf("Lookup = %+v: a key's registration never expires", r)
	}
	w.clock.Add(1000 * 3600e9)
	if n, _ := w.reg.Expire(w.clock.Now()); n != 0 || w.reg.Registrations() != 1 {
		t.Fatal("expireAfter applied to a key's registration")
	}
	w.update(dhcp, dns.RcodeSuccess, "up h1 0 ANY ANY")
	if w.reg.Registrations() != 0 || w.served("h1", dns.TypeA) != nil {
		t.Fatal("delete of the name left it registered")
	}
}

// TestKeaConflictResolution replays what ISC Kea's D2 sends (RFC 4703
// §5.3–5.5, src/bin/d2/nc_add.cc and nc_remove.cc): an add guarded by
// "name not in use", then on YXDOMAIN a replace guarded by "name in use"
// and the client's DHCID; removal guarded by the DHCID.
func TestKeaConflictResolution(t *testing.T) {
	w := newWorld(t)
	add := func(dhcid, addr string) []string {
		return []string{"pre h1 0 NONE ANY", "up h1 3600 IN A " + addr, "up h1 3600 IN DHCID " + dhcid}
	}
	replace := func(dhcid, addr string) []string {
		return []string{"pre h1 0 ANY ANY", "pre h1 0 IN DHCID " + dhcid, "up h1 0 ANY A", "up h1 3600 IN A " + addr}
	}
	w.update(dhcp, dns.RcodeSuccess, add(dhcidA, "10.2.0.1")...)
	w.wantServed("h1", dns.TypeDHCID, "h1.corp.example. 10 IN DHCID "+dhcidA)

	// The same client, a new address: the add meets the name, the
	// replace matches its DHCID.
	w.update(dhcp, dns.RcodeYXDomain, add(dhcidA, "10.2.0.7")...)
	w.update(dhcp, dns.RcodeSuccess, replace(dhcidA, "10.2.0.7")...)
	w.wantServed("h1", dns.TypeA, "h1.corp.example. 10 IN A 10.2.0.7")

	// Another client wanting the same name: its DHCID does not match.
	w.update(dhcp, dns.RcodeYXDomain, add(dhcidB, "10.2.0.8")...)
	w.update(dhcp, dns.RcodeNXRrset, replace(dhcidB, "10.2.0.8")...)
	w.wantServed("h1", dns.TypeA, "h1.corp.example. 10 IN A 10.2.0.7")

	// The other DHCP server of the pair (same key) releases the lease.
	w.update(dhcp, dns.RcodeNXRrset, "pre h1 0 IN DHCID "+dhcidB, "up h1 0 NONE A 10.2.0.7")
	w.update(dhcp, dns.RcodeSuccess, "pre h1 0 IN DHCID "+dhcidA, "up h1 0 NONE A 10.2.0.7")
	w.update(dhcp, dns.RcodeSuccess, "pre h1 0 IN DHCID "+dhcidA, "pre h1 0 NONE A", "pre h1 0 NONE AAAA", "up h1 0 ANY ANY")
	if w.reg.Registrations() != 0 {
		t.Fatalf("after Kea's removal %d names are registered", w.reg.Registrations())
	}
	// A second key may now take the name.
	w.update(dhcp2, dns.RcodeSuccess, add(dhcidB, "10.2.0.8")...)
}
