package dnsserver

import (
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/privdns/privdns/resolver/resolvertest"
	"github.com/privdns/privdns/resolver/upstream"
)

// slowUpstream answers every query right, 2 × hostileTimeout after it
// came: too late for privdns. Its late replies leave before the test
// ends (waitLate), so they meet the sockets privdns closed, and it stops
// waiting when the test ends early.
type slowUpstream struct {
	*resolvertest.Server
	done chan struct{} // one per query handled
	sent atomic.Int64
}

func newSlowUpstream(t *testing.T) *slowUpstream {
	s := &slowUpstream{done: make(chan struct{}, 1024)}
	stop := make(chan struct{})
	h := dns.HandlerFunc(func(w dns.ResponseWriter, r *dns.Msg) {
		defer func() { s.done <- struct{}{} }()
		select {
		case <-time.After(2 * hostileTimeout): // the upstream's own slowness, not the test's timing
			_ = w.WriteMsg(truth(r))
			s.sent.Add(1)
		case <-stop:
		}
	})
	t.Cleanup(func() { close(stop) }) // before the server's Close
	s.Server = resolvertest.New(t, h)
	return s
}

// waitLate waits until every query that reached s has had its late
// reply (or none, when the test ended first).
func (s *slowUpstream) waitLate() {
	for range s.Hits() {
		<-s.done
	}
}

// An upstream that answers after twice the timeout is a SERVFAIL alone
// (its late replies are dropped) and costs one timeout before a good
// target.
func TestASlowUpstreamIsAServfailOrTheNextTargetsAnswer(t *testing.T) {
	for _, c := range []struct {
		name         string
		slow         int
		good         bool
		wantAnswered int
	}{
		{"alone", 1, false, 0},
		{"two of them", 2, false, 0},
		{"before a good target", 1, true, hostileClients},
	} {
		t.Run(c.name, func(t *testing.T) {
			resolvertest.Settle(t, hostileHeapSlack, 5*time.Second)
			var targets []string
			var slow []*slowUpstream
			for range c.slow {
				s := newSlowUpstream(t)
				slow = append(slow, s)
				targets = append(targets, s.Addr)
			}
			if c.good {
				targets = append(targets, goodUpstream(t).Addr)
			}
			addr := hostileServer(t, upstream.GroupOptions{}, targets...)
			askAll(addr, "udp", hostileClients, "slow.example.org", dns.TypeA).check(t, len(targets), c.wantAnswered)
			var hits, late int64
			for _, s := range slow {
				s.waitLate() // every late reply is out: privdns must shrug it off
				hits, late = hits+s.Hits(), late+s.sent.Load()
			}
			t.Logf("the slow targets saw %d queries and sent %d late replies", hits, late)
		})
	}
}

// flapper is an upstream that goes down (its socket closed, so queries
// meet a closed port, or silent) and comes back up on the same address,
// answering right while up.
type flapper struct {
	t      *testing.T
	addr   string
	srv    *resolvertest.RawUDP
	silent atomic.Bool
	hits   atomic.Int64
}

func newFlapper(t *testing.T) *flapper {
	f := &flapper{t: t}
	f.up()
	f.addr = f.srv.Addr
	return f
}

func (f *flapper) respond(pc net.PacketConn, from net.Addr, q *dns.Msg) {
	f.hits.Add(1)
	if !f.silent.Load() {
		sendTo(pc, from, truth(q))
	}
}

func (f *flapper) up() {
	f.silent.Store(false)
	if f.srv == nil {
		addr := "127.0.0.1:0"
		if f.addr != "" {
			addr = f.addr
		}
		f.srv = resolvertest.StartRawUDPOn(f.t, addr, f.respond)
	}
}

// down closes the port, or keeps it open and silent.
func (f *flapper) down(silent bool) {
	if silent {
		f.silent.Store(true)
		return
	}
	f.srv.Close()
	f.srv = nil
}

// An upstream that goes down and up again, three times over, closed or
// silent while down: every query ends in time, SERVFAIL while it is down
// (alone) or the good target's answer, and once its back-off is over it
// answers again (alone: the first query after the back-off is the probe).
func TestAFlappingUpstreamNeverHangsAQuery(t *testing.T) {
	for _, c := range []struct {
		name   string
		silent bool // down is a silent upstream, not a closed port
		good   bool
	}{
		{"closed while down, alone", false, false},
		{"silent while down, alone", true, false},
		{"closed while down, before a good target", false, true},
		{"silent while down, before a good target", true, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			resolvertest.Settle(t, hostileHeapSlack, 5*time.Second)
			clock := resolvertest.NewClock(time.Unix(1_000_000, 0))
			f := newFlapper(t)
			targets := []string{f.addr}
			if c.good {
				targets = append(targets, goodUpstream(t).Addr)
			}
			addr := hostileServer(t, upstream.GroupOptions{Now: clock.Now}, targets...)
			downAnswered := 0
			if c.good {
				downAnswered = hostileClients
			}
			for cycle := range 3 {
				f.down(c.silent)
				askAll(addr, "udp", hostileClients, "flap.example.org", dns.TypeA).check(t, len(targets), downAnswered)
				f.up()
				clock.Advance(time.Minute) // past any back-off: the next query probes it
				if !c.good {
					// The probe is the query itself: it must be answered, and
					// then the target is up for the rest.
					askAll(addr, "udp", 1, "probe.flap.example.org", dns.TypeA).check(t, 1, 1)
				}
				before := f.hits.Load()
				askAll(addr, "udp", hostileClients, "flap.example.org", dns.TypeA).check(t, len(targets), hostileClients)
				t.Logf("cycle %d: the flapping target saw %d of the %d queries while up", cycle, f.hits.Load()-before, hostileClients)
				if !c.good && f.hits.Load()-before != hostileClients {
					t.Errorf("cycle %d: the flapping target saw %d queries while up, want all %d", cycle, f.hits.Load()-before, hostileClients)
				}
			}
		})
	}
}
