//go:build unix

package main

import (
	"fmt"
	"net"
	"syscall"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// 5,000 idle TCP connections (the limit's worth) hold no query up: UDP is
// answered, and a new TCP connection closes the one idle the longest.
func TestEndToEndIdleTCPConnectionsDoNotStopQueries(t *testing.T) {
	const conns = 5000
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil || rl.Cur < 2*conns+1000 {
		t.Skipf("RLIMIT_NOFILE %d: %d connections need both ends' descriptors in this process", rl.Cur, conns)
	}
	up, _, _ := slowUpstream(t)
	srv := serveText(t, "", fmt.Sprintf(limitsConfig, fmt.Sprintf("  limits: {tcpConnections: %d, tcpIdleTimeout: 1h}", conns), up))
	addrs := srv.addrs()
	idle := make([]net.Conn, 0, conns)
	t.Cleanup(func() {
		for _, c := range idle {
			c.Close()
		}
	})
	for i := range conns {
		c, err := net.Dial("tcp", addrs[i%2])
		if err != nil {
			t.Fatalf("connection %d: %v", i, err)
		}
		idle = append(idle, c)
	}
	for deadline := time.Now().Add(30 * time.Second); srv.limits.TCPConnections() < conns; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d connections accepted of %d", srv.limits.TCPConnections(), conns)
		}
	}
	for i, addr := range addrs {
		if m := ask(t, "udp", "127.0.1.10", addr, "www.corp.example", dns.TypeA, false); len(m.Answer) != 1 {
			t.Errorf("UDP with %d idle TCP connections: %v", conns, m)
		}
		if m := ask(t, "tcp", "127.0.1.10", addr, "www.example.com", dns.TypeA, false); m.Rcode != dns.RcodeNameError {
			t.Errorf("a new TCP connection with %d idle ones: %v", conns, m)
		}
		if i > 0 {
			continue
		}
		// The client has closed; the second connection must find the room
		// that made, so wait until the server has seen the close (under
		// load it may come after the next connection).
		for deadline := time.Now().Add(10 * time.Second); srv.limits.TCPConnections() >= conns; time.Sleep(time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("%d connections open after the first new one closed, want %d", srv.limits.TCPConnections(), conns-1)
			}
		}
	}
	// The first new connection closed the oldest idle one; the client
	// closed it after its answer, which made room for the second.
	if n := limited(t, srv, "tcpConnections"); n != 1 {
		t.Errorf("tcpConnections counted %v, want 1", n)
	}
	idle[0].SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := idle[0].Read(make([]byte, 1)); err == nil {
		t.Error("the connection idle the longest is still open")
	}
}
