// Package resolvertest holds what the tests of privdns's packages share,
// once: real DNS servers on loopback (a server with any handler, and
// Public, a handler that answers like a public recursive resolver from
// zone-file lines; `privdns demo` runs them too), a settable clock, a
// client that asks from a chosen 127.0.0.x source address (each a
// different network), helpers that turn zone-file lines into zones,
// records and comparable strings, raw UDP and TCP servers for the
// upstreams miekg/dns would never be (RawUDP, RawTCP), and Settle, which
// checks that a test leaves goroutines and heap as it found them.
//
// Sharp edge: servers listen on 127.0.0.1 only; nothing here ever leaves
// the machine, and every server must be closed (tb.Cleanup or Close). The
// package does not import "testing" (it is linked into the privdns binary
// for the demo): helpers take a TB, which *testing.T satisfies.
package resolvertest

import (
	"fmt"
	"net"
	"sync"
	"sync/atomic"

	"github.com/miekg/dns"
)

// Server is a DNS server on 127.0.0.1 serving UDP and TCP on one port,
// counting the queries it receives.
type Server struct {
	Addr    string // "127.0.0.1:port"
	hits    atomic.Int64
	tcpHits atomic.Int64
	udp     *dns.Server
	tcp     *dns.Server
	once    sync.Once
}

// Start serves h on 127.0.0.1:0 (UDP and TCP on the same port).
func Start(h dns.Handler) (*Server, error) {
	return StartOn("127.0.0.1:0", h)
}

// StartOn serves h on addr (UDP and TCP on the same port; port 0 picks one).
func StartOn(addr string, h dns.Handler) (*Server, error) {
	return StartSigned(addr, h, nil)
}

// StartSigned is StartOn with tsig (when not nil) verifying and signing
// TSIG, as a primary or secondary with keys does.
func StartSigned(addr string, h dns.Handler, tsig dns.TsigProvider) (*Server, error) {
	s := &Server{}
	counted := dns.HandlerFunc(func(w dns.ResponseWriter, r *dns.Msg) {
		s.hits.Add(1)
		if _, tcp := w.RemoteAddr().(*net.TCPAddr); tcp {
			s.tcpHits.Add(1)
		}
		h.ServeDNS(w, r)
	})
	pc, l, err := bind(addr)
	if err != nil {
		return nil, err
	}
	s.Addr = pc.LocalAddr().String()
	s.udp = &dns.Server{PacketConn: pc, Handler: counted, TsigProvider: tsig}
	s.tcp = &dns.Server{Listener: l, Handler: counted, TsigProvider: tsig}
	for _, srv := range []*dns.Server{s.udp, s.tcp} {
		if err := activate(srv); err != nil {
			s.Close()
			pc.Close()
			l.Close()
			return nil, fmt.Errorf("serving on %s: %w", s.Addr, err)
		}
	}
	return s, nil
}

// activate starts srv and returns once it serves, or why it could not.
func activate(srv *dns.Server) error {
	started := make(chan struct{})
	srv.NotifyStartedFunc = func() { close(started) }
	failed := make(chan error, 1)
	go func() { failed <- srv.ActivateAndServe() }()
	select {
	case <-started:
		return nil
	case err := <-failed:
		return err
	}
}

// TB is the part of testing.TB the helpers use.
type TB interface {
	Helper()
	Fatalf(format string, args ...any)
	Cleanup(func())
}

// NewSigned is New with tsig verifying and signing TSIG (StartSigned).
func NewSigned(tb TB, h dns.Handler, tsig dns.TsigProvider) *Server {
	tb.Helper()
	s, err := StartSigned("127.0.0.1:0", h, tsig)
	if err != nil {
		tb.Fatalf("starting a fake DNS server: %v", err)
	}
	tb.Cleanup(s.Close)
	return s
}

// New starts a server for a test and closes it when the test ends.
func New(tb TB, h dns.Handler) *Server {
	tb.Helper()
	s, err := Start(h)
	if err != nil {
		tb.Fatalf("starting a fake DNS server: %v", err)
	}
	tb.Cleanup(s.Close)
	return s
}

// Hits is the number of queries received so far, over UDP and TCP.
func (s *Server) Hits() int64 { return s.hits.Load() }

// TCPHits is the number of queries received over TCP so far.
func (s *Server) TCPHits() int64 { return s.tcpHits.Load() }

// Close stops the server.
func (s *Server) Close() {
	s.once.Do(func() {
		s.udp.Shutdown() //nolint:errcheck // not started: nothing to shut down
		s.tcp.Shutdown() //nolint:errcheck
	})
}

// String returns the address, so a Server prints as an upstream.
func (s *Server) String() string { return fmt.Sprint(s.Addr) }

// bind binds UDP and TCP on one port, trying again when port 0 gave a UDP
// port that is taken for TCP.
func bind(addr string) (net.PacketConn, net.Listener, error) {
	for attempt := 0; ; attempt++ {
		pc, err := net.ListenPacket("udp", addr)
		if err != nil {
			return nil, nil, err
		}
		l, err := net.Listen("tcp", pc.LocalAddr().String())
		if err == nil {
			return pc, l, nil
		}
		pc.Close()
		if _, port, _ := net.SplitHostPort(addr); port != "0" || attempt == 10 {
			return nil, nil, err
		}
	}
}
