package listen

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/miekg/dns"

	"github.com/privdns/privdns/resolver/wire"
)

// tcpServer answers DNS over TCP (RFC 7766). Queries pipelined on one
// connection are answered concurrently, each as soon as it is ready, so a
// name waiting on a slow upstream does not hold up the ones behind it
// (RFC 7766 §6.2.1.1); the replies carry the IDs that pair them. What one
// server holds is bounded: connections, answers in flight (beyond which a
// query is answered at once, without an upstream: Handler.overloaded) and
// the size of a query. Connections are counted, and their idleness kept,
// with those of the server's other listeners (connTable).
type tcpServer struct {
	ln      net.Listener
	h       Handler
	log     *slog.Logger
	opts    TCPOptions
	limits  *Limits
	done    chan struct{}
	wg      sync.WaitGroup // connections
	answers chan struct{}  // a slot per answer in flight, server-wide

	mu    sync.Mutex
	conns map[*tcpConn]struct{}
}

// maxTCPQuery is the largest query taken: a query is a question and an
// OPT record, and what is larger is not a client this server serves.
const maxTCPQuery = 16 << 10

// tcpConn is one client connection: a reader that starts a goroutine per
// query (at most Pipeline at once) and replies written whole, one at a time.
type tcpConn struct {
	c        net.Conn
	s        *tcpServer
	client   netip.AddrPort
	wmu      sync.Mutex
	inflight sync.WaitGroup
	slots    chan struct{}
	write    time.Duration // the write timeout of each reply

	// The connTable's, under its lock: counted in it, queries read and not
	// yet answered, and the place in its idle list.
	member, idle bool
	outstanding  int
	prev, next   *tcpConn
}

func serveTCP(ln net.Listener, h Handler, opts Options) *tcpServer {
	opts = opts.withDefaults()
	s := &tcpServer{ln: ln, h: h, log: opts.Logger, opts: opts.TCP, limits: opts.Limits, done: make(chan struct{}), conns: map[*tcpConn]struct{}{},
		answers: make(chan struct{}, opts.MaxInFlight)}
	s.wg.Add(1)
	go s.accept()
	return s
}

func (s *tcpServer) accept() {
	defer s.wg.Done()
	var pause time.Duration
	for {
		c, err := s.ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			// Out of file descriptors or the like: wait for it to pass,
			// longer each time it does not.
			pause = min(max(2*pause, 10*time.Millisecond), time.Second)
			s.log.Warn("accepting a TCP connection failed", "err", err, "retry in", pause)
			time.Sleep(pause)
			continue
		}
		pause = 0
		tc := &tcpConn{c: c, s: s, slots: make(chan struct{}, s.opts.Pipeline), write: s.opts.Write}
		if ap, err := netip.ParseAddrPort(c.RemoteAddr().String()); err == nil {
			tc.client = ap
		}
		s.mu.Lock()
		if s.stopping() {
			s.mu.Unlock()
			c.Close()
			return
		}
		if !s.limits.conns.admit(tc, s.opts.FirstRead) {
			s.mu.Unlock()
			c.Close()
			continue
		}
		s.conns[tc] = struct{}{}
		s.wg.Add(1)
		s.mu.Unlock()
		go s.serve(tc)
	}
}

func (s *tcpServer) stopping() bool {
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}

// serve reads tc's queries until the client closes, falls idle, sends a
// frame that is not a DNS message or reaches tcpQueriesPerConnection; the
// replies in flight are written before the connection closes. Its read
// deadline is the connTable's: none while a query is outstanding.
func (s *tcpServer) serve(tc *tcpConn) {
	defer func() {
		tc.inflight.Wait()
		tc.c.Close()
		s.limits.conns.leave(tc)
		s.mu.Lock()
		delete(s.conns, tc)
		s.mu.Unlock()
		s.wg.Done()
	}()
	r := bufio.NewReader(tc.c)
	perConn := s.limits.settings().TCPQueriesPerConnection
	var length [2]byte
	for read := 1; ; read++ {
		if s.stopping() { // shutdown's deadline is set after done closes
			return
		}
		if _, err := io.ReadFull(r, length[:]); err != nil {
			return
		}
		n := binary.BigEndian.Uint16(length[:])
		if n < 12 || n > maxTCPQuery {
			return // not a DNS query this server takes
		}
		pkt := make([]byte, n)
		if _, err := io.ReadFull(r, pkt); err != nil {
			return
		}
		select { // a full pipeline stops the reading
		case tc.slots <- struct{}{}:
		case <-s.done:
			return
		}
		if s.stopping() || !s.limits.conns.busy(tc) { // shutdown wins; or closed to make room
			<-tc.slots
			return
		}
		select {
		case s.answers <- struct{}{}:
			tc.inflight.Add(1)
			go func() {
				defer tc.inflight.Done()
				defer func() { <-tc.slots; <-s.answers; s.limits.conns.done(tc) }()
				s.answer(tc, pkt, false)
			}()
		default:
			s.answer(tc, pkt, true) // the server is full: at once, without an upstream
			<-tc.slots
			s.limits.conns.done(tc)
		}
		if read == perConn { // closed once this answer and those before it are written
			s.limits.limited("tcpQueriesPerConnection")
			return
		}
	}
}

// answer replies to one query: nothing for a response, FORMERR for what
// does not parse (R7), when the server is full what needs no upstream
// (Answer with busy), else the Handler's answer.
func (s *tcpServer) answer(tc *tcpConn, pkt []byte, full bool) {
	defer func() {
		if p := recover(); p != nil {
			s.log.Error("panic while reading a TCP query", "panic", p, "client", tc.client)
		}
	}()
	dh, ok := wire.Header(pkt)
	if !ok {
		return
	}
	req := new(dns.Msg)
	var resp *dns.Msg
	if err := req.Unpack(pkt); err != nil {
		resp = s.h.Malformed(dh, tc.client.Addr(), "tcp")
	} else if s.h.Direct(req, pkt, tc.c.LocalAddr(), tc.c.RemoteAddr(), tc.send) {
		return
	} else if resp, _ = s.h.Answer(req, tc.client.Addr(), "tcp", full, nil); resp == nil {
		return
	}
	wire, err := resp.Pack()
	if err != nil {
		s.log.Error("packing a response failed", "client", tc.client, "err", err)
		return
	}
	if err := tc.send(wire); err != nil {
		s.log.Debug("writing a TCP response failed", "client", tc.client, "err", err)
	}
}

// send writes one reply, length first, in one call, so that replies of
// queries answered at once never interleave. A client that does not read
// gets no more: the connection is closed.
func (tc *tcpConn) send(wire []byte) error {
	if len(wire) > 0xFFFF {
		return errors.New("reply larger than 65535 octets")
	}
	buf := make([]byte, 2+len(wire))
	binary.BigEndian.PutUint16(buf, uint16(len(wire)))
	copy(buf[2:], wire)
	tc.wmu.Lock()
	defer tc.wmu.Unlock()
	tc.c.SetWriteDeadline(time.Now().Add(tc.write))
	if _, err := tc.c.Write(buf); err != nil {
		tc.c.Close()
		return err
	}
	return nil
}

// shutdown stops accepting and reading, waits (until ctx ends) for the
// replies in flight, then closes every connection. It may be called again,
// with a context already ended to close everything at once.
func (s *tcpServer) shutdown(ctx context.Context) error {
	s.mu.Lock()
	if !s.stopping() {
		close(s.done)
	}
	err := s.ln.Close()
	if errors.Is(err, net.ErrClosed) {
		err = nil // closed by an earlier call
	}
	for tc := range s.conns {
		tc.c.SetReadDeadline(time.Unix(1, 0))
	}
	s.mu.Unlock()
	finished := make(chan struct{})
	go func() { s.wg.Wait(); close(finished) }()
	select {
	case <-finished:
		return err
	case <-ctx.Done():
		s.mu.Lock()
		for tc := range s.conns {
			tc.c.Close()
		}
		s.mu.Unlock()
		return errors.Join(err, ctx.Err())
	}
}
