package resolvertest

import (
	"encoding/binary"
	"io"
	"net"
	"sync"

	"github.com/miekg/dns"
)

// RawUDP is a UDP server on 127.0.0.1 controlled byte by byte, for the
// upstreams miekg/dns would never be (garbage, forged IDs, replies from
// elsewhere): Respond gets every query that parses, with the socket and
// its sender, and writes whatever packets it likes, or none.
type RawUDP struct {
	Addr string
	pc   net.PacketConn
	done chan struct{}
}

// StartRawUDP serves respond on 127.0.0.1:0 until the test ends.
// respond runs on the server's one reading goroutine, one query at a time.
func StartRawUDP(tb TB, respond func(pc net.PacketConn, from net.Addr, q *dns.Msg)) *RawUDP {
	tb.Helper()
	return StartRawUDPOn(tb, "127.0.0.1:0", respond)
}

// StartRawUDPOn is StartRawUDP on addr (a port a closed RawUDP had, to
// bring a flapping upstream back on its address).
func StartRawUDPOn(tb TB, addr string, respond func(pc net.PacketConn, from net.Addr, q *dns.Msg)) *RawUDP {
	tb.Helper()
	pc, err := net.ListenPacket("udp", addr)
	if err != nil {
		tb.Fatalf("raw UDP server: %v", err)
	}
	return serveRawUDP(tb, pc, respond)
}

func serveRawUDP(tb TB, pc net.PacketConn, respond func(pc net.PacketConn, from net.Addr, q *dns.Msg)) *RawUDP {
	s := &RawUDP{Addr: pc.LocalAddr().String(), pc: pc, done: make(chan struct{})}
	go func() {
		defer close(s.done)
		buf := make([]byte, dns.MaxMsgSize)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			q := new(dns.Msg)
			if q.Unpack(buf[:n]) == nil {
				respond(pc, from, q)
			}
		}
	}()
	tb.Cleanup(s.Close)
	return s
}

// Close stops the server and waits for its goroutine; a second Close
// does nothing.
func (s *RawUDP) Close() {
	s.pc.Close()
	<-s.done
}

// RawTCP is a TCP server on 127.0.0.1 controlled byte by byte: Respond
// gets each framed query of a connection with the connection, and writes
// whatever bytes it likes (a frame whose length lies, half a message, a
// 64 KiB reply). The connection closes when respond returns false.
type RawTCP struct {
	Addr string
	l    net.Listener
	wg   sync.WaitGroup

	mu    sync.Mutex
	conns map[net.Conn]bool
}

// StartRawPair serves udp and tcp on one port of 127.0.0.1 until the
// test ends, so that a truncated UDP reply is retried over TCP to the
// same address, as an upstream is.
func StartRawPair(tb TB, udp func(pc net.PacketConn, from net.Addr, q *dns.Msg), tcp func(c net.Conn, q *dns.Msg) (keep bool)) (*RawUDP, *RawTCP) {
	tb.Helper()
	pc, l, err := bind("127.0.0.1:0")
	if err != nil {
		tb.Fatalf("raw UDP and TCP servers: %v", err)
	}
	return serveRawUDP(tb, pc, udp), serveRawTCP(tb, l, tcp)
}

func serveRawTCP(tb TB, l net.Listener, respond func(c net.Conn, q *dns.Msg) bool) *RawTCP {
	s := &RawTCP{Addr: l.Addr().String(), l: l, conns: map[net.Conn]bool{}}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			s.mu.Lock()
			s.conns[c] = true
			s.mu.Unlock()
			s.wg.Add(1)
			go s.serve(c, respond)
		}
	}()
	tb.Cleanup(s.Close)
	return s
}

func (s *RawTCP) serve(c net.Conn, respond func(net.Conn, *dns.Msg) bool) {
	defer s.wg.Done()
	defer func() {
		s.mu.Lock()
		delete(s.conns, c)
		s.mu.Unlock()
		c.Close()
	}()
	var n [2]byte
	for {
		if _, err := io.ReadFull(c, n[:]); err != nil {
			return
		}
		p := make([]byte, binary.BigEndian.Uint16(n[:]))
		if _, err := io.ReadFull(c, p); err != nil {
			return
		}
		q := new(dns.Msg)
		if q.Unpack(p) != nil || !respond(c, q) {
			return
		}
	}
}

// Close stops the server, cuts its connections and waits for their
// goroutines.
func (s *RawTCP) Close() {
	s.l.Close()
	s.mu.Lock()
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
}

// WriteFrame packs m and writes it to c with the two-byte length of RFC
// 7766; it returns the packed size.
func WriteFrame(c net.Conn, m *dns.Msg) (int, error) {
	p, err := m.Pack()
	if err != nil {
		return 0, err
	}
	frame := binary.BigEndian.AppendUint16(make([]byte, 0, 2+len(p)), uint16(len(p)))
	_, err = c.Write(append(frame, p...))
	return len(p), err
}
