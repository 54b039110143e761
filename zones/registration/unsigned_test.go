package registration

import (
	"testing"

	"github.com/miekg/dns"
)

func TestUnsignedClientRegistersItsOwnAddress(t *testing.T) {
	w := newWorld(t)
	before := w.serial()
	w.update(vm1, dns.RcodeSuccess, "up vm1 3600 IN A 10.1.0.4")
	w.wantServed("vm1", dns.TypeA, "vm1.corp.example. 10 IN A 10.1.0.4") // registration.ttl, not the update's
	w.update(vm6, dns.RcodeSuccess, "up vm6 300 IN AAAA fd00::4")
	w.wantServed("vm6", dns.TypeAAAA, "vm6.corp.example. 10 IN AAAA fd00::4")
	if got := w.serial(); got != before+2 {
		t.Errorf("serial = %d after two registrations from %d", got, before)
	}
	if n := w.reg.Registrations(); n != 2 {
		t.Errorf("Registrations = %d, want 2", n)
	}
	if len(w.changes) != 2 {
		t.Errorf("OnChange called %d times, want 2", len(w.changes))
	}
	// The manual data is served beside them.
	w.wantServed("www", dns.TypeA, "www.corp.example. 3600 IN A 10.0.0.80")
	reg, ok := w.reg.Lookup("VM1.corp.example")
	if !ok || reg.By != vm1 || !reg.Since.Equal(t0) || !reg.Expires.Equal(t0.Add(w.opts.ExpireAfter)) || len(reg.Records) != 1 {
		t.Errorf("Lookup(vm1) = %+v, %v", reg, ok)
	}
	if _, ok := w.reg.Lookup("www.corp.example."); ok {
		t.Error("Lookup of a manual name says it is registered")
	}
}

func TestUnsignedRules(t *testing.T) {
	cases := []struct {
		name  string
		setup func(w *world)
		from  Principal
		lines []string
		want  int
	}{
		{name: "own address", from: vm1, lines: []string{"up vm1 0 IN A 10.1.0.4"}, want: dns.RcodeSuccess},
		{name: "IPv4 mapped in IPv6 is the IPv4 client", from: Client(mustAddr("::ffff:10.1.0.4")), lines: []string{"up vm1 0 IN A 10.1.0.4"}, want: dns.RcodeSuccess},
		{name: "another address", from: vm1, lines: []string{"up vm1 0 IN A 10.1.0.5"}, want: dns.RcodeRefused},
		{name: "own address and another", from: vm1, lines: []string{"up vm1 0 IN A 10.1.0.4", "up vm1 0 IN A 10.1.0.9"}, want: dns.RcodeRefused},
		{name: "AAAA from an IPv4 client", from: vm1, lines: []string{"up vm1 0 IN AAAA fd00::4"}, want: dns.RcodeRefused},
		{name: "A from an IPv6 client", from: vm6, lines: []string{"up vm6 0 IN A 10.1.0.4"}, want: dns.RcodeRefused},
		{name: "TXT", from: vm1, lines: []string{`up vm1 0 IN TXT "hello"`}, want: dns.RcodeRefused},
		{name: "DHCID", from: vm1, lines: []string{"up vm1 0 IN DHCID " + dhcidA}, want: dns.RcodeRefused},
		{name: "PTR", from: vm1, lines: []string{"up vm1 0 IN PTR vm1.corp.example."}, want: dns.RcodeRefused},
		{name: "two names", from: vm1, lines: []string{"up vm1 0 IN A 10.1.0.4", "up vm1b 0 IN A 10.1.0.4"}, want: dns.RcodeRefused},
		{name: "the apex", from: vm1, lines: []string{"up @ 0 IN A 10.1.0.4"}, want: dns.RcodeRefused},
		{name: "a wildcard", from: vm1, lines: []string{"up *.vms 0 IN A 10.1.0.4"}, want: dns.RcodeRefused},
		{name: "a manual name", from: vm1, lines: []string{"up www 0 IN A 10.1.0.4"}, want: dns.RcodeRefused},
		{name: "a manual CNAME", from: vm1, lines: []string{"up alias 0 IN A 10.1.0.4"}, want: dns.RcodeRefused},
		{name: "a name under a manual wildcard is free", from: vm1, lines: []string{"up x.wild 0 IN A 10.1.0.4"}, want: dns.RcodeSuccess},
		{name: "a manual empty non-terminal is free", from: vm1, lines: []string{"up b 0 IN A 10.1.0.4"}, want: dns.RcodeSuccess},
		{name: "a name registered by another address", setup: reg(vm2, "up vm 0 IN A 10.1.0.5"), from: vm1, lines: []string{"up vm 0 IN A 10.1.0.4"}, want: dns.RcodeRefused},
		{name: "a name registered by a key", setup: reg(dhcp, "up vm 0 IN A 10.1.0.4"), from: vm1, lines: []string{"up vm 0 IN A 10.1.0.4"}, want: dns.RcodeRefused},
		{name: "no name at all", from: vm1, lines: nil, want: dns.RcodeRefused},
		{name: "nobody", from: Principal{}, lines: []string{"up vm1 0 IN A 10.1.0.4"}, want: dns.RcodeRefused},
		{name: "delete own record", setup: reg(vm1, "up vm 0 IN A 10.1.0.4"), from: vm1, lines: []string{"up vm 0 NONE A 10.1.0.4"}, want: dns.RcodeSuccess},
		{name: "delete own A RRset", setup: reg(vm1, "up vm 0 IN A 10.1.0.4"), from: vm1, lines: []string{"up vm 0 ANY A"}, want: dns.RcodeSuccess},
		{name: "delete own name whole", setup: reg(vm1, "up vm 0 IN A 10.1.0.4"), from: vm1, lines: []string{"up vm 0 ANY ANY"}, want: dns.RcodeRefused},
		{name: "delete another's record", setup: reg(vm2, "up vm 0 IN A 10.1.0.5"), from: vm1, lines: []string{"up vm 0 NONE A 10.1.0.5"}, want: dns.RcodeRefused},
		{name: "delete another's RRset", setup: reg(vm2, "up vm 0 IN A 10.1.0.5"), from: vm1, lines: []string{"up vm 0 ANY A"}, want: dns.RcodeRefused},
		{name: "delete another address's record on a free name", from: vm1, lines: []string{"up vm 0 NONE A 10.1.0.5"}, want: dns.RcodeRefused},
		{name: "delete a manual record", from: vm1, lines: []string{"up www 0 NONE A 10.0.0.80"}, want: dns.RcodeRefused},
		{name: "delete a TXT RRset", setup: reg(vm1, "up vm 0 IN A 10.1.0.4"), from: vm1, lines: []string{"up vm 0 ANY TXT"}, want: dns.RcodeRefused},
		{name: "delete on a free name does nothing", from: vm1, lines: []string{"up vm 0 ANY A"}, want: dns.RcodeSuccess},
		{name: "delete then add, as nsupdate replaces", setup: reg(vm1, "up vm 0 IN A 10.1.0.4"), from: vm1, lines: []string{"up vm 0 ANY A", "up vm 0 IN A 10.1.0.4"}, want: dns.RcodeSuccess},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w := newWorld(t)
			if c.setup != nil {
				c.setup(w)
			}
			serial, n := w.serial(), len(w.changes)
			names := w.reg.Registrations()
			res := w.update(c.from, c.want, c.lines...)
			if c.want != dns.RcodeSuccess {
				if res.Reason == "" {
					t.Error("a refusal without a reason")
				}
				if w.serial() != serial || len(w.changes) != n || w.reg.Registrations() != names {
					t.Errorf("a refused update changed the zone: serial %d → %d, %d → %d names", serial, w.serial(), names, w.reg.Registrations())
				}
			}
		})
	}
}

// reg is a setup step: an update that must succeed.
func reg(who Principal, lines ...string) func(*world) {
	return func(w *world) { w.update(who, dns.RcodeSuccess, lines...) }
}

func TestUnsignedDeleteRemovesTheRegistration(t *testing.T) {
	w := newWorld(t)
	w.update(vm1, dns.RcodeSuccess, "up vm 0 IN A 10.1.0.4")
	w.update(vm1, dns.RcodeSuccess, "up vm 0 NONE A 10.1.0.4")
	w.wantServed("vm", dns.TypeA)
	if w.reg.Registrations() != 0 || w.reg.PTR("4.0.1.10.in-addr.arpa.") != nil {
		t.Fatal("the deleted registration is still held")
	}
	// The name is free again, for anyone.
	w.update(vm2, dns.RcodeSuccess, "up vm 0 IN A 10.1.0.5")
	w.wantServed("vm", dns.TypeA, "vm.corp.example. 10 IN A 10.1.0.5")
}

func TestResendingTheSameAddRenewsWithoutChangingTheZone(t *testing.T) {
	w := newWorld(t)
	w.update(vm1, dns.RcodeSuccess, "up vm 0 IN A 10.1.0.4")
	serial := w.serial()
	w.clock.Add(40 * 60e9) // 40 minutes of the hour
	w.update(vm1, dns.RcodeSuccess, "up vm 0 IN A 10.1.0.4")
	if w.serial() != serial || len(w.changes) != 1 {
		t.Errorf("a renewal changed the serial (%d → %d) or called OnChange", serial, w.serial())
	}
	r, _ := w.reg.Lookup("vm." + apex)
	if !r.Renewed.Equal(t0.Add(40*60e9)) || !r.Since.Equal(t0) {
		t.Errorf("after a renewal: since %v renewed %v", r.Since, r.Renewed)
	}
	w.clock.Add(40 * 60e9) // 80 minutes after the first add, 40 after the renewal
	if n, err := w.reg.Expire(w.clock.Now()); n != 0 || err != nil {
		t.Fatalf("Expire = %d, %v: the renewed registration expired", n, err)
	}
}

func TestPTRAnswersEveryNameAtAnAddress(t *testing.T) {
	w := newWorld(t)
	w.update(vm1, dns.RcodeSuccess, "up vm 0 IN A 10.1.0.4")
	w.update(dhcp, dns.RcodeSuccess, "up printer 0 IN A 10.1.0.4", "up printer 0 IN AAAA fd00::4")
	got := w.reg.PTR("4.0.1.10.IN-ADDR.ARPA.")
	if len(got) != 2 || got[0].String() != "4.0.1.10.in-addr.arpa.\t10\tIN\tPTR\tprinter.corp.example." ||
		got[1].(*dns.PTR).Ptr != "vm.corp.example." {
		t.Fatalf("PTR = %v", got)
	}
	rev, _ := dns.ReverseAddr("fd00::4")
	if got := w.reg.PTR(rev); len(got) != 1 || got[0].(*dns.PTR).Ptr != "printer.corp.example." {
		t.Fatalf("PTR(%s) = %v", rev, got)
	}
	if got := w.reg.PTR("80.0.0.10.in-addr.arpa."); got != nil {
		t.Errorf("PTR of a manual address = %v: only registered addresses are answered", got)
	}
}

func TestCurrentAndPTRDoNotAllocate(t *testing.T) {
	w := newWorld(t)
	w.update(vm1, dns.RcodeSuccess, "up vm 0 IN A 10.1.0.4")
	if n := testing.AllocsPerRun(100, func() {
		w.reg.Current()
		w.reg.PTR("4.0.1.10.in-addr.arpa.")
		w.reg.Registrations()
	}); n != 0 {
		t.Errorf("Current, PTR and Registrations allocate %v times", n)
	}
}
