package listen

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/privdns/privdns/resolver"
	"github.com/privdns/privdns/resolver/dnsserver"
	"github.com/privdns/privdns/resolver/enginetest"
	"github.com/privdns/privdns/resolver/resolvertest"
	"golang.org/x/net/ipv4"
)

// gatedResolver holds every query for a name starting with "slow" until
// release is closed, and answers the others at once.
type gatedResolver struct {
	*resolver.Engine // the View and Observer; Resolve is the gate's
	release          chan struct{}
	held             sync.WaitGroup
}

func (g *gatedResolver) Resolve(ctx context.Context, q *resolver.Query) (*dns.Msg, error) {
	if strings.HasPrefix(q.Msg.Question[0].Name, "slow") {
		g.held.Done()
		<-g.release
	}
	resp := new(dns.Msg)
	resp.SetReply(q.Msg)
	return resp, nil
}

func TestSlowQueriesDoNotHoldUpOthers(t *testing.T) {
	g := newGated(t)
	l := startHandler(t, dnsserver.Options{Engine: g})
	if l.udp == nil {
		t.Fatal("a listener on 127.0.0.1 must use the inline UDP readers")
	}
	// Many more slow queries than there are readers: each is answered on
	// its own goroutine, and all wait at once.
	slow := 25 * max(4, 2*runtime.GOMAXPROCS(0))
	g.held.Add(slow)
	answered := make(chan error, slow)
	for i := 0; i < slow; i++ {
		go func() {
			_, _, err := (&dns.Client{Timeout: 10 * time.Second}).Exchange(resolvertest.Query("slow.example", dns.TypeA), l.Addr)
			answered <- err
		}()
	}
	g.held.Wait() // all slow queries are being resolved at once
	if resp := resolvertest.ExchangeFrom(t, "udp", "", l.Addr, resolvertest.Query("fast.example", dns.TypeA)); resp.Rcode != dns.RcodeSuccess {
		t.Fatalf("fast query while %d are held: %v", slow, resp)
	}
	close(g.release)
	for i := 0; i < slow; i++ {
		if err := <-answered; err != nil {
			t.Errorf("slow query: %v", err)
		}
	}
}

func TestWildcardListenersAnswerFromTheAddressAsked(t *testing.T) {
	w := enginetest.New(t, true)
	for _, tc := range []struct {
		addr   string
		inline bool // IPv4 wildcard: inline readers with IP_PKTINFO
	}{
		{"0.0.0.0:0", true},
		{":0", false}, // dual stack: miekg's server
	} {
		l, err := Listen(tc.addr, dnsserver.New(dnsserver.Options{Engine: w.Engine}), Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { l.Shutdown(context.Background()) })
		if got := l.udp != nil; got != tc.inline {
			t.Errorf("%s: inline readers %v, want %v", tc.addr, got, tc.inline)
		}
		_, port, _ := net.SplitHostPort(l.Addr)
		// dns.Client's connected UDP socket only takes replies from the
		// address it asked: a reply from another one times the query out.
		for _, dst := range []string{"127.0.0.1", "127.0.0.2", "127.0.5.5"} {
			for i := 0; i < 2; i++ { // the second may be ready-packed
				for _, proto := range []string{"udp", "tcp"} {
					resp := resolvertest.ExchangeFrom(t, proto, "127.0.1.9", net.JoinHostPort(dst, port), resolvertest.Query("www.corp.example", dns.TypeA))
					if resp.Rcode != dns.RcodeSuccess || len(resp.Answer) != 1 {
						t.Errorf("%s via %s %s: %v", tc.addr, dst, proto, resp)
					}
				}
			}
		}
	}
}

func TestShutdownAnswersTheUDPQueriesInFlight(t *testing.T) {
	for _, addr := range []string{"127.0.0.1:0", "0.0.0.0:0"} {
		t.Run(addr, func(t *testing.T) {
			g := newGated(t)
			l, err := Listen(addr, dnsserver.New(dnsserver.Options{Engine: g}), Options{})
			if err != nil {
				t.Fatal(err)
			}
			if l.udp == nil {
				t.Fatal("not the inline UDP readers")
			}
			_, port, _ := net.SplitHostPort(l.Addr)
			g.held.Add(1)
			answered := make(chan error, 1)
			go func() {
				_, _, err := (&dns.Client{Timeout: 10 * time.Second}).Exchange(resolvertest.Query("slow.example", dns.TypeA), "127.0.0.1:"+port)
				answered <- err
			}()
			g.held.Wait()
			stopped := make(chan error, 1)
			go func() { stopped <- l.Shutdown(context.Background()) }()
			// Shutdown waits for the held query; then the query is answered.
			select {
			case err := <-stopped:
				t.Fatalf("Shutdown returned (%v) while a query was in flight", err)
			case <-time.After(50 * time.Millisecond):
			}
			close(g.release)
			if err := <-answered; err != nil {
				t.Errorf("the query in flight during shutdown: %v", err)
			}
			if err := <-stopped; err != nil {
				t.Errorf("Shutdown: %v", err)
			}
			if _, _, err := (&dns.Client{Timeout: 200 * time.Millisecond}).Exchange(resolvertest.Query("fast.example", dns.TypeA), "127.0.0.1:"+port); err == nil {
				t.Error("a query after shutdown was answered")
			}
		})
	}
}

func TestABurstOfQueriesFromTwoClientsIsAnsweredToEach(t *testing.T) {
	for _, addr := range []string{"127.0.0.1:0", "0.0.0.0:0"} {
		t.Run(addr, func(t *testing.T) { testBurst(t, addr) })
	}
}

// testBurst sends private names (ready-packed after their first answer),
// private NXDOMAINs and a public name (from the cache-less upstream: the
// full path) from two clients, back to back before any reply is read, so
// that the reader takes them in batches. Each client must get its own
// replies, each once, from the address it asked (on a wildcard listener
// each client asks another one).
func testBurst(t *testing.T, addr string) {
	w := enginetest.New(t, true)
	l, err := Listen(addr, dnsserver.New(dnsserver.Options{Engine: w.Engine}), Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Shutdown(context.Background()) })
	_, port, _ := net.SplitHostPort(l.Addr)
	names := []string{"www.corp.example.", "nosuch.corp.example.", "www.example.com.", "app.corp.example."}
	const perClient = 150
	clients := []string{"127.0.1.21", "127.0.1.22"}
	servers := []string{"127.0.0.1", "127.0.0.1"}
	if strings.HasPrefix(addr, "0.0.0.0") {
		servers[1] = "127.0.0.2"
	}
	conns := make([]*net.UDPConn, len(clients))
	for c, src := range clients {
		conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.ParseIP(src)})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.Close() })
		conns[c] = conn
	}
	for i := range perClient {
		for c, conn := range conns {
			m := resolvertest.Query(names[i%len(names)], dns.TypeA)
			m.Id = uint16(c*1000 + i)
			wire, err := m.Pack()
			if err != nil {
				t.Fatal(err)
			}
			server, err := net.ResolveUDPAddr("udp", net.JoinHostPort(servers[c], port))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := conn.WriteToUDP(wire, server); err != nil {
				t.Fatal(err)
			}
		}
	}
	buf := make([]byte, dns.MaxMsgSize)
	for c, conn := range conns {
		seen := map[uint16]bool{}
		conn.SetReadDeadline(time.Now().Add(10 * time.Second))
		for len(seen) < perClient {
			n, from, err := conn.ReadFromUDP(buf)
			if err != nil {
				t.Fatalf("client %s: %d of %d replies, then %v", clients[c], len(seen), perClient, err)
			}
			if from.IP.String() != servers[c] {
				t.Fatalf("client %s asked %s, got a reply from %s", clients[c], servers[c], from)
			}
			resp := new(dns.Msg)
			if err := resp.Unpack(buf[:n]); err != nil {
				t.Fatal(err)
			}
			i := int(resp.Id) - c*1000
			if i < 0 || i >= perClient || seen[resp.Id] {
				t.Fatalf("client %s got a reply with ID %d: another client's, or twice", clients[c], resp.Id)
			}
			seen[resp.Id] = true
			if want := names[i%len(names)]; resp.Question[0].Name != want {
				t.Fatalf("reply %d answers %s, want %s", resp.Id, resp.Question[0].Name, want)
			}
			wantRcode := dns.RcodeSuccess
			if strings.HasPrefix(resp.Question[0].Name, "nosuch") {
				wantRcode = dns.RcodeNameError
			}
			if resp.Rcode != wantRcode {
				t.Fatalf("reply %d: %v", resp.Id, resp)
			}
		}
	}
}

func TestAUDPQueryLargerThanTheReaderTakesIsFORMERR(t *testing.T) {
	// The reader's buffer ends exactly where a record ends, so that what
	// it holds parses: only the kernel's MSG_TRUNC tells it is cut short.
	m := resolvertest.Query("www.example.com", dns.TypeA)
	m.Id = 4242
	pad := func(n int) dns.RR {
		return &dns.TXT{Hdr: dns.RR_Header{Name: "pad.", Rrtype: dns.TypeTXT, Class: dns.ClassINET}, Txt: []string{strings.Repeat("x", n)}}
	}
	size := func() int {
		wire, err := m.Pack()
		if err != nil {
			t.Fatal(err)
		}
		return len(wire)
	}
	for size() < maxTCPQuery-150 {
		m.Extra = append(m.Extra, pad(100))
	}
	m.Extra = append(m.Extra, pad(1))
	m.Extra[len(m.Extra)-1] = pad(1 + maxTCPQuery - size())
	if size() != maxTCPQuery {
		t.Fatalf("padding came to %d bytes", size())
	}
	for range 10 {
		m.Extra = append(m.Extra, pad(250))
	}
	wire, err := m.Pack()
	if err != nil {
		t.Fatal(err)
	}
	for _, addr := range []string{"127.0.0.1:0", "0.0.0.0:0"} {
		l, err := Listen(addr, dnsserver.New(dnsserver.Options{Engine: newGated(t)}), Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { l.Shutdown(context.Background()) })
		_, port, _ := net.SplitHostPort(l.Addr)
		conn, err := net.Dial("udp", "127.0.0.1:"+port)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		if _, err := conn.Write(wire); err != nil {
			t.Fatal(err)
		}
		conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		buf := make([]byte, 512)
		n, err := conn.Read(buf)
		if err != nil {
			t.Fatal(err)
		}
		resp := new(dns.Msg)
		if err := resp.Unpack(buf[:n]); err != nil {
			t.Fatal(err)
		}
		if resp.Id != 4242 || resp.Rcode != dns.RcodeFormatError || !resp.RecursionAvailable {
			t.Errorf("%s: reply %v", addr, resp)
		}
	}
}

func TestAnIPv6ListenerAnswers(t *testing.T) {
	l, err := Listen("[::1]:0", dnsserver.New(dnsserver.Options{Engine: newGated(t)}), Options{})
	if err != nil {
		t.Skipf("no IPv6 loopback here: %v", err)
	}
	t.Cleanup(func() { l.Shutdown(context.Background()) })
	if _, ok := l.udp.ios[0].(plainIO); !ok {
		t.Fatal("a specific IPv6 address must use the batch reader")
	}
	for _, proto := range []string{"udp", "tcp"} {
		for range 2 {
			if resp := resolvertest.ExchangeFrom(t, proto, "", l.Addr, resolvertest.Query("www.example.com", dns.TypeA)); resp.Rcode != dns.RcodeSuccess {
				t.Errorf("%s: %v", proto, resp)
			}
		}
	}
}

func TestWithFourCPUsAListenerSpreadsOverTwoSockets(t *testing.T) {
	if !reusePortWorks {
		t.Skip("SO_REUSEPORT is used on Linux only")
	}
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(4))
	w := enginetest.New(t, true)
	l, err := Listen("127.0.0.1:0", dnsserver.New(dnsserver.Options{Engine: w.Engine}), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(l.udp.ios) != 2 {
		t.Fatalf("%d UDP sockets, want 2", len(l.udp.ios))
	}
	// Clients on many source ports land on both sockets; each is answered.
	for i := range 40 {
		src := fmt.Sprintf("127.0.1.%d", 30+i)
		if resp := resolvertest.ExchangeFrom(t, "udp", src, l.Addr, resolvertest.Query("www.corp.example", dns.TypeA)); len(resp.Answer) != 1 {
			t.Fatalf("from %s: %v", src, resp)
		}
	}
	// The address is not open to a second listener, SO_REUSEPORT or not.
	if second, err := Listen(l.Addr, dnsserver.New(dnsserver.Options{Engine: w.Engine}), Options{}); err == nil {
		second.Shutdown(context.Background())
		t.Fatal("a second listener bound the address in use")
	}
	if err := l.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	again, err := Listen(l.Addr, dnsserver.New(dnsserver.Options{Engine: w.Engine}), Options{})
	if err != nil {
		t.Fatalf("binding the address again after shutdown: %v", err)
	}
	again.Shutdown(context.Background())
}

// flakyConn accepts one message per WriteBatch call and fails those whose
// first byte is 'x'.
type flakyConn struct{ sent []string }

func (f *flakyConn) ReadBatch([]ipv4.Message, int) (int, error) { return 0, net.ErrClosed }

func (f *flakyConn) WriteBatch(ms []ipv4.Message, _ int) (int, error) {
	if ms[0].Buffers[0][0] == 'x' {
		return 0, syscall.EPERM
	}
	f.sent = append(f.sent, string(ms[0].Buffers[0]))
	return 1, nil
}

func TestWriteAllGoesPastRepliesThatFail(t *testing.T) {
	var ms []ipv4.Message
	for _, b := range []string{"a", "x1", "b", "x2", "x3", "c"} {
		ms = append(ms, ipv4.Message{Buffers: [][]byte{[]byte(b)}})
	}
	f := &flakyConn{}
	writeAll(f, ms, slog.New(slog.DiscardHandler))
	if got := strings.Join(f.sent, ","); got != "a,b,c" {
		t.Errorf("sent %s, want a,b,c", got)
	}
}
