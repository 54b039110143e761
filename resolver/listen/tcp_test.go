package listen

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"net/netip"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/privdns/privdns/resolver"
	"github.com/privdns/privdns/resolver/dnsserver"
	"github.com/privdns/privdns/resolver/enginetest"
	"github.com/privdns/privdns/resolver/resolvertest"

	"github.com/privdns/privdns/resolver/cache"
)

// tcpClient is a raw DNS-over-TCP connection: it writes queries without
// waiting and reads replies in the order they come.
type tcpClient struct {
	t *testing.T
	c net.Conn
}

func dialTCP(t *testing.T, addr string) *tcpClient {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(10 * time.Second))
	return &tcpClient{t, c}
}

func (tc *tcpClient) send(m *dns.Msg) {
	tc.t.Helper()
	wire, err := m.Pack()
	if err != nil {
		tc.t.Fatal(err)
	}
	frame := binary.BigEndian.AppendUint16(nil, uint16(len(wire)))
	if _, err := tc.c.Write(append(frame, wire...)); err != nil {
		tc.t.Fatal(err)
	}
}

// read returns the next reply, or nil when the server closed the connection.
func (tc *tcpClient) read() *dns.Msg {
	tc.t.Helper()
	var length [2]byte
	if _, err := io.ReadFull(tc.c, length[:]); err != nil {
		return nil
	}
	wire := make([]byte, binary.BigEndian.Uint16(length[:]))
	if _, err := io.ReadFull(tc.c, wire); err != nil {
		tc.t.Fatal(err)
	}
	m := new(dns.Msg)
	if err := m.Unpack(wire); err != nil {
		tc.t.Fatal(err)
	}
	return m
}

func withID(m *dns.Msg, id uint16) *dns.Msg { m.Id = id; return m }

func TestPipelinedTCPQueriesAreAnsweredAsTheyAreReady(t *testing.T) {
	g := newGated(t)
	l := startHandler(t, dnsserver.Options{Engine: g})
	c := dialTCP(t, l.Addr)
	g.held.Add(1)
	c.send(withID(resolvertest.Query("slow.example", dns.TypeA), 1))
	g.held.Wait()
	c.send(withID(resolvertest.Query("fast1.example", dns.TypeA), 2))
	c.send(withID(resolvertest.Query("fast2.example", dns.TypeA), 3))
	got := map[uint16]bool{}
	for range 2 {
		m := c.read()
		if m == nil || m.Id == 1 {
			t.Fatalf("while the first query is held, got %v: a later query waited behind it", m)
		}
		got[m.Id] = true
	}
	close(g.release)
	if m := c.read(); m == nil || m.Id != 1 || m.Question[0].Name != "slow.example." {
		t.Fatalf("the held query's reply: %v", m)
	}
	if !got[2] || !got[3] {
		t.Errorf("answered IDs %v, want 2 and 3", got)
	}
}

func TestTCPClientThatHalfClosesGetsEveryReply(t *testing.T) {
	w := enginetest.New(t, true)
	l := startHandler(t, dnsserver.Options{Engine: w.Engine})
	c := dialTCP(t, l.Addr)
	for id := uint16(1); id <= 5; id++ {
		c.send(withID(resolvertest.Query("contoso.privatelink.blob.core.windows.net", dns.TypeA), id))
	}
	c.c.(*net.TCPConn).CloseWrite()
	seen := map[uint16]int{}
	for m := c.read(); m != nil; m = c.read() {
		seen[m.Id]++
	}
	for id := uint16(1); id <= 5; id++ {
		if seen[id] != 1 {
			t.Errorf("ID %d answered %d times, want once (all: %v)", id, seen[id], seen)
		}
	}
}

func TestTCPShutdownAnswersTheQueriesInFlight(t *testing.T) {
	g := newGated(t)
	l, err := Listen("127.0.0.1:0", dnsserver.New(dnsserver.Options{Engine: g}), Options{})
	if err != nil {
		t.Fatal(err)
	}
	c := dialTCP(t, l.Addr)
	g.held.Add(1)
	c.send(withID(resolvertest.Query("slow.example", dns.TypeA), 7))
	g.held.Wait()
	stopped := make(chan error, 1)
	go func() { stopped <- l.Shutdown(context.Background()) }()
	close(g.release)
	if m := c.read(); m == nil || m.Id != 7 {
		t.Fatalf("the query in flight during shutdown got %v", m)
	}
	if err := <-stopped; err != nil {
		t.Errorf("Shutdown: %v", err)
	}
	if m := c.read(); m != nil {
		t.Errorf("after shutdown the connection still answers: %v", m)
	}
}

func TestTCPConnectionsThatDoNotSpeakDNSAreClosed(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	h := dnsserver.New(dnsserver.Options{Engine: newGated(t)})
	s := serveTCP(ln, h, Options{TCP: TCPOptions{FirstRead: 50 * time.Millisecond},
		Limits: NewLimits(LimitsOptions{LimitSettings: LimitSettings{TCPIdle: 50 * time.Millisecond}})})
	t.Cleanup(func() { s.shutdown(context.Background()) })
	addr := ln.Addr().String()

	silent := dialTCP(t, addr) // says nothing: closed after FirstRead
	if m := silent.read(); m != nil {
		t.Errorf("a silent client got %v", m)
	}
	runt := dialTCP(t, addr) // a frame shorter than a header
	runt.c.Write([]byte{0, 3, 1, 2, 3})
	if m := runt.read(); m != nil {
		t.Errorf("a 3-byte frame got %v", m)
	}
	garbage := dialTCP(t, addr) // a header and garbage: FORMERR, then on
	garbage.c.Write(append([]byte{0, 14, 0xab, 0xcd, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0}, 0xff, 0xff))
	if m := garbage.read(); m == nil || m.Id != 0xabcd || m.Rcode != dns.RcodeFormatError || !m.RecursionAvailable {
		t.Errorf("an unparseable query got %v, want FORMERR with its ID and RA", m)
	}
	garbage.send(withID(resolvertest.Query("fast.example", dns.TypeA), 9))
	if m := garbage.read(); m == nil || m.Id != 9 || m.Rcode != dns.RcodeSuccess {
		t.Errorf("the next query on that connection got %v", m)
	}
}

func TestUnparseableQueriesAreCountedLikeOthers(t *testing.T) {
	w := enginetest.New(t, true)
	obs := &resolvertest.Requests{}
	l := startHandler(t, dnsserver.Options{Engine: w.Engine, Observer: obs})
	garbage := []byte{0xab, 0xcd, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 0xff, 0xff}
	if m := resolvertest.RawExchange(t, l.Addr, garbage, 5*time.Second); m == nil || m.Rcode != dns.RcodeFormatError {
		t.Fatalf("UDP: %v, want FORMERR", m)
	}
	c := dialTCP(t, l.Addr)
	c.c.Write(append([]byte{0, byte(len(garbage))}, garbage...))
	if m := c.read(); m == nil || m.Rcode != dns.RcodeFormatError {
		t.Fatalf("TCP: %v, want FORMERR", m)
	}
	want := w.Engine.NetworkOf("", netip.MustParseAddr("127.0.0.1"))
	if len(obs.Networks()) != 2 || obs.Networks()[0] != want || obs.Networks()[1] != want {
		t.Errorf("counted under %q, want twice under %q", obs.Networks(), want)
	}
}

func TestTCPFramesLargerThanAnyQueryCloseTheConnection(t *testing.T) {
	l := startHandler(t, dnsserver.Options{Engine: newGated(t)})
	c := dialTCP(t, l.Addr)
	big := make([]byte, 2+maxTCPQuery+1)
	binary.BigEndian.PutUint16(big, maxTCPQuery+1)
	c.c.Write(big)
	if m := c.read(); m != nil {
		t.Errorf("a %d-byte frame got %v", maxTCPQuery+1, m)
	}
}

func TestTCPShutdownDoesNotStartQueriesWaitingForAPipelineSlot(t *testing.T) {
	g := newGated(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	h := dnsserver.New(dnsserver.Options{Engine: g})
	s := serveTCP(ln, h, Options{TCP: TCPOptions{Pipeline: 1}})
	c := dialTCP(t, ln.Addr().String())
	g.held.Add(1)
	c.send(withID(resolvertest.Query("slow1.example", dns.TypeA), 1))
	g.held.Wait()
	c.send(withID(resolvertest.Query("slow2.example", dns.TypeA), 2)) // read, waiting for the slot
	stopped := make(chan error, 1)
	go func() { stopped <- s.shutdown(context.Background()) }()
	for !s.stopping() {
		runtime.Gosched()
	}
	close(g.release)
	if err := <-stopped; err != nil {
		t.Fatal(err)
	}
	var ids []uint16
	for m := c.read(); m != nil; m = c.read() {
		ids = append(ids, m.Id)
	}
	if len(ids) != 1 || ids[0] != 1 {
		t.Errorf("answered %v after shutdown began; want only the query in flight (1)", ids)
	}
}

// busyWorld is an resolver.Engine with the private zone corp.example and a cached
// public path whose upstream holds names starting with "slow" until
// release; entered says when it holds one.
func busyWorld(t *testing.T) (e *resolver.Engine, entered <-chan struct{}, release func()) {
	t.Helper()
	in, open := make(chan struct{}, 16), make(chan struct{})
	var once sync.Once
	release = func() { once.Do(func() { close(open) }) }
	t.Cleanup(release)
	up := resolvertest.New(t, dns.HandlerFunc(func(w dns.ResponseWriter, r *dns.Msg) {
		if strings.HasPrefix(r.Question[0].Name, "slow") {
			in <- struct{}{}
			<-open
		}
		m := new(dns.Msg)
		m.SetReply(r)
		m.Answer = []dns.RR{&dns.A{Hdr: dns.RR_Header{Name: r.Question[0].Name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 300}, A: net.IPv4(192, 0, 2, 1)}}
		w.WriteMsg(m)
	}))
	c, err := cache.New(cache.Options{MaxEntries: 100})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Wait)
	zone := resolvertest.Zone(t, "corp.example", "www 60 IN A 10.0.0.1")
	return resolver.NewEngine(resolver.EngineOptions{View: enginetest.OneNetwork(t, c.Wrap("upstreams", enginetest.Client{Addr: up.Addr}), resolver.Link{Zone: zone})}), in, release
}

func TestAFullListenerStillAnswersWhatNeedsNoUpstream(t *testing.T) {
	for _, addr := range []string{"127.0.0.1:0", ":0"} { // inline readers; miekg's UDP server
		t.Run(addr, func(t *testing.T) {
			e, entered, release := busyWorld(t)
			l, err := Listen(addr, dnsserver.New(dnsserver.Options{Engine: e}), Options{MaxInFlight: 2})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { l.Shutdown(context.Background()) })
			t.Cleanup(release) // runs first: the held queries end
			_, port, _ := net.SplitHostPort(l.Addr)
			to := net.JoinHostPort("127.0.0.1", port)
			resolvertest.ExchangeFrom(t, "udp", "127.0.0.5", to, resolvertest.Query("warm.example.com", dns.TypeA)) // cached now
			// Fill both budgets: two slow names over UDP, two over TCP.
			for i := range 2 {
				go func() {
					// The warm query's slot may not be free yet: a query
					// answered "busy" is asked again, until one is held.
					for j := 0; ; j++ {
						m, _, err := (&dns.Client{Timeout: 10 * time.Second}).Exchange(resolvertest.Query(fmt.Sprintf("slow%d-%d.example.com", i, j), dns.TypeA), to)
						if err != nil || m.Rcode != dns.RcodeServerFailure {
							return
						}
					}
				}()
			}
			c := dialTCP(t, to)
			c.send(withID(resolvertest.Query("slow2.example.com", dns.TypeA), 2))
			c.send(withID(resolvertest.Query("slow3.example.com", dns.TypeA), 3))
			for range 4 {
				<-entered
			}
			for _, proto := range []string{"udp", "tcp"} {
				// Not ready-packed (first asked, or another spelling), yet
				// private or cached: answered.
				for _, name := range []string{"www.corp.example", "WARM.example.com"} {
					if m := resolvertest.ExchangeFrom(t, proto, "127.0.0.5", to, resolvertest.Query(name, dns.TypeA)); m.Rcode != dns.RcodeSuccess || len(m.Answer) != 1 {
						t.Errorf("%s %s while full: %v", proto, name, m)
					}
				}
				m := resolvertest.ExchangeFrom(t, proto, "127.0.0.5", to, resolvertest.Query("new.example.com", dns.TypeA))
				if m.Rcode != dns.RcodeServerFailure || len(resolvertest.EDETexts(m)) != 1 || resolvertest.EDETexts(m)[0] != "privdns: too many queries in flight" {
					t.Errorf("%s, a name that needs an upstream while full: %v; want SERVFAIL saying why", proto, m)
				}
			}
		})
	}
}
