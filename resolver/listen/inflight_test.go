package listen

import (
	"testing"

	"github.com/miekg/dns"

	"github.com/privdns/privdns/resolver/dnsserver"
	"github.com/privdns/privdns/resolver/report"
	"github.com/privdns/privdns/resolver/resolvertest"
)

// server.limits.inFlight: one gate for every listener; beyond it a name
// that needs an upstream is SERVFAIL (EDE 14) at once, while private and
// cached names keep being answered and never take a place.
func TestInFlightIsOneLimitAcrossListeners(t *testing.T) {
	e, entered, release := busyWorld(t)
	gate := report.NewGate(2)
	counts := &limitCounts{}
	opts := dnsserver.Options{Engine: e, InFlight: gate, Limits: counts}
	a := startOn(t, "127.0.0.1:0", opts, Options{})
	b := startOn(t, "127.0.0.1:0", opts, Options{})
	t.Cleanup(release)                                                                                          // runs first: the held queries end
	resolvertest.ExchangeFrom(t, "udp", "127.0.0.5", a.Addr, resolvertest.Query("warm.example.com", dns.TypeA)) // cached now
	if gate.Waiting() != 0 {
		t.Fatalf("%d places taken after a query was answered", gate.Waiting())
	}

	// One slow name over UDP on a, one over TCP on b: the gate is full.
	slow := make(chan *dns.Msg, 2)
	go func() {
		m, _ := resolvertest.TryExchangeFrom("udp", "127.0.0.5", a.Addr, resolvertest.Query("slow1.example.com", dns.TypeA))
		slow <- m
	}()
	go func() {
		m, _ := resolvertest.TryExchangeFrom("tcp", "127.0.0.6", b.Addr, resolvertest.Query("slow2.example.com", dns.TypeA))
		slow <- m
	}()
	<-entered
	<-entered

	refused := 0
	for _, l := range []*Listener{a, b} {
		for _, proto := range []string{"udp", "tcp"} {
			for _, name := range []string{"www.corp.example", "WARM.example.com", "www.Corp.example"} {
				if m := resolvertest.ExchangeFrom(t, proto, "127.0.0.7", l.Addr, resolvertest.Query(name, dns.TypeA)); m.Rcode != dns.RcodeSuccess || len(m.Answer) != 1 {
					t.Errorf("%s %s %s while the gate is full: %v; want its private or cached answer", l.Addr, proto, name, m)
				}
			}
			m := resolvertest.ExchangeFrom(t, proto, "127.0.0.7", l.Addr, resolvertest.Query("new.example.com", dns.TypeA))
			refused++
			if m.Rcode != dns.RcodeServerFailure || len(m.Extra) == 0 {
				t.Fatalf("%s %s, a name that needs an upstream beyond inFlight: %v; want SERVFAIL", l.Addr, proto, m)
			}
			if ede := m.IsEdns0().Option; len(ede) != 1 || ede[0].(*dns.EDNS0_EDE).InfoCode != dns.ExtendedErrorCodeNotReady {
				t.Errorf("%s %s beyond inFlight: EDE %v, want 14 (Not Ready)", l.Addr, proto, ede)
			}
		}
	}
	if n := counts.get("inFlight"); n != refused {
		t.Errorf("inFlight counted %d times, want %d", n, refused)
	}

	gate.SetMax(3) // a reload raising it lets one more wait
	go resolvertest.TryExchangeFrom("udp", "127.0.0.8", b.Addr, resolvertest.Query("slow3.example.com", dns.TypeA))
	<-entered
	release()
	for range 2 {
		if m := <-slow; m == nil || m.Rcode != dns.RcodeSuccess {
			t.Errorf("a query that waited within the limit: %v", m)
		}
	}
	if m := resolvertest.ExchangeFrom(t, "udp", "127.0.0.7", a.Addr, resolvertest.Query("later.example.com", dns.TypeA)); m.Rcode != dns.RcodeSuccess {
		t.Errorf("once the slow ones were answered: %v", m)
	}
}
