package listen

import (
	"context"
	"net"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/privdns/privdns/resolver/dnsserver"
	"github.com/privdns/privdns/resolver/resolvertest"
)

// limitCounts is a LimitObserver for tests.
type limitCounts struct {
	mu sync.Mutex
	n  map[string]int
}

func (c *limitCounts) Limited(limit string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n == nil {
		c.n = map[string]int{}
	}
	c.n[limit]++
}

func (c *limitCounts) get(limit string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n[limit]
}

// idleConns returns how many connections of lim are idle now.
func idleConns(lim *Limits) int {
	lim.conns.mu.Lock()
	defer lim.conns.mu.Unlock()
	n := 0
	for tc := lim.conns.head; tc != nil; tc = tc.next {
		n++
	}
	return n
}

// waitIdle waits until n connections of lim are idle: a reply is read by
// the client a moment before the server counts the connection idle.
func waitIdle(t *testing.T, lim *Limits, n int) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); idleConns(lim) != n; runtime.Gosched() {
		if time.Now().After(deadline) {
			t.Fatalf("%d connections idle, want %d", idleConns(lim), n)
		}
	}
}

func (tc *tcpClient) ask(name string, id uint16) *dns.Msg {
	tc.t.Helper()
	tc.send(withID(resolvertest.Query(name, dns.TypeA), id))
	return tc.read()
}

// Two listeners share one bound of 2: a third connection closes the one
// idle the longest, and with none idle the new one is closed.
func TestTCPConnectionsBeyondTheLimitCloseTheOneIdleTheLongest(t *testing.T) {
	g := newGated(t)
	counts := &limitCounts{}
	lim := NewLimits(LimitsOptions{LimitSettings: LimitSettings{TCPConnections: 2}, Observer: counts})
	a := startOn(t, "127.0.0.1:0", dnsserver.Options{Engine: g}, Options{Limits: lim})
	b := startOn(t, "127.0.0.1:0", dnsserver.Options{Engine: g}, Options{Limits: lim})
	t.Cleanup(func() { close(g.release) })

	oldest := dialTCP(t, a.Addr)
	if oldest.ask("fast.example", 1) == nil {
		t.Fatal("the first connection got no answer")
	}
	waitIdle(t, lim, 1)
	newer := dialTCP(t, b.Addr)
	if newer.ask("fast.example", 2) == nil {
		t.Fatal("the second connection got no answer")
	}
	waitIdle(t, lim, 2)
	oldest.ask("fast.example", 3) // idle again now: newer is idle the longest
	waitIdle(t, lim, 2)

	third := dialTCP(t, b.Addr)
	if third.ask("fast.example", 4) == nil {
		t.Fatal("a connection beyond the limit got no answer while others were idle")
	}
	if m := newer.read(); m != nil {
		t.Fatalf("the connection idle the longest got %v; want it closed", m)
	}
	if oldest.ask("fast.example", 5) == nil {
		t.Fatal("the connection used last was closed instead")
	}
	if n := counts.get("tcpConnections"); n != 1 {
		t.Errorf("tcpConnections counted %d times, want 1", n)
	}

	// Both busy: the next connection is the one closed.
	g.held.Add(2)
	oldest.send(withID(resolvertest.Query("slow1.example", dns.TypeA), 6))
	third.send(withID(resolvertest.Query("slow2.example", dns.TypeA), 7))
	g.held.Wait()
	if m := dialTCP(t, a.Addr).ask("fast.example", 8); m != nil {
		t.Errorf("a connection beyond the limit of busy ones was answered: %v", m)
	}
	if n := counts.get("tcpConnections"); n != 2 {
		t.Errorf("tcpConnections counted %d times, want 2", n)
	}
	if lim.TCPConnections() != 2 {
		t.Errorf("%d connections counted open, want 2", lim.TCPConnections())
	}
}

func TestTCPConnectionsCloseAfterTheirNthAnswer(t *testing.T) {
	counts := &limitCounts{}
	lim := NewLimits(LimitsOptions{LimitSettings: LimitSettings{TCPQueriesPerConnection: 3}, Observer: counts})
	l := startOn(t, "127.0.0.1:0", dnsserver.Options{Engine: newGated(t)}, Options{Limits: lim})
	c := dialTCP(t, l.Addr)
	for i := range uint16(4) { // pipelined: the 4th is never read
		c.send(withID(resolvertest.Query("fast.example", dns.TypeA), i))
	}
	var ids []uint16
	for m := c.read(); m != nil; m = c.read() {
		ids = append(ids, m.Id)
	}
	if len(ids) != 3 {
		t.Errorf("answered %v before the close, want the 3 first", ids)
	}
	if n := counts.get("tcpQueriesPerConnection"); n != 1 {
		t.Errorf("tcpQueriesPerConnection counted %d times, want 1", n)
	}
	lim.Set(LimitSettings{}) // a reload to unlimited: new connections only
	c = dialTCP(t, l.Addr)
	for i := range uint16(10) {
		if c.ask("fast.example", i) == nil {
			t.Fatalf("query %d on a connection after the reload to unlimited got no answer", i)
		}
	}
}

// deadlineConn records the read deadlines its connection is given.
type deadlineConn struct {
	net.Conn
	set chan time.Time
}

func (c deadlineConn) SetReadDeadline(d time.Time) error {
	c.set <- d
	return c.Conn.SetReadDeadline(d)
}

type deadlineListener struct {
	net.Listener
	set chan time.Time
}

func (l deadlineListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return deadlineConn{c, l.set}, nil
}

// The idle timeout runs from the opening or the last reply, and not while
// a query is outstanding, however long it takes.
func TestTCPIdleTimeoutCountsFromTheLastReply(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	set := make(chan time.Time, 16)
	g := newGated(t)
	const idle = time.Hour
	s := serveTCP(deadlineListener{ln, set}, dnsserver.New(dnsserver.Options{Engine: g}),
		Options{TCP: TCPOptions{FirstRead: 2 * idle}, Limits: NewLimits(LimitsOptions{LimitSettings: LimitSettings{TCPIdle: idle}})})
	t.Cleanup(func() { s.shutdown(context.Background()) })
	opened := time.Now()
	c := dialTCP(t, ln.Addr().String())
	if d := <-set; d.Before(opened.Add(idle)) || d.After(time.Now().Add(idle)) {
		t.Errorf("a new connection's deadline is %v from its opening, want the idle timeout (%v) at most", d.Sub(opened), idle)
	}
	g.held.Add(1)
	c.send(withID(resolvertest.Query("slow.example", dns.TypeA), 1))
	g.held.Wait()
	if d := <-set; !d.IsZero() {
		t.Errorf("with a query outstanding the deadline is %v, want none", d)
	}
	replied := time.Now()
	close(g.release)
	if c.read() == nil {
		t.Fatal("no reply")
	}
	if d := <-set; d.Before(replied.Add(idle)) || d.After(time.Now().Add(idle)) {
		t.Errorf("after the reply the deadline is %v from it, want the idle timeout (%v)", d.Sub(replied), idle)
	}
}

// An idle connection is closed at its timeout, and that is not counted.
func TestIdleTCPConnectionsCloseUncounted(t *testing.T) {
	counts := &limitCounts{}
	lim := NewLimits(LimitsOptions{LimitSettings: LimitSettings{TCPIdle: time.Millisecond}, Observer: counts})
	l := startOn(t, "127.0.0.1:0", dnsserver.Options{Engine: newGated(t)}, Options{Limits: lim})
	c := dialTCP(t, l.Addr)
	if m := c.read(); m != nil { // waits for the close, which the server's deadline brings
		t.Fatalf("got %v unasked", m)
	}
	for _, limit := range []string{"tcpConnections", "tcpQueriesPerConnection"} {
		if n := counts.get(limit); n != 0 {
			t.Errorf("an idle close was counted as %s", limit)
		}
	}
}
