package listen

import (
	"net"
	"net/netip"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/privdns/privdns/resolver/dnsserver"
	"github.com/privdns/privdns/resolver/enginetest"
	"github.com/privdns/privdns/resolver/ratelimit"
	"github.com/privdns/privdns/resolver/resolvertest"
	"github.com/privdns/privdns/resolver/wire"
)

// udpSource is a UDP client socket bound to one 127.0.0.x address.
type udpSource struct {
	t    *testing.T
	c    *net.UDPConn
	to   *net.UDPAddr
	next uint16
}

func udpFrom(t *testing.T, src, to string) *udpSource {
	t.Helper()
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.ParseIP(src)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(20 * time.Second)) // a failure's bound, not a wait
	ua, err := net.ResolveUDPAddr("udp", to)
	if err != nil {
		t.Fatal(err)
	}
	return &udpSource{t: t, c: c, to: ua}
}

// send sends n queries for name and returns the ID of the last.
func (s *udpSource) send(name string, n int) uint16 {
	s.t.Helper()
	for range n {
		s.next++
		b, err := withID(resolvertest.Query(name, dns.TypeA), s.next).Pack()
		if err != nil {
			s.t.Fatal(err)
		}
		if _, err := s.c.WriteToUDP(b, s.to); err != nil {
			s.t.Fatal(err)
		}
	}
	return s.next
}

// readUntil reads replies until it has had the one with ID last (0: any)
// and at least n in all (replies answered on goroutines may come in any order),
// and counts them as plain answers and TC replies.
func (s *udpSource) readUntil(last uint16, n int) (answers, tc int) {
	s.t.Helper()
	buf := make([]byte, 4096)
	seen := last == 0
	for {
		size, err := s.c.Read(buf)
		if err != nil {
			s.t.Fatalf("waiting for reply %d: %v (so far %d answers, %d TC)", last, err, answers, tc)
		}
		m := new(dns.Msg)
		if err := m.Unpack(buf[:size]); err != nil {
			s.t.Fatal(err)
		}
		if m.Truncated {
			if len(m.Answer)+len(m.Ns) != 0 || m.Rcode != dns.RcodeSuccess {
				s.t.Errorf("a slipped reply carries records or an error: %v", m)
			}
			tc++
		} else {
			answers++
		}
		seen = seen || m.Id == last
		if seen && answers+tc >= n {
			return answers, tc
		}
	}
}

// countPacked counts the ready-packed replies of a Handler.
type countPacked struct {
	*dnsserver.Handler
	n atomic.Int64
}

func (c *countPacked) Packed(pkt []byte, q *wire.Question, from netip.AddrPort, out []byte) int {
	n := c.Handler.Packed(pkt, q, from, out)
	if n > 0 {
		c.n.Add(1)
	}
	return n
}

// waitCount waits until the observer has counted limit n times.
func waitCount(t *testing.T, c *limitCounts, limit string, n int) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); c.get(limit) < n; {
		if time.Now().After(deadline) {
			t.Fatalf("%s counted %d times, want %d", limit, c.get(limit), n)
		}
		time.Sleep(time.Millisecond) // polling a counter, not timing
	}
	if got := c.get(limit); got != n {
		t.Fatalf("%s counted %d times, want %d", limit, got, n)
	}
}

func TestUDPRateLimitPerPrefixWithSlip(t *testing.T) {
	for _, addr := range []string{"127.0.0.1:0", ":0"} { // inline readers; miekg's UDP server
		t.Run(addr, func(t *testing.T) {
			w := enginetest.New(t, false)
			clock := resolvertest.NewClock(time.Unix(1e9, 0))
			counts := &limitCounts{}
			lim := NewLimits(LimitsOptions{Observer: counts, Now: clock.Now}) // off by default
			h := &countPacked{Handler: dnsserver.New(dnsserver.Options{Engine: w.Engine})}
			l, err := Listen(addr, h, Options{Limits: lim})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { l.Shutdown(t.Context()) })
			_, port, _ := net.SplitHostPort(l.Addr)
			to := net.JoinHostPort("127.0.0.1", port)

			// Off: all answered, the name's reply kept ready-packed from its
			// second answer on (the reply is kept after it is sent, so under
			// load a third query may come before it: ask until one is).
			bob := udpFrom(t, "127.0.1.10", to)
			for i := 0; i < 3 || (addr == "127.0.0.1:0" && h.n.Load() == 0 && i < 50); i++ {
				bob.send("www.corp.example", 1)
				bob.readUntil(bob.next, 1)
			}
			packed := h.n.Load()
			if addr == "127.0.0.1:0" && packed == 0 {
				t.Fatal("no ready-packed reply was sent: the test would not show they are limited")
			}
			// A reload turns it on. Bob's /24: a burst of 4, then of 9
			// limited queries every 3rd is told TC and the rest dropped,
			// ready-packed replies or not.
			lim.Set(LimitSettings{RateLimit: ratelimit.Settings{Enabled: true, QueriesPerSecond: 1, Burst: 4, Slip: 3,
				Exempt: []netip.Prefix{netip.MustParsePrefix("127.0.3.0/24")}}})
			bob.send("www.corp.example", 4)
			if answers, tc := bob.readUntil(bob.next, 4); answers != 4 || tc != 0 {
				t.Fatalf("the burst: %d answers, %d TC; want 4 answers", answers, tc)
			}
			last := bob.send("www.corp.example", 9)
			waitCount(t, counts, "rateLimit", 9)
			clock.Advance(time.Second) // one token: the next query passes
			marker := bob.send("www.corp.example", 1)
			answers, tc := bob.readUntil(marker, 4)
			if answers != 1 || tc != 3 {
				t.Errorf("9 limited queries (the last %d) and one after a second: %d answers, %d TC; want 1 answer and 3 TC", last, answers, tc)
			}
			if addr == "127.0.0.1:0" && h.n.Load() != packed+5 {
				t.Errorf("%d ready-packed replies while limited, want the 5 that passed", h.n.Load()-packed)
			}

			// Another client of the same /24 shares the empty bucket; a
			// client of another /24 has its own; an exempt one none.
			bob2 := udpFrom(t, "127.0.1.20", to)
			bob2.send("www.corp.example", 3) // limited 10th, 11th and 12th: the 12th slips
			waitCount(t, counts, "rateLimit", 12)
			if answers, tc := bob2.readUntil(0, 1); answers != 0 || tc != 1 {
				t.Errorf("a second client of Bob's /24: %d answers, %d TC; want its 3rd query slipped", answers, tc)
			}
			alice := udpFrom(t, "127.0.2.10", to)
			alice.send("contoso.privatelink.blob.core.windows.net", 4)
			if answers, _ := alice.readUntil(alice.next, 4); answers != 4 {
				t.Errorf("a client of another /24: %d answers of its burst of 4", answers)
			}
			cat := udpFrom(t, "127.0.3.10", to)
			cat.send("www.example.com", 50)
			if answers, _ := cat.readUntil(cat.next, 50); answers != 50 {
				t.Errorf("an exempt client: %d answers of 50", answers)
			}

			// TCP is never limited, from the same empty bucket.
			for i := range 10 {
				if m := resolvertest.ExchangeFrom(t, "tcp", "127.0.1.10", to, resolvertest.Query("www.corp.example", dns.TypeA)); m.Rcode != dns.RcodeSuccess || m.Truncated {
					t.Fatalf("TCP query %d from a limited prefix: %v", i, m)
				}
			}
			if n := counts.get("rateLimit"); n != 12 { // 9 by Bob, 3 by the second
				t.Errorf("rateLimit counted %d times, want 12", n)
			}

			// A reload that turns it off answers every query at once.
			lim.Set(LimitSettings{RateLimit: ratelimit.Settings{Enabled: false}})
			bob.send("www.corp.example", 20)
			if answers, tc := bob.readUntil(bob.next, 20); answers != 20 || tc != 0 {
				t.Errorf("after a reload turning it off: %d answers, %d TC of 20", answers, tc)
			}
		})
	}
}

// The check on the read path allocates nothing for a known prefix.
func TestTheRateLimitCheckDoesNotAllocate(t *testing.T) {
	lim := NewLimits(LimitsOptions{Observer: &limitCounts{}, LimitSettings: LimitSettings{
		RateLimit: ratelimit.Settings{Enabled: true, QueriesPerSecond: 1e9, Burst: 1 << 30},
	}})
	client := netip.MustParseAddr("192.0.2.1")
	lim.rateLimit(client)
	if n := testing.AllocsPerRun(1000, func() { lim.rateLimit(client) }); n != 0 {
		t.Errorf("%v allocations per check", n)
	}
}

func BenchmarkRateLimitCheck(b *testing.B) {
	lim := NewLimits(LimitsOptions{LimitSettings: LimitSettings{
		RateLimit: ratelimit.Settings{Enabled: true, QueriesPerSecond: 1e9, Burst: 1 << 30},
	}})
	client := netip.MustParseAddr("192.0.2.1")
	b.ReportAllocs()
	for b.Loop() {
		lim.rateLimit(client)
	}
}
