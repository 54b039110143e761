package registration

import (
	"context"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/privdns/privdns/zones"
	"github.com/privdns/privdns/zones/xfr"
)

const replicaSecret = "c2VjcmV0IG9mIHRoZSByZXBsaWNhcyBhbmQgdGhlaXIgcHJpbWFyeQ=="

// primary serves a world's Registry on loopback as a privdns primary does
// (TSIG verified, the key as principal, replies signed), with switches to
// misbehave.
type primary struct {
	w        *world
	addr     string
	unsigned atomic.Bool // answer without a signature
	silent   atomic.Bool // answer nothing
	got      atomic.Pointer[dns.Msg]
}

func newPrimary(t *testing.T, w *world, key *xfr.Key) *primary {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &primary{w: w, addr: pc.LocalAddr().String()}
	srv := &dns.Server{PacketConn: pc, TsigProvider: xfr.NewKeyring(key),
		MsgAcceptFunc: func(dns.Header) dns.MsgAcceptAction { return dns.MsgAccept }, Handler: dns.HandlerFunc(func(rw dns.ResponseWriter, req *dns.Msg) {
			p.got.Store(req.Copy())
			if p.silent.Load() {
				return
			}
			reply := new(dns.Msg)
			t := req.IsTsig()
			switch {
			case t == nil:
				reply.SetRcode(req, dns.RcodeRefused)
			case rw.TsigStatus() != nil:
				reply.SetRcode(req, dns.RcodeNotAuth)
			default:
				reply.SetRcode(req, w.reg.Update(req, Key(t.Hdr.Name)).Rcode)
			}
			if t != nil && !p.unsigned.Load() {
				reply.SetTsig(t.Hdr.Name, t.Algorithm, 300, time.Now().Unix())
			}
			rw.WriteMsg(reply)
		})}
	go srv.ActivateAndServe()
	t.Cleanup(func() { srv.Shutdown() })
	return p
}

// replicaWorld is a primary Registry (expireAfter 1h, the replica key
// among its registration keys) and a replica in front of it.
type replicaWorld struct {
	*world
	primary *primary
	replica *Replica
	held    atomic.Pointer[zones.Zone] // the replica's copy; nil: the primary's current data
	fresh   atomic.Int32               // Refresh calls
}

func newReplicaWorld(t *testing.T) *replicaWorld {
	t.Helper()
	key, err := xfr.NewKey("replica", dns.HmacSHA256, replicaSecret)
	if err != nil {
		t.Fatal(err)
	}
	rw := &replicaWorld{world: newWorld(t, func(o *Options) { o.Keys = append(o.Keys, "replica") })}
	rw.primary = newPrimary(t, rw.world, key)
	rw.replica, err = NewReplica(ReplicaOptions{Zone: "CORP.example", Primary: rw.primary.addr, Key: key,
		Settings: Settings{TTL: 10 * time.Second, Keys: []string{"dhcp"}}, Timeout: 500 * time.Millisecond,
		Copy: func() *zones.Zone {
			if z := rw.held.Load(); z != nil {
				return z
			}
			return rw.w().reg.Current()
		},
		Refresh: func(context.Context) { rw.fresh.Add(1) }})
	if err != nil {
		t.Fatal(err)
	}
	return rw
}

func (rw *replicaWorld) w() *world { return rw.world }

// via sends the lines to the replica from who and checks the rcode.
func (rw *replicaWorld) via(who Principal, want int, lines ...string) Result {
	rw.t.Helper()
	res := rw.replica.Update(context.Background(), msg(rw.t, lines...), who)
	if res.Rcode != want {
		rw.t.Fatalf("update %q from %s through the replica = %s (%s), want %s", lines, who, dns.RcodeToString[res.Rcode], res.Reason, dns.RcodeToString[want])
	}
	return res
}

// A client's registration through a replica is the client's own on the
// primary: it replaces, renews, expires and is deleted as if sent there.
func TestReplicaForwardsAClientsRegistrationAsItsOwn(t *testing.T) {
	rw := newReplicaWorld(t)
	rw.via(vm1, dns.RcodeSuccess, "up vm 300 IN A 10.1.0.4")
	rw.wantServed("vm", dns.TypeA, "vm.corp.example. 10 IN A 10.1.0.4")
	reg, found := rw.reg.Lookup("vm.corp.example.")
	if !found || reg.By != vm1 {
		t.Fatalf("the primary's registration of vm: %+v %v, want one by %s", reg, found, vm1)
	}
	if rw.fresh.Load() != 1 {
		t.Errorf("Refresh called %d times after an accepted update, want 1", rw.fresh.Load())
	}
	// The forward carries the replica's claim and replaces the RRset.
	got := rw.primary.got.Load()
	if m := got.Answer[len(got.Answer)-1].Header(); m.Class != dns.ClassANY || m.Rrtype != dns.TypeSOA {
		t.Errorf("the last prerequisite = %v, want the marker (the apex's SOA exists)", m)
	}
	if claim := got.Answer[len(got.Answer)-2]; claim.Header().Class != dns.ClassNONE || claim.Header().Rrtype != dns.TypeANY {
		t.Errorf("the claim for a free name = %v, want 'name not in use'", claim)
	}
	if d := got.Ns[0].Header(); d.Class != dns.ClassANY || d.Rrtype != dns.TypeA || got.Ns[1].Header().Ttl != 10 {
		t.Errorf("forwarded update section = %v, want the A RRset deleted, then the address at registration.ttl 10", got.Ns)
	}

	rw.clock.Add(50 * time.Minute)
	rw.via(vm1, dns.RcodeSuccess, "up vm 300 IN A 10.1.0.4")
	got = rw.primary.got.Load()
	if last := got.Answer[len(got.Answer)-2]; last.Header().Class != dns.ClassINET || last.(*dns.A).A.String() != "10.1.0.4" {
		t.Errorf("the claim for the client's own name = %v, want its A RRset exactly", last)
	}
	if reg, _ := rw.reg.Lookup("vm.corp.example."); !reg.Renewed.Equal(rw.clock.Now()) {
		t.Errorf("a re-registration through the replica renewed at %v, want %v", reg.Renewed, rw.clock.Now())
	}
	rw.clock.Add(59 * time.Minute)
	if _, err := rw.reg.Expire(rw.clock.Now()); err != nil {
		t.Fatal(err)
	}
	rw.wantServed("vm", dns.TypeA, "vm.corp.example. 10 IN A 10.1.0.4")
	rw.clock.Add(2 * time.Minute)
	if _, err := rw.reg.Expire(rw.clock.Now()); err != nil {
		t.Fatal(err)
	}
	rw.wantServed("vm", dns.TypeA)

	rw.via(vm1, dns.RcodeSuccess, "up vm 300 IN A 10.1.0.4")
	rw.via(vm1, dns.RcodeSuccess, "up vm 0 NONE A 10.1.0.4")
	rw.wantServed("vm", dns.TypeA)
	rw.via(vm6, dns.RcodeSuccess, "up vm6 300 IN AAAA fd00::4")
	rw.via(vm6, dns.RcodeSuccess, "up vm6 0 ANY AAAA")
	rw.wantServed("vm6", dns.TypeAAAA)
}

// The replica refuses what its copy shows R13 refuses, without asking the
// primary.
func TestReplicaRefusesByItsCopy(t *testing.T) {
	rw := newReplicaWorld(t)
	rw.update(vm2, dns.RcodeSuccess, "up taken 300 IN A 10.1.0.5")
	for _, c := range []struct {
		what  string
		who   Principal
		want  int
		lines []string
	}{
		{"another address", vm1, dns.RcodeRefused, []string{"up vm 300 IN A 10.1.0.9"}},
		{"a manual name", vm1, dns.RcodeRefused, []string{"up www 300 IN A 10.1.0.4"}},
		{"a name another client holds", vm1, dns.RcodeRefused, []string{"up taken 300 IN A 10.1.0.4"}},
		{"the apex", vm1, dns.RcodeRefused, []string{"up @ 300 IN A 10.1.0.4"}},
		{"a wildcard", vm1, dns.RcodeRefused, []string{"up *.x 300 IN A 10.1.0.4"}},
		{"another type", vm1, dns.RcodeRefused, []string{"up vm 300 IN TXT \"x\""}},
		{"two names", vm1, dns.RcodeRefused, []string{"up vm 300 IN A 10.1.0.4", "up vm2 300 IN A 10.1.0.4"}},
		{"a key not of the zone", Key("replica"), dns.RcodeRefused, []string{"up vm 300 IN A 10.1.0.4"}},
		{"a PTR by the key", dhcp, dns.RcodeRefused, []string{"up vm 300 IN PTR x.corp.example."}},
		{"outside the zone", vm1, dns.RcodeNotZone, []string{"up vm.example.org. 300 IN A 10.1.0.4"}},
		{"a malformed record", vm1, dns.RcodeFormatError, []string{"up vm 300 IN ANY"}},
	} {
		rw.primary.got.Store(nil)
		if res := rw.replica.Update(context.Background(), msg(t, c.lines...), c.who); res.Rcode != c.want {
			t.Errorf("%s: %s (%s), want %s", c.what, dns.RcodeToString[res.Rcode], res.Reason, dns.RcodeToString[c.want])
		}
		if rw.primary.got.Load() != nil {
			t.Errorf("%s: forwarded to the primary", c.what)
		}
	}
	wrongZone := msg(t, "up vm 300 IN A 10.1.0.4")
	wrongZone.Question[0].Name = "example.org."
	if res := rw.replica.Update(context.Background(), wrongZone, vm1); res.Rcode != dns.RcodeNotAuth {
		t.Errorf("another zone: %s, want NOTAUTH", dns.RcodeToString[res.Rcode])
	}
}

// Replicas whose copies lag behind still cannot take a name from its
// owner: the primary checks the replica's claim again.
func TestReplicaWithAStaleCopyLosesTheRace(t *testing.T) {
	rw := newReplicaWorld(t)
	rw.held.Store(rw.reg.Current()) // the copy from before vm1 registered
	rw.update(vm1, dns.RcodeSuccess, "up vm 300 IN A 10.1.0.4")
	rw.via(vm2, dns.RcodeYXDomain, "up vm 300 IN A 10.1.0.5")
	rw.wantServed("vm", dns.TypeA, "vm.corp.example. 10 IN A 10.1.0.4")
	if rw.fresh.Load() != 0 {
		t.Error("Refresh called after a refused update")
	}

	// A copy that shows vm2 at a name vm1 has taken since.
	rw.update(vm2, dns.RcodeSuccess, "up moved 300 IN A 10.1.0.5")
	rw.held.Store(rw.reg.Current())
	rw.update(vm2, dns.RcodeSuccess, "up moved 0 ANY A")
	rw.update(vm1, dns.RcodeSuccess, "up moved 300 IN A 10.1.0.4")
	rw.via(vm2, dns.RcodeNXRrset, "up moved 300 IN A 10.1.0.5")
	rw.wantServed("moved", dns.TypeA, "moved.corp.example. 10 IN A 10.1.0.4")
}

// A DHCP server's signed update goes to the primary with its own
// prerequisites, as the replica's key's.
func TestReplicaForwardsSignedUpdates(t *testing.T) {
	rw := newReplicaWorld(t)
	rw.via(dhcp, dns.RcodeSuccess, "pre host 0 NONE ANY", "up host 300 IN A 10.9.0.1", "up host 300 IN DHCID "+dhcidA)
	reg, _ := rw.reg.Lookup("host.corp.example.")
	if reg.By != Key("replica") {
		t.Errorf("a DHCP registration through the replica is owned by %s, want the replica's key", reg.By)
	}
	rw.via(dhcp, dns.RcodeYXDomain, "pre host 0 NONE ANY", "up host 300 IN A 10.9.0.2", "up host 300 IN DHCID "+dhcidB)
	rw.via(dhcp, dns.RcodeSuccess, "pre host 0 IN DHCID "+dhcidA, "up host 0 ANY ANY")
	rw.wantServed("host", dns.TypeA)
}

// What comes back from the primary is its verdict only when it is signed
// with the key; else, and without a copy, the client gets SERVFAIL.
func TestReplicaWithoutAPrimary(t *testing.T) {
	rw := newReplicaWorld(t)
	rw.primary.unsigned.Store(true)
	if res := rw.via(vm1, dns.RcodeServerFailure, "up vm 300 IN A 10.1.0.4"); !strings.Contains(res.Reason, "unsigned") {
		t.Errorf("reason %q", res.Reason)
	}
	rw.primary.unsigned.Store(false)
	rw.primary.silent.Store(true)
	start := time.Now()
	rw.via(vm1, dns.RcodeServerFailure, "up vm 300 IN A 10.1.0.4")
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("a silent primary held the update %v, beyond the 500ms timeout", d)
	}
	rw.primary.silent.Store(false)

	wrong, _ := xfr.NewKey("replica", dns.HmacSHA256, "d3Jvbmcgc2VjcmV0")
	bad, _ := NewReplica(ReplicaOptions{Zone: apex, Primary: rw.primary.addr, Key: wrong, Copy: rw.reg.Current})
	if res := bad.Update(context.Background(), msg(t, "up vm 300 IN A 10.1.0.4"), vm1); res.Rcode != dns.RcodeServerFailure || !strings.Contains(res.Reason, "primaryKey") {
		t.Errorf("a key the primary rejects: %s (%s), want SERVFAIL naming primaryKey", dns.RcodeToString[res.Rcode], res.Reason)
	}
	empty, _ := NewReplica(ReplicaOptions{Zone: apex, Primary: rw.primary.addr, Key: wrong, Copy: func() *zones.Zone { return nil }})
	if res := empty.Update(context.Background(), msg(t, "up vm 300 IN A 10.1.0.4"), vm1); res.Rcode != dns.RcodeServerFailure {
		t.Errorf("no copy: %s, want SERVFAIL", dns.RcodeToString[res.Rcode])
	}
}

// Only a replica's claim makes a signed update a client's registration:
// a DHCP server's RFC 4703 updates stay its key's.
func TestForwardedClientShape(t *testing.T) {
	for _, c := range []struct {
		lines []string
		want  string
	}{
		{[]string{"pre vm 0 NONE ANY", "pre @ 0 ANY SOA", "up vm 0 ANY A", "up vm 30 IN A 10.1.0.4"}, "10.1.0.4"},
		{[]string{"pre vm 0 IN A 10.1.0.4", "pre @ 0 ANY SOA", "up vm 0 ANY A", "up vm 30 IN A 10.1.0.4"}, "10.1.0.4"},
		{[]string{"pre vm 0 IN AAAA fd00::4", "pre @ 0 ANY SOA", "up vm 0 ANY AAAA"}, "fd00::4"},
		{[]string{"pre vm 0 IN A 10.1.0.4", "pre @ 0 ANY SOA", "up vm 0 NONE A 10.1.0.4"}, "10.1.0.4"},
		{[]string{"pre vm 0 NONE ANY", "up vm 0 ANY A", "up vm 30 IN A 10.1.0.4"}, ""},     // no marker: a key's textbook update
		{[]string{"pre vm 0 NONE ANY", "pre www 0 ANY SOA", "up vm 30 IN A 10.1.0.4"}, ""}, // a marker elsewhere
		{[]string{"pre vm 0 NONE ANY", "up vm 30 IN A 10.1.0.4", "up vm 30 IN DHCID " + dhcidA}, ""},
		{[]string{"pre vm 0 IN DHCID " + dhcidA, "up vm 0 ANY A", "up vm 30 IN A 10.1.0.4"}, ""},
		{[]string{"pre vm 0 NONE ANY", "up vm 0 ANY A"}, ""},
		{[]string{"pre vm 0 IN A 10.1.0.4", "up vm 30 IN A 10.1.0.5"}, ""},
		{[]string{"pre vm 0 NONE ANY", "up other 30 IN A 10.1.0.4"}, ""},
		{[]string{"pre vm 0 NONE ANY", "up vm 30 IN A 10.1.0.4", "up vm 30 IN AAAA fd00::4"}, ""},
		{[]string{"up vm 30 IN A 10.1.0.4"}, ""},
	} {
		addr, found := forwardedClient(msg(t, c.lines...))
		if got := map[bool]string{true: addr.String(), false: ""}[found]; got != c.want {
			t.Errorf("%q: client %q, want %q", c.lines, got, c.want)
		}
	}
}

// A replica answers the reverse names of the addresses its copy holds at
// registration.ttl, the registered ones, and not of the zone's own.
func TestReplicaAnswersReverseNamesFromItsCopy(t *testing.T) {
	rw := newReplicaWorld(t)
	rw.replica, _ = NewReplica(ReplicaOptions{Zone: apex, Primary: rw.primary.addr, Key: rw.replica.opts.Key,
		Settings: Settings{TTL: 10 * time.Second}, Copy: rw.reg.Current})
	rw.update(vm1, dns.RcodeSuccess, "up vm 300 IN A 10.1.0.4")
	rw.update(dhcp, dns.RcodeSuccess, "up host 300 IN A 10.1.0.4", "up host6 300 IN AAAA fd00::4")
	if got := rw.replica.PTR("4.0.1.10.in-addr.arpa."); len(got) != 2 || got[0].(*dns.PTR).Ptr != "host.corp.example." || got[1].(*dns.PTR).Ptr != "vm.corp.example." {
		t.Errorf("PTR of 10.1.0.4 = %v, want host and vm", got)
	}
	if got := rw.replica.PTR("4.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.D.F.ip6.arpa."); len(got) != 1 {
		t.Errorf("PTR of fd00::4 (upper case) = %v, want host6", got)
	}
	if got := rw.replica.PTR("80.0.0.10.in-addr.arpa."); got != nil {
		t.Errorf("PTR of the zone's own www = %v, want none", got)
	}
	if !rw.replica.Registered("vm.corp.example.") || rw.replica.Registered("www.corp.example.") {
		t.Error("Registered should tell vm (registered) from www (the zone's own)")
	}
	rw.update(vm1, dns.RcodeSuccess, "up vm 0 ANY A")
	if got := rw.replica.PTR("4.0.1.10.in-addr.arpa."); len(got) != 1 {
		t.Errorf("PTR of 10.1.0.4 after vm's deletion = %v, want host only", got)
	}
}

// What the review of the replica found, each a case that once went wrong:
// the replica checks prerequisites first, forwards empty ones empty,
// leaves the zone's own records alone even at the client's address, and
// refuses prerequisites that would widen its claim.
func TestReplicaChecksLikeTheRegistry(t *testing.T) {
	rw := newReplicaWorld(t)
	rw.update(vm2, dns.RcodeSuccess, "up taken 300 IN A 10.1.0.5")
	rw.primary.got.Store(nil)
	rw.via(vm1, dns.RcodeYXDomain, "pre taken 0 NONE ANY", "up taken 300 IN A 10.1.0.4")
	rw.via(dhcp, dns.RcodeNXRrset, "pre host 0 IN A 10.9.9.9", "up host 300 IN PTR x.corp.example.")
	if rw.primary.got.Load() != nil {
		t.Error("an update whose prerequisites fail on the copy was forwarded")
	}
	rw.via(dhcp, dns.RcodeSuccess, "pre host 0 NONE MX", "pre host 0 NONE SRV", "up host 300 IN A 10.9.0.1")
	rw.via(dhcp, dns.RcodeSuccess, "pre host 0 ANY A", "up host 0 ANY TXT", "up host 300 IN TXT \"x\"")

	rw.update(vm1, dns.RcodeSuccess, "up vm 300 IN A 10.1.0.4")
	rw.via(vm1, dns.RcodeRefused, "pre vm 0 IN A 10.1.0.4", "up vm 300 IN A 10.1.0.4")

	own := newReplicaWorld(t)
	own.opts.Manual = manual(t, "db 3600 IN A 10.1.0.4")
	own.restart()
	own.via(vm1, dns.RcodeRefused, "up db 300 IN A 10.1.0.4")
	own.via(vm1, dns.RcodeRefused, "up db 0 ANY A")
}

// With registration.replicaKeys, only those keys vouch for clients: a
// DHCP key sending a forward's very shape stays its own principal, and
// cannot take or delete a client's name.
func TestOnlyReplicaKeysVouchForClients(t *testing.T) {
	w := newWorld(t, func(o *Options) { o.Keys = append(o.Keys, "replica"); o.ReplicaKeys = []string{"replica."} })
	w.update(vm1, dns.RcodeSuccess, "up vm 300 IN A 10.1.0.4")
	w.update(dhcp, dns.RcodeRefused, "pre vm 0 IN A 10.1.0.4", "pre @ 0 ANY SOA", "up vm 0 ANY A")
	w.update(dhcp, dns.RcodeSuccess, "pre vm9 0 NONE ANY", "pre @ 0 ANY SOA", "up vm9 0 ANY A", "up vm9 300 IN A 10.1.0.9")
	if reg, _ := w.reg.Lookup("vm9.corp.example."); reg.By != dhcp {
		t.Errorf("vm9 registered by %s, want the dhcp key itself", reg.By)
	}
	w.update(Key("replica"), dns.RcodeSuccess, "pre vm 0 IN A 10.1.0.4", "pre @ 0 ANY SOA", "up vm 0 ANY A")
	w.wantServed("vm", dns.TypeA)
}

// FuzzForward: whatever an update holds, the replica's check and the
// primary's recognition of forwards never panic, and a forward the
// replica builds from a client's update is recognised as that client's.
func FuzzForward(f *testing.F) {
	for _, m := range []*dns.Msg{
		msg(f, "up vm 300 IN A 10.1.0.4"),
		msg(f, "pre vm 0 NONE ANY", "up vm 300 IN A 10.1.0.4", "up vm 300 IN DHCID "+dhcidA),
		msg(f, "up vm 0 NONE A 10.1.0.4"),
	} {
		b, _ := m.Pack()
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var m dns.Msg
		if m.Unpack(b) != nil {
			return
		}
		forwardedClient(&m)
		r, err := NewReplica(ReplicaOptions{Zone: apex, Primary: "127.0.0.1:9", Key: fuzzKey, Settings: Settings{Keys: []string{"dhcp"}},
			Copy: func() *zones.Zone { return fuzzZone }})
		if err != nil {
			t.Fatal(err)
		}
		for _, who := range []Principal{vm1, vm6, dhcp} {
			fwd, res := r.check(&m, who)
			if res.Rcode != dns.RcodeSuccess || who.key != "" {
				continue
			}
			if _, err := fwd.Pack(); err != nil {
				t.Fatalf("a forward does not pack: %v\n%v", err, fwd)
			}
			if addr, found := forwardedClient(fwd); !found || addr != who.addr {
				t.Fatalf("a forward for %s is recognised as %v %v\n%v", who, addr, found, fwd)
			}
		}
	})
}

var (
	fuzzKey, _ = xfr.NewKey("replica", dns.HmacSHA256, replicaSecret)
	fuzzZone   = func() *zones.Zone {
		z, err := zones.Load(apex, "", append(manualRecords, "vm 10 IN A 10.1.0.4"))
		if err != nil {
			panic(err)
		}
		return z
	}()
)
