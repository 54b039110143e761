package dnsserver

import (
	"crypto/rand"
	"fmt"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/privdns/privdns/resolver"
	"github.com/privdns/privdns/resolver/enginetest"
	"github.com/privdns/privdns/resolver/resolvertest"
	"github.com/privdns/privdns/resolver/upstream"
)

// The hostile upstream tests run the whole server path: a client's query
// over a real listener, the handler, the engine and an upstream Group
// whose targets misbehave on loopback. Every query must end within
// timeout × targets with SERVFAIL or the right answer, and goroutines
// and heap must come back to where they were.
const (
	// hostileTimeout is the Group's timeout per attempt.
	hostileTimeout = 300 * time.Millisecond
	// hostileSlack is added to timeout × targets: scheduling on two
	// loaded cores under -race, not time spent on an upstream.
	hostileSlack = 700 * time.Millisecond
	// hostileClients is how many client queries each case sends at once.
	hostileClients = 30
	// hostileHeapSlack is how much more live heap a case may leave.
	hostileHeapSlack = 1 << 20
	// forgedIP is what hostile upstreams answer; no client may see it.
	forgedIP = "203.0.113.66"
	goodIP   = "192.0.2.1"
)

// hostileServer serves a View over one Group of targets (sequential,
// hostileTimeout unless opts say otherwise, and a frozen health clock
// unless opts.Now is set: a target marked down stays down) and returns
// the listener's address.
func hostileServer(t *testing.T, opts upstream.GroupOptions, targets ...string) string {
	t.Helper()
	opts.Targets = targets
	if opts.Timeout == 0 {
		opts.Timeout = hostileTimeout
	}
	if opts.Now == nil {
		opts.Now = resolvertest.NewClock(time.Unix(1_000_000, 0)).Now
	}
	g, err := upstream.NewGroup(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = g.Close() })
	engine := resolver.NewEngine(resolver.EngineOptions{View: enginetest.OneNetwork(t, g)})
	return startHandler(t, Options{Engine: engine}).Addr
}

// goodUpstream answers every A question with goodIP and every TXT one
// with "good".
func goodUpstream(t *testing.T) *resolvertest.Server {
	return resolvertest.New(t, dns.HandlerFunc(func(w dns.ResponseWriter, r *dns.Msg) {
		_ = w.WriteMsg(truth(r))
	}))
}

// truth is the right answer to q: one A record, goodIP.
func truth(q *dns.Msg) *dns.Msg {
	return answerA(q, goodIP)
}

func answerA(q *dns.Msg, ip string) *dns.Msg {
	m := new(dns.Msg).SetReply(q)
	m.RecursionAvailable = true
	m.Answer = []dns.RR{&dns.A{
		Hdr: dns.RR_Header{Name: q.Question[0].Name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 60},
		A:   net.ParseIP(ip),
	}}
	return m
}

// sendTo packs m and writes it from pc, ignoring errors: the peer may be
// gone, which is its business.
func sendTo(pc net.PacketConn, to net.Addr, m *dns.Msg) {
	if p, err := m.Pack(); err == nil {
		_, _ = pc.WriteTo(p, to)
	}
}

// outcome is what the clients of one case got.
type outcome struct {
	sent, answered, servfail, other int
	slowest                         time.Duration
	forged                          bool // a client saw forgedIP
	failures                        []string
}

func (o outcome) String() string {
	return fmt.Sprintf("%d sent, %d answered, %d SERVFAIL, %d other, slowest %v",
		o.sent, o.answered, o.servfail, o.other, o.slowest.Round(time.Millisecond))
}

// askAll sends n queries for distinct names under zone at once over
// proto from 127.0.0.5 and tallies the replies; a query with no reply
// within the client's 5 s is a failure (a hang).
func askAll(addr, proto string, n int, zone string, qtype uint16) outcome {
	var (
		mu  sync.Mutex
		out = outcome{sent: n}
		wg  sync.WaitGroup
	)
	for i := range n {
		wg.Go(func() {
			begin := time.Now()
			m, err := resolvertest.TryExchangeFrom(proto, "127.0.0.5", addr, resolvertest.Query(fmt.Sprintf("q%d.%s", i, zone), qtype))
			took := time.Since(begin)
			mu.Lock()
			defer mu.Unlock()
			out.slowest = max(out.slowest, took)
			switch {
			case err != nil:
				out.failures = append(out.failures, fmt.Sprintf("query %d: %v after %v", i, err, took))
			case m.Rcode == dns.RcodeServerFailure:
				out.servfail++
			case m.Rcode == dns.RcodeSuccess && len(m.Answer) > 0:
				out.answered++
			default:
				out.other++
			}
			if m != nil {
				for _, rr := range m.Answer {
					if a, ok := rr.(*dns.A); ok && a.A.String() == forgedIP {
						out.forged = true
					}
				}
			}
		})
	}
	wg.Wait()
	return out
}

// check fails the test unless every query got a reply within
// timeout × targets, none carried a forged record, and as many were
// answered as want (the rest SERVFAIL).
func (o outcome) check(t *testing.T, targets, wantAnswered int) {
	t.Helper()
	t.Logf("%s", o)
	for _, f := range o.failures {
		t.Error(f)
	}
	if o.forged {
		t.Errorf("a client got the forged address %s", forgedIP)
	}
	if o.answered != wantAnswered || o.answered+o.servfail != o.sent {
		t.Errorf("%v; want %d answered and the rest SERVFAIL", o, wantAnswered)
	}
	if bound := time.Duration(targets)*hostileTimeout + hostileSlack; o.slowest > bound {
		t.Errorf("slowest reply after %v, want within %d × %v (+ %v)", o.slowest, targets, hostileTimeout, hostileSlack)
	}
}

// The shapes of an upstream that only ever says something useless. Each
// is asked alone, as two targets, and before a good target, which must
// then answer every query.
func TestHostileUpstreamsGiveServfailOrTheRightAnswerInTime(t *testing.T) {
	shapes := []struct {
		name    string
		respond func(pc net.PacketConn, from net.Addr, q *dns.Msg)
	}{
		{"garbage bytes", func(pc net.PacketConn, from net.Addr, q *dns.Msg) {
			for i := range 3 {
				p := make([]byte, 64<<i)
				_, _ = rand.Read(p)
				p[0], p[1] = byte(q.Id>>8), byte(q.Id) // past the cheap ID check, into Unpack
				_, _ = pc.WriteTo(p, from)
			}
			_, _ = pc.WriteTo([]byte{byte(q.Id >> 8), byte(q.Id), 0x81}, from) // shorter than a header
		}},
		{"wrong IDs", func(pc net.PacketConn, from net.Addr, q *dns.Msg) {
			for i := range 20 {
				m := answerA(q, forgedIP)
				m.Id = q.Id + uint16(i) + 1
				sendTo(pc, from, m)
			}
		}},
		{"mismatched question", func(pc net.PacketConn, from net.Addr, q *dns.Msg) {
			for _, change := range []func(m *dns.Msg){
				func(m *dns.Msg) { m.Question[0].Name = "evil.example." },
				func(m *dns.Msg) { m.Question[0].Qtype = dns.TypeAAAA },
				func(m *dns.Msg) { m.Question[0].Qclass = dns.ClassCHAOS },
				func(m *dns.Msg) { m.Question = append(m.Question, m.Question[0]) },
				func(m *dns.Msg) { m.Question = nil },
				func(m *dns.Msg) { m.Response = false },
			} {
				m := answerA(q, forgedIP)
				change(m)
				sendTo(pc, from, m)
			}
		}},
		{"replies from another address or port", func(pc net.PacketConn, from net.Addr, q *dns.Msg) {
			for _, src := range []string{"127.0.0.1:0", "127.0.0.2:0"} {
				other, err := net.ListenPacket("udp", src)
				if err != nil {
					continue
				}
				sendTo(other, from, answerA(q, forgedIP))
				other.Close()
			}
		}},
	}
	for _, s := range shapes {
		t.Run(s.name, func(t *testing.T) {
			for _, c := range []struct {
				name         string
				good         bool // a good target after the hostile ones
				hostile      int
				wantAnswered int
			}{
				{"alone", false, 1, 0},
				{"two of them", false, 2, 0},
				{"before a good target", true, 1, hostileClients},
			} {
				t.Run(c.name, func(t *testing.T) {
					resolvertest.Settle(t, hostileHeapSlack, 5*time.Second)
					var targets []string
					var hits int
					var mu sync.Mutex
					for range c.hostile {
						targets = append(targets, resolvertest.StartRawUDP(t, func(pc net.PacketConn, from net.Addr, q *dns.Msg) {
							mu.Lock()
							hits++
							mu.Unlock()
							s.respond(pc, from, q)
						}).Addr)
					}
					if c.good {
						targets = append(targets, goodUpstream(t).Addr)
					}
					addr := hostileServer(t, upstream.GroupOptions{}, targets...)
					askAll(addr, "udp", hostileClients, "hostile.example.org", dns.TypeA).check(t, len(targets), c.wantAnswered)
					mu.Lock()
					t.Logf("the hostile targets saw %d queries", hits)
					mu.Unlock()
				})
			}
		})
	}
}
