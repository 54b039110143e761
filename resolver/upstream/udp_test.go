package upstream

import (
	"context"
	"crypto/rand"
	"errors"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
)

func newTestGroup(t testing.TB, opts GroupOptions) *Group {
	t.Helper()
	if opts.Timeout == 0 {
		opts.Timeout = 2 * time.Second // only reached when a test expects no answer
	}
	g, err := NewGroup(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = g.Close() })
	return g
}

func wantA(t *testing.T, m *dns.Msg, ip string) {
	t.Helper()
	if len(m.Answer) != 1 {
		t.Fatalf("answer = %v, want one A %s", m.Answer, ip)
	}
	if a, ok := m.Answer[0].(*dns.A); !ok || a.A.String() != ip {
		t.Fatalf("answer = %v, want A %s", m.Answer[0], ip)
	}
}

func TestExchangeAnswersWithCallersIDAndLeavesRequestAlone(t *testing.T) {
	var seen *dns.Msg
	var mu sync.Mutex
	f := newFake(t, func(w dns.ResponseWriter, r *dns.Msg) {
		mu.Lock()
		seen = r.Copy()
		mu.Unlock()
		answer("192.0.2.1")(w, r)
	})
	g := newTestGroup(t, GroupOptions{Targets: []string{f.addr}})
	req := newReq("www.example.com")
	before := req.String()

	m, err := g.Exchange(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	wantA(t, m, "192.0.2.1")
	if m.Id != req.Id {
		t.Errorf("reply ID = %d, want the caller's %d", m.Id, req.Id)
	}
	if req.String() != before {
		t.Errorf("request modified:\n%s\nwas\n%s", req, before)
	}
	mu.Lock()
	defer mu.Unlock()
	if opt := seen.IsEdns0(); opt == nil || opt.UDPSize() != ednsSize {
		t.Errorf("upstream saw OPT %v, want one advertising %d", opt, ednsSize)
	}
}

func TestExchangeKeepsRequestEDNSBits(t *testing.T) {
	seen := make(chan *dns.Msg, 1)
	f := newFake(t, func(w dns.ResponseWriter, r *dns.Msg) {
		seen <- r.Copy()
		answer("192.0.2.1")(w, r)
	})
	g := newTestGroup(t, GroupOptions{Targets: []string{f.addr}})
	req := newReq("signed.example.")
	req.SetEdns0(4096, true)
	req.CheckingDisabled = true

	if _, err := g.Exchange(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	r := <-seen
	opt := r.IsEdns0()
	if opt == nil || !opt.Do() || opt.UDPSize() != 4096 || !r.CheckingDisabled {
		t.Errorf("upstream saw CD=%v OPT %v, want CD and DO with size 4096", r.CheckingDisabled, opt)
	}
}

func TestExchangeIgnoresForgedReplies(t *testing.T) {
	forged := func(q *dns.Msg) *dns.Msg { return reply(q, "203.0.113.66") }
	good := func(q *dns.Msg) *dns.Msg { return reply(q, "192.0.2.1") }
	tests := []struct {
		name string
		bad  func(t *testing.T, pc net.PacketConn, from net.Addr, q *dns.Msg)
	}{
		{"wrong ID", func(t *testing.T, pc net.PacketConn, from net.Addr, q *dns.Msg) {
			m := forged(q)
			m.Id ^= 1
			send(t, pc, from, m)
		}},
		{"wrong name", func(t *testing.T, pc net.PacketConn, from net.Addr, q *dns.Msg) {
			m := forged(q)
			m.Question[0].Name = "evil.example."
			send(t, pc, from, m)
		}},
		{"wrong type", func(t *testing.T, pc net.PacketConn, from net.Addr, q *dns.Msg) {
			m := forged(q)
			m.Question[0].Qtype = dns.TypeAAAA
			send(t, pc, from, m)
		}},
		{"wrong class", func(t *testing.T, pc net.PacketConn, from net.Addr, q *dns.Msg) {
			m := forged(q)
			m.Question[0].Qclass = dns.ClassCHAOS
			send(t, pc, from, m)
		}},
		{"no question", func(t *testing.T, pc net.PacketConn, from net.Addr, q *dns.Msg) {
			m := forged(q)
			m.Question = nil
			send(t, pc, from, m)
		}},
		{"not a response", func(t *testing.T, pc net.PacketConn, from net.Addr, q *dns.Msg) {
			m := forged(q)
			m.Response = false
			send(t, pc, from, m)
		}},
		{"garbage", func(t *testing.T, pc net.PacketConn, from net.Addr, q *dns.Msg) {
			p := make([]byte, 300)
			_, _ = rand.Read(p)
			p[0], p[1] = byte(q.Id>>8), byte(q.Id) // get past the ID check
			_, _ = pc.WriteTo(p, from)
		}},
		{"other source port", func(t *testing.T, pc net.PacketConn, from net.Addr, q *dns.Msg) {
			other, err := net.ListenPacket("udp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			defer other.Close()
			send(t, other, from, forged(q))
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			addr := rawUDP(t, func(pc net.PacketConn, from net.Addr, q *dns.Msg) {
				tt.bad(t, pc, from, q)
				send(t, pc, from, good(q))
			})
			g := newTestGroup(t, GroupOptions{Targets: []string{addr}})
			m, err := g.Exchange(context.Background(), newReq("www.example.com"))
			if err != nil {
				t.Fatal(err)
			}
			wantA(t, m, "192.0.2.1")
		})
	}
}

func TestExchangeTimesOutWhenOnlyBadPacketsArrive(t *testing.T) {
	tests := []struct {
		name    string
		respond func(t *testing.T, pc net.PacketConn, from net.Addr, q *dns.Msg)
	}{
		{"garbage", func(t *testing.T, pc net.PacketConn, from net.Addr, _ *dns.Msg) {
			for range 3 {
				p := make([]byte, 64)
				_, _ = rand.Read(p)
				_, _ = pc.WriteTo(p, from)
			}
		}},
		{"wrong ID", func(t *testing.T, pc net.PacketConn, from net.Addr, q *dns.Msg) {
			m := reply(q, "203.0.113.66")
			m.Id++
			send(t, pc, from, m)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			addr := rawUDP(t, func(pc net.PacketConn, from net.Addr, q *dns.Msg) { tt.respond(t, pc, from, q) })
			obs := &observer{}
			g := newTestGroup(t, GroupOptions{Targets: []string{addr}, Timeout: 100 * time.Millisecond, Observer: obs})
			_, err := g.Exchange(context.Background(), newReq("www.example.com"))
			if !errors.Is(err, ErrNoAnswer) {
				t.Fatalf("err = %v, want ErrNoAnswer", err)
			}
			if requests, _ := obs.snapshot(); len(requests) != 1 || requests[0] != addr+" timeout" {
				t.Errorf("observed %v, want one timeout", requests)
			}
		})
	}
}

func TestExchangeUsesFreshIDAndSourcePortPerQuery(t *testing.T) {
	var mu sync.Mutex
	ids, ports := map[uint16]bool{}, map[int]bool{}
	addr := rawUDP(t, func(pc net.PacketConn, from net.Addr, q *dns.Msg) {
		mu.Lock()
		ids[q.Id] = true
		ports[from.(*net.UDPAddr).Port] = true
		mu.Unlock()
		send(t, pc, from, reply(q, "192.0.2.1"))
	})
	g := newTestGroup(t, GroupOptions{Targets: []string{addr}})
	const n = 20
	for range n {
		m, err := g.Exchange(context.Background(), newReq("www.example.com"))
		if err != nil {
			t.Fatal(err)
		}
		if m.Id != 4242 {
			t.Fatalf("reply ID = %d, want the caller's 4242", m.Id)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(ids) < n-2 {
		t.Errorf("%d distinct IDs in %d queries, want fresh random ones: %v", len(ids), n, ids)
	}
	if len(ports) < n-2 {
		t.Errorf("%d distinct source ports in %d queries, want a fresh socket each", len(ports), n)
	}
}

func TestTruncatedUDPReplyIsRetriedOverTCP(t *testing.T) {
	f := newFake(t, func(w dns.ResponseWriter, r *dns.Msg) {
		m := new(dns.Msg).SetReply(r)
		if w.RemoteAddr().Network() == "udp" {
			m.Truncated = true
			_ = w.WriteMsg(m)
			return
		}
		for i := range 100 {
			rr := reply(r, net.IPv4(10, 0, byte(i/256), byte(i)).String()).Answer[0]
			m.Answer = append(m.Answer, rr)
		}
		_ = w.WriteMsg(m)
	})
	g := newTestGroup(t, GroupOptions{Targets: []string{f.addr}})

	m, err := g.Exchange(context.Background(), newReq("big.example."))
	if err != nil {
		t.Fatal(err)
	}
	if m.Truncated || len(m.Answer) != 100 {
		t.Errorf("TC=%v with %d records, want the full 100 from TCP", m.Truncated, len(m.Answer))
	}
	if f.s.TCPHits() != 1 || f.s.Hits() != 2 {
		t.Errorf("hits udp+tcp=%d tcp=%d, want one of each", f.s.Hits(), f.s.TCPHits())
	}
}

func TestExchangeStopsAtContextDeadline(t *testing.T) {
	f := newFake(t, silent)
	g := newTestGroup(t, GroupOptions{Targets: []string{f.addr, f.addr}, Timeout: 5 * time.Second, FailThreshold: 1})
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()

	begin := time.Now()
	_, err := g.Exchange(ctx, newReq("slow.example."))
	if !errors.Is(err, ErrNoAnswer) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want ErrNoAnswer and DeadlineExceeded", err)
	}
	if elapsed := time.Since(begin); elapsed > 2*time.Second {
		t.Errorf("took %v, want about ctx's 100ms, not the 5s attempt timeout", elapsed)
	}
	if got := f.s.Hits(); got != 1 {
		t.Errorf("hits = %d, want 1: no second attempt after ctx expired", got)
	}
	if g.targets[0].health.isDown() {
		t.Error("target marked down because the caller's deadline passed")
	}
}

func TestExchangeWithCanceledContextSendsNothing(t *testing.T) {
	f := newFake(t, answer("192.0.2.1"))
	g := newTestGroup(t, GroupOptions{Targets: []string{f.addr}})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := g.Exchange(ctx, newReq("www.example.com")); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if f.s.Hits() != 0 {
		t.Error("a query was sent with a canceled context")
	}
}

func TestExchangeRejectsRequestsWithoutExactlyOneQuestion(t *testing.T) {
	g := newTestGroup(t, GroupOptions{Targets: []string{"127.0.0.1:9"}})
	two := newReq("a.example.")
	two.Question = append(two.Question, two.Question[0])
	for name, req := range map[string]*dns.Msg{"none": new(dns.Msg), "two": two} {
		if _, err := g.Exchange(context.Background(), req); !errors.Is(err, ErrBadRequest) {
			t.Errorf("%s: err = %v, want ErrBadRequest", name, err)
		}
	}
}

func TestExchangeMatchesQuestionNameCaseInsensitively(t *testing.T) {
	addr := rawUDP(t, func(pc net.PacketConn, from net.Addr, q *dns.Msg) {
		m := reply(q, "192.0.2.1")
		m.Question[0].Name = strings.ToUpper(q.Question[0].Name)
		send(t, pc, from, m)
	})
	g := newTestGroup(t, GroupOptions{Targets: []string{addr}})
	m, err := g.Exchange(context.Background(), newReq("MiXeD.example."))
	if err != nil {
		t.Fatal(err)
	}
	wantA(t, m, "192.0.2.1")
}
