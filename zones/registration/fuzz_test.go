package registration

import (
	"testing"
	"time"

	"github.com/miekg/dns"
)

// FuzzUpdate feeds arbitrary messages, as the wire delivers them, to
// Update from an IPv4 client, an IPv6 client and a key: any rcode will
// do, but never a panic, and the served zone stays whole and consistent
// with what Update answered.
func FuzzUpdate(f *testing.F) {
	seed := func(lines ...string) {
		b, err := msg(f, lines...).Pack()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, uint8(0))
		f.Add(b, uint8(2))
	}
	seed("up vm1 0 IN A 10.1.0.4")
	seed("pre h1 0 NONE ANY", "up h1 3600 IN A 10.2.0.1", "up h1 3600 IN DHCID "+dhcidA)
	seed("pre h1 0 ANY ANY", "pre h1 0 IN DHCID "+dhcidA, "up h1 0 ANY A", "up h1 3600 IN A 10.2.0.7")
	seed("pre h1 0 IN DHCID "+dhcidA, "pre h1 0 NONE A", "pre h1 0 NONE AAAA", "up h1 0 ANY ANY")
	seed("up vm6 0 IN AAAA fd00::4", "up vm6 0 NONE AAAA fd00::4")
	seed(`up t 0 IN TXT "a" "b"`, "up www 0 ANY ANY", "pre @ 0 ANY SOA")
	f.Fuzz(func(t *testing.T, wire []byte, whoByte uint8) {
		var m dns.Msg
		if m.Unpack(wire) != nil {
			return
		}
		w := newWorld(t, func(o *Options) { o.ExpireAfter = time.Minute })
		who := []Principal{vm1, vm6, dhcp, {}}[whoByte%4]
		before := w.serial()
		first := w.reg.Update(&m, who)
		// The same update again, through its registration's renewal or
		// its prerequisites: no panic either.
		w.reg.Update(&m, who)
		if first.Rcode != dns.RcodeSuccess && w.serial() != before {
			t.Fatalf("%s (%s) changed the zone", dns.RcodeToString[first.Rcode], first.Reason)
		}
		z := w.reg.Current()
		if z == nil || z.SOA() == nil || z.Name() != apex {
			t.Fatal("no served zone")
		}
		w.restart() // what was journaled replays
		if w.serial() != z.SOA().Serial {
			t.Fatalf("serial %d after a restart, %d before", w.serial(), z.SOA().Serial)
		}
	})
}
